"""The differential test: the snapshot and Rete evaluators decide exactly what the reference
interpreter decides, on random rules over random states (three-valued logic, graph functions,
derived facts and rule windows included)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine.evaluate.reference import ReferenceEvaluator
from governance_engine.evaluate.rete import ReteEvaluator, number_key
from governance_engine.evaluate.snapshot import SnapshotEvaluator
from governance_engine.evaluate.values import UNKNOWN
from governance_engine.language.packs import load_pack
from governance_engine.state.load import state_from_dict

from ..strategies import AS_OF, packs, states

SNAPSHOT_EXAMPLES = 2000
RETE_EXAMPLES = 1000


def probe_pack(tmp_path, rules: str):
    """A pack of one ruleset file holding `rules` (YAML list items under `rules:`)."""
    ruleset = tmp_path / "probe.yaml"
    ruleset.write_text("ruleset: probe\nversion: '1'\nrules:\n" + rules, encoding="utf-8")
    return load_pack(ruleset)


def outcomes(evaluator, index) -> set[tuple[str, str, str]]:
    return {
        (f.rule.key, f.subject, "unknown" if f.verdict is UNKNOWN else str(f.verdict))
        for f in evaluator.evaluate(index, AS_OF)
    }


@settings(max_examples=SNAPSHOT_EXAMPLES)
@given(pack=packs(), state=states())
def test_snapshot_equals_reference(pack, state):
    index = state_from_dict(state)
    assert outcomes(SnapshotEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index)


@settings(max_examples=RETE_EXAMPLES)
@given(pack=packs(), state=states())
def test_rete_equals_reference(pack, state):
    index = state_from_dict(state)
    assert outcomes(ReteEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index)


def test_rete_scope_is_settled_with_the_other_evaluators_semantics(tmp_path):
    """A scope the network alone would read differently (numbers become floats on a fact, so
    2**53 and 2**53 + 1 compare equal there) must not let a condition that holds on absent
    operands fire: the pre-pass settles the scope in Python and marks the fact."""
    pack = probe_pack(
        tmp_path,
        "  - id: B1\n    title: probe\n    applies_to: risk\n"
        "    scope: weight == 9007199254740993\n    condition: owner is null\n    outcome: warning\n",
    )
    state = {
        "graph": {"as_of": "2026-01-01"},
        "nodes": [{"id": "R1", "type": "risk", "weight": 9007199254740992, "owner": "alice"}],
        "edges": [],
    }
    index = state_from_dict(state)
    assert outcomes(ReteEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index) == set()


@given(
    a=st.floats(allow_nan=False) | st.integers(-(10**300), 10**300),
    b=st.floats(allow_nan=False) | st.integers(-(10**300), 10**300),
)
def test_numbers_reach_the_rete_as_integers_in_the_order_of_floats(a, b):
    """durable-rules' parser refuses floats as Python writes some of them (2e-05, 1e+16), so
    numbers travel as integers keyed by their float: same order, same equality."""
    x, y = float(a), float(b)
    assert (number_key(a) < number_key(b)) == (x < y)
    assert (number_key(a) == number_key(b)) == (x == y)


def test_rete_reads_numbers_that_python_writes_with_a_bare_exponent(tmp_path):
    """A threshold of 0.00001 in a rule and a CPI of 2e-05 in a state: the Rete evaluator
    used to refuse the rule ('too complex') and to crash on the fact."""
    pack = probe_pack(
        tmp_path,
        "  - id: T1\n    title: below\n    applies_to: project\n    condition: cpi < 0.00001\n    outcome: warning\n"
        "  - id: T2\n    title: above\n    applies_to: project\n    condition: cpi > 0.00001\n    outcome: warning\n"
        "  - id: T3\n    title: huge\n    applies_to: project\n    condition: budget >= 1e16\n    outcome: warning\n",
    )
    state = {
        "graph": {"as_of": "2026-01-01"},
        "nodes": [
            {"id": "P1", "type": "project", "earned_value": 10, "actual_cost": 500000, "budget": 1e16},
            {"id": "P2", "type": "project", "earned_value": 1, "actual_cost": 200000, "budget": 9999999999999998},
        ],
        "edges": [],
    }
    index = state_from_dict(state)
    expected = {("T2@1", "P1", "True"), ("T3@1", "P1", "True"), ("T1@1", "P2", "True")}
    assert outcomes(ReteEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index) == expected


def test_kleene_membership_dates_and_overflow_agree_in_every_evaluator(tmp_path):
    """`x in [a, unknown]` is true when x is a; `N + date` is `date + N`; arithmetic beyond the
    floats is unknown, never an OverflowError."""
    conditions = {
        "M1": 'phase in ["execution", sponsor_phase]',
        "M2": 'phase not in ["planning", sponsor_phase]',
        "M3": 'phase in ["planning", sponsor_phase]',
        "D1": "10 + start < as_of",
        "D2": "start + 10 < as_of",
        "O1": "big * big + 0.5 > 1",
        "O2": "big * big / 7 > 1",
    }
    rules = "".join(
        f"  - id: {rule_id}\n    title: probe\n    applies_to: project\n    condition: '{condition}'\n    outcome: warning\n"
        for rule_id, condition in conditions.items()
    )
    pack = probe_pack(tmp_path, rules)
    big = 10**300
    state = {
        "graph": {"as_of": "2026-01-01"},
        "nodes": [{"id": "P", "type": "project", "phase": "execution", "start": "2025-06-01", "big": big}],
        "edges": [],
    }
    index = state_from_dict(state)
    expected = {
        ("M1@1", "P", "True"),
        ("M2@1", "P", "unknown"),
        ("M3@1", "P", "unknown"),
        ("D1@1", "P", "True"),
        ("D2@1", "P", "True"),
        ("O1@1", "P", "unknown"),
        ("O2@1", "P", "unknown"),
    }
    for evaluator in (SnapshotEvaluator, ReteEvaluator, ReferenceEvaluator):
        assert outcomes(evaluator(pack), index) == expected, evaluator.name
