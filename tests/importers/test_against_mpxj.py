"""The importers read each public MSPDI and XER sample as MPXJ, the reference reader of
these formats, does: items, names, durations, relationships, progress, dates, constraints,
float, calendars, assignments and status date.

MPXJ runs on Java through JPype; `pip install '.[mpxj]'` brings both Python packages and
the tests skip, saying why, when either or a Java runtime is missing.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from governance_engine.importers import load_schedule

from .conftest import SAMPLE_FILES

mpxj = pytest.importorskip("mpxj", reason="MPXJ is not installed: pip install '.[mpxj]'")
jpype = pytest.importorskip("jpype", reason="JPype is not installed: pip install '.[mpxj]'")

MSPDI_AND_XER = tuple(name for name in SAMPLE_FILES if not name.endswith(".sm"))  # MPXJ reads no PSPLIB
RELATION_KINDS = {"FINISH_START": "FS", "START_START": "SS", "FINISH_FINISH": "FF", "START_FINISH": "SF"}
CONSTRAINTS = {
    "START_ON": "must_start_on",
    "MANDATORY_START": "must_start_on",
    "FINISH_ON": "must_finish_on",
    "MANDATORY_FINISH": "must_finish_on",
}


@pytest.fixture(scope="module")
def reader():
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("no Java runtime (java on PATH or JAVA_HOME) for MPXJ")
    if not jpype.isJVMStarted():
        try:
            jpype.startJVM()
        except (OSError, RuntimeError) as err:  # JPype's error when no JVM library is found
            pytest.skip(f"the Java runtime does not start: {err}")
    try:
        from org.mpxj.reader import UniversalProjectReader  # MPXJ 14 and later
    except ImportError:
        from net.sf.mpxj.reader import UniversalProjectReader  # older MPXJ
    return UniversalProjectReader


def _day(value) -> str | None:
    return None if value is None else str(value)[:10]


def _days(duration, hours_per_day: float) -> float | None:
    """An MPXJ Duration in working days: its hours over the day length."""
    if duration is None:
        return None
    units = str(duration.getUnits())
    value = float(duration.getDuration())
    per_day = {"m": 60 * hours_per_day, "h": hours_per_day, "d": 1.0, "w": 5.0}
    assert units in per_day, units
    return value / per_day[units]


def _percent(task) -> float:
    kind = str(task.getPercentCompleteType()) if task.getPercentCompleteType() is not None else "DURATION"
    value = {
        "PHYSICAL": task.getPhysicalPercentComplete(),
        "UNITS": task.getPercentageWorkComplete(),
    }.get(kind, task.getPercentageComplete())
    return float(value or 0)


@pytest.mark.parametrize("name", MSPDI_AND_XER)
def test_importer_reads_as_mpxj_does(samples: Path, reader, name: str) -> None:
    xer = name.endswith(".xer")
    path = samples / name
    project = reader().read(str(path))
    props = project.getProjectProperties()
    doc = load_schedule(path)
    nodes = {node["id"]: node for node in doc["nodes"]}
    hours_per_day = float(props.getMinutesPerDay()) / 60

    # status date
    assert doc["graph"].get("as_of") == _day(props.getStatusDate())

    # items: every MPXJ task but the project's own summary (MSPDI UID 0, the XER project WBS node)
    theirs = {}
    for task in project.getTasks():
        uid = int(task.getUniqueID())
        if not xer and task.getOutlineLevel() is not None and int(task.getOutlineLevel()) == 0:
            continue
        node_id = ("W-" if xer and task.getSummary() else "T-") + str(uid)
        if xer and task.getSummary() and task.getParentTask() is None:
            assert node_id not in nodes
            continue
        theirs[node_id] = task
    ours = {n["id"] for n in doc["nodes"] if n["type"] in ("task", "milestone")}
    assert set(theirs) == ours

    for node_id, task in theirs.items():
        node = nodes[node_id]
        assert node.get("name") == (str(task.getName()) if task.getName() is not None else None), node_id
        assert bool(node.get("summary")) == bool(task.getSummary()), node_id
        if task.getSummary() and xer:
            continue  # WBS elements carry no activity fields
        assert (node["type"] == "milestone") == bool(task.getMilestone()), node_id
        planned = task.getPlannedDuration() if xer else task.getDuration()
        assert node.get("duration_days") == pytest.approx(_days(planned, hours_per_day)), node_id
        assert node.get("remaining_duration_days") == pytest.approx(_days(task.getRemainingDuration(), hours_per_day))
        assert node.get("percent_complete", 0) == pytest.approx(_percent(task)), node_id
        assert node.get("baseline_start") == _day(task.getBaselineStart()), node_id
        assert node.get("baseline_finish") == _day(task.getBaselineFinish()), node_id
        assert node.get("actual_start") == _day(task.getActualStart()), node_id
        assert node.get("completed_on") == _day(task.getActualFinish()), node_id
        if not task.getActualStart():
            assert node.get("start") == _day(task.getStart()), node_id
        constraint = task.getConstraintType()
        if constraint is None:
            assert "constraint_type" not in node, node_id
        else:
            expected = CONSTRAINTS.get(str(constraint), str(constraint).lower())
            assert node.get("constraint_type") == expected, node_id
            if node.get("constraint_date"):
                assert node["constraint_date"] == _day(task.getConstraintDate()), node_id
        if "source_total_float_days" in node:
            assert node["source_total_float_days"] == pytest.approx(_days(task.getTotalSlack(), hours_per_day))

    # relationships: successor, predecessor, kind and lag in days, duplicates included
    expected_links = Counter()
    for node_id, task in theirs.items():
        for relation in task.getPredecessors():
            pred = relation.getPredecessorTask()
            pred_id = ("W-" if xer and pred.getSummary() else "T-") + str(int(pred.getUniqueID()))
            kind = RELATION_KINDS.get(str(relation.getType()), str(relation.getType()))
            lag = round(_days(relation.getLag(), hours_per_day), 4)
            expected_links[(node_id, pred_id, kind, lag)] += 1
    got_links = Counter(
        (e["source"], e["target"], e["kind"], round(e["lag_days"], 4))
        for e in doc["edges"]
        if e["relation"] == "depends_on"
    )
    assert got_links == expected_links

    # assignments to named resources, with their units (percent of full time)
    expected_assignments = Counter()
    for assignment in project.getResourceAssignments():
        resource, task = assignment.getResource(), assignment.getTask()
        if resource is None or resource.getName() is None or task is None:
            continue
        node_id = "T-" + str(int(task.getUniqueID()))
        if node_id not in ours:
            continue
        expected_assignments[("R-" + str(int(resource.getUniqueID())), node_id, float(assignment.getUnits()))] += 1
    got_assignments = Counter(
        (e["source"], e["target"], float(e.get("allocation", e.get("units", 0))))
        for e in doc["edges"]
        if e["relation"] == "assigned_to"
    )
    assert got_assignments == expected_assignments

    # the project calendar: working weekdays and non-working exception days in the kept span
    project_node = next(n for n in doc["nodes"] if n["type"] == "project")
    calendar_id = next(
        e["target"] for e in doc["edges"] if e["relation"] == "uses_calendar" and e["source"] == project_node["id"]
    )
    calendar = nodes[calendar_id]
    theirs_calendar = project.getDefaultCalendar()
    from java.time import DayOfWeek

    weekdays = [iso for iso in range(1, 8) if theirs_calendar.isWorkingDay(DayOfWeek.of(iso))]
    assert calendar["working_weekdays"] == weekdays
    first = date.fromisoformat(project_node["start"])
    last = date.fromisoformat(project_node["finish"]) + timedelta(days=366)
    holidays = set()
    for exception in theirs_calendar.getCalendarExceptions():
        if exception.getWorking():
            continue
        day = date.fromisoformat(str(exception.getFromDate()))
        end = date.fromisoformat(str(exception.getToDate()))
        while day <= end:
            if first <= day <= last:
                holidays.add(day.isoformat())
            day += timedelta(days=1)
    assert set(calendar["holidays"]) == holidays
