"""govern audit: every input accounted for, output independent of --jobs, resumable."""

from __future__ import annotations

import json
import os
import shutil
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
    # the run wrote its report.json first: partial, with its settings and packs
    started = json.loads((full / "report.json").read_text()) | {"complete": False}
    (partial / "report.json").write_text(json.dumps(started))
    result = audit(str(portfolio), "--out", str(partial), "--jobs", "1", "--resume")
    assert result.exit_code == 3
    for name in ("decisions.jsonl", "files.jsonl", "report.json"):
        assert (partial / name).read_bytes() == (full / name).read_bytes(), name


def _interrupted(portfolio: Path, out: Path, finished: int, *options: str) -> None:
    """An audit of `portfolio` into `out` stopped after `finished` inputs, as Ctrl-C leaves it."""
    from governance_engine import audit as audit_module

    written = 0
    append = audit_module._Log.append

    def stop_after(log, text):
        nonlocal written
        if log.file.name.endswith("files.jsonl"):
            if written == finished:
                raise KeyboardInterrupt
            written += 1
        append(log, text)

    audit_module._Log.append = stop_after
    try:
        result = audit(str(portfolio), "--out", str(out), "--jobs", "1", *options)
    finally:
        audit_module._Log.append = append
    assert result.exit_code == 130
    assert json.loads((out / "report.json").read_text())["complete"] is False


def test_resume_refuses_other_settings_or_inputs_and_rebuilds_the_csv(portfolio, tmp_path):
    full = tmp_path / "full"
    audit(str(portfolio), "--out", str(full), "--jobs", "1", "--format", "csv", "--as-of", "2026-06-01")

    out = tmp_path / "other-date"
    _interrupted(portfolio, out, 6, "--as-of", "2026-06-01")
    refused = audit(str(portfolio), "--out", str(out), "--resume", "--as-of", "2027-06-01")
    assert refused.exit_code == 2
    assert 'as_of was "2026-06-01", now "2027-06-01"' in refused.output
    assert len((out / "files.jsonl").read_text().splitlines()) == 6  # nothing was touched

    fewer = tmp_path / "fewer"
    shutil.copytree(portfolio, fewer)
    first = sorted(fewer.glob("*.json"))[0]
    _interrupted(fewer, out := tmp_path / "fewer-out", 3, "--as-of", "2026-06-01")
    first.unlink()
    gone = audit(str(fewer), "--out", str(out), "--resume", "--as-of", "2026-06-01")
    assert gone.exit_code == 2 and "no longer among the inputs" in gone.output

    # Stopped before the first input's line in files.jsonl: the resumed CSV has no leftover rows.
    out = tmp_path / "csv"
    _interrupted(portfolio, out, 0, "--format", "csv", "--as-of", "2026-06-01")
    done = audit(
        str(portfolio), "--out", str(out), "--jobs", "1", "--resume", "--format", "csv", "--as-of", "2026-06-01"
    )
    assert done.exit_code == 3
    for name in ("decisions.csv", "decisions.jsonl", "files.jsonl", "report.json"):
        assert (out / name).read_bytes() == (full / name).read_bytes(), name


def test_the_output_folder_and_repeated_paths_are_not_inputs(portfolio, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(portfolio, work)
    (work / "again").symlink_to(work, target_is_directory=True)  # a loop for ** globs
    (work / "nowhere.json").symlink_to(work / "missing.json")
    first = audit(str(work), "--out", str(work / "audit-out"), "--jobs", "1", "--format", "md")
    second = audit(str(work), str(work / "project-00000.json"), "--out", str(work / "audit-out"), "--jobs", "1")
    third = audit(str(work / "**" / "*.json"), "--out", str(work / "audit-out"), "--jobs", "1")
    for result in (first, second, third):
        assert result.exit_code == 3, result.output
        report = json.loads((work / "audit-out" / "report.json").read_text())
        assert report["inputs"] == 26 and report["evaluated"] == 24, result.output
        assert sorted(Path(f["file"]).name for f in report["failed"]) == ["broken.json", "nowhere.json"]
    assert not (work / "audit-out" / "report.md").exists()  # an earlier run's extra output is removed


def test_inputs_that_name_nothing_to_audit_are_usage_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no state here")
    empty = audit(str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert empty.exit_code == 2 and "no state files" in empty.output
    odd = tmp_path / os.fsdecode(b"caf\xe9.json")
    odd.write_text("{}")
    named = audit(str(tmp_path), "--out", str(tmp_path / "out"))
    assert named.exit_code == 2 and "caf\\xe9.json" in named.output and "not valid UTF-8" in named.output


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


def test_an_output_that_cannot_be_written_is_exit_2_and_leaves_no_torn_file(portfolio, tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("")
    blocked = audit(str(portfolio), "--out", str(tmp_path / "afile" / "sub"))
    assert blocked.exit_code == 2 and "cannot make the output folder" in blocked.output

    from governance_engine.render import sarif

    def full_disk(out):
        yield from []
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sarif, "_by_file", full_disk)
    out = tmp_path / "out"
    result = audit(str(portfolio), "--out", str(out), "--jobs", "1", "--format", "sarif")
    assert result.exit_code == 2
    assert f"{out / 'audit.sarif'}: output error: cannot write: No space left on device" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["decisions.jsonl", "files.jsonl", "manifest.json", "report.json"]
