"""Exit codes of `govern audit` for CI gating: 0 nothing failing, 1 unwaived decisions at a
failing level (blocking, or insufficient evidence with --fail-on), 2 bad usage, 3 some
inputs could not be evaluated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio
from governance_engine.outcomes import BLOCKING

BLOCKING_VALUES = {o.value for o in BLOCKING}


def audit(*args: str):
    return CliRunner().invoke(main, ["audit", *args, "--quiet", "--jobs", "1"], catch_exceptions=False)


@pytest.fixture(scope="module")
def kinds(tmp_path_factory) -> dict[str, Path]:
    """One generated file of each kind: blocking, only insufficient evidence (nothing
    blocking), neither; found by a survey, so that rule changes do not break the test."""
    folder = tmp_path_factory.mktemp("exit-portfolio")
    write_portfolio(folder, 40, seed=9, tasks=10, breaking_share=0.5)
    out = tmp_path_factory.mktemp("exit-survey")
    assert audit(str(folder), "--out", str(out)).exit_code in (0, 1)
    found: dict[str, Path] = {}
    for line in (out / "files.jsonl").read_text().splitlines():
        entry = json.loads(line)
        outcomes = set(entry["unwaived"])
        if outcomes & BLOCKING_VALUES:
            found.setdefault("blocking", Path(entry["file"]))
        elif "insufficient_evidence" in outcomes:
            found.setdefault("insufficient", Path(entry["file"]))
        else:
            found.setdefault("clean", Path(entry["file"]))
    assert set(found) == {"blocking", "insufficient", "clean"}, found
    return found


def single(kind: Path, tmp_path: Path) -> str:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    shutil.copy(kind, folder / kind.name)
    return str(folder)


def test_0_when_nothing_blocks(kinds, tmp_path):
    assert audit(single(kinds["clean"], tmp_path), "--out", str(tmp_path / "o")).exit_code == 0


def test_1_on_blocking_decisions(kinds, tmp_path):
    assert audit(single(kinds["blocking"], tmp_path), "--out", str(tmp_path / "o")).exit_code == 1


def test_fail_on_insufficient_evidence_chooses_the_level(kinds, tmp_path):
    folder = single(kinds["insufficient"], tmp_path)
    out = str(tmp_path / "o")
    assert audit(folder, "--out", out).exit_code == 0
    failing = audit(folder, "--out", out, "--fail-on", "insufficient_evidence")
    assert failing.exit_code == 1
    assert audit(folder, "--out", out, "--fail-on", "blocking").exit_code == 0


def test_2_on_bad_usage(kinds, tmp_path):
    folder = single(kinds["clean"], tmp_path)
    unknown_level = audit(folder, "--out", str(tmp_path / "o"), "--fail-on", "warning")
    assert unknown_level.exit_code == 2 and "warning" in unknown_level.output
    missing = audit(str(tmp_path / "nope"), "--out", str(tmp_path / "o"))
    assert missing.exit_code == 2 and "no such file or directory" in missing.output
    nothing = audit("--out", str(tmp_path / "o"))
    assert nothing.exit_code == 2 and "give the state files" in nothing.output


def test_3_when_an_input_fails_even_with_blocking_decisions(kinds, tmp_path):
    folder = single(kinds["blocking"], tmp_path)
    (Path(folder) / "broken.json").write_text("{")
    result = audit(folder, "--out", str(tmp_path / "o"))
    assert result.exit_code == 3 and "broken.json" in result.output
