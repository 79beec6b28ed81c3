"""The shortcuts compute_schedule takes, checked against the slow way: calendar lookup tables
against the arithmetic, the order of the items against the file order, the critical path test's
partial forward pass against a whole schedule with the task made longer."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest

from governance_engine.errors import Location
from governance_engine.state import state_from_dict
from governance_engine.state.schedule import ORIGIN, TABLE_LIMIT, WorkCalendar


def _random_calendar(rng: random.Random) -> WorkCalendar:
    weekdays = rng.sample(range(1, 8), rng.randrange(1, 8))
    around = date(2026, 11, 2)
    days = [around + timedelta(days=rng.randrange(-3000, 3000)) for _ in range(rng.randrange(0, 60))]
    split = rng.randrange(len(days) + 1)
    return WorkCalendar(weekdays, days[:split], days[split:], Location(node="cal"))


@pytest.mark.parametrize("seed", range(20))
def test_calendar_tables_answer_as_the_arithmetic(seed: int) -> None:
    rng = random.Random(seed)
    calendar = _random_calendar(rng)
    start = date(2026, 11, 2).toordinal() + rng.randrange(-500, 500)
    if seed % 2:  # the table is built around the centre, even when a far day comes first
        calendar.centre = start
    # Near the first day asked for, then further out (the table widens), then beyond what
    # a table may span (the arithmetic answers).
    days = [start + 2 * TABLE_LIMIT] if seed % 2 else []
    days += [start + rng.randrange(-400, 400) for _ in range(200)]
    days += [start + rng.randrange(-8000, 8000) for _ in range(200)]
    days += [start + rng.choice((-1, 1)) * rng.randrange(TABLE_LIMIT, 3 * TABLE_LIMIT) for _ in range(50)]
    days += [ORIGIN - 1, ORIGIN, ORIGIN + 1]
    for day in days:
        assert calendar.before(day) == calendar._before(day), day
        assert calendar.working(day) == calendar._working(day), day
        position = calendar._before(day)
        assert calendar.nth(position) == calendar._nth(position), position
        assert calendar.nth(position + 3) == calendar._nth(position + 3), position + 3
    assert calendar._span <= TABLE_LIMIT


def _random_network(rng: random.Random, size: int, calendars: bool) -> dict[str, Any]:
    """Items with ids in no particular order; links only to items made earlier (acyclic)."""
    nodes: list[dict[str, Any]] = [{"id": "P", "type": "project", "schedule_source": "manual", "start": "2026-11-02"}]
    edges: list[dict[str, Any]] = []
    if calendars:
        nodes.append({"id": "cal", "type": "calendar", "working_weekdays": [1, 2, 3, 4, 5], "holidays": ["2026-12-25"]})
        edges.append({"source": "P", "target": "cal", "relation": "uses_calendar"})
    made: list[str] = []
    while len(made) < size:
        item = f"t{rng.randrange(10 * size)}"
        if item in made:
            continue
        kind = "milestone" if rng.random() < 0.15 else "task"
        nodes.append({"id": item, "type": kind, "duration_days": rng.randrange(0, 12)})
        edges.append({"source": "P", "target": item, "relation": "contains"})
        for earlier in rng.sample(made, k=min(len(made), rng.choice((0, 1, 1, 2, 3)))):
            edges.append(
                {
                    "source": item,
                    "target": earlier,
                    "relation": "depends_on",
                    "kind": rng.choice(("FS", "FS", "SS", "FF", "SF")),
                    "lag_days": rng.choice((0, 0, 2, -1)),
                }
            )
        made.append(item)
    return {"graph": {"as_of": "2026-11-02"}, "nodes": nodes, "edges": edges}


@pytest.mark.parametrize("seed", range(10))
def test_items_come_in_a_topological_order_that_ignores_the_file_order(seed: int) -> None:
    rng = random.Random(seed)
    doc = _random_network(rng, 60, calendars=bool(seed % 2))
    schedule = state_from_dict(doc).schedule()
    position = {item: n for n, item in enumerate(schedule.early_start)}
    for edge in doc["edges"]:
        if edge["relation"] == "depends_on":  # successor -depends_on-> predecessor
            assert position[edge["target"]] < position[edge["source"]]
    assert list(schedule.total_float) == list(schedule.early_start)
    assert list(schedule.late_finish) == list(schedule.early_start)[::-1]  # as the backward pass meets them
    shuffled = {
        **doc,
        "nodes": rng.sample(doc["nodes"], len(doc["nodes"])),
        "edges": rng.sample(doc["edges"], len(doc["edges"])),
    }
    assert repr(state_from_dict(shuffled).schedule()) == repr(schedule)


@pytest.mark.parametrize("seed", range(15))
def test_the_critical_path_test_moves_the_finish_as_a_whole_schedule_does(seed: int) -> None:
    """In calendar days: the test's partial forward pass from the delayed task gives the
    finish a whole schedule gives with that task 10 days longer."""
    doc = _random_network(random.Random(seed), 40, calendars=False)
    figures = state_from_dict(doc).schedule().projects["P"]
    task = figures.critical_path_test_task
    assert task is not None
    for node in doc["nodes"]:
        if node["id"] == task:
            node["duration_days"] += 10
    longer = state_from_dict(doc).schedule().projects["P"]
    moved = longer.critical_path_length_days - figures.critical_path_length_days
    assert figures.critical_path_test == (abs(moved - 10) < 1e-6)


def test_a_critical_task_that_only_starts_another_fails_the_critical_path_test() -> None:
    """A(2) and B(10) SS A: both start at 0, the finish is B's at 10 and A is critical (its
    late finish is LS(B) + 2 = 2). Delaying A by 10 moves the finish to 12, by 2 only."""
    doc = {
        "nodes": [
            {"id": "P", "type": "project", "schedule_source": "manual"},
            {"id": "A", "type": "task", "duration_days": 2},
            {"id": "B", "type": "task", "duration_days": 10},
        ],
        "edges": [
            *({"source": "P", "target": t, "relation": "contains"} for t in "AB"),
            {"source": "B", "target": "A", "relation": "depends_on", "kind": "SS"},
        ],
    }
    schedule = state_from_dict(doc).schedule()
    assert schedule.total_float == {"A": 0, "B": 0}
    figures = schedule.projects["P"]
    assert (figures.critical_path_test_task, figures.critical_path_test) == ("A", False)
    assert figures.critical_path_length_days == 10
