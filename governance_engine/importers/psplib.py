"""PSPLIB single-mode RCPSP instances (`.sm`, Kolisch & Sprecher 1997) to pmo-state/1.

An instance has no dates: durations are in periods (days here), the first and last jobs
are the dummy source and sink (kept as milestones), precedences are successor lists
(finish-to-start, no lag), and renewable resources have a per-period capacity that jobs
request. Every day is a working day, so the project gets a seven-day calendar.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from governance_engine.errors import Location, StateError
from governance_engine.importers.common import ScheduleDocument, tidy

_STARS = re.compile(r"^\*{5,}\s*$")
_DASHES = re.compile(r"^-{5,}\s*$")
_KEY_VALUE = re.compile(r"^\s*(?:-\s*)?([^:]+?)\s*:\s*(.*?)\s*$")
_SECTIONS = ("PROJECT INFORMATION", "PRECEDENCE RELATIONS", "REQUESTS/DURATIONS", "RESOURCEAVAILABILITIES")


def read_psplib(data: bytes, source: str, *, pmo_type: str | None = None) -> dict[str, Any]:
    """Build the state document of one `.sm` instance."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as bad:
        raise StateError(f"not a PSPLIB file: non-ASCII byte at offset {bad.start}", Location(file=source)) from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    instance = _Parser(lines, source).parse()
    return _document(instance, source, pmo_type)


class _Parser:
    def __init__(self, lines: list[str], source: str) -> None:
        self.lines = lines
        self.source = source

    def at(self, index: int) -> Location:
        return Location(file=self.source, line=index + 1)

    def ints(self, index: int, what: str) -> list[int]:
        values = []
        for token in self.lines[index].split():
            try:
                values.append(int(token))
            except ValueError:
                raise StateError(f"{what}: {token!r} is not a whole number", self.at(index)) from None
        return values

    def parse(self) -> dict[str, Any]:
        header: dict[str, tuple[str, int]] = {}
        sections: dict[str, int] = {}
        for index, line in enumerate(self.lines):
            stripped = line.strip()
            name = stripped.rstrip(":").strip()
            if name in _SECTIONS:
                sections[name] = index
            elif not sections and (match := _KEY_VALUE.match(line)):
                header[match[1].strip()] = (match[2], index)
        last = len(self.lines) - 1 if self.lines else 0
        for name in _SECTIONS:
            if name not in sections:
                raise StateError(f"not a complete PSPLIB file: no {name} section (truncated?)", self.at(last))
        jobs_key = next((k for k in header if k.startswith("jobs")), None)
        if jobs_key is None:
            raise StateError("not a PSPLIB file: no 'jobs' count in the header", self.at(0))
        jobs = self.header_int(header, jobs_key)
        renewable_key = next((k for k in header if k.startswith("renewable")), None)
        renewable = self.header_int(header, renewable_key) if renewable_key else 0

        rows = self.rows(sections["PRECEDENCE RELATIONS"], jobs, "precedence")
        successors: dict[int, list[int]] = {}
        lines: dict[int, int] = {}
        for index in rows:
            values = self.ints(index, "precedence row")
            if len(values) < 3 or len(values) != 3 + values[2]:
                raise StateError("precedence row: expected job, modes, count and that many successors", self.at(index))
            job, modes, _count = values[:3]
            if modes != 1:
                raise StateError(f"job {job} has {modes} modes; a .sm file is single-mode", self.at(index))
            successors[job] = values[3:]
            lines[job] = index

        rows = self.rows(sections["REQUESTS/DURATIONS"], jobs, "request", skip_rule=True)
        durations: dict[int, int] = {}
        requests: dict[int, list[int]] = {}
        for index in rows:
            values = self.ints(index, "request row")
            if len(values) != 3 + renewable:
                raise StateError(
                    f"request row: expected job, mode, duration and {renewable} resource requests", self.at(index)
                )
            job, _mode, duration = values[:3]
            if duration < 0:
                raise StateError(f"job {job}: negative duration {duration}", self.at(index))
            durations[job] = duration
            requests[job] = values[3:]

        start = sections["RESOURCEAVAILABILITIES"]
        capacity_line = self.next_content(start + 1, skip_rule=False)  # the "R 1  R 2" labels
        capacity_line = self.next_content(capacity_line + 1, skip_rule=False)
        capacities = self.ints(capacity_line, "resource availability")
        if len(capacities) != renewable:
            raise StateError(f"expected {renewable} resource availabilities", self.at(capacity_line))

        expected = set(range(1, jobs + 1))
        for label, found in (("precedence", successors), ("request", durations)):
            if set(found) != expected:
                raise StateError(
                    f"{label} rows do not number the jobs 1 to {jobs}", self.at(sections["PRECEDENCE RELATIONS"])
                )
        for job, after in successors.items():
            for succ in after:
                if succ not in expected:
                    raise StateError(f"job {job} names successor {succ}, which is not a job", self.at(lines[job]))

        info_header = self.next_content(sections["PROJECT INFORMATION"] + 1, skip_rule=False)
        info_index = self.next_content(info_header + 1, skip_rule=False)
        info = self.ints(info_index, "project information")
        return {
            "jobs": jobs,
            "successors": successors,
            "durations": durations,
            "requests": requests,
            "capacities": capacities,
            "info": info,
            "horizon": self.header_int(header, "horizon") if "horizon" in header else None,
            "basedata": header.get("file with basedata", ("", 0))[0] or None,
        }

    def header_int(self, header: dict[str, tuple[str, int]], key: str) -> int:
        value, index = header[key]
        token = value.split()[0] if value.split() else ""
        try:
            return int(token)
        except ValueError:
            raise StateError(f"{key}: {token!r} is not a whole number", self.at(index)) from None

    def next_content(self, index: int, *, skip_rule: bool) -> int:
        while index < len(self.lines):
            line = self.lines[index]
            if line.strip() and not (skip_rule and _DASHES.match(line)):
                return index
            index += 1
        raise StateError("the file ends early (truncated?)", self.at(len(self.lines) - 1))

    def rows(self, section: int, jobs: int, what: str, *, skip_rule: bool = False) -> list[int]:
        """Line indexes of the `jobs` rows after a section title and its column header."""
        index = self.next_content(section + 1, skip_rule=False) + 1  # column header
        rows: list[int] = []
        while len(rows) < jobs:
            index = self.next_content(index, skip_rule=skip_rule)
            if _STARS.match(self.lines[index]):
                raise StateError(f"expected {jobs} {what} rows, found {len(rows)}", self.at(index))
            rows.append(index)
            index += 1
        return rows


def _document(instance: dict[str, Any], source: str, pmo_type: str | None) -> dict[str, Any]:
    doc = ScheduleDocument(pmo_type=pmo_type)
    where = Location(file=source)
    jobs = instance["jobs"]
    info = instance["info"]
    number = info[0] if info else 1
    project_id = f"P-{number}"
    stem = PurePath(source).stem
    extra: dict[str, Any] = {}
    if len(info) >= 6:
        extra = {"release_day": info[2], "due_day": info[3], "tardiness_cost": info[4], "mpm_time": info[5]}
    doc.node(
        project_id,
        "project",
        where=where,
        name=f"{stem} (PSPLIB)",
        status="active",
        phase="execution",
        schedule_source="psplib",
        horizon_days=instance["horizon"],
        basedata=instance["basedata"],
        **extra,
    )
    doc.node(
        "C-periods",
        "calendar",
        where=where,
        name="PSPLIB periods",
        working_weekdays=list(range(1, 8)),
        holidays=[],
        working_exceptions=[],
    )
    doc.edge(project_id, "C-periods", "uses_calendar")
    for job in range(1, jobs + 1):
        dummy = job in (1, jobs)
        doc.node(
            f"J-{job}",
            "milestone" if dummy else "task",
            where=where,
            name=("Project start" if job == 1 else "Project finish") if dummy else f"Job {job}",
            duration_days=instance["durations"][job],
            remaining_duration_days=instance["durations"][job],
            percent_complete=0,
            status="not_started",
        )
        doc.edge(project_id, f"J-{job}", "contains")
    for job in range(1, jobs + 1):
        for succ in instance["successors"][job]:
            doc.edge(f"J-{succ}", f"J-{job}", "depends_on", kind="FS", lag_days=0)
    for k, capacity in enumerate(instance["capacities"], start=1):
        doc.node(f"R{k}", "resource", where=where, name=f"R {k}", kind="renewable", capacity=tidy(capacity))
    for job in range(1, jobs + 1):
        for k, units in enumerate(instance["requests"][job], start=1):
            if units:
                doc.edge(f"R{k}", f"J-{job}", "assigned_to", units=units)
    return doc.to_dict()
