"""Hand-made inputs from a review of the importers and the schedule: each once crashed with a
Python error or gave a wrong result; now a located StateError or the right figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.errors import StateError
from governance_engine.importers import load_schedule
from governance_engine.state import load_state_bytes

DATA = Path(__file__).parent / "data"


def test_a_yearly_calendar_exception_is_one_day_a_year(tmp_path: Path) -> None:
    """Microsoft's own example: New Year's Day, Type 2, 2007 to 2026. Read as one block it
    made every day a holiday and moved a March task to the next January."""
    doc = load_schedule(DATA / "recur.xml")
    task = next(n for n in doc["nodes"] if n["type"] == "task")
    assert (task["start"], task["finish"]) == ("2025-03-03", "2025-03-07")
    calendar = next(n for n in doc["nodes"] if n["type"] == "calendar")
    assert all(day.endswith("-01-01") for day in calendar["holidays"])


def test_a_recurrence_the_importer_does_not_read_is_refused_by_name(tmp_path: Path) -> None:
    text = (DATA / "recur.xml").read_text().replace("<Type>2</Type>", "<Type>5</Type>")
    (tmp_path / "monthly.xml").write_text(text)
    with pytest.raises(StateError, match='calendar exception "New Year\'s Day" recurs .*Type 5'):
        load_schedule(tmp_path / "monthly.xml")


def test_huge_durations_and_the_last_day_of_the_calendar_are_refused_or_kept(tmp_path: Path) -> None:
    text = (DATA / "recur.xml").read_text()
    (tmp_path / "huge.xml").write_text(text.replace("PT40H0M0S</Duration>", "PT" + "9" * 400 + "H</Duration>"))
    with pytest.raises(StateError, match="Duration: a duration of more than 1,000,000 working days"):
        load_schedule(tmp_path / "huge.xml")
    last = text.replace("2007-01-01T00:00:00", "9999-12-31T00:00:00").replace("2026-01-01T23:59", "9999-12-31T23:59")
    (tmp_path / "last.xml").write_text(last.replace("<Type>2</Type>", "<Type>1</Type>"))
    assert load_schedule(tmp_path / "last.xml")["nodes"]  # no OverflowError past 9999-12-31


def test_a_wbs_that_is_its_own_ancestor_is_refused_at_its_line() -> None:
    result = CliRunner().invoke(main, ["import", str(DATA / "wbscycle.xer"), "--out", "-"])
    assert result.exit_code == 2
    assert "wbscycle.xer:11: state error: PROJWBS: WBS element 101 is its own ancestor" in result.output


def test_calendars_with_text_ids_import_in_the_same_order_on_every_run() -> None:
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        run = subprocess.run(
            [sys.executable, "-m", "governance_engine", "import", str(DATA / "strcal.xer"), "--out", "-"],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(run.stdout)
    assert len(outputs) == 1


def test_a_schedule_beyond_the_year_9999_is_a_state_error() -> None:
    text = (
        'graph: {as_of: "2026-01-05", pmo_type: controlling}\nnodes:\n  - {id: P, type: project}\n'
        "  - {id: cal, type: calendar}\n  - {id: A, type: task, duration_days: 2, "
        'constraint_type: start_no_earlier_than, constraint_date: "9999-12-31"}\n'
        "edges:\n  - {source: P, target: cal, relation: uses_calendar}\n  - {source: P, target: A, relation: contains}\n"
    )
    index = load_state_bytes(text.encode(), "far.yaml")
    with pytest.raises(StateError, match="outside the years 1 to 9999"):
        index.enrich_schedule()


def test_dcma_11_does_not_count_a_task_marked_completed_without_its_date(tmp_path: Path) -> None:
    state = {
        "graph": {"as_of": "2026-01-12"},
        "nodes": [
            {"id": "P", "type": "project", "schedule_source": "manual", "baseline_finish": "2026-01-16"},
            {"id": "A", "type": "task", "duration_days": 2, "status": "completed", "baseline_finish": "2026-01-06"},
            {"id": "B", "type": "task", "duration_days": 2, "status": "in_progress", "baseline_finish": "2026-01-08"},
        ],
        "edges": [
            {"source": "P", "target": "A", "relation": "contains"},
            {"source": "P", "target": "B", "relation": "contains"},
        ],
    }
    (tmp_path / "s.json").write_text(json.dumps(state))
    result = CliRunner().invoke(main, ["dcma", str(tmp_path / "s.json"), "--format", "json"])
    metric = next(m for m in json.loads(result.output)["projects"][0]["metrics"] if m["number"] == 11)
    assert (metric["numerator"], metric["denominator"]) == (1, 2)  # B missed, A completed
