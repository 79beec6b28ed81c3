"""Primavera P6 XER to pmo-state/1.

XER is tab-separated text: `ERMHDR` first, then per table a `%T` name, a `%F` field
list and `%R` rows, and `%E` at the end (its absence means the file was cut short).
P6 leaves trailing empty fields off some rows, so a short row is padded; a row longer
than its field list is an error. Hours become working days through the activity's
calendar `day_hr_cnt`. Planned dates (`target_*`) are the baseline here, as MPXJ also
reads them when no baseline project comes with the file. Calendars are in the nested
`clndr_data` notation: `(0||Name(attr|value|...)(children...))`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from governance_engine.errors import Location, StateError
from governance_engine.importers.common import (
    Calendar,
    ScheduleDocument,
    complete_project,
    parse_date,
    parse_number,
    roll_up,
    tidy,
)

CONSTRAINTS = {
    "CS_ASAP": "as_soon_as_possible",
    "CS_ALAP": "as_late_as_possible",
    "CS_MSO": "must_start_on",
    "CS_MANDSTART": "must_start_on",
    "CS_MEO": "must_finish_on",
    "CS_MANDFIN": "must_finish_on",
    "CS_MSOA": "start_no_earlier_than",
    "CS_MSOB": "start_no_later_than",
    "CS_MEOA": "finish_no_earlier_than",
    "CS_MEOB": "finish_no_later_than",
}
LINK_TYPES = {"PR_FS": "FS", "PR_SS": "SS", "PR_FF": "FF", "PR_SF": "SF"}
STATUS = {"TK_NotStart": "not_started", "TK_Active": "in_progress", "TK_Complete": "completed"}
RESOURCE_KINDS = {"RT_Equip": "nonlabor", "RT_Mat": "material"}
_EXCEL_EPOCH = date(1899, 12, 30)  # clndr_data day numbers count from here
_P6_WEEKDAY_ISO = {1: 7, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}  # P6 day 1 = Sunday


@dataclass
class Row:
    line: int
    values: dict[str, str]

    def get(self, name: str) -> str:
        return self.values.get(name, "").strip()


def read_xer(data: bytes, source: str, *, pmo_type: str | None = None) -> dict[str, Any]:
    """Build the state document of one XER file (every project in it)."""
    tables, header = _tables(_decode(data), source)
    return _Reader(tables, header, source).build(pmo_type)


def _decode(data: bytes) -> str:
    """P6 writes UTF-8 or the Windows code page of the exporting machine."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _tables(text: str, source: str) -> tuple[dict[str, list[Row]], list[str]]:
    lines = [line.removesuffix("\r") for line in text.split("\n")]  # line numbers as editors count them
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or not lines[0].startswith("ERMHDR"):
        raise StateError("not a Primavera XER file: the first line is not ERMHDR", Location(file=source, line=1))
    header = lines[0].split("\t")
    tables: dict[str, list[Row]] = {}
    table: str | None = None
    fields: list[str] | None = None
    ended = False
    for number, line in enumerate(lines[1:], start=2):
        where = Location(file=source, line=number)
        if ended and line.strip():
            raise StateError("text after the %E end marker", where)
        if not line.strip():
            continue
        tag, _, rest = line.partition("\t")
        if tag == "%T":
            table, fields = rest.strip(), None
            if not table:
                raise StateError("%T without a table name", where)
            tables.setdefault(table, [])
        elif tag == "%F":
            if table is None:
                raise StateError("%F before any %T table", where)
            fields = [name.strip() for name in rest.split("\t")]
        elif tag == "%R":
            if table is None or fields is None:
                raise StateError("%R row before its table's %T and %F lines", where)
            values = rest.split("\t")
            if len(values) > len(fields):
                raise StateError(
                    f"{table} row has {len(values)} fields, but the table declares {len(fields)}",
                    where,
                )
            tables[table].append(Row(number, dict(zip(fields, values, strict=False))))
        elif tag.strip() == "%E":
            ended = True
        else:
            raise StateError(f"unexpected line (starts with {tag[:20]!r}, not %T, %F, %R or %E)", where)
    if not ended:
        raise StateError(
            "the file ends without the %E end marker: it is truncated",
            Location(file=source, line=len(lines)),
        )
    return tables, header


class _Reader:
    def __init__(self, tables: dict[str, list[Row]], header: list[str], source: str) -> None:
        self.tables = tables
        self.header = header
        self.source = source

    def where(self, row: Row) -> Location:
        return Location(file=self.source, line=row.line)

    def number(self, row: Row, name: str) -> float | None:
        return parse_number(row.get(name), self.where(row), name)

    def date(self, row: Row, name: str) -> date | None:
        return parse_date(row.get(name), self.where(row), name)

    def build(self, pmo_type: str | None) -> dict[str, Any]:
        doc = ScheduleDocument(pmo_type=pmo_type)
        projects = self.tables.get("PROJECT", [])
        if not projects:
            raise StateError("the file has no PROJECT table rows", Location(file=self.source))
        first = projects[0]
        as_of = self.date(first, "last_recalc_date") or self.date(first, "next_data_date")
        if as_of is not None:
            doc.graph["as_of"] = as_of.isoformat()
        currency = self.header[8].strip() if len(self.header) > 8 else ""
        if re.fullmatch(r"[A-Z]{3}", currency):
            doc.graph["currency"] = currency

        calendars = self.calendars()
        resources = self.resources(doc)
        items: dict[str, str] = {}
        hours: dict[str, float] = {}
        for project in projects:
            self.project(doc, project, calendars, items, hours)
        self.links(doc, items, hours)
        self.assignments(doc, items, resources)
        return doc.to_dict()

    def links(self, doc: ScheduleDocument, items: dict[str, str], hours: dict[str, float]) -> None:
        """`successor -depends_on-> predecessor`, lag in the successor's working days. A link to
        an activity of a project the file does not carry is left out."""
        for pred in self.tables.get("TASKPRED", []):
            succ_id, pred_id = pred.get("task_id"), pred.get("pred_task_id")
            if succ_id not in items:
                continue
            if pred_id not in items:
                if pred.get("pred_proj_id") not in ("", pred.get("proj_id")):
                    continue
                raise StateError(f"TASKPRED names activity {pred_id!r}, which the file does not have", self.where(pred))
            kind = pred.get("pred_type") or "PR_FS"
            if kind not in LINK_TYPES:
                raise StateError(f"pred_type: unknown relationship type {kind!r}", self.where(pred))
            lag = self.number(pred, "lag_hr_cnt") or 0.0
            doc.edge(
                items[succ_id],
                items[pred_id],
                "depends_on",
                kind=LINK_TYPES[kind],
                lag_days=tidy(lag / hours[items[succ_id]]),
            )

    def assignments(self, doc: ScheduleDocument, items: dict[str, str], resources: dict[str, tuple[str, bool]]) -> None:
        """`resource -assigned_to-> activity`: labour in percent of full time, others in units."""
        for assignment in self.tables.get("TASKRSRC", []):
            task_id, rsrc_id = assignment.get("task_id"), assignment.get("rsrc_id")
            if task_id not in items or rsrc_id not in resources:
                continue
            node_id, labour = resources[rsrc_id]
            per_hour = self.number(assignment, "target_qty_per_hr")
            if labour and per_hour is not None and 0 <= per_hour <= 10:
                doc.edge(node_id, items[task_id], "assigned_to", allocation=tidy(per_hour * 100))
            else:
                units = self.number(assignment, "target_qty")
                doc.edge(node_id, items[task_id], "assigned_to", units=None if units is None else tidy(units))

    def project(
        self,
        doc: ScheduleDocument,
        row: Row,
        calendars: dict[str, tuple[Calendar, Row]],
        items: dict[str, str],
        hours: dict[str, float],
    ) -> None:
        """The project node, its WBS as summary tasks, its activities and its calendars;
        `items` and `hours` gain each activity's node id and hours per working day."""
        proj_id = row.get("proj_id")
        project_id = f"P-{proj_id}"
        wbs_rows = [w for w in self.tables.get("PROJWBS", []) if w.get("proj_id") == proj_id]
        root = next((w for w in wbs_rows if w.get("proj_node_flag") == "Y"), None)
        project = doc.node(
            project_id,
            "project",
            where=self.where(row),
            name=root.get("wbs_name") if root else row.get("proj_short_name") or None,
            code=row.get("proj_short_name") or None,
            status="active",
            phase="execution",
            schedule_source="xer",
            start=self.date(row, "plan_start_date"),
            finish=self.date(row, "scd_end_date"),
        )
        default_cal = row.get("clndr_id")
        if default_cal not in calendars:
            default_cal = next((k for k, (_, c) in calendars.items() if c.get("default_flag") == "Y"), default_cal)

        # WBS elements below the project node become summary tasks.
        separator = row.get("name_sep_char") or "."
        by_wbs = {w.get("wbs_id"): w for w in wbs_rows}
        codes: dict[str, str] = {}

        def code(wbs_id: str, seen: frozenset[str] = frozenset()) -> str:
            if wbs_id in codes:
                return codes[wbs_id]
            w = by_wbs[wbs_id]
            parent = w.get("parent_wbs_id")
            short = w.get("wbs_short_name")
            if parent in by_wbs and parent not in seen and w is not root:
                result = code(parent, seen | {wbs_id}) + separator + short
            else:
                result = short
            codes[wbs_id] = result
            return result

        for w in wbs_rows:  # parent links must form a tree: a loop would have no top
            seen: set[str | None] = set()
            at: Any = w
            while at is not None and at is not root:
                if at.get("wbs_id") in seen:
                    raise StateError(
                        f"PROJWBS: WBS element {at.get('wbs_id')} is its own ancestor (parent_wbs_id)", self.where(at)
                    )
                seen.add(at.get("wbs_id"))
                at = by_wbs.get(at.get("parent_wbs_id"))
        children: dict[str, list[str]] = {}
        summaries: list[str] = []
        for w in sorted(wbs_rows, key=lambda w: (_int(w.get("seq_num")), w.line)):
            if w is root:
                continue
            node_id = f"W-{w.get('wbs_id')}"
            doc.node(
                node_id,
                "task",
                where=self.where(w),
                name=w.get("wbs_name") or None,
                wbs=code(w.get("wbs_id")),
                summary=True,
            )
            doc.edge(project_id, node_id, "contains")
            summaries.append(node_id)
        for w in sorted(wbs_rows, key=lambda w: (_int(w.get("seq_num")), w.line)):
            parent = w.get("parent_wbs_id")
            if w is not root and parent in by_wbs and by_wbs[parent] is not root:
                doc.edge(f"W-{parent}", f"W-{w.get('wbs_id')}", "decomposes_into")
                children.setdefault(f"W-{parent}", []).append(f"W-{w.get('wbs_id')}")

        used = {default_cal} if default_cal in calendars else set()
        own: list[str] = []
        for task in self.tables.get("TASK", []):
            if task.get("proj_id") != proj_id:
                continue
            cal = task.get("clndr_id")
            node_id = self.task(doc, task, _day_hours(calendars, cal, default_cal), code, by_wbs)
            items[task.get("task_id")] = node_id
            own.append(node_id)
            hours[node_id] = _day_hours(calendars, cal, default_cal)
            doc.edge(project_id, node_id, "contains")
            wbs_id = task.get("wbs_id")
            if wbs_id in by_wbs and by_wbs[wbs_id] is not root:
                doc.edge(f"W-{wbs_id}", node_id, "decomposes_into")
                children.setdefault(f"W-{wbs_id}", []).append(node_id)
            if cal in calendars:
                used.add(cal)
                if cal != default_cal:
                    doc.edge(node_id, f"C-{cal}", "uses_calendar")
        roll_up(doc, children, summaries)

        mine = set(own)
        span = complete_project(project, (n for n in doc.nodes if n["id"] in mine))
        for cal in sorted(used, key=_by_number):
            if not doc.has(f"C-{cal}"):
                calendar, cal_row = calendars[cal]
                attrs = calendar.node(span)
                doc.node(attrs.pop("id"), attrs.pop("type"), where=self.where(cal_row), **attrs)
        if default_cal in calendars:
            doc.edge(project_id, f"C-{default_cal}", "uses_calendar")

    def task(
        self,
        doc: ScheduleDocument,
        task: Row,
        day_hours: float,
        code: Callable[[str], str],
        by_wbs: dict[str, Row],
    ) -> str:
        """One activity node; its dates are actual, else remaining, else early, else planned."""
        where = self.where(task)
        node_id = f"T-{task.get('task_id')}"
        task_type = task.get("task_type")
        status = task.get("status_code")
        if status and status not in STATUS:
            raise StateError(f"status_code: unknown activity status {status!r}", where)
        constraint = task.get("cstr_type")
        if constraint and constraint not in CONSTRAINTS:
            raise StateError(f"cstr_type: unknown constraint {constraint!r}", where)
        secondary = task.get("cstr_type2")
        actual_start, actual_finish = self.date(task, "act_start_date"), self.date(task, "act_end_date")
        total_float = self.number(task, "total_float_hr_cnt")
        target = self.number(task, "target_drtn_hr_cnt")
        remaining = self.number(task, "remain_drtn_hr_cnt")
        wbs_id = task.get("wbs_id")
        doc.node(
            node_id,
            "milestone" if task_type in ("TT_Mile", "TT_FinMile") else "task",
            where=where,
            name=task.get("task_name") or None,
            code=task.get("task_code") or None,
            wbs=code(wbs_id) if wbs_id in by_wbs else None,
            start=actual_start
            or self.date(task, "restart_date")
            or self.date(task, "early_start_date")
            or self.date(task, "target_start_date"),
            finish=actual_finish
            or self.date(task, "reend_date")
            or self.date(task, "early_end_date")
            or self.date(task, "target_end_date"),
            baseline_start=self.date(task, "target_start_date"),
            baseline_finish=self.date(task, "target_end_date"),
            actual_start=actual_start,
            completed_on=actual_finish,
            duration_days=None if target is None else tidy(max(target, 0) / day_hours),
            remaining_duration_days=None if remaining is None else tidy(max(remaining, 0) / day_hours),
            percent_complete=self.percent(task),
            status=STATUS.get(status)
            or ("completed" if actual_finish else "in_progress" if actual_start else "not_started"),
            constraint_type=CONSTRAINTS.get(constraint),
            constraint_date=self.date(task, "cstr_date") if constraint else None,
            secondary_constraint_type=CONSTRAINTS.get(secondary),
            secondary_constraint_date=self.date(task, "cstr_date2") if secondary in CONSTRAINTS else None,
            source_total_float_days=None if total_float is None else tidy(total_float / day_hours),
            level_of_effort=True if task_type == "TT_LOE" else None,
            summary=True if task_type == "TT_WBS" else None,
        )
        return node_id

    def percent(self, task: Row) -> int | float:
        """Percent complete as the activity's percent complete type measures it."""
        kind = task.get("complete_pct_type")
        if task.get("status_code") == "TK_Complete":
            return 100
        if kind == "CP_Phys":
            value = self.number(task, "phys_complete_pct") or 0.0
        elif kind == "CP_Units":
            actual = (self.number(task, "act_work_qty") or 0.0) + (self.number(task, "act_equip_qty") or 0.0)
            left = (self.number(task, "remain_work_qty") or 0.0) + (self.number(task, "remain_equip_qty") or 0.0)
            value = 100 * actual / (actual + left) if actual + left > 0 else 0.0
        else:
            target = self.number(task, "target_drtn_hr_cnt") or 0.0
            remaining = self.number(task, "remain_drtn_hr_cnt")
            if task.get("status_code") == "TK_NotStart" or remaining is None or target <= 0:
                value = 0.0
            else:
                value = 100 * (target - remaining) / target
        return tidy(min(max(value, 0.0), 100.0))

    def resources(self, doc: ScheduleDocument) -> dict[str, tuple[str, bool]]:
        """Labour resources as people (capacity from RSRCRATE), others as `resource` nodes."""
        max_per_hour: dict[str, float] = {}
        for rate in self.tables.get("RSRCRATE", []):
            value = self.number(rate, "max_qty_per_hr")
            if value is not None:
                max_per_hour.setdefault(rate.get("rsrc_id"), value)
        week_hours = {row.get("clndr_id"): self.number(row, "week_hr_cnt") for row in self.tables.get("CALENDAR", [])}
        result: dict[str, tuple[str, bool]] = {}
        for row in self.tables.get("RSRC", []):
            rsrc_id = row.get("rsrc_id")
            node_id = f"R-{rsrc_id}"
            kind = row.get("rsrc_type") or "RT_Labor"
            name = row.get("rsrc_name") or row.get("rsrc_short_name") or None
            if kind == "RT_Labor":
                week = week_hours.get(row.get("clndr_id")) or 40.0
                capacity = max_per_hour.get(rsrc_id)
                doc.node(
                    node_id,
                    "person",
                    where=self.where(row),
                    name=name,
                    capacity=None if capacity is None else tidy(capacity * week),
                )
            else:
                doc.node(
                    node_id, "resource", where=self.where(row), name=name, kind=RESOURCE_KINDS.get(kind, "nonlabor")
                )
            result[rsrc_id] = (node_id, kind == "RT_Labor")
        return result

    def calendars(self) -> dict[str, tuple[Calendar, Row]]:
        """Every CALENDAR row, weekdays taken from its base calendar when it has none."""
        rows = {row.get("clndr_id"): row for row in self.tables.get("CALENDAR", [])}
        parsed: dict[str, tuple[dict[int, bool] | None, set[date], set[date]]] = {}
        for clndr_id, row in rows.items():
            parsed[clndr_id] = parse_clndr_data(row.get("clndr_data"), self.where(row))
        result: dict[str, tuple[Calendar, Row]] = {}
        for clndr_id, row in rows.items():
            days, holidays, working = parsed[clndr_id]
            base, seen = row.get("base_clndr_id"), {clndr_id}
            while days is None and base in parsed and base not in seen:
                days, seen = parsed[base][0], seen | {base}
                base = rows[base].get("base_clndr_id")
            weekdays = [day for day, on in sorted(days.items()) if on] if days else [1, 2, 3, 4, 5]
            hours = self.number(row, "day_hr_cnt")
            calendar = Calendar(
                id=f"C-{clndr_id}",
                name=row.get("clndr_name") or None,
                weekdays=weekdays,
                holidays=sorted(holidays),
                working=sorted(working),
                hours_per_day=hours if hours and hours > 0 else 8.0,
            )
            result[clndr_id] = (calendar, row)
        return result


def _day_hours(calendars: dict[str, tuple[Calendar, Row]], cal: str | None, fallback: str | None) -> float:
    for key in (cal, fallback):
        hours = calendars[key][0].hours_per_day if key in calendars else None
        if hours:
            return float(hours)
    return 8.0


def _by_number(text: str | None) -> tuple[int, str]:
    """Ids in numeric order, text ids after by their text: the same order on every run."""
    return _int(text), text or ""


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


# -- clndr_data ----------------------------------------------------------------------------
_TOKEN = re.compile(r"\(|\)|[^()]+")


@dataclass
class _Node:
    name: str
    attrs: dict[str, str]
    children: list[_Node]


def parse_clndr_data(text: str, where: Location) -> tuple[dict[int, bool] | None, set[date], set[date]]:
    """Weekdays (ISO day -> working) or None when absent, holidays, working exceptions.

    A day of the week or an exception with hour ranges beneath it is working time; one
    with none is not.
    """
    if not text or not text.strip():
        return None, set(), set()
    root = _parse_nodes(text, where)
    days: dict[int, bool] | None = None
    holidays: set[date] = set()
    working: set[date] = set()
    for section in _walk(root):
        if section.name == "DaysOfWeek":
            days = {}
            for day in section.children:
                try:
                    number = int(day.name)
                except ValueError:
                    raise StateError(f"clndr_data: DaysOfWeek entry {day.name!r} is not a day number", where) from None
                if number in _P6_WEEKDAY_ISO:
                    days[_P6_WEEKDAY_ISO[number]] = bool(day.children)
        elif section.name == "Exceptions":
            for exception in section.children:
                serial = exception.attrs.get("d")
                if serial is None:
                    continue
                try:
                    exception_day = _EXCEL_EPOCH + timedelta(days=int(float(serial)))
                except (ValueError, OverflowError):
                    raise StateError(f"clndr_data: exception day {serial!r} is not a day number", where) from None
                (working if exception.children else holidays).add(exception_day)
    return days, holidays, working


def _walk(nodes: list[_Node]) -> Iterator[_Node]:
    for node in nodes:
        yield node
        yield from _walk(node.children)


def _parse_nodes(text: str, where: Location) -> list[_Node]:
    """`(0||Name(k|v|k|v)(children))` nested to any depth, whitespace between ignored."""
    tokens = [t for t in _TOKEN.findall(text) if t.strip() or t in "()"]
    tokens = [t.strip() if t not in "()" else t for t in tokens]
    tokens = [t for t in tokens if t]
    position = 0

    def fail(message: str) -> StateError:
        return StateError(f"clndr_data: {message}", where)

    def expect(token: str) -> None:
        nonlocal position
        if position >= len(tokens) or tokens[position] != token:
            found = tokens[position] if position < len(tokens) else "the end"
            raise fail(f"expected {token!r}, found {found!r}")
        position += 1

    def node() -> _Node:
        nonlocal position
        expect("(")
        if position >= len(tokens) or tokens[position] in "()":
            raise fail("a node without a name")
        head = tokens[position]
        position += 1
        name = head.split("||", 1)[1] if "||" in head else head
        expect("(")
        attrs: dict[str, str] = {}
        if position < len(tokens) and tokens[position] not in "()":
            parts = tokens[position].split("|")
            attrs = dict(zip(parts[::2], parts[1::2], strict=False))
            position += 1
        expect(")")
        expect("(")
        children: list[_Node] = []
        while position < len(tokens) and tokens[position] == "(":
            children.append(node())
        expect(")")
        expect(")")
        return _Node(name.strip(), attrs, children)

    nodes = []
    while position < len(tokens):
        nodes.append(node())
    return nodes
