"""`govern evaluate`: exit codes 0/1/2, one clear error line naming file and place, the
report's as_of, the evaluators agreeing, --fail-on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from governance_engine.cli.main import main
from governance_engine.outcomes import Outcome

ROOT = Path(__file__).resolve().parents[2]
PORTFOLIO = ROOT / "examples" / "portfolio.yaml"
OUTCOMES = {o.value for o in Outcome}
BLOCKING = ("required_action", "escalation", "rejection")

HEALTHY_YAML = """\
directed: true
multigraph: true
graph: {schema: pmo-state/1, as_of: 2026-03-01, currency: EUR}
nodes:
  - {id: P1, type: project, name: Alpha, phase: initiation, status: active}
edges: []
"""

EVIDENCE_RULES = """\
ruleset: evidence
version: "1"
rules:
  - id: E9
    title: Over budget
    applies_to: project
    condition: actual_cost > budget
    outcome: {supportive: warning, controlling: required_action, directive: rejection}
    message: "{name} is over budget"
"""


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def report(result: Result) -> dict[str, Any]:
    return json.loads(result.stdout)


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    path = tmp_path / "healthy.yaml"
    path.write_text(HEALTHY_YAML)
    return path


@pytest.fixture
def evidence_pack(tmp_path: Path) -> Path:
    path = tmp_path / "evidence.yaml"
    path.write_text(EVIDENCE_RULES)
    return path


# --------------------------------------------------------------------------- help and usage


def test_help_on_the_group() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Evaluate PMO governance rulesets against project-state graphs." in result.output
    assert "evaluate" in result.output
    assert run("-h").output == result.output


def test_help_on_evaluate() -> None:
    result = run("evaluate", "--help")
    assert result.exit_code == 0
    for option in ("--pmo-type", "--pack", "--as-of", "--format", "--engine", "--fail-on"):
        assert option in result.output
    assert "Exit 0: nothing blocking" in result.output


def test_missing_state_argument_is_a_usage_error() -> None:
    result = run("evaluate")
    assert result.exit_code == 2
    assert "Missing argument 'STATE'" in result.stderr


def test_unknown_pmo_type_is_a_usage_error(healthy: Path) -> None:
    result = run("evaluate", healthy, "--pmo-type", "advisory")
    assert result.exit_code == 2
    assert "'advisory' is not one of 'supportive', 'controlling', 'directive'" in result.stderr


def test_missing_state_file(tmp_path: Path) -> None:
    result = run("evaluate", tmp_path / "absent.json", "--pmo-type", "supportive")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"govern: {tmp_path / 'absent.json'}: state error: cannot read state file")


# --------------------------------------------------------------------------- exit 0 and exit 1


def test_healthy_state_exits_0(healthy: Path) -> None:
    result = run("evaluate", healthy, "--pmo-type", "supportive", "--format", "json")
    assert result.exit_code == 0, result.output
    data = report(result)
    assert data["schema"] == "pmo-governance-report/1"
    assert data["pmo_type"] == "supportive"
    assert data["as_of"] == "2026-03-01"
    assert data["pack"]["name"] == "supportive"
    summary = data["summary"]
    assert set(summary) == OUTCOMES | {"waived"} and summary["waived"] == 0
    assert all(summary[o] == 0 for o in BLOCKING)
    assert sum(summary[o] for o in OUTCOMES) == len(data["decisions"])
    for outcome in OUTCOMES:
        assert summary[outcome] == sum(1 for d in data["decisions"] if d["outcome"] == outcome)
    assert [p["id"] for p in data["projects"]] == ["P1"]
    assert all(d["pmo_type"] == "supportive" and d["project"] == "P1" for d in data["decisions"])


def test_table_format_is_the_default(healthy: Path) -> None:
    result = run("evaluate", healthy, "--pmo-type", "supportive")
    assert result.exit_code == 0
    assert result.stdout.startswith("as of 2026-03-01  pack supportive")
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.stdout)


def test_blocking_decision_exits_1(tmp_path: Path, evidence_pack: Path) -> None:
    state = tmp_path / "over.yaml"
    state.write_text(HEALTHY_YAML.replace("status: active}", "status: active, budget: 100, actual_cost: 150}"))
    result = run("evaluate", state, "--pack", evidence_pack, "--pmo-type", "controlling", "--format", "json")
    assert result.exit_code == 1, result.output
    data = report(result)
    assert data["summary"] == {o: (1 if o == "required_action" else 0) for o in OUTCOMES} | {"waived": 0}
    [decision] = data["decisions"]
    assert (decision["rule_id"], decision["subject"], decision["outcome"]) == ("E9", "P1", "required_action")
    assert decision["message"] == "Alpha is over budget"


def test_same_finding_under_supportive_is_not_blocking(tmp_path: Path, evidence_pack: Path) -> None:
    state = tmp_path / "over.yaml"
    state.write_text(HEALTHY_YAML.replace("status: active}", "status: active, budget: 100, actual_cost: 150}"))
    result = run("evaluate", state, "--pack", evidence_pack, "--pmo-type", "supportive", "--format", "json")
    assert result.exit_code == 0
    assert report(result)["summary"]["warning"] == 1


def test_insufficient_evidence_fails_only_when_asked(healthy: Path, evidence_pack: Path) -> None:
    args = ("evaluate", healthy, "--pack", evidence_pack, "--pmo-type", "controlling", "--format", "json")
    plain = run(*args)
    assert plain.exit_code == 0
    data = report(plain)
    assert {d["outcome"] for d in data["decisions"]} == {"insufficient_evidence"}
    assert data["summary"]["insufficient_evidence"] == 1
    strict = run(*args, "--fail-on", "insufficient_evidence")
    assert strict.exit_code == 1
    assert strict.stdout == plain.stdout
    assert run(*args, "--fail-on", "blocking").exit_code == 0


def test_portfolio_exits_1_with_valid_json_in_a_subprocess() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "governance_engine", "evaluate", "examples/portfolio.yaml", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr
    data = json.loads(completed.stdout)
    assert data["as_of"] == "2026-11-20"
    assert data["input"]["source"] == "examples/portfolio.yaml"
    assert any(d["outcome"] in BLOCKING for d in data["decisions"])
    assert sum(data["summary"][o] for o in BLOCKING) > 0


# --------------------------------------------------------------------------- --as-of and --engine


def test_as_of_option_is_reflected_in_the_report(healthy: Path) -> None:
    result = run("evaluate", healthy, "--pmo-type", "supportive", "--format", "json", "--as-of", "2026-01-01")
    assert result.exit_code == 0
    assert report(result)["as_of"] == "2026-01-01"


@pytest.mark.parametrize("value", ["2026/01/01", "tomorrow", "2026-13-01"])
def test_bad_as_of_exits_2(healthy: Path, value: str) -> None:
    result = run("evaluate", healthy, "--pmo-type", "supportive", "--as-of", value)
    assert result.exit_code == 2
    assert f"Invalid value for '--as-of': '{value}' is not a date YYYY-MM-DD" in result.stderr
    assert result.stdout == ""


def test_rete_and_reference_agree_on_the_portfolio() -> None:
    outputs = {}
    for engine in ("rete", "reference"):
        result = run("evaluate", PORTFOLIO, "--format", "json", "--engine", engine)
        assert result.exit_code == 1
        outputs[engine] = report(result)
    assert outputs["rete"].pop("evaluator") == "rete"
    assert outputs["reference"].pop("evaluator") == "reference"
    assert outputs["rete"] == outputs["reference"]
    assert len(outputs["rete"]["decisions"]) > 10


def test_unknown_engine_is_a_usage_error(healthy: Path) -> None:
    result = run("evaluate", healthy, "--engine", "drools")
    assert result.exit_code == 2
    assert "'drools' is not one of 'snapshot', 'rete', 'reference'" in result.stderr


# --------------------------------------------------------------------------- bad rulesets


def test_ruleset_syntax_error_names_file_line_and_column(tmp_path: Path, healthy: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EVIDENCE_RULES.replace("actual_cost > budget", "actual_cost > > budget"))
    result = run("evaluate", healthy, "--pack", bad)
    assert result.exit_code == 2
    # "    condition: actual_cost > > budget": the value starts at column 16, the second '>' is its 15th char
    assert result.stderr.startswith(f"govern: {bad}:7:30: ruleset error: unexpected '>'")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_unknown_pack_name(healthy: Path) -> None:
    result = run("evaluate", healthy, "--pack", "anarchic")
    assert result.exit_code == 2
    assert "govern: anarchic: ruleset error: no such pack or ruleset" in result.stderr


def test_very_long_arithmetic_condition_exits_2_without_traceback(tmp_path: Path, healthy: Path) -> None:
    bad = tmp_path / "long.yaml"
    bad.write_text(EVIDENCE_RULES.replace("actual_cost > budget", "1" + " + 1" * 3000 + " > 0"))
    result = CliRunner().invoke(main, ["evaluate", str(healthy), "--pack", str(bad)])
    assert result.exit_code == 2
    assert not isinstance(result.exception, RecursionError)


# --------------------------------------------------------------------------- bad state files

NODES = [
    '{"id": "P1", "type": "project", "name": "Alpha", "phase": "initiation", "status": "active"}',
    '{"id": "T1", "type": "task"}',
    '{"id": "T2", "type": "task"}',
]
EDGES = ['{"source": "P1", "target": "T1", "relation": "contains"}']


def state_text(nodes: list[str], edges: list[str], fmt: str) -> str:
    """One node or edge per line, so that every one has a line number of its own. JSON flow
    mappings are valid YAML flow mappings too."""
    if fmt == "json":
        return (
            '{"directed": true, "multigraph": true,\n'
            ' "graph": {"schema": "pmo-state/1", "as_of": "2026-03-01"},\n'
            ' "nodes": [\n  ' + ",\n  ".join(nodes) + "\n ],\n"
            ' "edges": [\n  ' + ",\n  ".join(edges) + "\n ]}\n"
        )
    return (
        "directed: true\nmultigraph: true\n"
        "graph: {schema: pmo-state/1, as_of: 2026-03-01}\n"
        "nodes:\n" + "".join(f"  - {n}\n" for n in nodes) + "edges:\n" + "".join(f"  - {e}\n" for e in edges)
    )


BAD_STATES: list[tuple[str, list[str], list[str], str, list[str]]] = [
    # name, nodes, edges, the line's marker, fragments the message must hold
    (
        "duplicate-id",
        [*NODES, '{"id": "T1", "type": "milestone"}'],
        EDGES,
        '"milestone"',
        ["(node 'T1')", "duplicate node id 'T1'"],
    ),
    (
        "edge-to-missing-node",
        NODES,
        [*EDGES, '{"source": "P1", "target": "X9", "relation": "contains"}'],
        '"X9"',
        ["(edge P1 -> X9 (contains))", "edge target 'X9' is not a node"],
    ),
    (
        "probability-7",
        [*NODES, '{"id": "R1", "type": "risk", "probability": 7, "impact": 2, "status": "open"}'],
        EDGES,
        '"R1"',
        ["(node 'R1')", "probability", "less than or equal to 5", "(got 7)"],
    ),
    (
        "date-next-week",
        [*NODES[:2], '{"id": "T2", "type": "task", "due": "next week"}'],
        EDGES,
        '"next week"',
        ["(node 'T2')", "due", "YYYY-MM-DD", "'next week'"],
    ),
    (
        "dependency-cycle",
        NODES,
        [
            *EDGES,
            '{"source": "T1", "target": "T2", "relation": "depends_on"}',
            '{"source": "T2", "target": "T1", "relation": "depends_on"}',
        ],
        '"T1", "target": "T2"',
        ["depends_on edges form a cycle: T1 -> T2 -> T1", "(edge T1 -> T2 (depends_on))"],
    ),
]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize(
    ("nodes", "edges", "marker", "fragments"), [c[1:] for c in BAD_STATES], ids=[c[0] for c in BAD_STATES]
)
def test_bad_state_exits_2_naming_file_place_and_line(
    tmp_path: Path, fmt: str, nodes: list[str], edges: list[str], marker: str, fragments: list[str]
) -> None:
    text = state_text(nodes, edges, fmt)
    path = tmp_path / f"state.{fmt}"
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), start=1) if marker in row)
    result = run("evaluate", path, "--pmo-type", "supportive")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith(f"govern: {path}:{line}:"), message
    assert message.count("\n") == 1
    for fragment in fragments:
        assert fragment in message, message


def test_the_good_state_of_the_bad_state_cases_is_good(tmp_path: Path) -> None:
    """The baseline the bad cases change is itself valid, in both formats."""
    for fmt in ("json", "yaml"):
        path = tmp_path / f"state.{fmt}"
        path.write_text(state_text(NODES, EDGES, fmt))
        assert run("evaluate", path, "--pmo-type", "supportive").exit_code == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.json", '{"nodes": [1, 2', "broken.json:1:16: state error: not valid JSON: Expecting ',' delimiter"),
        ("broken.yaml", "nodes: [a\n  b: : c\n", "broken.yaml:2:4: state error: not valid YAML: "),
        ("words.txt", "hello world\n", "words.txt:1:1: state error: the top level must be a mapping"),
    ],
)
def test_state_that_is_not_json_or_yaml_exits_2(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = run("evaluate", path, "--pmo-type", "supportive")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"govern: {tmp_path}/"), result.stderr
    assert expected in result.stderr
    assert result.stdout == ""


def test_project_without_a_pmo_type_exits_2(healthy: Path) -> None:
    result = run("evaluate", healthy)
    assert result.exit_code == 2
    assert f"govern: {healthy} (node 'P1'): state error: no PMO type for project 'P1'" in result.stderr


def test_the_table_shows_the_remedies_asked_for():
    plain = CliRunner().invoke(main, ["evaluate", str(PORTFOLIO)])
    with_remedies = CliRunner().invoke(main, ["evaluate", str(PORTFOLIO), "--remedies"])
    assert "cleared by any one of:" not in plain.output
    assert "cleared by any one of: an edge (person) -owns-> r-dl-extracts" in with_remedies.output
