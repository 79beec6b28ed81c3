"""Shared builders for state tests: a small valid portfolio document."""

from __future__ import annotations

import copy
from typing import Any

import pytest

BASE: dict[str, Any] = {
    "directed": True,
    "multigraph": True,
    "graph": {"schema": "pmo-state/1", "as_of": "2024-03-01", "currency": "EUR"},
    "nodes": [
        {"id": "pmo-ent", "type": "pmo", "name": "Enterprise PMO", "pmo_type": "directive"},
        {"id": "prog", "type": "program", "name": "Programme", "budget": 5000},
        {
            "id": "P1",
            "type": "project",
            "name": "Alpha",
            "phase": "execution",
            "status": "active",
            "start": "2024-01-01",
            "budget": 1000,
            "planned_value": 500,
            "earned_value": 400,
            "actual_cost": 500,
            "sponsor_mood": "calm",
        },
        {"id": "T1", "type": "task", "duration_days": 3, "due": "2024-02-01"},
        {"id": "T2", "type": "task", "duration_days": 2},
        {"id": "R1", "type": "risk", "probability": 3, "impact": 4, "status": "open"},
        {"id": "V1", "type": "vendor", "rating": "A", "since": "2020-05-01"},
    ],
    "edges": [
        {"source": "pmo-ent", "target": "prog", "relation": "governs"},
        {"source": "prog", "target": "P1", "relation": "contains"},
        {"source": "P1", "target": "T1", "relation": "contains"},
        {"source": "P1", "target": "T2", "relation": "contains"},
        {"source": "P1", "target": "R1", "relation": "contains"},
        {"source": "T2", "target": "T1", "relation": "depends_on", "kind": "FS", "lag_days": 1},
        {"source": "V1", "target": "P1", "relation": "supplies", "share": 0.5},
    ],
}


@pytest.fixture
def doc() -> dict[str, Any]:
    """A fresh copy of the base document, free to change in a test."""
    return copy.deepcopy(BASE)
