"""Loading rulesets and packs: schema errors at file:line, layering that only tightens,
rule versions, derived-fact order, and the shipped family."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance_engine.errors import RulesetError
from governance_engine.language import ast
from governance_engine.language.packs import Pack, load_pack, shared_rulesets_dir
from governance_engine.outcomes import Outcome, PmoType


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load_error(ref: Path | str) -> RulesetError:
    with pytest.raises(RulesetError) as caught:
        load_pack(ref)
    return caught.value


def rule(rule_id: str = "X1", **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rule_id,
        "title": f"rule {rule_id}",
        "applies_to": "project",
        "condition": "budget > $limit",
        "outcome": "warning",
    }
    body.update(fields)
    return body


def module(name: str = "m", rules: list[dict[str, Any]] | None = None, **parameters: dict[str, Any]) -> str:
    doc = {
        "ruleset": name,
        "version": "1",
        "parameters": parameters or {"limit": {"default": 10, "stricter": "lower"}},
        "rules": rules if rules is not None else [rule()],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def make_pack(root: Path, name: str, rules_text: str | None = None, **manifest: Any) -> Path:
    """A pack directory `root/name` with pack.yaml and, optionally, rules/<name>.yaml."""
    directory = root / name
    doc = {"pack": name, "version": "1.0.0", **manifest}
    write(directory / "pack.yaml", yaml.safe_dump(doc, sort_keys=False))
    if rules_text is not None:
        write(directory / "rules" / f"{name}.yaml", rules_text)
    return directory


RULESET = """
ruleset: sample
version: "1.0"
parameters:
  limit:
    default: 10
    stricter: lower
rules:
  - id: X1
    title: Over the limit
    applies_to: project
    condition: budget > $limit
    outcome: warning
"""


# --------------------------------------------------------------------------- single ruleset files


def test_single_ruleset_file_loads_as_an_anonymous_pack(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path / "r.yaml", RULESET))
    assert isinstance(pack, Pack)
    assert (pack.name, pack.version, pack.pmo_type, pack.lineage) == ("sample", "1.0", None, ("sample",))
    assert pack.parameters == {"limit": 10}
    [only] = pack.rules
    assert only.key == "X1@1"
    assert only.condition == ast.Compare(">", ast.Attr("budget"), ast.Literal(10))
    assert only.parameters == {"limit": 10}
    assert set(only.outcomes.values()) == {Outcome.warning}
    assert only.location.file == str(tmp_path / "r.yaml")
    assert only.location.line == 8  # the '- id: X1' line
    assert pack.digest.startswith("sha256:")


def test_digest_follows_the_rule_text(tmp_path: Path) -> None:
    first = load_pack(write(tmp_path / "a" / "r.yaml", RULESET)).digest
    same = load_pack(write(tmp_path / "b" / "r.yaml", RULESET)).digest
    other = load_pack(write(tmp_path / "c" / "r.yaml", RULESET.replace("default: 10", "default: 11"))).digest
    assert first == same != other


def test_per_type_outcomes(tmp_path: Path) -> None:
    text = RULESET.replace(
        "outcome: warning", "outcome: {supportive: info, controlling: required_action, directive: rejection}"
    )
    [only] = load_pack(write(tmp_path / "r.yaml", text)).rules
    assert only.outcomes == {
        PmoType.supportive: Outcome.info,
        PmoType.controlling: Outcome.required_action,
        PmoType.directive: Outcome.rejection,
    }


def test_directive_weaker_than_controlling_is_refused(tmp_path: Path) -> None:
    text = RULESET.replace(
        "outcome: warning", "outcome: {supportive: warning, controlling: escalation, directive: warning}"
    )
    e = load_error(write(tmp_path / "r.yaml", text))
    assert "rule X1: directive outcome warning is weaker than controlling outcome escalation" in e.message


def test_unknown_field_in_a_rule_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET + "    colour: red\n")
    e = load_error(path)
    assert e.message == "rules.0.colour: Extra inputs are not permitted"
    assert (e.location.file, e.location.line) == (str(path), 13)
    assert str(e).startswith(f"{path}:13:")


def test_missing_title_points_at_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("    title: Over the limit\n", ""))
    e = load_error(path)
    assert e.message == "rules.0.title: Field required"
    assert (e.location.line, e.location.column) == (8, 5)


def test_outcome_and_derive_together_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET + "    derive: over\n")
    e = load_error(path)
    assert "a rule has exactly one of 'outcome' (it decides) or 'derive' (it sets a fact)" in e.message
    assert e.message.startswith("rules.0:")
    assert (e.location.file, e.location.line) == (str(path), 8)


def test_neither_outcome_nor_derive_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("    outcome: warning\n", ""))
    e = load_error(path)
    assert "exactly one of 'outcome'" in e.message
    assert e.location.line == 8


def test_error_in_the_second_rule_names_its_line(tmp_path: Path) -> None:
    text = RULESET + "  - id: X2\n    title: Second\n    applies_to: project\n    condition: a\n    outcome: loud\n"
    e = load_error(write(tmp_path / "r.yaml", text))
    assert e.message.startswith("rules.1.outcome")
    assert (e.location.line, e.location.column) == (17, 14)


def test_relaxable_rule_without_a_reason_is_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET + "    relaxable: true\n"))
    assert "a relaxable rule must give its relaxable_reason" in e.message


def test_effective_until_before_from_is_refused(tmp_path: Path) -> None:
    text = RULESET + "    effective_from: 2026-07-01\n    effective_until: 2026-06-01\n"
    assert "effective_until is before effective_from" in load_error(write(tmp_path / "r.yaml", text)).message


def test_yaml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("outcome: warning", "outcome: [warning"))
    e = load_error(path)
    assert e.message.startswith("invalid YAML: ")
    assert e.location.file == str(path)
    assert e.location.line is not None and e.location.column is not None
    assert e.location.line >= 13


def test_yaml_bad_indentation_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", "ruleset: x\nversion: '1'\n  rules: []\n")
    e = load_error(path)
    assert e.message == "invalid YAML: expected <block end>, but found '<block mapping start>'"
    assert (e.location.file, e.location.line, e.location.column) == (str(path), 3, 3)


def test_yaml_alias_is_refused(tmp_path: Path) -> None:
    text = (
        RULESET + "  - &again\n    id: X2\n    title: t\n    applies_to: project\n    condition: a\n    outcome: info\n"
    )
    text += "  - *again\n"
    path = write(tmp_path / "r.yaml", text)
    e = load_error(path)
    assert e.message == "invalid YAML: YAML aliases (*name) are not allowed in governance files"
    assert (e.location.line, e.location.column) == (19, 5)


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET + "    outcome: info\n"))
    assert e.message == "invalid YAML: duplicate key 'outcome'"
    assert e.location.line == 13


@pytest.mark.parametrize(("key", "column"), [("~", 5), ("null", 5)])
def test_null_yaml_key_is_refused_at_its_place(tmp_path: Path, key: str, column: int) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET + f"    {key}: stray\n"))
    assert e.message == "invalid YAML: a mapping key is null (`~` or empty)"
    assert (e.location.line, e.location.column) == (13, column)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", "\n"))
    assert e.message == "the file is empty"


def test_not_a_ruleset(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", "pack: x\nversion: '1'\n"))
    assert "not a ruleset" in e.message


def test_missing_file(tmp_path: Path) -> None:
    e = load_error(tmp_path / "nope.yaml")
    assert "no such pack or ruleset" in e.message
    assert e.location.file == str(tmp_path / "nope.yaml")


def test_condition_syntax_error_is_located_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("budget > $limit", "budget > > $limit"))
    e = load_error(path)
    assert e.message.startswith("unexpected '>'")
    # "    condition: budget > > $limit": the value starts at column 16, the second '>' is its 10th char
    assert (e.location.file, e.location.line, e.location.column) == (str(path), 11, 25)


def test_condition_error_in_a_quoted_scalar_is_located_at_the_character(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("budget > $limit", '"budget > > $limit"'))
    e = load_error(path)
    assert (e.location.line, e.location.column) == (11, 26)


def test_condition_error_in_a_block_scalar_is_located_at_the_character(tmp_path: Path) -> None:
    text = RULESET.replace("condition: budget > $limit", "condition: >-\n      budget > > $limit")
    e = load_error(write(tmp_path / "r.yaml", text))
    # line 12 is "      budget > > $limit": the second '>' is at column 16
    assert (e.location.line, e.location.column) == (12, 16)


def test_unknown_parameter_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "r.yaml", RULESET.replace("$limit", "$nope"))
    e = load_error(path)
    assert e.message == "rule X1: unknown parameter $nope (known: limit)"
    assert e.location.file == str(path)


def test_unknown_parameter_in_a_message_is_named(tmp_path: Path) -> None:
    text = RULESET + '    message: "over {$ceiling}"\n'
    assert "unknown parameter $ceiling (known: limit)" in load_error(write(tmp_path / "r.yaml", text)).message


def test_unknown_parameter_is_located_at_its_line(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET.replace("$limit", "$nope")))
    assert (e.location.line, e.location.column) == (11, 25)


def test_subject_outside_a_filter_is_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET.replace("budget > $limit", "subject.budget > 1")))
    assert "rule X1: 'subject.' is for filters" in e.message


def test_edge_outside_a_graph_function_is_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", RULESET.replace("budget > $limit", "edge.kind == 1")))
    assert "rule X1: 'edge.' can only be used inside a graph function" in e.message


def test_let_names_resolve(tmp_path: Path) -> None:
    text = RULESET.replace(
        "    condition: budget > $limit", "    let:\n      spent: actual_cost + 1\n    condition: spent > $limit"
    )
    [only] = load_pack(write(tmp_path / "r.yaml", text)).rules
    assert only.condition == ast.Compare(">", ast.LetRef("spent"), ast.Literal(10))
    assert only.lets == (("spent", ast.Arith("+", ast.Attr("actual_cost"), ast.Literal(1))),)


def test_long_arithmetic_chain_is_a_ruleset_error_not_a_recursion_error(tmp_path: Path) -> None:
    condition = "1" + " + 1" * 3000 + " > 0"
    path = write(tmp_path / "r.yaml", RULESET.replace("budget > $limit", condition))
    try:
        load_pack(path)
    except RulesetError:
        pass
    except RecursionError:  # pragma: no cover - the bug
        pytest.fail("RecursionError escaped load_pack")


# --------------------------------------------------------------------------- versions


def versions(first: dict[str, Any], second: dict[str, Any]) -> str:
    return module(rules=[rule("V", condition="a > 1", **first), rule("V", version=2, condition="a > 2", **second)])


def test_overlapping_versions_are_refused(tmp_path: Path) -> None:
    text = versions({"effective_until": "2026-07-01"}, {"effective_from": "2026-07-01"})
    e = load_error(write(tmp_path / "r.yaml", text))
    assert e.message == "rule V: versions 1 and 2 are in force on the same days"


def test_open_ended_versions_are_refused(tmp_path: Path) -> None:
    e = load_error(write(tmp_path / "r.yaml", versions({}, {})))
    assert "versions 1 and 2 are in force on the same days" in e.message


def test_same_version_twice_is_refused(tmp_path: Path) -> None:
    text = module(
        rules=[
            rule("V", condition="a > 1", effective_until="2026-06-30"),
            rule("V", condition="a > 2", effective_from="2026-07-01"),
        ]
    )
    assert load_error(write(tmp_path / "r.yaml", text)).message == "rule V: version 1 defined twice"


def test_consecutive_versions_load_and_the_right_one_is_in_force(tmp_path: Path) -> None:
    text = versions({"effective_until": "2026-06-30"}, {"effective_from": "2026-07-01"})
    pack = load_pack(write(tmp_path / "r.yaml", text))
    assert sorted(r.key for r in pack.rules) == ["V@1", "V@2"]
    assert [r.key for r in pack.rules_in_force(date(2020, 1, 1))] == ["V@1"]
    assert [r.key for r in pack.rules_in_force(date(2026, 6, 30))] == ["V@1"]
    assert [r.key for r in pack.rules_in_force(date(2026, 7, 1))] == ["V@2"]
    [v2] = pack.rules_in_force(date(2030, 1, 1))
    assert v2.condition == ast.Compare(">", ast.Attr("a"), ast.Literal(2))


def test_version_window_with_a_gap(tmp_path: Path) -> None:
    text = versions(
        {"effective_from": "2026-01-01", "effective_until": "2026-03-31"},
        {"effective_from": "2026-05-01"},
    )
    pack = load_pack(write(tmp_path / "r.yaml", text))
    assert pack.rules_in_force(date(2025, 12, 31)) == []
    assert [r.key for r in pack.rules_in_force(date(2026, 3, 31))] == ["V@1"]
    assert pack.rules_in_force(date(2026, 4, 15)) == []
    assert [r.key for r in pack.rules_in_force(date(2026, 5, 1))] == ["V@2"]


# --------------------------------------------------------------------------- derived facts


def test_deriving_rules_in_a_cycle_are_refused(tmp_path: Path) -> None:
    text = module(
        rules=[
            {"id": "A", "title": "a", "applies_to": "project", "condition": "y", "derive": "x"},
            {"id": "B", "title": "b", "applies_to": "project", "condition": "x", "derive": "y"},
        ]
    )
    e = load_error(write(tmp_path / "r.yaml", text))
    assert "cycle" in e.message
    assert "A@1" in e.message and "B@1" in e.message


def test_derived_facts_are_ordered_before_their_readers(tmp_path: Path) -> None:
    text = module(
        rules=[
            rule("Z", condition="red and budget > $limit"),
            {"id": "M", "title": "m", "applies_to": "project", "condition": "amber", "derive": "red"},
            {"id": "A", "title": "a", "applies_to": "project", "condition": "cpi < 0.9", "derive": "amber"},
        ]
    )
    pack = load_pack(write(tmp_path / "r.yaml", text))
    assert [r.id for r in pack.rules] == ["A", "M", "Z"]


def test_derived_fact_inside_arithmetic_is_refused(tmp_path: Path) -> None:
    text = module(
        rules=[
            {"id": "A", "title": "a", "applies_to": "project", "condition": "cpi < 0.9", "derive": "flag"},
            rule("B", condition="flag + 1 > $limit"),
        ]
    )
    e = load_error(write(tmp_path / "r.yaml", text))
    assert e.message.startswith("rule B: derived fact 'flag' can only be read as a condition on its own")


def test_derived_fact_compared_is_refused(tmp_path: Path) -> None:
    text = module(
        rules=[
            {"id": "A", "title": "a", "applies_to": "project", "condition": "cpi < 0.9", "derive": "flag"},
            rule("B", condition="flag == true"),
        ]
    )
    assert "derived fact 'flag'" in load_error(write(tmp_path / "r.yaml", text)).message


def test_derived_fact_set_by_two_rules_is_refused(tmp_path: Path) -> None:
    text = module(
        rules=[
            {"id": "A", "title": "a", "applies_to": "project", "condition": "cpi < 0.9", "derive": "flag"},
            {"id": "B", "title": "b", "applies_to": "project", "condition": "spi < 0.9", "derive": "flag"},
        ]
    )
    assert load_error(write(tmp_path / "r.yaml", text)).message == "derived fact 'flag' is set by two rules"


# --------------------------------------------------------------------------- packs and layering


PARAMS = {"limit": {"default": 10, "stricter": "higher"}, "cap": {"default": 5, "stricter": "lower"}}
BASE_RULES = [
    rule(
        "R1",
        condition="budget > $cap and spi < $limit",
        outcome={"supportive": "warning", "controlling": "required_action", "directive": "rejection"},
    ),
    rule("R2", condition="budget > $cap", relaxable=True, relaxable_reason="training offer"),
    rule("R3", condition="budget > 1", outcome="warning"),
]


def test_extends_names_a_sibling_directory(tmp_path: Path) -> None:
    make_pack(tmp_path, "base", module("basemod", BASE_RULES, **PARAMS), pmo_type="supportive")
    child = make_pack(tmp_path, "child", extends="base")
    assert load_pack(child).lineage == ("base", "child")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return make_pack(tmp_path, "base", module("basemod", BASE_RULES, **PARAMS), pmo_type="supportive")


def test_pack_directory_loads(base: Path) -> None:
    pack = load_pack(base)
    assert (pack.name, pack.pmo_type, pack.lineage) == ("base", PmoType.supportive, ("base",))
    assert pack.parameters == {"cap": 5, "limit": 10}
    assert sorted(r.id for r in pack.rules) == ["R1", "R2", "R3"]
    assert load_pack(base / "pack.yaml").digest == pack.digest
    assert load_pack(str(base)).digest == pack.digest


def test_directory_without_a_manifest(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert load_error(tmp_path / "empty").message == "not a pack: the directory has no pack.yaml"


def test_child_that_tightens_loads(tmp_path: Path, base: Path) -> None:
    child = make_pack(
        tmp_path,
        "child",
        extends="base",
        pmo_type="controlling",
        parameters={"limit": 12, "cap": 3},
        outcomes={"R3": "required_action"},
        disable=["R2"],
    )
    pack = load_pack(child)
    assert pack.lineage == ("base", "child")
    assert pack.pmo_type is PmoType.controlling
    assert pack.parameters == {"cap": 3, "limit": 12}
    assert sorted(r.id for r in pack.rules) == ["R1", "R3"]
    r1 = next(r for r in pack.rules if r.id == "R1")
    assert r1.parameters == {"cap": 3, "limit": 12}
    r3 = next(r for r in pack.rules if r.id == "R3")
    assert r3.outcomes[PmoType.controlling] is Outcome.required_action


def test_child_keeping_the_same_values_loads(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", parameters={"limit": 10, "cap": 5})
    assert load_pack(child).parameters == {"cap": 5, "limit": 10}


@pytest.mark.parametrize(
    ("name", "value", "stricter", "before"),
    [("limit", 9, "higher", 10), ("cap", 6, "lower", 5)],
)
def test_child_that_relaxes_a_parameter_is_refused(
    tmp_path: Path, base: Path, name: str, value: int, stricter: str, before: int
) -> None:
    child = make_pack(tmp_path, "child", extends="base", parameters={name: value})
    e = load_error(child)
    assert e.message == (
        f"pack child relaxes parameter {name!r} ({stricter} is stricter): base has {before}, child sets {value}"
    )
    assert e.location.file == str(child / "pack.yaml")
    lines = (child / "pack.yaml").read_text().splitlines()
    assert lines[e.location.line - 1].strip().startswith(f"{name}:")


def test_grandchild_cannot_relax_what_the_child_tightened(tmp_path: Path, base: Path) -> None:
    make_pack(tmp_path, "child", extends="base", parameters={"cap": 3})
    grandchild = make_pack(tmp_path, "grandchild", extends="child", parameters={"cap": 4})
    e = load_error(grandchild)
    assert e.message == "pack grandchild relaxes parameter 'cap' (lower is stricter): child has 3, grandchild sets 4"


def test_parameter_of_another_kind_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", parameters={"cap": "three"})
    assert load_error(child).message == "pack child: parameter 'cap' must be like 5, got 'three'"


def test_unknown_parameter_in_a_manifest_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", parameters={"ceiling": 3})
    assert load_error(child).message == "pack child: unknown parameter 'ceiling'"


def test_child_that_relaxes_an_outcome_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", outcomes={"R1": {"controlling": "warning"}})
    e = load_error(child)
    assert e.message == "pack child relaxes rule R1 under controlling: base has required_action, child sets warning"
    assert e.location.file == str(child / "pack.yaml")


def test_child_that_relaxes_an_outcome_everywhere_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", outcomes={"R1": "warning"})
    assert (
        "relaxes rule R1 under controlling: base has required_action, child sets warning" in load_error(child).message
    )


def test_outcome_for_an_unknown_rule_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", outcomes={"R9": "warning"})
    assert load_error(child).message == "pack child: outcome for unknown rule 'R9'"


def test_disabling_a_rule_that_is_not_relaxable_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", disable=["R1"])
    e = load_error(child)
    assert e.message == "pack child disables rule R1, which its module does not mark relaxable"
    assert e.location.file == str(child / "pack.yaml")


def test_disabling_a_relaxable_rule_is_allowed(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", disable=["R2"])
    assert sorted(r.id for r in load_pack(child).rules) == ["R1", "R3"]


def test_disabling_an_unknown_rule_is_refused(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", disable=["R9"])
    assert load_error(child).message == "pack child: cannot disable unknown rule 'R9'"


def test_include_of_an_unknown_shared_module_lists_the_known_ones(tmp_path: Path) -> None:
    pack_dir = make_pack(tmp_path, "p", include=["risk", "astrology"])
    e = load_error(pack_dir)
    assert e.message.startswith("unknown shared ruleset 'astrology' (known: ")
    known = sorted(p.stem for p in shared_rulesets_dir().glob("*.yaml"))
    assert "stage-gates" in known
    assert ", ".join(known) in e.message
    assert e.location.file == str(pack_dir / "pack.yaml")
    lines = (pack_dir / "pack.yaml").read_text().splitlines()
    assert lines[e.location.line - 1].strip() == "- astrology"


def test_include_of_a_shared_module(tmp_path: Path) -> None:
    pack = load_pack(make_pack(tmp_path, "p", include=["risk"]))
    assert pack.rules
    assert {r.module for r in pack.rules} == {"risk"}


@pytest.mark.parametrize("bad", ["../etc", "/etc/passwd", "risk/../../x", "Risk"])
def test_include_path_traversal_is_refused_by_the_schema(tmp_path: Path, bad: str) -> None:
    pack_dir = make_pack(tmp_path, "p", include=[bad])
    e = load_error(pack_dir)
    assert e.message.startswith("include.0: String should match pattern")
    assert e.location.file == str(pack_dir / "pack.yaml")


@pytest.mark.parametrize("bad", ["../../x", "../../outside", "/etc", "nowhere"])
def test_extends_outside_the_sibling_directories_is_refused(tmp_path: Path, bad: str) -> None:
    (tmp_path.parent / "outside").mkdir(exist_ok=True)
    write(tmp_path.parent / "outside" / "pack.yaml", "pack: outside\nversion: '1'\n")
    pack_dir = make_pack(tmp_path, "p", extends=bad)
    e = load_error(pack_dir)
    assert e.message == (
        f"extends {bad!r}: not a shipped pack (supportive, controlling, directive) nor a sibling pack directory"
    )
    assert e.location.file == str(pack_dir / "pack.yaml")


def test_packs_extending_each_other_are_refused(tmp_path: Path) -> None:
    make_pack(tmp_path, "a", extends="b")
    make_pack(tmp_path, "b", extends="a")
    assert load_error(tmp_path / "a").message == "packs extend each other in a cycle"


def test_unknown_field_in_a_manifest(tmp_path: Path) -> None:
    pack_dir = make_pack(tmp_path, "p", colour="red")
    e = load_error(pack_dir)
    assert e.message == "colour: Extra inputs are not permitted"
    assert (e.location.file, e.location.line) == (str(pack_dir / "pack.yaml"), 3)


def test_rule_id_in_two_modules_is_refused(tmp_path: Path) -> None:
    pack_dir = make_pack(tmp_path, "p", module("one", [rule("D")]))
    write(pack_dir / "rules" / "two.yaml", module("two", [rule("D")]))
    assert "rule id D is defined in several modules: one, two" in load_error(pack_dir).message


def test_child_extending_a_shipped_pack(tmp_path: Path) -> None:
    child = make_pack(tmp_path, "strict", extends="directive", parameters={"gate_decision_working_days": 3})
    pack = load_pack(child)
    assert pack.lineage == ("supportive", "controlling", "directive", "strict")
    assert pack.parameters["gate_decision_working_days"] == 3
    relaxed = make_pack(tmp_path, "lax", extends="directive", parameters={"gate_decision_working_days": 20})
    assert "directive has 5, lax sets 20" in load_error(relaxed).message


# --------------------------------------------------------------------------- the shipped family


@pytest.fixture(scope="module")
def shipped() -> dict[str, Pack]:
    return {name: load_pack(name) for name in ("supportive", "controlling", "directive")}


def test_shipped_packs_load(shipped: dict[str, Pack]) -> None:
    assert shipped["supportive"].lineage == ("supportive",)
    assert shipped["controlling"].lineage == ("supportive", "controlling")
    assert shipped["directive"].lineage == ("supportive", "controlling", "directive")
    for name, pack in shipped.items():
        assert pack.pmo_type is PmoType(name)
        assert len(pack.rules) > 10


def test_shipped_parameters(shipped: dict[str, Pack]) -> None:
    assert shipped["directive"].parameters["gate_decision_working_days"] == 5
    assert shipped["controlling"].parameters["gate_decision_working_days"] == 10
    assert shipped["directive"].parameters["evm_amber"] == 0.96


def test_controlling_drops_the_relaxable_training_rule(shipped: dict[str, Pack]) -> None:
    assert "T6" in {r.id for r in shipped["supportive"].rules}
    assert "T6" not in {r.id for r in shipped["controlling"].rules}
    assert "T6" not in {r.id for r in shipped["directive"].rules}


@pytest.mark.parametrize("name", ["supportive", "controlling", "directive"])
def test_shipped_packs_load_under_the_rete_evaluator(shipped: dict[str, Pack], name: str) -> None:
    from governance_engine.evaluate.rete import ReteEvaluator

    evaluator = ReteEvaluator(shipped[name])
    assert evaluator is not None


def _two_versions(tmp_path: Path, first: dict[str, Any], second: dict[str, Any]) -> Path:
    """A parent pack whose rule X1 has two versions (first listed first), in force one after the other."""
    versions = [
        rule("X1", version=1, effective_until=date(2026, 6, 30), **first),
        rule("X1", version=2, effective_from=date(2026, 7, 1), **second),
    ]
    return make_pack(tmp_path, "parent", module("m", versions), pmo_type="supportive")


def test_an_outcome_override_must_not_weaken_any_version_of_the_rule(tmp_path: Path) -> None:
    """The override applies to every version, so each one is checked, not only the last listed."""
    _two_versions(tmp_path, {"outcome": "escalation"}, {"outcome": "warning"})
    child = make_pack(tmp_path, "child", extends="parent", outcomes={"X1": "warning"})
    e = load_error(child)
    assert (
        e.message
        == "pack child relaxes rule X1 (version 1) under supportive: parent has escalation, child sets warning"
    )
    stricter = make_pack(tmp_path, "stricter", extends="parent", outcomes={"X1": "escalation"})
    assert {(r.version, r.outcomes[PmoType.supportive]) for r in load_pack(stricter).rules} == {
        (1, Outcome.escalation),
        (2, Outcome.escalation),
    }


def test_disabling_needs_every_version_to_be_relaxable(tmp_path: Path) -> None:
    relaxable = {"relaxable": True, "relaxable_reason": "advisory"}
    _two_versions(tmp_path, relaxable, {})
    child = make_pack(tmp_path, "child", extends="parent", disable=["X1"])
    e = load_error(child)
    assert e.message == "pack child disables rule X1 (version 2), which its module does not mark relaxable"


def test_an_override_that_breaks_the_escalation_order_is_reported_in_the_pack(tmp_path: Path, base: Path) -> None:
    child = make_pack(tmp_path, "child", extends="base", outcomes={"R1": {"supportive": "rejection"}})
    e = load_error(child)
    assert "is weaker than supportive outcome rejection" in e.message
    assert e.location.file == str(child / "pack.yaml")
