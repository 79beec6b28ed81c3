"""Issue #5's acceptance: an audit of 2,000 generated project files with a few corrupt ones
completes, reports every good file's decisions and every bad file's error (exit 3), its JSON,
CSV and JSONL agree decision for decision, and `--jobs 1` and `--jobs 2` give byte-identical
JSON reports (the Dask executor is compared in tests/test_dask.py)."""

from __future__ import annotations

import json
import random

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.engine import Engine

from .audit_corpus import decision_sets, portfolio_with_corrupt_files

PROJECTS = 2000


@pytest.mark.slow
def test_two_thousand_files_with_corrupt_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    corrupt = portfolio_with_corrupt_files(tmp_path / "portfolio", PROJECTS, seed=2026, tasks=4)
    runs = {}
    for jobs in ("1", "2"):
        result = CliRunner().invoke(
            main,
            [
                "audit",
                "portfolio",
                "--out",
                f"out-{jobs}",
                "--jobs",
                jobs,
                "--quiet",
                "--format",
                "json",
                "--format",
                "csv",
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 3, result.output
        runs[jobs] = tmp_path / f"out-{jobs}"
    assert (runs["1"] / "audit.json").read_bytes() == (runs["2"] / "audit.json").read_bytes()

    out = runs["2"]
    report = json.loads((out / "report.json").read_text())
    assert report["complete"] is True and report["inputs"] == PROJECTS + 3 and report["evaluated"] == PROJECTS
    assert {f["file"] for f in report["failed"]} == {f"portfolio/{p.name}" for p in corrupt}
    document = json.loads((out / "audit.json").read_text())
    statuses = {f["file"]: f["status"] for f in document["files"]}
    assert len(statuses) == PROJECTS + 3
    assert sum(status == "ok" for status in statuses.values()) == PROJECTS

    sets = decision_sets(out)
    lines = (out / "decisions.jsonl").read_text().count("\n")
    assert sets["json"] == sets["csv"] == sets["jsonl"]
    assert len(sets["jsonl"]) == lines == sum(report["summary"][o] for o in report["summary"] if o != "waived")

    engine = Engine()  # a sample of good files evaluated on their own: the audit has all their decisions
    by_file: dict[str, list[dict]] = {f["file"]: f["decisions"] for f in document["files"]}
    for name in random.Random(7).sample(sorted(f for f, s in statuses.items() if s == "ok"), 25):
        alone = [d.model_dump(mode="json") for d in engine.evaluate(name).decisions]
        assert [{k: v for k, v in d.items() if k != "file"} for d in by_file[name]] == alone, name
