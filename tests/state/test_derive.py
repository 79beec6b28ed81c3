"""Derived figures: computed from their inputs, absent when not defined."""

from __future__ import annotations

from typing import Any

import pytest

from governance_engine.errors import StateError
from governance_engine.state import state_from_dict
from governance_engine.state.derive import EVM_FIGURES


def _project(**attrs: Any) -> dict[str, Any]:
    doc = {"nodes": [{"id": "P", "type": "project", **attrs}]}
    return state_from_dict(doc).nodes["P"].attrs


def test_earned_value_figures() -> None:
    attrs = _project(budget=1000, planned_value=500, earned_value=400, actual_cost=500)
    assert attrs["cpi"] == pytest.approx(0.8)
    assert attrs["spi"] == pytest.approx(0.8)
    assert attrs["cv"] == -100
    assert attrs["sv"] == -100
    assert attrs["eac"] == pytest.approx(1250)
    assert attrs["vac"] == pytest.approx(-250)
    assert attrs["tcpi"] == pytest.approx(600 / 500)


def test_zero_actual_cost_leaves_cost_ratios_undefined() -> None:
    attrs = _project(budget=1000, planned_value=100, earned_value=0, actual_cost=0)
    for undefined in ("cpi", "eac", "vac"):
        assert undefined not in attrs
    assert attrs["spi"] == 0
    assert attrs["cv"] == 0
    assert attrs["tcpi"] == 1


def test_zero_earned_value_leaves_eac_undefined() -> None:
    attrs = _project(budget=1000, planned_value=0, earned_value=0, actual_cost=50)
    assert attrs["cpi"] == 0
    assert "spi" not in attrs
    assert "eac" not in attrs and "vac" not in attrs


def test_budget_equal_to_actual_cost_leaves_tcpi_undefined() -> None:
    attrs = _project(budget=500, planned_value=500, earned_value=400, actual_cost=500)
    assert "tcpi" not in attrs
    assert attrs["eac"] == pytest.approx(625)


def test_missing_inputs_leave_figures_out_and_file_values_are_dropped() -> None:
    attrs = _project(earned_value=400, actual_cost=None, cpi=9, spi=9, tcpi=9, eac=1)
    assert not set(EVM_FIGURES) & set(attrs)
    attrs = _project(budget=10, planned_value=10, earned_value=5, actual_cost=10, cpi=9)
    assert attrs["cpi"] == 0.5


def test_huge_numbers_never_give_infinity() -> None:
    attrs = _project(budget=1e300, planned_value=1e-300, earned_value=1e300, actual_cost=1e-300)
    assert "cpi" not in attrs and "spi" not in attrs
    attrs = _project(budget=10**300, planned_value=1, earned_value=10**300, actual_cost=1)
    assert attrs["cpi"] == 1e300


def test_numbers_beyond_1e300_are_refused_at_their_place() -> None:
    """An integer of 400 digits does not convert to a float: every derived figure and the
    Rete's facts need one, so the schema draws the line."""
    for value in (10**400, -(10**301), 1e305):
        with pytest.raises(StateError, match="budget.*finite number from -1e300 to 1e300"):
            _project(budget=value)


def test_risk_score() -> None:
    doc = {
        "nodes": [
            {"id": "R1", "type": "risk", "probability": 4, "impact": 5, "score": 1},
            {"id": "R2", "type": "risk", "probability": 4, "score": 1},
        ]
    }
    nodes = state_from_dict(doc).nodes
    assert nodes["R1"].attrs["score"] == 20
    assert "score" not in nodes["R2"].attrs
