"""govern lint: each check on a ruleset written for it, with file:line:col, level and code."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner

from governance_engine import Engine
from governance_engine.cli.main import main
from governance_engine.language.lint import lint

RULESET = """\
ruleset: demo
version: 1.0.0
parameters:
  limit: {default: 0.9, stricter: higher}
rules:
  - id: X1
    title: CPI misspelt
    applies_to: project
    condition: cpii < $limit
    outcome: warning
  - id: X2
    title: A date compared with a number
    applies_to: risk
    condition: review_due > 5
    outcome: warning
  - id: X3
    title: Contains never reaches a person
    applies_to: project
    condition: count(->contains->person) > 0
    outcome: warning
  - id: X4
    title: An enumeration value that does not exist
    applies_to: risk
    condition: status == "opened"
    outcome: warning
  - id: X5
    title: A message naming a value the rule never has
    applies_to: project
    condition: cpi < $limit
    outcome: {supportive: required_action, controlling: required_action, directive: required_action}
    message: "{name}: CPI {cpi} with {budgett}"
  - id: X6
    title: Unknown node type
    applies_to: projekt
    condition: cpi < 1
    outcome: warning
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def by_code(diagnostics, code: str):
    return [d for d in diagnostics if d.code == code]


def test_vocabulary_kinds_paths_values_messages_caps_and_tests(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, "demo.yaml", RULESET)
    diagnostics, unreadable = lint([path])
    assert not unreadable
    [unknown] = [d for d in by_code(diagnostics, "unknown-attribute") if "cpii" in d.message]
    assert (unknown.file, unknown.line, unknown.column, unknown.level) == ("demo.yaml", 9, 16, "warning")
    assert "did you mean 'cpi'?" in unknown.message
    [mismatch] = by_code(diagnostics, "type-mismatch")
    assert (mismatch.line, mismatch.level) == (14, "error") and "compares a date with a number" in mismatch.message
    [path_warning] = by_code(diagnostics, "unreachable-path")
    assert "'contains' never leads from project to person" in path_warning.message
    [value] = by_code(diagnostics, "unknown-value")
    assert "'opened' is not one of ['closed', 'open']" in value.message and "did you mean 'open'?" in value.message
    [placeholder] = by_code(diagnostics, "unknown-placeholder")
    assert "{budgett}" in placeholder.message and "did you mean 'budget'?" in placeholder.message
    [capped] = by_code(diagnostics, "capped-outcome")
    assert capped.level == "info" and "required_action is always lowered to warning" in capped.message
    [node_type] = by_code(diagnostics, "unknown-node-type")
    assert "did you mean 'project'?" in node_type.message
    assert {d.message.split()[1] for d in by_code(diagnostics, "untested-rule")} == {"X1", "X2", "X3", "X4", "X5", "X6"}
    assert str(mismatch) == "demo.yaml:14:16: error: rule X2: compares a date with a number [type-mismatch]"


def test_custom_attributes_can_be_declared_and_tests_silence_untested(tmp_path: Path):
    ruleset = """\
    ruleset: custom
    version: 1.0.0
    attributes:
      project: [vendor_score]
    rules:
      - id: V1
        title: Weak vendor
        applies_to: project
        condition: vendor_score < 3
        outcome: warning
    """
    write(tmp_path, "rules/custom.yaml", ruleset)
    write(
        tmp_path,
        "rules/tests/custom.yaml",
        "tests:\n  - name: t\n    state: {nodes: []}\n    absent: [{rule: V1, subject: x}]\n",
    )
    diagnostics, _ = lint([tmp_path / "rules"])
    assert diagnostics == []


def test_custom_edge_attributes_can_be_declared(tmp_path: Path):
    ruleset = """\
    ruleset: custom
    version: 1.0.0
    edge_attributes:
      assigned_to: [role_on_task]
    rules:
      - id: V1
        title: Task without a lead
        applies_to: task
        condition: not exists(<-assigned_to<-person where edge.role_on_task == "lead")
        outcome: warning
      - id: V2
        title: Misspelt
        applies_to: task
        condition: exists(<-assigned_to<-person where edge.role_on_tsk == "lead")
        outcome: warning
    """
    write(tmp_path, "rules/custom.yaml", ruleset)
    diagnostics, _ = lint([tmp_path / "rules"])
    [unknown] = by_code(diagnostics, "unknown-attribute")
    assert "rule V2" in unknown.message and "did you mean 'role_on_task'?" in unknown.message
    state = {
        "graph": {"as_of": "2026-01-05", "pmo_type": "directive"},
        "nodes": [
            {"id": "P", "type": "project"},
            {"id": "A", "type": "person"},
            {"id": "T1", "type": "task"},
            {"id": "T2", "type": "task"},
        ],
        "edges": [
            {"source": "P", "target": "T1", "relation": "contains"},
            {"source": "P", "target": "T2", "relation": "contains"},
            {"source": "A", "target": "T1", "relation": "assigned_to", "role_on_task": "lead"},
            {"source": "A", "target": "T2", "relation": "assigned_to", "role_on_task": "reviewer"},
        ],
    }
    report = Engine([tmp_path / "rules" / "custom.yaml"]).evaluate(state)
    fired = {(d.rule_id, d.subject, d.outcome.value) for d in report.decisions}
    # the misspelt attribute is absent on every edge: V2 cannot be decided
    assert fired == {
        ("V1", "T2", "warning"),
        ("V2", "T1", "insufficient_evidence"),
        ("V2", "T2", "insufficient_evidence"),
    }


def test_cli_exit_codes_and_json(tmp_path: Path):
    clean = write(tmp_path, "ok/clean.yaml", "ruleset: ok\nversion: '1'\nrules: []\n")
    assert CliRunner().invoke(main, ["lint", str(clean)]).exit_code == 0
    bad = write(tmp_path, "demo.yaml", RULESET)
    result = CliRunner().invoke(main, ["lint", str(bad), "--format", "json"])
    assert result.exit_code == 1
    codes = {d["code"] for d in json.loads(result.output)}
    assert {"type-mismatch", "unknown-attribute", "untested-rule"} <= codes
    broken = write(tmp_path, "broken.yaml", "ruleset: [\n")
    result = CliRunner().invoke(main, ["lint", str(broken)])
    assert result.exit_code == 2 and "invalid YAML" in result.output


def test_a_relaxing_child_pack_and_overlapping_versions_are_errors(tmp_path: Path):
    write(
        tmp_path,
        "base/rules/m.yaml",
        """\
        ruleset: m
        version: '1'
        parameters:
          limit: {default: 0.9, stricter: higher}
        rules:
          - {id: A, title: a, applies_to: project, condition: cpi < $limit, outcome: warning}
        """,
    )
    write(tmp_path, "base/pack.yaml", "pack: base\nversion: '1'\npmo_type: supportive\n")
    write(
        tmp_path,
        "child/pack.yaml",
        "pack: child\nversion: '1'\npmo_type: controlling\nextends: base\nparameters: {limit: 0.8}\n",
    )
    result = CliRunner().invoke(main, ["lint", str(tmp_path / "child")])
    assert result.exit_code == 1
    assert (
        "pack child relaxes parameter 'limit' (higher is stricter): base has 0.9, child sets 0.8 [load]"
        in result.output
    )
    overlapping = """\
    ruleset: v
    version: '1'
    rules:
      - {id: A, version: 1, effective_until: 2026-06-30, title: a, applies_to: project, condition: cpi < 1, outcome: warning}
      - {id: A, version: 2, effective_from: 2026-06-01, title: a, applies_to: project, condition: cpi < 1, outcome: warning}
    """
    result = CliRunner().invoke(main, ["lint", str(write(tmp_path, "v.yaml", overlapping))])
    assert result.exit_code == 1 and "versions 1 and 2 are in force on the same days" in result.output


def test_the_shipped_packs_have_no_errors():
    root = Path(__file__).resolve().parents[2]
    diagnostics, unreadable = lint([root / "rulesets", root / "supportive", root / "controlling", root / "directive"])
    assert not unreadable
    assert [str(d) for d in diagnostics if d.level == "error"] == []


def test_a_gap_between_versions_is_reported(tmp_path: Path):
    gapped = """\
    ruleset: v
    version: '1'
    rules:
      - {id: A, version: 1, effective_until: 2026-06-30, title: a, applies_to: project, condition: cpi < 1, outcome: warning}
      - {id: A, version: 2, effective_from: 2026-07-15, title: a, applies_to: project, condition: cpi < 0.9, outcome: warning}
    """
    diagnostics, _ = lint([write(tmp_path, "v.yaml", gapped)])
    [gap] = by_code(diagnostics, "version-gap")
    assert gap.message == "rule A: no version is in force from 2026-07-01 to 2026-07-14 (between versions 1 and 2)"
    assert (gap.line, gap.level) == (5, "warning")


def test_a_kept_directory_of_mistakes_gives_exactly_the_expected_lines(monkeypatch):
    cases = Path(__file__).parent / "lint_cases"
    monkeypatch.chdir(cases)
    result = CliRunner().invoke(main, ["lint", "mistakes"])
    assert result.exit_code == 1  # the type mismatch is an error
    assert result.output == (cases / "expected.txt").read_text()
