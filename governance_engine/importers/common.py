"""Shared pieces of the schedule importers: reading bytes, dates, numbers, and the document.

Every importer builds a pmo-state/1 document with `ScheduleDocument` so that ids, edge
order and attribute spelling are the same whatever the source format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from governance_engine.errors import Location, StateError

MAX_BYTES = 50_000_000
_DATE = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*$")


def read_source(path: str | Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes; an unreadable or oversized file is a StateError naming it."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise StateError(f"cannot read schedule file: {err.strerror or err}", Location(file=source)) from None
    if len(data) > max_bytes:
        raise StateError(f"schedule file is over the limit of {max_bytes:,} bytes", Location(file=source))
    return data


def parse_date(text: str | None, where: Location, what: str) -> date | None:
    """An ISO date from a timestamp ("2003-01-07T08:00:00" or "2021-07-19 08:00"); time dropped."""
    if text is None or not text.strip() or text.strip().upper() == "NA":
        return None
    match = _DATE.match(text)
    if match is None:
        raise StateError(f"{what}: not a date: {text.strip()!r}", where)
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise StateError(f"{what}: not a date: {text.strip()!r}", where) from None


def parse_number(text: str | None, where: Location, what: str) -> float | None:
    """A finite number, or None for an empty field."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise StateError(f"{what}: not a number: {text.strip()!r}", where) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise StateError(f"{what}: not a finite number: {text.strip()!r}", where)
    return value


def tidy(value: float) -> int | float:
    """Round away binary noise (hours / 8 and the like) and give integers as int."""
    value = round(value, 4)
    if value == 0:
        return 0
    return int(value) if value == int(value) else value


def iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def date_range(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        if day == date.max:
            return
        day += timedelta(days=1)


def status_of(percent: float | None, actual_start: date | None, actual_finish: date | None) -> str:
    """not_started / in_progress / completed from progress and actual dates."""
    if actual_finish is not None or (percent is not None and percent >= 100):
        return "completed"
    if actual_start is not None or (percent is not None and percent > 0):
        return "in_progress"
    return "not_started"


@dataclass
class Calendar:
    """Working time as far as working days need it."""

    id: str
    name: str | None
    weekdays: list[int]
    holidays: list[date] = field(default_factory=list)
    working: list[date] = field(default_factory=list)
    hours_per_day: float | None = None

    def node(self, span: tuple[date | None, date | None]) -> dict[str, Any]:
        """The calendar node, exception dates kept from the project start to a year past its
        finish (work that slips past the planned finish still meets the holidays)."""
        first, last = span

        def keep(day: date) -> bool:
            return (first is None or day >= first) and (last is None or day <= last + timedelta(days=366))

        node: dict[str, Any] = {
            "id": self.id,
            "type": "calendar",
            "name": self.name,
            "working_weekdays": sorted(set(self.weekdays)),
            "holidays": [iso(day) for day in sorted(set(filter(keep, self.holidays)))],
            "working_exceptions": [iso(day) for day in sorted(set(filter(keep, self.working)))],
        }
        if self.hours_per_day is not None:
            node["hours_per_day"] = tidy(self.hours_per_day)
        return drop_none(node)


def drop_none(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attrs.items() if value is not None}


class ScheduleDocument:
    """Nodes and edges in the order the importer adds them; dates written as ISO text."""

    def __init__(self, *, pmo_type: str | None = None) -> None:
        self.graph: dict[str, Any] = {"schema": "pmo-state/1"}
        if pmo_type is not None:
            self.graph["pmo_type"] = pmo_type
        self.nodes: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self._ids: set[str] = set()

    def node(self, node_id: str, node_type: str, *, where: Location, **attrs: Any) -> dict[str, Any]:
        """Add a node; two source records mapping to one id is bad input, reported at `where`."""
        if node_id in self._ids:
            raise StateError(f"duplicate {node_type} id {node_id!r}", where)
        self._ids.add(node_id)
        node = {"id": node_id, "type": node_type, **_plain(drop_none(attrs))}
        self.nodes.append(node)
        return node

    def has(self, node_id: str) -> bool:
        return node_id in self._ids

    def edge(self, source: str, target: str, relation: str, **attrs: Any) -> None:
        self.edges.append({"source": source, "target": target, "relation": relation, **drop_none(attrs)})

    def to_dict(self) -> dict[str, Any]:
        return {
            "directed": True,
            "multigraph": True,
            "graph": _plain(drop_none(self.graph)),
            "nodes": self.nodes,
            "edges": self.edges,
        }


def _plain(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: iso(value) if isinstance(value, date) else value for key, value in attrs.items()}


def roll_up(doc: ScheduleDocument, children: dict[str, list[str]], summaries: Iterable[str]) -> None:
    """Give summary items the earliest start and latest finish of the work beneath them,
    where the source did not carry its own."""
    by_id = {node["id"]: node for node in doc.nodes}

    def span(node_id: str, key: str, pick: Any) -> str | None:
        values = []
        for child in children.get(node_id, []):
            node = by_id[child]
            value = node.get(key) if not node.get("summary") else span(child, key, pick)
            if value is not None:
                values.append(value)
        return pick(values) if values else None

    for summary in summaries:
        node = by_id[summary]
        for key, pick in (("start", min), ("finish", max), ("baseline_start", min), ("baseline_finish", max)):
            if node.get(key) is None:
                value = span(summary, key, pick)
                if value is not None:
                    node[key] = value


def complete_project(
    project: dict[str, Any], items: Iterable[dict[str, Any]], baseline_finish: str | None = None
) -> tuple[date | None, date | None]:
    """Fill in the project dates the file leaves out from its items (earliest start, latest
    finish and baseline finish); the forecast finish is the current finish. Returns the span."""
    starts, finishes, baselines = [], [], []
    for node in items:
        starts += [node["start"]] if node.get("start") else []
        finishes += [node["finish"]] if node.get("finish") else []
        baselines += [node["baseline_finish"]] if node.get("baseline_finish") else []
    derived = {
        "start": min(starts, default=None),
        "finish": max(finishes, default=None),
        "baseline_finish": baseline_finish or max(baselines, default=None),
    }
    for key, value in derived.items():
        if project.get(key) is None and value is not None:
            project[key] = value
    if "finish" in project:
        project["forecast_finish"] = project["finish"]
    return (
        date.fromisoformat(project["start"]) if "start" in project else None,
        date.fromisoformat(project["finish"]) if "finish" in project else None,
    )
