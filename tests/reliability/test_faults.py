"""Faults in batch runs: a worker killed mid-run, a file deleted under the run, an
interrupted run; no decision of a finished file is lost and every input is accounted for."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from governance_engine.generate import write_portfolio

GOVERN = [sys.executable, "-m", "governance_engine"]
PORTFOLIO = 600  # files: a run long enough to kill a worker in


def workers(pid: int) -> list[int]:
    """Worker processes of a run: its children where it forks them itself (Linux, one
    thread), else its grandchildren (the fork server is the child in between)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    grandchildren = [worker for child in children.get(pid, []) for worker in children.get(child, [])]
    return grandchildren or children.get(pid, [])


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faults")
    write_portfolio(folder, PORTFOLIO, seed=17, tasks=80, breaking_share=0.5)
    return folder


def run(portfolio: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*GOVERN, "audit", str(portfolio), "--out", str(out), "--quiet", *extra],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to find the worker processes")
def test_a_worker_killed_mid_run_loses_nothing(portfolio, tmp_path):
    reference = run(portfolio, tmp_path / "clean", "--jobs", "1")
    out = tmp_path / "killed"
    process = subprocess.Popen([*GOVERN, "audit", str(portfolio), "--out", str(out), "--quiet", "--jobs", "2"])
    killed = False
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline and not killed:
        done = (out / "files.jsonl").read_text().count("\n") if (out / "files.jsonl").exists() else 0
        running = workers(process.pid)
        if done >= 1 and running:
            os.kill(running[-1], signal.SIGKILL)
            killed = True
        time.sleep(0.005)
    assert process.wait(timeout=120) == reference.returncode
    assert killed, "the run ended before a worker could be killed"
    for name in ("decisions.jsonl", "files.jsonl", "report.json"):
        assert (out / name).read_bytes() == (tmp_path / "clean" / name).read_bytes(), name


def test_a_file_deleted_during_the_run_is_recorded_as_failed(portfolio, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in sorted(portfolio.iterdir())[:5]:
        (copy / path.name).write_bytes(path.read_bytes())
    from governance_engine.audit import AuditSettings, run_audit

    victim = sorted(copy.iterdir())[3]

    def delete_the_fourth(count: int, seen=[0]) -> None:  # noqa: B006 - a counter shared between calls
        seen[0] += count
        if seen[0] == 2:
            victim.unlink()

    result = run_audit(
        [str(copy)], tmp_path / "out", AuditSettings(None, "snapshot", None, None), jobs=1, progress=delete_the_fourth
    )
    assert [f["file"] for f in result.failed] == [str(victim)]
    assert "cannot read state file" in result.failed[0]["error"]
    assert result.files == 5 and result.complete


def test_an_interrupted_run_leaves_a_partial_report(portfolio, tmp_path):
    from governance_engine.audit import AuditSettings, run_audit

    def interrupt(count: int, seen=[0]) -> None:  # noqa: B006
        seen[0] += count
        if seen[0] == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audit([str(portfolio)], tmp_path, AuditSettings(None, "snapshot", None, None), jobs=1, progress=interrupt)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is False and report["inputs"] == PORTFOLIO and report["pending"] == PORTFOLIO - 7
    assert (tmp_path / "files.jsonl").read_text().count("\n") == 7
