"""govern audit: every input accounted for, output independent of --jobs, resumable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("portfolio")
    write_portfolio(folder, 24, seed=21, tasks=12, breaking_share=0.6)
    (folder / "broken.json").write_text('{"nodes": [')
    (folder / "notes.txt").write_text("not a state file, not picked up from a folder")
    return folder


def audit(*args: str):
    return CliRunner().invoke(main, ["audit", *args, "--quiet"], catch_exceptions=False)


def test_a_broken_input_is_recorded_and_the_run_goes_on(portfolio, tmp_path):
    result = audit(str(portfolio), "--out", str(tmp_path), "--jobs", "1", "--format", "csv")
    assert result.exit_code == 3
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is True and report["inputs"] == 25 and report["evaluated"] == 24
    assert [f["file"] for f in report["failed"]] == [str(portfolio / "broken.json")]
    assert "not valid JSON" in report["failed"][0]["error"]
    files = [json.loads(line) for line in (tmp_path / "files.jsonl").read_text().splitlines()]
    assert len(files) == 25 and sum(f["status"] == "ok" for f in files) == 24
    decisions = (tmp_path / "decisions.jsonl").read_text().splitlines()
    assert sum(report["summary"].values()) == len(decisions) > 0
    csv_lines = (tmp_path / "decisions.csv").read_text().splitlines()
    assert csv_lines[0].startswith("file,project,subject") and len(csv_lines) == len(decisions) + 1


def test_output_does_not_depend_on_the_number_of_jobs(portfolio, tmp_path):
    audit(str(portfolio), "--out", str(tmp_path / "one"), "--jobs", "1")
    audit(str(portfolio), "--out", str(tmp_path / "two"), "--jobs", "2")
    for name in ("decisions.jsonl", "files.jsonl", "report.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_resume_finishes_an_interrupted_run_without_redoing_done_files(portfolio, tmp_path):
    full = tmp_path / "full"
    audit(str(portfolio), "--out", str(full), "--jobs", "1")
    partial = tmp_path / "partial"
    partial.mkdir()
    files = (full / "files.jsonl").read_text().splitlines(keepends=True)
    done = files[:10]
    (partial / "files.jsonl").write_text("".join(done) + files[10][:15])  # torn last line, as after a kill
    done_names = {json.loads(line)["file"] for line in done}
    decisions = [
        line
        for line in (full / "decisions.jsonl").read_text().splitlines(keepends=True)
        if json.loads(line)["file"] in done_names
    ]
    torn_file = json.loads(files[10])["file"]  # its decisions were written, its files line was not
    orphans = [
        line
        for line in (full / "decisions.jsonl").read_text().splitlines(keepends=True)
        if json.loads(line)["file"] == torn_file
    ]
    (partial / "decisions.jsonl").write_text("".join(decisions + orphans))
    result = audit(str(portfolio), "--out", str(partial), "--jobs", "1", "--resume")
    assert result.exit_code == 3
    for name in ("decisions.jsonl", "files.jsonl", "report.json"):
        assert (partial / name).read_bytes() == (full / name).read_bytes(), name


def test_globs_and_missing_paths(portfolio, tmp_path):
    result = audit(str(portfolio / "project-0000*.json"), "--out", str(tmp_path), "--jobs", "1")
    assert json.loads((tmp_path / "report.json").read_text())["inputs"] == 10
    assert result.exit_code in (0, 1)
    missing = CliRunner().invoke(main, ["audit", str(tmp_path / "nope"), "--out", str(tmp_path)])
    assert missing.exit_code == 2 and "no such file or directory" in missing.output


def test_the_rete_evaluator_writes_the_same_audit(portfolio, tmp_path):
    audit(str(portfolio), "--out", str(tmp_path / "snapshot"), "--jobs", "1")
    audit(str(portfolio), "--out", str(tmp_path / "rete"), "--jobs", "1", "--engine", "rete")
    for name in ("decisions.jsonl", "files.jsonl"):
        assert (tmp_path / "snapshot" / name).read_bytes() == (tmp_path / "rete" / name).read_bytes(), name
    snapshot, rete = (json.loads((tmp_path / d / "report.json").read_text()) for d in ("snapshot", "rete"))
    assert (snapshot.pop("evaluator"), rete.pop("evaluator")) == ("snapshot", "rete")
    assert snapshot == rete


def test_jsonl_csv_junit_and_markdown_agree(portfolio, tmp_path):
    import csv
    from xml.etree import ElementTree

    audit(
        str(portfolio), "--out", str(tmp_path), "--jobs", "2", "--format", "csv", "--format", "junit", "--format", "md"
    )
    decisions = [json.loads(line) for line in (tmp_path / "decisions.jsonl").read_text().splitlines()]
    rows = list(csv.DictReader((tmp_path / "decisions.csv").open()))
    assert [(r["file"], r["subject"], r["rule_id"], r["outcome"]) for r in rows] == [
        (d["file"], d["subject"], d["rule_id"], d["outcome"]) for d in decisions
    ]
    suites = ElementTree.parse(tmp_path / "report.junit.xml").getroot()
    blocking = {
        (d["file"], d["rule_id"]) for d in decisions if d["outcome"] in ("required_action", "escalation", "rejection")
    }
    failed = {
        (case.get("classname"), case.get("name"))
        for case in suites.iter("testcase")
        if case.find("failure") is not None
    }
    assert failed == blocking
    errors = [case.get("classname") for case in suites.iter("testcase") if case.find("error") is not None]
    assert errors == [str(portfolio / "broken.json")]
    markdown = (tmp_path / "report.md").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    assert f"{report['evaluated']} of 25 inputs evaluated, 1 failed" in markdown
    total = (
        "| **all** | "
        + " | ".join(
            str(report["summary"][o])
            for o in (
                "info",
                "warning",
                "required_action",
                "escalation",
                "rejection",
                "approval",
                "insufficient_evidence",
            )
        )
        + " |"
    )
    assert total in markdown and "broken.json" in markdown
