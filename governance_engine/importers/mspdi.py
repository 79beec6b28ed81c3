"""MS Project XML (MSPDI) to pmo-state/1, parsed with defusedxml (no entity expansion).

Units, as Microsoft documents them: durations are ISO-8601 (`PT400H0M0S`) in working
time, turned into working days with the project's MinutesPerDay (as MS Project itself
does); TotalSlack and LinkLag are in tenths of a minute. A lag in an elapsed format
(LagFormat 4, 6, 8, 10, 12, 36, 38, 40, 42, 44) is calendar time: it is converted to
working days by the project calendar's share of working weekdays (a 7-day elapsed lag on
a 5-day calendar is 5 working days). A percent lag (19, 20, 51, 52) is a share of the
predecessor's duration.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from governance_engine.errors import Location, StateError
from governance_engine.importers.common import (
    Calendar,
    ScheduleDocument,
    complete_project,
    date_range,
    iso,
    parse_date,
    parse_number,
    roll_up,
    status_of,
    tidy,
)

CONSTRAINTS = {
    0: "as_soon_as_possible",
    1: "as_late_as_possible",
    2: "must_start_on",
    3: "must_finish_on",
    4: "start_no_earlier_than",
    5: "start_no_later_than",
    6: "finish_no_earlier_than",
    7: "finish_no_later_than",
}
LINK_TYPES = {0: "FF", 1: "FS", 2: "SF", 3: "SS"}
ELAPSED_FORMATS = {4, 6, 8, 10, 12, 36, 38, 40, 42, 44}
PERCENT_FORMATS = {19, 20, 51, 52}
RESOURCE_KINDS = {0: "material", 2: "cost"}
NO_RESOURCE = -65535
MAX_DAYS = 1_000_000  # about 4,000 years of working days: beyond it a duration is a typing error
_DURATION = re.compile(
    r"^(-)?P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
_WEEKDAY_ISO = {1: 7, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}  # MSPDI DayType 1 = Sunday


def read_mspdi(data: bytes, source: str, *, pmo_type: str | None = None) -> dict[str, Any]:
    """Build the state document of one MSPDI file."""
    root = _parse(data, source)
    return _Reader(root, source).build(pmo_type)


def _parse(data: bytes, source: str) -> Element:
    try:
        root = SafeET.fromstring(data)
    except ParseError as err:
        line, column = getattr(err, "position", (None, None))
        message = str(err).split(":")[0]
        raise StateError(
            f"not well-formed MS Project XML: {message}",
            Location(file=source, line=line, column=None if column is None else column + 1),
        ) from None
    except DefusedXmlException as err:
        raise StateError(f"refused MS Project XML: {err}", Location(file=source)) from None
    if _local(root.tag) != "Project":
        raise StateError(
            f"not MS Project XML: the root element is <{_local(root.tag)}>, not <Project>",
            Location(file=source, line=1),
        )
    return root


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Reader:
    """Walks the element tree; every value error names the file and the record."""

    def __init__(self, root: Element, source: str) -> None:
        self.root = root
        self.source = source
        self.ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        where = Location(file=source)
        minutes = self.number(root, "MinutesPerDay", where)
        self.minutes_per_day = minutes if minutes and minutes > 0 else 480.0
        week = self.number(root, "MinutesPerWeek", where)
        self.minutes_per_week = week if week and week > 0 else self.minutes_per_day * 5

    # -- element access ------------------------------------------------------------
    def find(self, element: Element, path: str) -> Element | None:
        return element.find("/".join(self.ns + part for part in path.split("/")))

    def findall(self, element: Element, path: str) -> list[Element]:
        return element.findall("/".join(self.ns + part for part in path.split("/")))

    def text(self, element: Element, name: str) -> str | None:
        child = self.find(element, name)
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def number(self, element: Element, name: str, where: Location) -> float | None:
        return parse_number(self.text(element, name), where, name)

    def integer(self, element: Element, name: str, where: Location) -> int | None:
        value = self.number(element, name, where)
        if value is None:
            return None
        if value != int(value):
            raise StateError(f"{name}: not a whole number: {self.text(element, name)!r}", where)
        return int(value)

    def flag(self, element: Element, name: str, where: Location) -> bool:
        value = self.text(element, name)
        if value is None:
            return False
        if value not in ("0", "1"):
            raise StateError(f"{name}: expected 0 or 1, got {value!r}", where)
        return value == "1"

    def date(self, element: Element, name: str, where: Location) -> date | None:
        return parse_date(self.text(element, name), where, name)

    def days(self, element: Element, name: str, where: Location) -> float | None:
        """An ISO-8601 working-time duration in working days of the project's day length."""
        text = self.text(element, name)
        if text is None:
            return None
        match = _DURATION.match(text)
        if match is None:
            raise StateError(f"{name}: not an ISO-8601 duration: {text!r}", where)
        sign, days, hours, minutes, seconds = match.groups()
        total = float(days or 0) * 24 * 60 + float(hours or 0) * 60 + float(minutes or 0) + float(seconds or 0) / 60
        result = (-total if sign else total) / self.minutes_per_day
        if not math.isfinite(result) or abs(result) > MAX_DAYS:
            raise StateError(f"{name}: a duration of more than {MAX_DAYS:,} working days: {text[:40]!r}", where)
        return result

    # -- the document -----------------------------------------------------------------
    def build(self, pmo_type: str | None) -> dict[str, Any]:
        doc = ScheduleDocument(pmo_type=pmo_type)
        root, where = self.root, Location(file=self.source)
        status_date = self.date(root, "StatusDate", where)
        if status_date is not None:
            doc.graph["as_of"] = status_date.isoformat()
        currency = self.text(root, "CurrencyCode")
        if currency:
            doc.graph["currency"] = currency

        calendars = self.calendars()
        project_calendar = self.text(root, "CalendarUID")
        tasks = self.findall(root, "Tasks/Task")
        project_task = next(
            (t for t in tasks if self.text(t, "OutlineLevel") == "0" or self.text(t, "UID") == "0"), None
        )
        guid = self.text(root, "GUID")
        project_id = f"P-{guid}" if guid else "P-0"
        name = self.text(root, "Title") or (project_task is not None and self.text(project_task, "Name")) or None
        name = name or self.text(root, "Name")
        project = doc.node(
            project_id,
            "project",
            where=where,
            name=name,
            status="active",
            phase="execution",
            schedule_source="mspdi",
            start=self.date(root, "StartDate", where),
            finish=self.date(root, "FinishDate", where),
        )

        used = {project_calendar} if project_calendar in calendars else set()
        items, summaries, children = self.tasks(doc, project_id, tasks, project_task, calendars, used)
        self.links(doc, tasks, items)
        self.resources(doc, items)
        roll_up(doc, children, summaries)

        baseline = self.baseline(project_task, where) if project_task is not None else {}
        span = complete_project(
            project,
            (node for node in doc.nodes if node["id"] in items.values()),
            iso(baseline.get("baseline_finish")),
        )
        for uid in sorted(used, key=_uid_order):
            doc.node(f"C-{uid}", "calendar", where=where, **_calendar_attrs(calendars[uid], span))
        if project_calendar in calendars:
            doc.edge(project_id, f"C-{project_calendar}", "uses_calendar")
        for task in tasks:
            task_uid = self.text(task, "UID")
            cal = self.text(task, "CalendarUID")
            if task_uid in items and cal in calendars and cal != project_calendar:
                doc.edge(items[task_uid], f"C-{cal}", "uses_calendar")
        return doc.to_dict()

    def tasks(
        self,
        doc: ScheduleDocument,
        project_id: str,
        tasks: list[Element],
        project_task: Element | None,
        calendars: dict[str, Calendar],
        used: set[str],
    ) -> tuple[dict[str, str], list[str], dict[str, list[str]]]:
        """Task and milestone nodes, `contains` from the project and the WBS tree."""
        items: dict[str, str] = {}
        summaries: list[str] = []
        children: dict[str, list[str]] = {}
        stack: list[tuple[int, str, bool]] = []  # (outline level, node id, is summary)
        for task in tasks:
            if task is project_task:
                continue
            uid = self.text(task, "UID")
            where = Location(file=self.source, node=f"T-{uid}" if uid else None)
            if uid is None:
                raise StateError("a <Task> without a <UID>", where)
            if self.flag(task, "IsNull", where):
                continue
            node_id = f"T-{uid}"
            summary = self.flag(task, "Summary", where)
            milestone = self.flag(task, "Milestone", where)
            percent = self.number(task, "PercentComplete", where)
            actual_start = self.date(task, "ActualStart", where)
            actual_finish = self.date(task, "ActualFinish", where)
            constraint = self.integer(task, "ConstraintType", where)
            if constraint is not None and constraint not in CONSTRAINTS:
                raise StateError(f"ConstraintType: unknown code {constraint}", where)
            slack = self.number(task, "TotalSlack", where)
            cal = self.text(task, "CalendarUID")
            if cal in calendars:
                used.add(cal)
            attrs: dict[str, Any] = {
                "name": self.text(task, "Name"),
                "wbs": self.text(task, "WBS"),
                "start": self.date(task, "Start", where),
                "finish": self.date(task, "Finish", where),
                "actual_start": actual_start,
                "completed_on": actual_finish,
                "duration_days": _days(self.days(task, "Duration", where)),
                "remaining_duration_days": _days(self.days(task, "RemainingDuration", where)),
                "percent_complete": None if percent is None else tidy(percent),
                "status": status_of(percent, actual_start, actual_finish),
                "constraint_type": None if constraint is None else CONSTRAINTS[constraint],
                "constraint_date": self.date(task, "ConstraintDate", where) if constraint else None,
                "source_total_float_days": None if slack is None else tidy(slack / 10 / self.minutes_per_day),
                "summary": True if summary else None,
                **self.baseline(task, where),
            }
            doc.node(node_id, "milestone" if milestone and not summary else "task", where=where, **attrs)
            items[uid] = node_id
            doc.edge(project_id, node_id, "contains")
            level = self.integer(task, "OutlineLevel", where) or 1
            while stack and stack[-1][0] >= level:
                stack.pop()
            if stack and stack[-1][2]:
                doc.edge(stack[-1][1], node_id, "decomposes_into")
                children.setdefault(stack[-1][1], []).append(node_id)
            stack.append((level, node_id, summary))
            if summary:
                summaries.append(node_id)
        return items, summaries, children

    def baseline(self, task: Element, where: Location) -> dict[str, Any]:
        """Baseline 0, the one MS Project's baseline fields show."""
        for baseline in self.findall(task, "Baseline"):
            if self.text(baseline, "Number") == "0":
                return {
                    "baseline_start": self.date(baseline, "Start", where),
                    "baseline_finish": self.date(baseline, "Finish", where),
                }
        return {}

    def links(self, doc: ScheduleDocument, tasks: list[Element], items: dict[str, str]) -> None:
        """`successor -depends_on-> predecessor` with kind and lag in working days."""
        durations = {node["id"]: node.get("duration_days") for node in doc.nodes}
        working_share = self.working_share()
        for task in tasks:
            uid = self.text(task, "UID")
            if uid not in items:
                continue
            for link in self.findall(task, "PredecessorLink"):
                where = Location(file=self.source, node=items[uid])
                pred = self.text(link, "PredecessorUID")
                if self.flag(link, "CrossProject", where):
                    continue  # a link into another project file, which this import does not have
                if pred not in items:
                    raise StateError(f"PredecessorLink names task UID {pred!r}, which the file does not have", where)
                kind = self.integer(link, "Type", where)
                kind = 1 if kind is None else kind
                if kind not in LINK_TYPES:
                    raise StateError(f"PredecessorLink Type: unknown code {kind}", where)
                lag = self.number(link, "LinkLag", where) or 0.0
                fmt = self.integer(link, "LagFormat", where) or 7
                if fmt in PERCENT_FORMATS:
                    lag_days = lag / 100 * (durations.get(items[pred]) or 0)
                elif fmt in ELAPSED_FORMATS:
                    lag_days = lag / 10 / (24 * 60) * working_share
                else:
                    lag_days = lag / 10 / self.minutes_per_day
                doc.edge(items[uid], items[pred], "depends_on", kind=LINK_TYPES[kind], lag_days=tidy(lag_days))

    def working_share(self) -> float:
        """Working weekdays of the project calendar per calendar day (5/7 by default)."""
        calendars = self.calendars()
        calendar = calendars.get(self.text(self.root, "CalendarUID") or "")
        return len(calendar.weekdays) / 7 if calendar is not None else 5 / 7

    def resources(self, doc: ScheduleDocument, items: dict[str, str]) -> None:
        """Work resources as people, material and cost resources as `resource` nodes."""
        ids: dict[str, tuple[str, bool]] = {}
        for resource in self.findall(self.root, "Resources/Resource"):
            uid = self.text(resource, "UID")
            where = Location(file=self.source, node=f"R-{uid}")
            name = self.text(resource, "Name")
            if uid is None or name is None or self.flag(resource, "IsNull", where):
                continue  # MS Project's unnamed placeholder resource (UID 0)
            kind = self.integer(resource, "Type", where)
            kind = 1 if kind is None else kind
            max_units = self.number(resource, "MaxUnits", where)
            if kind == 1:
                capacity = None if max_units is None else tidy(max_units * self.minutes_per_week / 60)
                doc.node(f"R-{uid}", "person", where=where, name=name, capacity=capacity)
            else:
                doc.node(f"R-{uid}", "resource", where=where, name=name, kind=RESOURCE_KINDS.get(kind, "material"))
            ids[uid] = (f"R-{uid}", kind == 1)
        for assignment in self.findall(self.root, "Assignments/Assignment"):
            task_uid, resource_uid = self.text(assignment, "TaskUID"), self.text(assignment, "ResourceUID")
            if resource_uid not in ids or task_uid not in items:
                continue  # unassigned work (ResourceUID -65535) or the project summary
            where = Location(file=self.source, node=items[task_uid])
            units = self.number(assignment, "Units", where)
            node_id, labour = ids[resource_uid]
            if labour and units is not None and 0 <= units <= 10:
                doc.edge(node_id, items[task_uid], "assigned_to", allocation=tidy(units * 100))
            else:
                doc.edge(node_id, items[task_uid], "assigned_to", units=None if units is None else tidy(units))

    _calendars: dict[str, Calendar] | None = None

    def calendars(self) -> dict[str, Calendar]:
        """Every calendar, weekdays and exceptions resolved through its base calendar."""
        if self._calendars is not None:
            return self._calendars
        raw: dict[str, Element] = {}
        for cal in self.findall(self.root, "Calendars/Calendar"):
            uid = self.text(cal, "UID")
            if uid is not None:
                raw[uid] = cal
        resolved: dict[str, Calendar] = {}

        def resolve(uid: str, seen: frozenset[str]) -> Calendar:
            if uid in resolved:
                return resolved[uid]
            cal = raw[uid]
            where = Location(file=self.source, node=f"C-{uid}")
            base_uid = self.text(cal, "BaseCalendarUID")
            base = resolve(base_uid, seen | {uid}) if base_uid in raw and base_uid not in seen else None
            days: dict[int, bool] = {}
            holidays: set[date] = set(base.holidays) if base else set()
            working: set[date] = set(base.working) if base else set()
            if base is not None:
                days = {day: day in base.weekdays for day in range(1, 8)}
            for weekday in self.findall(cal, "WeekDays/WeekDay"):
                day_type = self.integer(weekday, "DayType", where)
                is_working = self.flag(weekday, "DayWorking", where)
                if day_type in _WEEKDAY_ISO:
                    days[_WEEKDAY_ISO[day_type]] = is_working
                elif day_type == 0:  # an exception in the pre-2007 layout
                    self.exception_days(weekday, is_working, holidays, working, where)
            for exception in self.findall(cal, "Exceptions/Exception"):
                self.exception_days(exception, self.flag(exception, "DayWorking", where), holidays, working, where)
            weekdays = [day for day, on in sorted(days.items()) if on] if days else [1, 2, 3, 4, 5]
            calendar = Calendar(
                id=f"C-{uid}",
                name=self.text(cal, "Name"),
                weekdays=weekdays,
                holidays=sorted(holidays),
                working=sorted(working),
                hours_per_day=self.minutes_per_day / 60,
            )
            resolved[uid] = calendar
            return calendar

        for uid in raw:
            resolve(uid, frozenset())
        self._calendars = resolved
        return resolved

    def exception_days(
        self,
        element: Element,
        is_working: bool,
        holidays: set[datetime.date],  # in this class `date` names the method above
        working: set[datetime.date],
        where: Location,
    ) -> None:
        first = self.date(element, "TimePeriod/FromDate", where)
        last = self.date(element, "TimePeriod/ToDate", where)
        if first is None:
            return
        for day in self.recurrence(element, first, last or first, where):
            (working if is_working else holidays).add(day)
            (holidays if is_working else working).discard(day)

    def recurrence(
        self, element: Element, first: datetime.date, last: datetime.date, where: Location
    ) -> Iterable[datetime.date]:
        """The days an exception covers: every day of its period (Type 1, daily, every
        `Period` days), or one day a year (Type 2: `Month`, counted from 0, and `MonthDay`).
        Other recurrences (by weekday position, monthly, weekly) are refused by name rather
        than read as one block of days."""
        kind = self.integer(element, "Type", where)
        if kind in (None, 1):
            step = self.integer(element, "Period", where) or 1
            return (day for n, day in enumerate(date_range(first, last)) if n % max(step, 1) == 0)
        if kind == 2:
            month, month_day = self.integer(element, "Month", where), self.integer(element, "MonthDay", where)
            if month is None or month_day is None or not 0 <= month <= 11:
                raise StateError("a yearly calendar exception needs its Month (0-11) and MonthDay", where)
            days = []
            for year in range(first.year, last.year + 1):
                with contextlib.suppress(ValueError):  # 29 February, or a day the month lacks
                    day = datetime.date(year, month + 1, month_day)
                    if first <= day <= last:
                        days.append(day)
            return days
        name = self.text(element, "Name") or "unnamed"
        raise StateError(
            f"calendar exception {name!r} recurs in a way this importer does not read (Type {kind}); "
            "enter its days as single-date exceptions",
            where,
        )


def _days(value: float | None) -> int | float | None:
    return None if value is None else tidy(max(value, 0.0))


def _uid_order(uid: str) -> tuple[int, str]:
    return (int(uid), uid) if uid.lstrip("-").isdigit() else (0, uid)


def _calendar_attrs(calendar: Calendar, span: tuple[date | None, date | None]) -> dict[str, Any]:
    node = calendar.node(span)
    return {key: value for key, value in node.items() if key not in ("id", "type")}
