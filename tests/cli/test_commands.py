"""govern test (with coverage and JUnit), govern schema, govern generate."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from click.testing import CliRunner

from governance_engine.cli.main import main

from ..conftest import ROOT

PASSING = """
tests:
  - name: R1 fires on an open risk nobody owns
    pmo_type: controlling
    as_of: 2026-11-20
    state:
      nodes:
        - {id: p, type: project, name: P, phase: execution, status: active}
        - {id: r, type: risk, title: Vendor, probability: 2, impact: 2, status: open}
      edges:
        - {source: p, target: r, relation: contains}
    expect:
      - {rule: R1, subject: r, outcome: required_action, message: has no owner}
  - name: R1 stays quiet on a closed risk
    pmo_type: supportive
    as_of: 2026-11-20
    state:
      nodes:
        - {id: p, type: project, name: P, phase: execution, status: active}
        - {id: r, type: risk, title: Vendor, probability: 2, impact: 2, status: closed}
      edges:
        - {source: p, target: r, relation: contains}
    absent:
      - {rule: R1, subject: r}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_passing_cases_exit_0_and_write_junit(tmp_path: Path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "risk.yaml").write_text(PASSING)
    junit = tmp_path / "out.xml"
    result = run("test", str(tmp_path), "--junit", str(junit))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "2 passed, 0 failed"
    suites = ElementTree.parse(junit).getroot()
    assert suites.get("tests") == "2" and suites.get("failures") == "0"
    assert [c.get("name") for c in suites.iter("testcase")] == [
        "R1 fires on an open risk nobody owns",
        "R1 stays quiet on a closed risk",
    ]


def test_a_failing_case_exits_1_and_says_why(tmp_path: Path):
    failing = PASSING.replace("outcome: required_action", "outcome: escalation")
    (tmp_path / "case.yaml").write_text(failing)
    result = run("test", str(tmp_path / "case.yaml"))
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "expected R1 on r to be escalation, got required_action" in result.output
    assert result.output.splitlines()[-1] == "1 passed, 1 failed"
    junit = tmp_path / "out.xml"
    run("test", str(tmp_path / "case.yaml"), "--junit", str(junit))
    failure = next(ElementTree.parse(junit).getroot().iter("failure"))
    assert "escalation" in failure.get("message")


def test_an_unreadable_test_file_exits_2_with_its_place(tmp_path: Path):
    (tmp_path / "bad.yaml").write_text("tests:\n  - name: x\n    expct: []\n")
    result = CliRunner().invoke(main, ["test", str(tmp_path / "bad.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'bad.yaml'}:3:" in result.output and "expct: Extra inputs are not permitted" in result.output


def test_coverage_counts_fired_rules_near_misses_and_condition_outcomes(tmp_path: Path):
    (tmp_path / "case.yaml").write_text(PASSING)
    result = run("test", str(tmp_path / "case.yaml"), "--coverage")
    lines = result.output.splitlines()
    r1 = next(line for line in lines if line.strip().startswith("R1@1"))
    # case 1: R1 fires (owner is null: true, no owns edge: true); case 2's closed risk is out of scope
    assert "fired yes" in r1 and "near miss NO" in r1 and "condition outcomes 2/4" in r1
    assert lines[-1].startswith("coverage: rules fired ")
    below = CliRunner().invoke(main, ["test", str(tmp_path / "case.yaml"), "--min-coverage", "90"])
    assert below.exit_code == 1 and "below --min-coverage 90%" in below.output


def test_the_shipped_rule_tests_pass():
    result = run(
        "test", str(ROOT / "rulesets"), str(ROOT / "supportive"), str(ROOT / "controlling"), str(ROOT / "directive")
    )
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output.splitlines()[-1]


def test_schema_is_generated_from_the_models():
    for document, required in [
        ("ruleset", "rules"),
        ("pack", "pack"),
        ("report", "decisions"),
        ("tests", "tests"),
        ("state", "nodes"),
    ]:
        schema = json.loads(run("schema", document).output)
        assert required in schema["properties"], document


def test_generate_writes_deterministic_files(tmp_path: Path):
    run("generate", "--projects", "2", "--seed", "4", "--tasks", "10", "--out", str(tmp_path / "a"))
    run("generate", "--projects", "2", "--seed", "4", "--tasks", "10", "--out", str(tmp_path / "b"))
    first = sorted(p.read_bytes() for p in (tmp_path / "a").iterdir())
    assert first == sorted(p.read_bytes() for p in (tmp_path / "b").iterdir())
    assert len(first) == 2 and json.loads(first[0])["graph"]["schema"] == "pmo-state/1"


def test_the_shipped_rule_tests_pass_on_the_rete_evaluator_too():
    result = run("test", str(ROOT / "rulesets"), "--engine", "rete")
    assert result.exit_code == 0, result.output
    snapshot = run("test", str(ROOT / "rulesets"))
    assert result.output == snapshot.output
