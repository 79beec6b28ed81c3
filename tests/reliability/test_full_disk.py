"""A full disk while an audit writes its report (issue #7, faults in batch runs): the run
stops with a clear error (exit 2), keeps every decision of every finished file, leaves no
truncated report.json or manifest.json (written then renamed), and `--resume` once there is
room completes it to the same bytes as an uninterrupted run.

Two ways to fill the disk: a file size limit (RLIMIT_FSIZE with SIGXFSZ ignored, so writes
fail with EFBIG; any Linux), and a small tmpfs (ENOSPC; needs root and CAP_SYS_ADMIN)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from governance_engine.generate import write_portfolio

GOVERN = [sys.executable, "-m", "governance_engine", "audit"]
COMPARED = ("decisions.jsonl", "files.jsonl", "report.json", "manifest.json", "audit.json", "decisions.csv")


def govern(portfolio: Path, out: Path, *extra: str, limit: int | None = None) -> subprocess.CompletedProcess:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [
            *GOVERN,
            str(portfolio),
            "--out",
            str(out),
            "--quiet",
            "--jobs",
            "1",
            "--format",
            "json",
            "--format",
            "csv",
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=limited if limit else None,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, Path, int]:
    folder = tmp_path_factory.mktemp("full-disk")
    write_portfolio(folder / "portfolio", 40, seed=23, tasks=10, breaking_share=0.6)
    out = folder / "clean"
    reference = govern(folder / "portfolio", out)
    assert reference.returncode in (0, 1), reference.stderr
    return folder / "portfolio", out, reference.returncode


def by_file(lines: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for line in lines:
        grouped.setdefault(json.loads(line)["file"], []).append(line)
    return grouped


def check_stopped_cleanly(out: Path, clean_out: Path, result: subprocess.CompletedProcess, reason: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "output error" in result.stderr and reason in result.stderr and "--resume" in result.stderr
    assert "Traceback" not in result.stderr
    report = json.loads((out / "report.json").read_text())  # whole: written then renamed
    assert report["complete"] is False
    if (out / "manifest.json").exists():
        assert json.loads((out / "manifest.json").read_text())["complete"] is False
    assert not (out / "audit.json").exists() or json.loads((out / "audit.json").read_text())
    assert not list(out.glob("*.tmp"))
    whole = (out / "files.jsonl").read_text().split("\n")[:-1]  # a torn last line is not a finished file
    finished = [json.loads(line)["file"] for line in whole]
    assert 0 < len(finished) < 40
    written = by_file([line + "\n" for line in (out / "decisions.jsonl").read_text().split("\n")[:-1]])
    reference = by_file((clean_out / "decisions.jsonl").read_text().splitlines(keepends=True))
    for file in finished:  # every decision of every finished file is there
        assert written.get(file, []) == reference.get(file, []), file


def check_resumed(portfolio: Path, out: Path, clean_out: Path, code: int) -> None:
    resumed = govern(portfolio, out, "--resume")
    assert resumed.returncode == code, resumed.stderr
    for name in COMPARED:
        assert (out / name).read_bytes() == (clean_out / name).read_bytes(), name


@pytest.mark.slow
def test_a_file_size_limit_stops_the_run_cleanly_and_resume_completes_it(clean, tmp_path):
    portfolio, clean_out, code = clean
    out = tmp_path / "out"
    limit = (clean_out / "decisions.jsonl").stat().st_size // 2
    stopped = govern(portfolio, out, limit=limit)
    check_stopped_cleanly(out, clean_out, stopped, "File too large")
    torn = (out / "decisions.jsonl").read_bytes()
    assert len(torn) == limit and not torn.endswith(b"\n")  # stopped in the middle of a write
    check_resumed(portfolio, out, clean_out, code)


@pytest.fixture
def small_tmpfs(tmp_path):
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.slow
def test_a_full_tmpfs_stops_the_run_cleanly_and_resume_completes_it(clean, small_tmpfs):
    portfolio, clean_out, code = clean
    assert sum(f.stat().st_size for f in clean_out.iterdir()) > 2 * 64 * 1024  # it cannot fit
    out = small_tmpfs / "out"
    stopped = govern(portfolio, out)
    check_stopped_cleanly(out, clean_out, stopped, "No space left on device")
    subprocess.run(["mount", "-o", "remount,size=16m", str(small_tmpfs)], check=True)  # room made
    check_resumed(portfolio, out, clean_out, code)
