"""govern impact: the decisions a ruleset change would add, remove or change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio

STRICT = """\
pack: strict
version: 1.1.0
pmo_type: directive
extends: directive
parameters:
  evm_amber: 0.99
"""


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("impact")
    write_portfolio(folder / "states", 12, seed=8, tasks=20, breaking_share=0.9)
    (folder / "strict").mkdir()
    (folder / "strict" / "pack.yaml").write_text(STRICT)
    return folder


def impact(*args: str):
    return CliRunner().invoke(main, ["impact", *args], catch_exceptions=False)


def test_a_stricter_amber_band_only_adds_amber_warnings(portfolio):
    result = impact(
        str(portfolio / "states"),
        "--from",
        "directive",
        "--to",
        str(portfolio / "strict"),
        "--pmo-type",
        "directive",
        "--jobs",
        "1",
        "--format",
        "json",
    )
    assert result.exit_code == 0
    report = json.loads(result.output)
    changes = report["changes"]
    assert changes, "the generated portfolio should have projects with CPI or SPI between 0.95 and 0.99"
    assert {(c["rule_id"], c["before"], c["after"]) for c in changes} == {("E1", None, "warning")}
    summary = report["summary"]
    assert summary == {
        "files": 12,
        "projects_changed": len({c["file"] for c in changes}),
        "decisions_added": len(changes),
        "decisions_removed": 0,
        "outcomes_changed": 0,
    }


def test_the_same_pack_changes_nothing_and_the_table_says_so(portfolio):
    result = impact(str(portfolio / "states"), "--from", "controlling", "--to", "controlling", "--jobs", "2")
    assert result.exit_code == 0
    assert result.output.startswith("the new pack changes 0 of 12 files (0 projects): no decision changes")


def test_markdown_lists_each_change(portfolio):
    result = impact(
        str(portfolio / "states"),
        "--from",
        "directive",
        "--to",
        str(portfolio / "strict"),
        "--pmo-type",
        "directive",
        "--format",
        "md",
        "--jobs",
        "1",
    )
    lines = result.output.splitlines()
    assert "new warning" in lines[0]
    assert lines[2] == "| file | subject | rule | before | after |"
    assert lines[4:] and all(line.endswith("| E1 | – | warning |") for line in lines[4:])


def test_the_engines_are_built_once_and_taken_by_the_workers(portfolio, monkeypatch):
    """The run builds both engines (refusing bad packs before any worker starts); a worker
    started from the run, here in-process with one job, takes them instead of loading the
    packs again."""
    from governance_engine import impact as module

    built = []
    original = module.Engine

    def counting(*args, **kwargs):
        built.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "Engine", counting)
    settings = module.ImpactSettings(("directive",), (str(portfolio / "strict"),), None, None)
    result = module.run_impact([str(portfolio / "states")], settings, jobs=1)
    assert len(built) == 2
    assert result["summary"]["files"] == 12 and result["changes"]
    assert module._inherited is None  # nothing left for a later run
