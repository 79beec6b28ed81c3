"""Fuzz target: the expression parser and the rule loader. The first byte picks where the text
goes in a rule (condition, scope, unless, a `let` shown in the message, a derived fact another
rule reads); the rest is the expression. Parsing gives an AST or a RulesetError; a rule that
loads is evaluated on a fixed state by the snapshot evaluator and the reference interpreter
and the reports rendered as JSON, which may fail only with the engine's own errors; both
evaluators must decide the same. Anything else is a crash.

Run: python fuzz/fuzz_expression.py CORPUS_DIR fuzz/corpus/expression -max_total_time=60."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_harness import fixed_state, fuzz, instrumented, scratch_file  # noqa: E402

with instrumented(__name__ == "__main__"):
    import yaml

    from governance_engine import Engine, GovernanceError, RulesetError
    from governance_engine.errors import Location
    from governance_engine.language.packs import load_pack
    from governance_engine.language.parser import parse_expression
    from governance_engine.state.load import state_from_dict

STATE = fixed_state()
RULES = scratch_file("fuzzed.yaml")
OUTCOME = {"supportive": "warning", "controlling": "required_action", "directive": "escalation"}


def _rule(rule_id: str, applies_to: str, **fields) -> dict:
    return {"id": rule_id, "title": f"fuzzed {rule_id}", "applies_to": applies_to, "outcome": OUTCOME} | fields


def _rules(text: str, slot: int) -> list[dict]:
    """The fuzzed text in one of the places an expression can stand."""
    placements = [
        lambda: [_rule("F1", "project", condition=text, message="{name} fired")],
        lambda: [_rule("F1", "task", condition=text, message="{id}")],
        lambda: [_rule("F1", "project", let={"v": text}, condition="v is not null", message="v = {v}")],
        lambda: [_rule("F1", "risk", scope=text, condition="true")],
        lambda: [_rule("F1", "gate", condition="true", unless=text)],
        lambda: [
            {"id": "D1", "title": "fuzzed fact", "applies_to": "project", "condition": text, "derive": "flag"},
            _rule("F1", "project", condition="flag", on_missing="breach"),
        ],
    ]
    return placements[slot % len(placements)]()


def test_one_input(data: bytes) -> None:
    if not data:
        return
    text = data[1:].decode("utf-8", errors="replace")
    try:
        parse_expression(text, Location(file="fuzz"))
    except RulesetError:
        return
    ruleset = {"ruleset": "fuzzed", "version": "1", "rules": _rules(text, data[0])}
    RULES.write_text(yaml.safe_dump(ruleset, allow_unicode=True, sort_keys=False), encoding="utf-8")
    try:
        pack = load_pack(RULES)
    except RulesetError:
        return
    results = []
    for evaluator in ("snapshot", "reference"):
        try:
            report = Engine([pack], evaluator=evaluator).evaluate(state_from_dict(STATE), pmo_type="directive")
        except GovernanceError as error:
            results.append(type(error).__name__)
        else:
            results.append(json.loads(report.to_json())["decisions"])  # rendered as the CLI prints it
    if results[0] != results[1]:
        raise AssertionError(f"snapshot and reference disagree on {text!r}:\n{results[0]}\n{results[1]}")


if __name__ == "__main__":
    fuzz(test_one_input)
