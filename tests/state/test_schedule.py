"""Critical-path schedule over depends_on, checked against hand-worked examples."""

from __future__ import annotations

from typing import Any

from governance_engine.state import state_from_dict


def _tasks(durations: dict[str, float], links: list[tuple[str, str, str, float]]) -> Any:
    """links are (successor, predecessor, kind, lag): successor -depends_on-> predecessor."""
    nodes: list[dict[str, Any]] = [{"id": "P", "type": "project"}]
    edges: list[dict[str, Any]] = []
    for task, duration in durations.items():
        nodes.append({"id": task, "type": "task", "duration_days": duration})
        edges.append({"source": "P", "target": task, "relation": "contains"})
    for successor, predecessor, kind, lag in links:
        edges.append(
            {
                "source": successor,
                "target": predecessor,
                "relation": "depends_on",
                "kind": kind,
                "lag_days": lag,
            }
        )
    return state_from_dict({"nodes": nodes, "edges": edges})


def test_five_tasks_with_fs_ss_ff_lags() -> None:
    # A(4); B(3) SS A +1; C(2) FS A +2; D(5) FF B +1; E(2) FS C, FS D.
    # Forward:  A 0-4; B ES=0+1=1, 1-4; C ES=4+2=6, 6-8; D EF>=4+1=5, ES=max(0,0)=0, 0-5;
    #           E ES=max(8,5)=8, 8-10. Duration 10.
    # Backward: E LF=10 LS=8; D LF=LS(E)=8 LS=3; C LF=8 LS=6; B LF=LF(D)-1=7 LS=4;
    #           A LF=min(LS(B)-1+4=7, LS(C)-2=4)=4 LS=0.
    # Float:    A 0, B 3, C 0, D 3, E 0 -> critical A, C, E.
    index = _tasks(
        {"A": 4, "B": 3, "C": 2, "D": 5, "E": 2},
        [
            ("B", "A", "SS", 1),
            ("C", "A", "FS", 2),
            ("D", "B", "FF", 1),
            ("E", "C", "FS", 0),
            ("E", "D", "FS", 0),
        ],
    )
    schedule = index.schedule()
    assert schedule.early_start == {"A": 0, "B": 1, "C": 6, "D": 0, "E": 8}
    assert schedule.early_finish == {"A": 4, "B": 4, "C": 8, "D": 5, "E": 10}
    assert schedule.late_start == {"A": 0, "B": 4, "C": 6, "D": 3, "E": 8}
    assert schedule.late_finish == {"A": 4, "B": 7, "C": 8, "D": 8, "E": 10}
    assert schedule.total_float == {"A": 0, "B": 3, "C": 0, "D": 3, "E": 0}
    assert schedule.critical_path == ["A", "C", "E"]
    assert schedule.project_duration == 10
    assert index.schedule() is schedule


def test_start_to_finish_and_default_kind() -> None:
    # Q(3); S(2) SF Q +4: EF(S) >= 0+4 -> S 2-4; duration 4.
    # Backward: S LF=4 LS=2; Q LF=min(4, LF(S)-4+3=3)=3 LS=0 -> float Q 0, S 0.
    # R(1) depends on Q with no kind (FS) and no lag: R 3-4, float 0.
    index = _tasks({"Q": 3, "S": 2, "R": 1}, [("S", "Q", "SF", 4)])
    index_r = state_from_dict(
        {
            "nodes": [
                {"id": "Q", "type": "task", "duration_days": 3},
                {"id": "R", "type": "task", "duration_days": 1},
            ],
            "edges": [{"source": "R", "target": "Q", "relation": "depends_on"}],
        }
    )
    schedule = index.schedule()
    assert (schedule.early_start["S"], schedule.early_finish["S"]) == (2, 4)
    assert schedule.total_float["Q"] == 0
    assert schedule.total_float["R"] == 3  # R alone, 0-1, in a 4-day project
    assert index_r.schedule().early_start["R"] == 3
    assert index_r.schedule().critical_path == ["Q", "R"]


def test_milestones_take_no_time_and_enrich_copies_float() -> None:
    doc = {
        "nodes": [
            {"id": "A", "type": "task", "duration_days": 5},
            {"id": "B", "type": "task"},
            {"id": "M", "type": "milestone", "duration_days": 9},
            {"id": "X", "type": "risk"},
        ],
        "edges": [
            {"source": "M", "target": "A", "relation": "depends_on"},
            {"source": "X", "target": "A", "relation": "depends_on"},
        ],
    }
    index = state_from_dict(doc)
    schedule = index.schedule()
    assert schedule.early_finish["M"] == 5
    assert schedule.total_float == {"A": 0, "B": 5, "M": 0}
    assert "X" not in schedule.early_start
    index.enrich_schedule()
    assert index.nodes["M"].attrs["critical"] is True
    assert index.nodes["B"].attrs["total_float"] == 5
    assert index.nodes["B"].attrs["critical"] is False
    assert "total_float" not in index.nodes["X"].attrs


def test_each_project_finishes_on_its_own() -> None:
    doc = {
        "nodes": [
            {"id": "P1", "type": "project"},
            {"id": "P2", "type": "project"},
            {"id": "long", "type": "task", "duration_days": 20},
            {"id": "short", "type": "task", "duration_days": 2},
        ],
        "edges": [
            {"source": "P1", "target": "long", "relation": "contains"},
            {"source": "P2", "target": "short", "relation": "contains"},
        ],
    }
    schedule = state_from_dict(doc).schedule()
    assert schedule.total_float == {"long": 0, "short": 0}
    assert schedule.project_duration == 20
