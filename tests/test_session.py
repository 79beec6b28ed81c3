"""Incremental sessions: after any sequence of changes, the session's decisions equal a full
re-evaluation of the changed state, and the delta it reports is exactly the difference."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine import Engine, Outcome, StateError
from governance_engine.errors import UsageError
from governance_engine.generate import generate_portfolio

EXAMPLES = 120

UPDATES = {
    "project": {
        "actual_cost": st.integers(0, 3_000_000),
        "earned_value": st.integers(0, 3_000_000),
        "phase": st.sampled_from(["planning", "execution", "closing"]),
        "rag_status": st.sampled_from(["green", "amber", "red"]),
    },
    "task": {
        "status": st.sampled_from(["not_started", "in_progress", "completed"]),
        "finish": st.sampled_from(["2026-10-01", "2026-12-31"]),
    },
    "risk": {
        "probability": st.integers(1, 5),
        "impact": st.integers(1, 5),
        "status": st.sampled_from(["open", "closed"]),
    },
    "document": {"status": st.sampled_from(["draft", "submitted", "approved"])},
    "gate": {"status": st.sampled_from(["pending", "requested", "approved"])},
    "change_request": {"cost_impact": st.integers(0, 200_000), "status": st.sampled_from(["submitted", "approved"])},
}
OPTIONAL = {"project": ["actual_cost", "contingency"], "risk": ["owner"], "task": ["completed_on"]}


@st.composite
def change(draw, document: dict) -> dict:
    nodes = document["nodes"]
    kind = draw(st.sampled_from(["update", "update", "unset", "remove_node", "add_risk", "add_edge", "remove_edge"]))
    if kind in ("update", "unset"):
        node = draw(st.sampled_from([n for n in nodes if n["type"] in UPDATES]))
        if kind == "unset" and OPTIONAL.get(node["type"]):
            return {
                "op": "update_node",
                "node": {"id": node["id"]},
                "unset": [draw(st.sampled_from(OPTIONAL[node["type"]]))],
            }
        attribute = draw(st.sampled_from(sorted(UPDATES[node["type"]])))
        return {"op": "update_node", "node": {"id": node["id"], attribute: draw(UPDATES[node["type"]][attribute])}}
    if kind == "remove_node":
        removable = [n for n in nodes if n["type"] in ("risk", "document", "person", "issue", "milestone")]
        if removable:
            return {"op": "remove_node", "node": {"id": draw(st.sampled_from(removable))["id"]}}
    if kind == "add_edge":
        people = [n["id"] for n in nodes if n["type"] == "person"]
        targets = [n["id"] for n in nodes if n["type"] in ("risk", "gate", "project", "task")]
        relation = draw(st.sampled_from(["owns", "approves", "manages", "sponsors", "assigned_to"]))
        edge = {"source": draw(st.sampled_from(people)), "target": draw(st.sampled_from(targets)), "relation": relation}
        if relation == "assigned_to":
            edge["allocation"] = draw(st.integers(10, 90))
        return {"op": "add_edge", "edge": edge}
    removable_edges = [e for e in document["edges"] if e["relation"] not in ("contains", "governs")]
    if kind == "remove_edge" and removable_edges:
        edge = draw(st.sampled_from(removable_edges))
        return {"op": "remove_edge", "edge": {k: edge[k] for k in ("source", "target", "relation")}}
    project = next(n["id"] for n in nodes if n["type"] == "project")
    risk_id = f"new-risk-{len(nodes)}"
    return [
        {
            "op": "add_node",
            "node": {
                "id": risk_id,
                "type": "risk",
                "title": "New",
                "probability": draw(st.integers(1, 5)),
                "impact": draw(st.integers(1, 5)),
                "status": "open",
                "review_due": "2026-12-01",
            },
        },
        {"op": "add_edge", "edge": {"source": project, "target": risk_id, "relation": "contains"}},
    ]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@settings(max_examples=EXAMPLES)
@given(seed=st.integers(0, 2**31 - 1), data=st.data())
def test_incremental_equals_full_re_evaluation(engine, seed, data):
    document = generate_portfolio(1, seed=seed, tasks=15, breaking_share=0.8)[0]
    session = engine.session(document)
    applied, refused = [], []
    try:
        assert session.decisions() == engine.evaluate(document).decisions
        for _ in range(data.draw(st.integers(1, 5))):
            step = data.draw(change(session.document))
            before = {(d.rule_id, d.subject): d for d in session.decisions()}
            try:
                delta = session.apply(*(step if isinstance(step, list) else [step]))
            except StateError:  # e.g. a gate cut off from its project has no PMO type
                assert list(before.values()) == session.decisions()
                refused.append(step)
                continue
            applied.append(step)
            full = engine.evaluate(session.document).decisions
            assert session.decisions() == full
            after = {(d.rule_id, d.subject): d for d in full}
            assert {(d.rule_id, d.subject) for d in delta.appeared} == after.keys() - before.keys()
            assert {(d.rule_id, d.subject) for d in delta.disappeared} == before.keys() - after.keys()
            assert {(d.rule_id, d.subject) for d in delta.changed} == {
                k for k in after.keys() & before.keys() if after[k] != before[k]
            }
        assert applied, refused  # the strategy produces valid changes: this is not a test of refusals
    finally:
        session.close()


def test_a_change_reports_what_appeared_and_disappeared(engine):
    document = generate_portfolio(1, seed=5, tasks=15, breaking_share=0.0)[0]
    project = next(n for n in document["nodes"] if n["type"] == "project" and n["phase"] in ("execution", "closing"))
    session = engine.session(document, pmo_type="controlling")
    cost = project["earned_value"] * 2
    delta = session.apply({"op": "update_node", "node": {"id": project["id"], "actual_cost": cost}})
    assert {(d.rule_id, d.outcome) for d in delta.appeared} >= {
        ("E2", Outcome.required_action),
        ("B1", Outcome.required_action),
    }
    undo = session.apply({"op": "update_node", "node": {"id": project["id"], "actual_cost": project["actual_cost"]}})
    assert {d.rule_id for d in undo.disappeared} == {d.rule_id for d in delta.appeared}
    assert not undo.appeared
    session.close()


def test_an_invalid_change_is_refused_and_leaves_the_session_as_it_was(engine):
    document = generate_portfolio(1, seed=9, tasks=10)[0]
    session = engine.session(document)
    before = session.decisions()
    risk = next(n for n in document["nodes"] if n["type"] == "risk")
    with pytest.raises(StateError, match="probability"):
        session.apply({"op": "update_node", "node": {"id": risk["id"], "probability": 9}})
    with pytest.raises(StateError, match="no node"):
        session.apply({"op": "remove_node", "node": {"id": "nope"}})
    person = next(n for n in document["nodes"] if n["type"] == "person")
    task = next(n for n in document["nodes"] if n["type"] == "task")
    bad_edge = {"source": person["id"], "target": task["id"], "relation": "assigned_to", "allocation": 5000}
    with pytest.raises(StateError, match="allocation") as refused:
        session.apply({"op": "add_edge", "edge": bad_edge})
    assert refused.value.location.edge == f"{person['id']} -> {task['id']} (assigned_to)"
    with pytest.raises(StateError, match="not a node"):
        session.apply({"op": "add_edge", "edge": {"source": person["id"], "target": "ghost", "relation": "owns"}})
    assert session.decisions() == before
    assert session.apply({"op": "update_node", "node": {"id": risk["id"]}}).empty
    session.close()


def _agrees(engine: Engine, session) -> bool:
    """The session's decisions are those of a full evaluation of its document."""
    full = engine.evaluate(copy.deepcopy(session.document), pmo_type=session.pmo_type, as_of=session.as_of)
    return session.decisions() == full.decisions


def _in_a_program(seed: int) -> dict:
    """Two generated projects under program `prg` (sponsored by `boss`), governed by a
    directive PMO through portfolio `pf`."""
    first, second = generate_portfolio(2, seed=seed, tasks=8, breaking_share=0.8)
    document = copy.deepcopy(first)
    document["nodes"] += copy.deepcopy(second["nodes"]) + [
        {"id": "prg", "type": "program", "name": "Prog", "status": "active"},
        {"id": "pf", "type": "portfolio", "name": "PF"},
        {"id": "boss", "type": "person", "name": "Boss"},
        {"id": "epmo", "type": "pmo", "name": "EPMO", "pmo_type": "directive"},
    ]
    projects = [n["id"] for n in document["nodes"] if n["type"] == "project"]
    document["edges"] += copy.deepcopy(second["edges"]) + [
        {"source": "prg", "target": projects[0], "relation": "contains"},
        {"source": "prg", "target": projects[1], "relation": "contains"},
        {"source": "pf", "target": "prg", "relation": "contains"},
        {"source": "boss", "target": "prg", "relation": "sponsors"},
        {"source": "epmo", "target": "pf", "relation": "governs"},
    ]
    return document


def test_owners_found_far_from_the_subject_follow_changes(engine):
    """An action's owner can be a PMO lead anywhere, the person a subject's `owner` names, or
    the manager of the program holding a subject outside projects: adding them re-decides."""
    document = generate_portfolio(1, seed=0, tasks=15, breaking_share=0.8)[0]
    project = next(n["id"] for n in document["nodes"] if n["type"] == "project")
    managed = next(e for e in document["edges"] if e["relation"] == "manages")
    session = engine.session(document)
    session.apply({"op": "remove_edge", "edge": {k: managed[k] for k in ("source", "target", "relation")}})
    session.apply({"op": "add_node", "node": {"id": "lead", "type": "person", "name": "Lea", "role": "pmo_lead"}})
    assert _agrees(engine, session)
    assert any(d.action and d.action.owner == "lead" for d in session.decisions())
    risk = {"type": "risk", "title": "New", "probability": 5, "impact": 5, "status": "open", "review_due": "2026-12-01"}
    session.apply(
        {"op": "add_node", "node": {"id": "r-new", **risk, "owner": "p-new"}},
        {"op": "add_edge", "edge": {"source": project, "target": "r-new", "relation": "contains"}},
    )
    session.apply({"op": "add_node", "node": {"id": "p-new", "type": "person", "name": "Pat New"}})
    assert _agrees(engine, session)
    assert any(d.subject == "r-new" and d.action and d.action.owner == "p-new" for d in session.decisions())

    program = engine.session(_in_a_program(3))
    program.apply(
        {"op": "add_node", "node": {"id": "r-prg", **risk}},
        {"op": "add_edge", "edge": {"source": "prg", "target": "r-prg", "relation": "contains"}},
    )
    program.apply({"op": "add_edge", "edge": {"source": "boss", "target": "prg", "relation": "manages"}})
    assert _agrees(engine, program)
    assert any(d.subject == "r-prg" and d.action and d.action.owner == "boss" for d in program.decisions())


def test_a_subject_that_leaves_its_project_is_decided_again(engine):
    document = generate_portfolio(1, seed=4, tasks=15, breaking_share=0.8)[0]
    session = engine.session(document, pmo_type="directive")
    session.apply(
        {"op": "add_node", "node": {"id": "ws", "type": "workstream"}},
        {"op": "add_edge", "edge": {"source": "x0-p0", "target": "ws", "relation": "contains"}},
        {"op": "remove_edge", "edge": {"source": "x0-p0", "target": "x0-r0", "relation": "contains"}},
        {"op": "add_edge", "edge": {"source": "ws", "target": "x0-r0", "relation": "contains"}},
    )
    assert {d.project for d in session.decisions() if d.subject == "x0-r0"} == {"x0-p0"}
    session.apply({"op": "remove_edge", "edge": {"source": "x0-p0", "target": "ws", "relation": "contains"}})
    assert _agrees(engine, session)
    assert {d.project for d in session.decisions() if d.subject == "x0-r0"} == {None}


def test_figures_python_writes_with_a_bare_exponent_reach_the_rete(engine):
    """A CPI of 2e-05: durable-rules' parser refused it, and the session was left half-changed."""
    document = generate_portfolio(1, seed=1, tasks=15, breaking_share=0.8)[0]
    project = next(n["id"] for n in document["nodes"] if n["type"] == "project")
    session = engine.session(document)
    update = {"id": project, "phase": "execution", "earned_value": 10, "actual_cost": 500000}
    session.apply({"op": "update_node", "node": update})
    assert _agrees(engine, session)
    session.apply({"op": "update_node", "node": {"id": project, "earned_value": 100000, "actual_cost": 100000}})
    assert _agrees(engine, session)


def test_a_change_that_fails_half_way_leaves_the_session_as_it_was(engine, monkeypatch):
    from governance_engine.evaluate import rete

    document = generate_portfolio(1, seed=2, tasks=15, breaking_share=0.8)[0]
    project = next(n["id"] for n in document["nodes"] if n["type"] == "project")
    session = engine.session(document)
    before, kept = session.decisions(), copy.deepcopy(session.document)
    original = rete.ReteSession.update
    failures = []

    def fails_once_half_way(self, index, subjects, present=None):
        if failures:
            return original(self, index, subjects, present)
        failures.append(subjects)
        original(self, index, set(sorted(subjects)[: len(subjects) // 2]), present)
        raise MemoryError("out of memory half-way")

    monkeypatch.setattr(rete.ReteSession, "update", fails_once_half_way)
    with pytest.raises(MemoryError):
        session.apply({"op": "update_node", "node": {"id": project, "phase": "closing", "actual_cost": 1}})
    assert failures and session.document == kept and session.decisions() == before
    session.apply({"op": "update_node", "node": {"id": project, "actual_cost": 2_000_000}})
    assert _agrees(engine, session)


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        ({"op": "rename_node", "node": {"id": "x0-p0"}}, UsageError, "change 1: op"),
        ({"op": "add_node", "node": {"id": ["a"], "type": "risk"}}, StateError, "an id (a text)"),
        ({"op": "add_edge", "edge": {"source": ["a"], "target": "b", "relation": "owns"}}, StateError, "each a text"),
    ],
)
def test_a_malformed_change_is_the_engines_own_error(engine, change, error, words):
    session = engine.session(generate_portfolio(1, seed=0, tasks=8, breaking_share=0.8)[0])
    before = session.decisions()
    with pytest.raises(error, match=re.escape(words)):
        session.apply(change)
    assert session.decisions() == before
