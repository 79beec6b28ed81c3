"""`govern import`: the JSON it writes, its exit codes, and that `govern evaluate` runs on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.importers import load_schedule

from .conftest import SAMPLE_FILES


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_import_then_evaluate(samples: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "state.json"
    result = CliRunner().invoke(main, ["import", str(samples / name), "--pmo-type", "controlling", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert text == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert doc == json.loads(json.dumps(load_schedule(samples / name, pmo_type="controlling")))
    assert doc["graph"]["pmo_type"] == "controlling"
    evaluated = CliRunner().invoke(main, ["evaluate", str(out), "--format", "json"])
    assert evaluated.exit_code in (0, 1), evaluated.output
    report = json.loads(evaluated.stdout)
    assert report["decisions"]


def test_import_to_stdout_with_explicit_format(samples: Path, tmp_path: Path) -> None:
    copy = tmp_path / "schedule.txt"
    copy.write_bytes((samples / "j301_1.sm").read_bytes())
    result = CliRunner().invoke(main, ["import", str(copy), "--format", "psplib", "--out", "-"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert sum(1 for n in doc["nodes"] if n["type"] in ("task", "milestone")) == 32
    assert "pmo_type" not in doc["graph"]


def test_bad_input_exits_2_with_one_line(samples: Path, tmp_path: Path) -> None:
    broken = tmp_path / "cut.xer"
    broken.write_bytes((samples / "sample.xer").read_bytes()[:3000])
    out = tmp_path / "state.json"
    result = CliRunner().invoke(main, ["import", str(broken), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"govern: {broken}:")
    assert "state error: the file ends without the %E end marker" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_unwritable_output_exits_2(samples: Path, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "state.json"
    result = CliRunner().invoke(main, ["import", str(samples / "sample.xer"), "--out", str(target)])
    assert result.exit_code == 2
    assert "cannot write state file" in result.stderr
