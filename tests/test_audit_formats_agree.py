"""`govern audit --format json`: one document that agrees with the JSONL and CSV decision for
decision, carries every input's entry (and every corrupt file's error) in input order, and is
byte-identical whatever the number of worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main

from .audit_corpus import decision_sets, portfolio_with_corrupt_files


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> tuple[Path, Path, Path]:
    """The same small portfolio audited with --jobs 1 and --jobs 2; paths given relative to
    the working directory, as a user would."""
    root = tmp_path_factory.mktemp("formats")
    portfolio_with_corrupt_files(root / "portfolio", 30, seed=5, tasks=10)
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for jobs in ("1", "2"):
            result = runner.invoke(
                main,
                ["audit", "portfolio", "--out", f"out-{jobs}", "--jobs", jobs, "--format", "json", "--format", "csv"],
                catch_exceptions=False,
            )
            assert result.exit_code == 3, result.output
        documents = [json.loads((root / f"out-{jobs}" / "audit.json").read_text()) for jobs in "12"]
    assert all(f["file"].startswith("portfolio/") for f in documents[0]["files"])  # as given, relative
    return root, root / "out-1", root / "out-2"


def test_audit_json_is_byte_identical_across_jobs(audited):
    _, one, two = audited
    assert (one / "audit.json").read_bytes() == (two / "audit.json").read_bytes()
    assert b"out-1" not in (one / "audit.json").read_bytes()  # no output path in the document


def test_json_csv_and_jsonl_agree_decision_for_decision(audited):
    _, one, _ = audited
    sets = decision_sets(one)
    assert sets["json"] == sets["csv"] == sets["jsonl"]
    assert len(sets["json"]) == sum(json.loads((one / "report.json").read_text())["summary"].values())
    assert len(sets["json"]) > 30


def test_the_document_holds_every_entry_in_input_order_with_the_run_header(audited):
    _, one, _ = audited
    document = json.loads((one / "audit.json").read_text())
    assert document["schema"] == "pmo-governance-audit-document/1"
    assert document["run"] == json.loads((one / "report.json").read_text())
    entries = [json.loads(line) for line in (one / "files.jsonl").read_text().splitlines()]
    assert [{k: v for k, v in f.items() if k != "decisions"} for f in document["files"]] == entries
    assert [f["file"] for f in document["files"]] == sorted(f["file"] for f in document["files"])
    flattened = [d for f in document["files"] for d in f["decisions"]]
    assert flattened == [json.loads(line) for line in (one / "decisions.jsonl").read_text().splitlines()]
    errors = {Path(f["file"]).name: f["error"] for f in document["files"] if f["status"] == "error"}
    assert set(errors) == {"corrupt-bad-json.json", "corrupt-wrong-type.json", "corrupt-missing-field.json"}
    assert "not valid JSON" in errors["corrupt-bad-json.json"]
    assert "'nodes' must be a list" in errors["corrupt-wrong-type.json"]
    assert "missing required attribute 'id'" in errors["corrupt-missing-field.json"]
    assert all(f["digest"].startswith("sha256:") for f in document["files"])


def test_keys_are_sorted_at_every_level(audited):
    _, one, _ = audited

    def sorted_keys(value) -> bool:
        if isinstance(value, dict):
            return list(value) == sorted(value) and all(sorted_keys(v) for v in value.values())
        if isinstance(value, list):
            return all(sorted_keys(v) for v in value)
        return True

    assert sorted_keys(json.loads((one / "audit.json").read_text()))
