"""StateIndex navigation: containing project and the PMO type that applies."""

from __future__ import annotations

from typing import Any

from governance_engine.state import state_from_dict


def test_project_of_follows_contains_upwards(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "G1", "type": "gate"})
    doc["edges"].append({"source": "T1", "target": "G1", "relation": "contains"})
    index = state_from_dict(doc)
    assert index.project_of("P1") == "P1"
    assert index.project_of("T1") == "P1"
    assert index.project_of("G1") == "P1"
    assert index.project_of("prog") is None
    assert index.project_of("V1") is None
    assert index.project_of("nope") is None


def test_pmo_type_through_a_governed_program(doc: dict[str, Any]) -> None:
    assert state_from_dict(doc).pmo_type_of("P1") == "directive"


def test_nearest_pmo_wins(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "pmo-dept", "type": "pmo", "pmo_type": "supportive"})
    doc["edges"].append({"source": "pmo-dept", "target": "P1", "relation": "governs"})
    assert state_from_dict(doc).pmo_type_of("P1") == "supportive"


def test_portfolio_two_levels_up(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "pf", "type": "portfolio"})
    doc["edges"][0]["target"] = "pf"
    doc["edges"].append({"source": "pf", "target": "prog", "relation": "contains"})
    assert state_from_dict(doc).pmo_type_of("P1") == "directive"


def test_same_type_at_the_same_distance_is_no_clash(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "pmo-2", "type": "pmo", "pmo_type": "directive"})
    doc["edges"].append({"source": "pmo-2", "target": "prog", "relation": "governs"})
    assert state_from_dict(doc).pmo_type_of("P1") == "directive"


def test_graph_default_then_none(doc: dict[str, Any]) -> None:
    doc["edges"] = doc["edges"][1:]
    assert state_from_dict(doc).pmo_type_of("P1") is None
    doc["graph"]["pmo_type"] = "controlling"
    assert state_from_dict(doc).pmo_type_of("P1") == "controlling"
