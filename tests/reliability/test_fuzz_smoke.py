"""The fuzz targets without atheris: every seed of fuzz/corpus/ and every crash the fuzzer
found (fuzz/regressions/) replayed through the targets' test_one_input in plain Python, so
the suite guards what fuzzing established even where atheris is not installed; the crashes
also as plain library calls. With atheris installed, a short bounded run of fuzz/run.py."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from governance_engine import Engine, RulesetError
from governance_engine.decide.waivers import load_waivers
from governance_engine.errors import Location
from governance_engine.language.packs import load_pack
from governance_engine.language.parser import parse_expression
from governance_engine.tester import run_file

from ..conftest import ROOT

FUZZ = ROOT / "fuzz"
TARGETS = ("state", "expression", "ruleset")

# Crashes found by fuzzing, by reproducer file: while one is not fixed its entry here makes
# the reproducer a strict xfail; once fixed, the entry goes and the file replays as a regression.
KNOWN_CRASHES: dict[str, str] = {}


@cache
def target(name: str) -> ModuleType:
    """A target module loaded from its file, as plain Python (no instrumentation)."""
    spec = importlib.util.spec_from_file_location(f"fuzz_{name}", FUZZ / f"fuzz_{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(folder: str) -> list:
    found = []
    for name in TARGETS:
        for path in sorted((FUZZ / folder / name).glob("*")):
            key = f"{name}/{path.name}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_CRASHES[key])] if key in KNOWN_CRASHES else []
            found.append(pytest.param(name, path, id=key, marks=marks))
    return found


def test_every_target_has_seeds_and_every_known_crash_a_reproducer():
    for name in TARGETS:
        assert len(list((FUZZ / "corpus" / name).glob("*"))) >= 5, name
    for key in KNOWN_CRASHES:
        assert (FUZZ / "regressions" / key).is_file(), key


@pytest.mark.parametrize("name, path", inputs("corpus"))
def test_the_seed_corpus_replays_cleanly(name: str, path: Path):
    target(name).test_one_input(path.read_bytes())


@pytest.mark.parametrize("name, path", inputs("regressions"))
def test_crashes_found_by_fuzzing_stay_fixed(name: str, path: Path):
    target(name).test_one_input(path.read_bytes())


@pytest.mark.parametrize("text", ['name == "C:\\docs"', 'name == "a\x01b"', 'name == "tab\there"'])
def test_a_string_literal_json_cannot_read_is_a_located_ruleset_error(text: str):
    with pytest.raises(RulesetError) as error:
        parse_expression(text, Location(file="rules.yaml", line=7, column=16))
    assert error.value.location.file == "rules.yaml" and error.value.location.line == 7


def test_a_lone_surrogate_escape_is_refused_or_rendered(tmp_path: Path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "ruleset: s\nversion: '1'\nrules:\n  - id: S1\n    title: s\n    applies_to: project\n"
        "    let: {v: '\"\\ud800\"'}\n    condition: v is not null\n    outcome: warning\n    message: 'v = {v}'\n"
    )
    state = {"graph": {"pmo_type": "supportive"}, "nodes": [{"id": "p", "type": "project", "name": "P"}], "edges": []}
    try:
        engine = Engine([rules])
    except RulesetError as error:
        assert error.location.file == str(rules)
        return
    assert '"v = ' in engine.evaluate(state).to_json()


READERS = {"ruleset": load_pack, "waivers": load_waivers, "rule tests": run_file}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_yaml_file_with_a_non_printable_character_is_a_ruleset_error(tmp_path: Path, kind: str):
    path = tmp_path / "file.yaml"
    path.write_bytes(b"tests: []\x07\n")
    with pytest.raises(RulesetError) as error:
        READERS[kind](path)
    assert error.value.location.file == str(path)


def test_a_rule_test_file_that_is_not_utf8_is_a_ruleset_error(tmp_path: Path):
    """Found reading the loaders after the fuzzer's YAML crash."""
    path = tmp_path / "cases.yaml"
    path.write_bytes(b"tests: \xff\n")
    with pytest.raises(RulesetError) as error:
        run_file(path)
    assert error.value.location.file == str(path)


@pytest.mark.slow
def test_a_bounded_fuzzing_run_reports_its_figures(tmp_path: Path):
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    result = subprocess.run(
        [sys.executable, str(FUZZ / "run.py"), "--seconds", "5", "--target", "state", "--artifacts", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("fuzz state: ") and " exec/s, cov " in result.stdout
    assert (tmp_path / "state.log").is_file()
