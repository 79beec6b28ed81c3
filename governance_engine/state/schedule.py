"""Critical-path method over tasks and milestones, on networkx, computed on demand.

Direction: an edge `S -depends_on-> P` means S (the successor) depends on P (its
predecessor). With lag L the relationship kinds constrain S as follows:
FS: ES(S) >= EF(P) + L;  SS: ES(S) >= ES(P) + L;  FF: EF(S) >= EF(P) + L;
SF: EF(S) >= ES(P) + L.  The backward pass applies the same constraints in reverse.
Summary tasks (`summary: true`) are outside the network: their links are ignored.

Two time models:

* No `uses_calendar` edge in the state: times are calendar days from the project start (0),
  dates, progress and constraints are not read (the engine's behaviour before calendars).
* Otherwise every item works on a calendar (its own `uses_calendar`, else its project's,
  else Monday-Friday) and times are working-day positions of that calendar: durations and
  lags are working days (a lag counts in the successor's calendar); a time passing between
  two different calendars goes through the calendar day it falls on, rounded to the next
  working day going forward and the previous one going backward. Completed items keep their
  actual dates, started ones their actual start and remaining duration from the status date
  (`as_of`), and nothing not yet started begins before the status date or the project
  start. Soft constraints (start/finish no earlier than, must start/finish on) bound the
  forward pass; hard ones (must start/finish on, start/finish no later than) bound the
  backward pass, so float can be negative. Total float is late finish - early finish;
  an item is critical when its float is at most zero.

Each item's late finish is also bounded by the finish of its own project, so a short
project in a multi-project file does not gain float from a long one.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from governance_engine.errors import Location, StateError

if TYPE_CHECKING:
    from governance_engine.state.index import Node, StateIndex

SCHEDULED_TYPES = ("task", "milestone")
CRITICAL_TOLERANCE = 1e-9
CRITICAL_PATH_TEST_DELAY = 10  # working days added to a critical task by the critical path test
ORIGIN = date(2000, 1, 3).toordinal()  # a Monday: working-day positions count from here
STANDARD_WEEK = (1, 2, 3, 4, 5)
EARLY_BOUNDS = ("start_no_earlier_than", "must_start_on", "finish_no_earlier_than", "must_finish_on")
HARD_CONSTRAINTS = ("must_start_on", "must_finish_on", "start_no_later_than", "finish_no_later_than")

Link = tuple[str, str, float]  # (other item, kind, lag_days)


@dataclass(frozen=True, slots=True)
class ItemDates:
    """An item's CPM dates (first and last working day), calendar mode only."""

    early_start: date
    early_finish: date
    late_start: date
    late_finish: date


@dataclass(frozen=True, slots=True)
class ProjectSchedule:
    """What the DCMA project metrics read, in working days of the project's calendar; only
    for projects that carry `schedule_source`.

    critical_path_length_days runs from the status date (or the project start, when later)
    to the CPM finish; total_float_days from the CPM finish to the baseline finish (negative
    when the forecast is later); cpli = (length + float) / length. The critical path test
    delays the most critical unfinished task and checks that the finish moves as much.
    """

    finish: date | None
    critical_path_length_days: float
    total_float_days: float | None
    cpli: float | None
    critical_path_test: bool
    critical_path_test_task: str | None


@dataclass(frozen=True, slots=True)
class Schedule:
    """Early/late times from the start, total float, the critical path and, per project,
    the figures the DCMA assessment reads."""

    early_start: dict[str, float]
    early_finish: dict[str, float]
    late_start: dict[str, float]
    late_finish: dict[str, float]
    total_float: dict[str, float]
    critical_path: list[str]
    project_duration: float
    dates: dict[str, ItemDates] = field(default_factory=dict)
    projects: dict[str, ProjectSchedule] = field(default_factory=dict)
    uses_calendars: bool = False


class WorkCalendar:
    """Working days: ISO weekdays, less holidays, plus working exceptions.

    A position counts working days from ORIGIN: `before(day)` is the number of working days
    in [ORIGIN, day) (negative before ORIGIN), `nth(p)` the day of working day p.
    """

    def __init__(self, weekdays: Any, holidays: Any, exceptions: Any, where: Location) -> None:
        self.weekdays = frozenset(weekdays)
        if not self.weekdays:  # positions would run out: a schedule on it could never finish
            raise StateError(f"calendar {where.node!r} has no working weekday", where)
        self.holidays = sorted({d.toordinal() for d in holidays if d.isoweekday() in self.weekdays})
        self.extras = sorted({d.toordinal() for d in exceptions if d.isoweekday() not in self.weekdays})
        self._partial = [sum(1 for k in range(r) if _weekday(ORIGIN + k) in self.weekdays) for r in range(7)]

    def working(self, day: int) -> bool:
        if _weekday(day) in self.weekdays:
            return not _contains(self.holidays, day)
        return _contains(self.extras, day)

    def before(self, day: int) -> int:
        weeks, rest = divmod(day - ORIGIN, 7)
        count = weeks * len(self.weekdays) + self._partial[rest]
        count -= bisect.bisect_left(self.holidays, day) - bisect.bisect_left(self.holidays, ORIGIN)
        count += bisect.bisect_left(self.extras, day) - bisect.bisect_left(self.extras, ORIGIN)
        return count

    def nth(self, position: int) -> int:
        """The day (ordinal) of working day `position`: the first day with before(day + 1) > position."""
        low, high = ORIGIN - 1, ORIGIN + 1
        while self.before(low + 1) > position:
            low -= 2 * (ORIGIN - low)
        while self.before(high + 1) <= position:
            high += 2 * (high - ORIGIN)
        while high - low > 1:  # invariant: before(low + 1) <= position < before(high + 1)
            middle = (low + high) // 2
            if self.before(middle + 1) > position:
                high = middle
            else:
                low = middle
        return high

    # Times are positions (working days, maybe fractional); instants are day ordinals
    # (fractional within a day): the conversions used between different calendars.
    def start_instant(self, position: float) -> float:
        whole = math.floor(position)
        return self.nth(whole) + (position - whole)

    def finish_instant(self, position: float) -> float:
        whole = math.ceil(position)
        if whole == position:
            return self.nth(whole - 1) + 1
        return self.nth(whole - 1) + (position - math.floor(position))

    def position(self, instant: float) -> float:
        day = math.floor(instant)
        return self.before(day) + ((instant - day) if self.working(day) else 0)


def _weekday(day: int) -> int:
    return (day - 1) % 7 + 1


def _contains(ordered: list[int], value: int) -> bool:
    at = bisect.bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


def duration_of(node: Node) -> float:
    """duration_days; milestones take no time; a missing duration counts as 0."""
    if node.type == "milestone":
        return 0
    return node.attrs.get("duration_days") or 0


class _Network:
    """The items, their links in both directions and a topological order."""

    def __init__(self, index: StateIndex) -> None:
        import networkx

        self.index = index
        self.nodes: dict[str, Node] = {
            node.id: node for kind in SCHEDULED_TYPES for node in index.of_type(kind) if not node.attrs.get("summary")
        }
        self.duration = {item: duration_of(node) for item, node in self.nodes.items()}
        self.predecessors: dict[str, list[Link]] = defaultdict(list)
        self.successors: dict[str, list[Link]] = defaultdict(list)
        graph = networkx.DiGraph()
        graph.add_nodes_from(sorted(self.nodes))
        for item in sorted(self.nodes):
            for edge in index.out_edges(item, "depends_on"):
                if edge.target not in self.nodes:
                    continue
                kind = edge.attrs.get("kind", "FS")
                lag = edge.attrs.get("lag_days", 0)
                self.predecessors[item].append((edge.target, kind, lag))
                self.successors[edge.target].append((item, kind, lag))
                graph.add_edge(edge.target, item)
        try:
            self.order = list(networkx.lexicographical_topological_sort(graph))
        except networkx.NetworkXUnfeasible:
            raise StateError("depends_on edges among tasks form a cycle", Location(file=index.source)) from None
        self.project = {item: index.project_of(item) for item in self.order}


def compute_schedule(index: StateIndex) -> Schedule:
    """Forward and backward CPM passes in networkx topological order."""
    network = _Network(index)
    if any(edge.relation == "uses_calendar" for edge in index._edges):
        return _CalendarSchedule(network).compute()
    return _compute_in_days(network)


def _compute_in_days(network: _Network) -> Schedule:
    """Calendar days from 0; dates, progress and constraints are not read."""
    order, duration = network.order, network.duration
    early_start, early_finish = _forward_in_days(network, {})

    project_finish: dict[str | None, float] = {}
    for item in order:
        project = network.project[item]
        project_finish[project] = max(project_finish.get(project, 0), early_finish[item])

    late_start: dict[str, float] = {}
    late_finish: dict[str, float] = {}
    for item in reversed(order):
        finish = project_finish[network.project[item]]
        for other, kind, lag in network.successors[item]:
            finish = min(
                finish,
                _latest_finish(kind, lag, late_start[other], late_finish[other], duration[item]),
            )
        late_finish[item] = finish
        late_start[item] = finish - duration[item]

    total_float = {item: late_start[item] - early_start[item] for item in order}
    critical = sorted(
        (item for item in order if abs(total_float[item]) < CRITICAL_TOLERANCE),
        key=lambda item: (early_start[item], item),
    )
    projects: dict[str, ProjectSchedule] = {}
    for project, finish in project_finish.items():
        if project is None or not _assessed(network, project):
            continue
        candidate = _test_candidate(network, project, total_float, early_start, set())
        passed = False
        if candidate is not None:
            _, delayed = _forward_in_days(network, {candidate: CRITICAL_PATH_TEST_DELAY})
            moved = max(delayed[i] for i in order if network.project[i] == project) - finish
            passed = abs(moved - CRITICAL_PATH_TEST_DELAY) < 1e-6
        projects[project] = ProjectSchedule(
            finish=None,
            critical_path_length_days=finish,
            total_float_days=None,
            cpli=None,
            critical_path_test=passed,
            critical_path_test_task=candidate,
        )
    return Schedule(
        early_start=early_start,
        early_finish=early_finish,
        late_start=late_start,
        late_finish=late_finish,
        total_float=total_float,
        critical_path=critical,
        project_duration=max(early_finish.values(), default=0),
        projects=projects,
    )


def _forward_in_days(network: _Network, delay: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    early_start: dict[str, float] = {}
    early_finish: dict[str, float] = {}
    for item in network.order:
        own = network.duration[item] + delay.get(item, 0)
        start: float = 0
        for other, kind, lag in network.predecessors[item]:
            start = max(start, _earliest_start(kind, lag, early_start[other], early_finish[other], own))
        early_start[item] = start
        early_finish[item] = start + own
    return early_start, early_finish


def _assessed(network: _Network, project: str) -> bool:
    """Project figures (and their extra forward pass) only for imported schedules: the
    projects that carry schedule_source, the only ones the DCMA rules read them on."""
    return network.index.nodes[project].attrs.get("schedule_source") is not None


def _test_candidate(
    network: _Network, project: str, total_float: dict[str, float], early_start: dict[str, float], done: set[str]
) -> str | None:
    """The task the critical path test delays: the unfinished task of least float (at most
    zero), earliest first; None when the project has no critical task."""
    candidates = [
        item
        for item in network.order
        if network.project[item] == project
        and network.nodes[item].type == "task"
        and item not in done
        and total_float[item] <= CRITICAL_TOLERANCE
    ]
    return min(candidates, key=lambda i: (total_float[i], early_start[i], i), default=None)


def _earliest_start(kind: str, lag: float, pred_start: float, pred_finish: float, own_duration: float) -> float:
    """The successor's earliest start allowed by one predecessor."""
    if kind == "SS":
        return pred_start + lag
    if kind == "FF":
        return pred_finish + lag - own_duration
    if kind == "SF":
        return pred_start + lag - own_duration
    return pred_finish + lag


def _latest_finish(kind: str, lag: float, succ_start: float, succ_finish: float, own_duration: float) -> float:
    """The predecessor's latest finish allowed by one successor."""
    if kind == "SS":
        return succ_start - lag + own_duration
    if kind == "FF":
        return succ_finish - lag
    if kind == "SF":
        return succ_finish - lag + own_duration
    return succ_start - lag


def _ordinal(value: Any) -> int | None:
    return value.toordinal() if isinstance(value, date) else None


class _CalendarSchedule:
    """CPM in working days of each item's calendar, with progress and constraints."""

    def __init__(self, network: _Network) -> None:
        self.network = network
        index = network.index
        self.as_of = _ordinal(index.as_of)
        self._calendars: dict[str, WorkCalendar] = {}
        standard = WorkCalendar(STANDARD_WEEK, (), (), Location(node="standard"))
        self.project_calendar: dict[str | None, WorkCalendar] = {None: standard}
        for project_node in index.of_type("project"):
            self.project_calendar[project_node.id] = self._calendar_of(project_node.id) or standard
        self.calendar = {
            item: self._calendar_of(item) or self.project_calendar.get(network.project[item], standard)
            for item in network.order
        }
        self.done = {
            item
            for item, node in network.nodes.items()
            if node.attrs.get("status") == "completed" or node.attrs.get("completed_on") is not None
        }
        self.anchor: dict[str | None, int | None] = {}
        for item in network.order:
            attrs = network.nodes[item].attrs
            days = [d for d in (_ordinal(attrs.get("actual_start")), _ordinal(attrs.get("start"))) if d is not None]
            project = network.project[item]
            if days:
                current = self.anchor.get(project)
                self.anchor[project] = min(days) if current is None else min(current, min(days))
        for project_node in index.of_type("project"):
            given = _ordinal(project_node.attrs.get("start"))
            if given is not None:
                self.anchor[project_node.id] = given

    def _calendar_of(self, node_id: str) -> WorkCalendar | None:
        for edge in self.network.index.out_edges(node_id, "uses_calendar"):
            node = self.network.index.nodes[edge.target]
            if node.type != "calendar":
                continue
            if node.id not in self._calendars:
                attrs = node.attrs
                weekdays = attrs.get("working_weekdays")
                self._calendars[node.id] = WorkCalendar(
                    STANDARD_WEEK if weekdays is None else weekdays,
                    attrs.get("holidays") or (),
                    attrs.get("working_exceptions") or (),
                    Location(file=self.network.index.source, node=node.id),
                )
            return self._calendars[node.id]
        return None

    def _to(self, calendar: WorkCalendar, source: WorkCalendar, position: float, finish: bool) -> float:
        """A time of `source` as a position of `calendar`."""
        if calendar is source:
            return position
        instant = source.finish_instant(position) if finish else source.start_instant(position)
        return calendar.position(instant)

    def forward(self, delay: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
        network = self.network
        early_start: dict[str, float] = {}
        early_finish: dict[str, float] = {}
        for item in network.order:
            attrs = network.nodes[item].attrs
            calendar = self.calendar[item]
            own = network.duration[item] + delay.get(item, 0)
            actual_start = _ordinal(attrs.get("actual_start"))
            started = actual_start or _ordinal(attrs.get("start"))
            start: float
            if item in self.done and started is not None:
                start = calendar.before(started)
                finished = _ordinal(attrs.get("completed_on")) or _ordinal(attrs.get("finish"))
                finish = calendar.before(finished + 1) if finished is not None else start + own
                early_start[item], early_finish[item] = start, max(start, finish) + delay.get(item, 0)
                continue
            if actual_start is not None:
                start = calendar.before(actual_start)
                remaining = attrs.get("remaining_duration_days")
                if remaining is not None and self.as_of is not None:
                    finish = max(calendar.before(self.as_of), start) + remaining + delay.get(item, 0)
                else:
                    finish = start + own
                early_start[item], early_finish[item] = start, finish
                continue
            lower = [d for d in (self.anchor.get(network.project[item]), self.as_of) if d is not None]
            start = float(calendar.before(max(lower))) if lower else 0.0
            for other, kind, lag in network.predecessors[item]:
                source = self.calendar[other]
                if kind in ("SS", "SF"):
                    reference = self._to(calendar, source, early_start[other], finish=False)
                    bound = reference + lag - (own if kind == "SF" else 0)
                else:
                    reference = self._to(calendar, source, early_finish[other], finish=True)
                    bound = reference + lag - (own if kind == "FF" else 0)
                start = max(start, bound)
            constraint = attrs.get("constraint_type")
            when = _ordinal(attrs.get("constraint_date"))
            if constraint in EARLY_BOUNDS and when is not None:
                if constraint in ("start_no_earlier_than", "must_start_on"):
                    start = max(start, calendar.before(when))
                else:
                    start = max(start, calendar.before(when + 1) - own)
            early_start[item], early_finish[item] = start, start + own
        return early_start, early_finish

    def _project_finishes(self, early_finish: dict[str, float]) -> dict[str | None, float]:
        """Each project's finish as an instant (day ordinal, end of its last working day)."""
        finishes: dict[str | None, float] = {}
        for item in self.network.order:
            instant = self.calendar[item].finish_instant(early_finish[item])
            project = self.network.project[item]
            finishes[project] = max(finishes.get(project, instant), instant)
        return finishes

    def compute(self) -> Schedule:
        network = self.network
        order, duration = network.order, network.duration
        early_start, early_finish = self.forward({})
        project_finish = self._project_finishes(early_finish)

        late_start: dict[str, float] = {}
        late_finish: dict[str, float] = {}
        for item in reversed(order):
            calendar = self.calendar[item]
            if item in self.done:
                late_start[item], late_finish[item] = early_start[item], early_finish[item]
                continue
            own = early_finish[item] - early_start[item] if network.nodes[item].attrs.get("actual_start") else None
            own = duration[item] if own is None else own
            finish = calendar.position(project_finish[network.project[item]])
            for other, kind, lag in network.successors[item]:
                if other in self.done:
                    continue
                source = self.calendar[other]
                if kind in ("SS", "FS"):
                    bound = self._to(calendar, source, late_start[other] - lag, finish=False)
                    bound += own if kind == "SS" else 0
                else:
                    bound = self._to(calendar, source, late_finish[other] - lag, finish=True)
                    bound += own if kind == "SF" else 0
                finish = min(finish, bound)
            attrs = network.nodes[item].attrs
            constraint = attrs.get("constraint_type")
            when = _ordinal(attrs.get("constraint_date"))
            if constraint in HARD_CONSTRAINTS and when is not None:
                if constraint in ("must_finish_on", "finish_no_later_than"):
                    finish = min(finish, calendar.before(when + 1))
                else:
                    finish = min(finish, calendar.before(when) + own)
            late_finish[item] = finish
            late_start[item] = finish - own

        total_float = {item: late_finish[item] - early_finish[item] for item in order}
        critical = sorted(
            (item for item in order if item not in self.done and total_float[item] <= CRITICAL_TOLERANCE),
            key=lambda item: (early_start[item], item),
        )
        dates = {
            item: ItemDates(
                early_start=self._start_date(item, early_start[item]),
                early_finish=self._finish_date(item, early_start[item], early_finish[item]),
                late_start=self._start_date(item, late_start[item]),
                late_finish=self._finish_date(item, late_start[item], late_finish[item]),
            )
            for item in order
        }
        projects = {
            project: self._project(project, finish, total_float, early_start)
            for project, finish in project_finish.items()
            if project is not None and _assessed(network, project)
        }
        starts = [self.calendar[i].start_instant(early_start[i]) for i in order]
        ends = list(project_finish.values())
        return Schedule(
            early_start=early_start,
            early_finish=early_finish,
            late_start=late_start,
            late_finish=late_finish,
            total_float=total_float,
            critical_path=critical,
            project_duration=(max(ends) - min(starts)) if order else 0,
            dates=dates,
            projects=projects,
            uses_calendars=True,
        )

    def _start_date(self, item: str, start: float) -> date:
        return date.fromordinal(self.calendar[item].nth(math.floor(start)))

    def _finish_date(self, item: str, start: float, finish: float) -> date:
        if finish <= start:
            return self._start_date(item, start)
        return date.fromordinal(math.ceil(self.calendar[item].finish_instant(finish)) - 1)

    def _project(
        self, project: str, finish: float, total_float: dict[str, float], early_start: dict[str, float]
    ) -> ProjectSchedule:
        network = self.network
        calendar = self.project_calendar[project]
        mine = [i for i in network.order if network.project[i] == project]
        first = min(self.calendar[i].start_instant(early_start[i]) for i in mine)
        data_date = max(first, self.as_of) if self.as_of is not None else first
        length = calendar.position(finish) - calendar.position(data_date)
        attrs = network.index.nodes[project].attrs
        baseline = _ordinal(attrs.get("baseline_finish"))
        if baseline is None:
            baselines = [_ordinal(network.nodes[i].attrs.get("baseline_finish")) for i in mine]
            baseline = max((b for b in baselines if b is not None), default=None)
        project_float = None if baseline is None else calendar.before(baseline + 1) - calendar.position(finish)
        cpli = None
        if project_float is not None and length > 0:
            cpli = (length + project_float) / length
        candidate = _test_candidate(network, project, total_float, early_start, self.done)
        passed = all(i in self.done for i in mine)  # nothing left to delay: nothing to test
        if candidate is not None:
            _, delayed = self.forward({candidate: CRITICAL_PATH_TEST_DELAY})
            moved_to = self._project_finishes(delayed)[project]
            own = self.calendar[candidate]
            moved = own.position(moved_to) - own.position(finish)
            passed = abs(moved - CRITICAL_PATH_TEST_DELAY) < 1e-6
        return ProjectSchedule(
            finish=date.fromordinal(math.ceil(finish) - 1),
            critical_path_length_days=length,
            total_float_days=project_float,
            cpli=cpli,
            critical_path_test=passed,
            critical_path_test_task=candidate,
        )
