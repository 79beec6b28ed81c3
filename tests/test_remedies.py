"""Remedies: each one, applied alone, clears its decision; half of it does not."""

from __future__ import annotations

import copy

import pytest
import yaml

from governance_engine import Engine

from .conftest import ROOT


@pytest.fixture(scope="module")
def state() -> dict:
    return yaml.safe_load((ROOT / "examples" / "portfolio.yaml").read_text())


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="module")
def report(engine, state):
    return engine.evaluate(state, remedies=True)


def decided(engine, state, rule_id: str, subject: str) -> bool:
    return any(d.rule_id == rule_id and d.subject == subject for d in engine.evaluate(state).decisions)


def with_value(state: dict, node_id: str, attribute: str, value) -> dict:
    changed = copy.deepcopy(state)
    next(n for n in changed["nodes"] if n["id"] == node_id)[attribute] = value
    return changed


def numeric_remedies(report):
    return [(d, r) for d in report.decisions for r in d.remedies if r.attribute is not None]


def test_the_red_cpi_remedy_is_the_boundary_of_the_threshold(report):
    e2 = next(d for d in report.decisions if d.rule_id == "E2" and d.subject == "prj-mobile-app")
    remedies = {r.attribute: r.value for r in e2.remedies}
    # EV 400,000 / AC 480,000: CPI 0.90 needs earned value 432,000 or actual cost 444,444
    assert remedies == {"earned_value": 432000, "actual_cost": 444444}


def test_every_numeric_remedy_clears_its_decision_and_half_of_it_does_not(engine, state, report):
    checked = numeric_remedies(report)
    assert len(checked) >= 8
    for decision, remedy in checked:
        current = next(n for n in state["nodes"] if n["id"] == remedy.node)[remedy.attribute]
        assert not decided(
            engine, with_value(state, remedy.node, remedy.attribute, remedy.value), decision.rule_id, decision.subject
        ), (decision.rule_id, remedy)
        halfway = (current + remedy.value) / 2
        if isinstance(current, int):
            halfway = int(halfway)
        assert decided(
            engine, with_value(state, remedy.node, remedy.attribute, halfway), decision.rule_id, decision.subject
        ), (decision.rule_id, remedy, halfway)


def test_structural_remedies_name_the_edge_that_clears_them(engine, state, report):
    r1 = next(d for d in report.decisions if d.rule_id == "R1" and d.subject == "r-dl-extracts")
    [remedy] = r1.remedies
    assert remedy.model_dump() == {"add_edge": {"relation": "owns", "source_type": "person", "target": "r-dl-extracts"}}
    fixed = copy.deepcopy(state)
    fixed["edges"].append({"source": "p-anna", "target": "r-dl-extracts", "relation": "owns"})
    assert not decided(engine, fixed, "R1", "r-dl-extracts")


def test_remedies_are_only_computed_when_asked(engine, state):
    assert all(not d.remedies for d in engine.evaluate(state).decisions)
