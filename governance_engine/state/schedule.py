"""Critical-path method over tasks and milestones, computed on demand.

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

The passes run over plain lists indexed by the items' places in id order, in the
topological order networkx gives on a DiGraph of those places (the links alone, no
attributes), built in id order so that the order does not depend on the file. Calendar positions come from per-calendar lookup tables (WorkCalendar);
the critical path test recomputes only the delayed task and the items after it that move.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import networkx

from governance_engine.errors import Location, StateError

if TYPE_CHECKING:
    from governance_engine.state.index import StateIndex

SCHEDULED_TYPES = ("task", "milestone")
CRITICAL_TOLERANCE = 1e-9
CRITICAL_PATH_TEST_DELAY = 10  # working days added to a critical task by the critical path test
ORIGIN = date(2000, 1, 3).toordinal()  # a Monday: working-day positions count from here
STANDARD_WEEK = (1, 2, 3, 4, 5)
EARLY_BOUNDS = ("start_no_earlier_than", "must_start_on", "finish_no_earlier_than", "must_finish_on")
HARD_CONSTRAINTS = ("must_start_on", "must_finish_on", "start_no_later_than", "finish_no_later_than")

Link = tuple[int, str, float]  # (the other item's place, kind, lag_days): see _Network

# A calendar's lookup table: the days it first spans around its centre (the status date, see
# _CalendarSchedule), and the most it may grow to.
TABLE_BEFORE, TABLE_AFTER, TABLE_LIMIT = 366, 732, 1 << 15
_ISO_WEEKDAYS = frozenset(range(1, 8))


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

    Both are answered from a table over a window of days (the working flags, their running
    count and the working days in order), built on first use around `centre` (else the day
    asked for) and widened by doubling when a day falls outside it, up to TABLE_LIMIT days;
    beyond that the arithmetic below (weeks, then holidays and exceptions by bisection)
    answers.
    """

    def __init__(self, weekdays: Any, holidays: Any, exceptions: Any, where: Location) -> None:
        self.weekdays = frozenset(weekdays)
        if not self.weekdays:  # positions would run out: a schedule on it could never finish
            raise StateError(f"calendar {where.node!r} has no working weekday", where)
        self.holidays = sorted({d.toordinal() for d in holidays if d.isoweekday() in self.weekdays})
        self.extras = sorted({d.toordinal() for d in exceptions if d.isoweekday() not in self.weekdays})
        self._partial = [sum(1 for k in range(r) if _weekday(ORIGIN + k) in self.weekdays) for r in range(7)]
        self._week = [1 if _weekday(ORIGIN + k) in self.weekdays else 0 for k in range(7)]
        # The table: days [_low, _low + _span); _counts[k] = before(_low + k) for k in 0.._span,
        # _flags[k] = working(_low + k), _days[j] = nth(_base + j).
        self._low = 0
        self._span = -1
        self._tabled = self.weekdays <= _ISO_WEEKDAYS  # else (unvalidated input) the arithmetic only
        self.centre: int | None = None  # the day the table is first built around, when set
        self._base = 0
        self._counts: list[int] = []
        self._flags: list[int] = []
        self._days: list[int] = []

    def working(self, day: int) -> bool:
        at = day - self._low
        if 0 <= at < self._span or self._cover(day):
            return self._flags[day - self._low] == 1
        return self._working(day)

    def before(self, day: int) -> int:
        at = day - self._low
        if 0 <= at <= self._span or self._cover(day):
            return self._counts[day - self._low]
        return self._before(day)

    def nth(self, position: int) -> int:
        """The day (ordinal) of working day `position`: the first day with before(day + 1) > position."""
        at = position - self._base
        if 0 <= at < len(self._days):
            return self._days[at]
        day = self._nth(position)
        self._cover(day)
        return day

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

    # The table.
    def _cover(self, day: int) -> bool:
        """Build or widen the table to hold `day`; False (table unchanged) when too wide."""
        if not self._tabled:
            return False
        if self._span < 0:
            centre = day if self.centre is None else self.centre
            low, high = min(centre - TABLE_BEFORE, day), max(centre + TABLE_AFTER, day + 1)
            if high - low > TABLE_LIMIT:  # far from the centre: keep the table for days near it
                return False
        else:
            low, high = self._low, self._low + self._span
            if max(high, day + 1) - min(low, day) > TABLE_LIMIT:
                return False
            if day < low:  # twice as wide, towards the day, and at least to it
                low = max(min(low - self._span, day), high - TABLE_LIMIT)
            else:
                high = min(max(high + self._span, day + 1), low + TABLE_LIMIT)
        span = high - low
        shift = (low - ORIGIN) % 7
        flags = (self._week * (span // 7 + 2))[shift : shift + span]
        for holiday in self.holidays[bisect.bisect_left(self.holidays, low) : bisect.bisect_left(self.holidays, high)]:
            flags[holiday - low] = 0
        for extra in self.extras[bisect.bisect_left(self.extras, low) : bisect.bisect_left(self.extras, high)]:
            flags[extra - low] = 1
        self._base = self._before(low)
        self._counts = list(itertools.accumulate(flags, initial=self._base))
        self._days = list(itertools.compress(range(low, high), flags))
        self._flags = flags
        self._low, self._span = low, span
        return True

    # The arithmetic.
    def _working(self, day: int) -> bool:
        if _weekday(day) in self.weekdays:
            return not _contains(self.holidays, day)
        return _contains(self.extras, day)

    def _before(self, day: int) -> int:
        weeks, rest = divmod(day - ORIGIN, 7)
        count = weeks * len(self.weekdays) + self._partial[rest]
        count -= bisect.bisect_left(self.holidays, day) - bisect.bisect_left(self.holidays, ORIGIN)
        count += bisect.bisect_left(self.extras, day) - bisect.bisect_left(self.extras, ORIGIN)
        return count

    def _nth(self, position: int) -> int:
        low, high = ORIGIN - 1, ORIGIN + 1
        while self._before(low + 1) > position:
            low -= 2 * (ORIGIN - low)
        while self._before(high + 1) <= position:
            high += 2 * (high - ORIGIN)
        while high - low > 1:  # invariant: before(low + 1) <= position < before(high + 1)
            middle = (low + high) // 2
            if self._before(middle + 1) > position:
                high = middle
            else:
                low = middle
        return high


def _weekday(day: int) -> int:
    return (day - 1) % 7 + 1


def _contains(ordered: list[int], value: int) -> bool:
    at = bisect.bisect_left(ordered, value)
    return at < len(ordered) and ordered[at] == value


_NO_LINKS: list[Link] = []  # shared by every item without links (never appended to)
_by_id = attrgetter("id")
_relation = attrgetter("relation")


class _Network:
    """The items, their links in both directions and a topological order.

    Items are numbered by their place in id order (`ids`); the passes keep their times in
    lists by place and visit `order`, a topological order of the places from networkx on a
    graph built in place order, so the schedule's dicts list the items in an order that
    does not depend on the file. Links are (other item's place, kind,
    lag_days): predecessors in out_edges order, successors by successor id; the passes rely
    on that order, as ties between equal times keep the first.
    """

    def __init__(self, index: StateIndex) -> None:
        self.index = index
        nodes = [node for kind in SCHEDULED_TYPES for node in index.of_type(kind) if not node.attrs.get("summary")]
        nodes.sort(key=_by_id)
        self.node = nodes
        ids = self.ids = [node.id for node in nodes]
        count = len(ids)
        place = dict(zip(ids, range(count), strict=True))
        predecessors: list[list[Link]] = [_NO_LINKS] * count
        successors: list[list[Link]] = [_NO_LINKS] * count
        out_edges = index.out_edges
        for at, item in enumerate(ids):
            edges = out_edges(item, "depends_on")
            if not edges:
                continue
            links: list[Link] = []
            for edge in edges:
                other = place.get(edge.target)
                if other is None:
                    continue
                attrs = edge.attrs
                link = (at, attrs.get("kind", "FS"), attrs.get("lag_days", 0))
                links.append((other, link[1], link[2]))
                if successors[other] is _NO_LINKS:
                    successors[other] = [link]
                else:
                    successors[other].append(link)
            if links:
                predecessors[at] = links
        self.predecessors, self.successors = predecessors, successors
        # the places and links come in id order, so the order does not depend on the file
        graph = networkx.DiGraph()
        graph.add_nodes_from(range(count))
        graph.add_edges_from((other, at) for at, links in enumerate(predecessors) for other, _, _ in links)
        try:
            order: list[int] = list(networkx.topological_sort(graph))
        except networkx.NetworkXUnfeasible:  # the load rejects cycles; a hand-built index may not
            raise StateError("depends_on edges among tasks form a cycle", Location(file=index.source)) from None
        self.order = order
        self.items = list(map(ids.__getitem__, order))
        self.rank: list[int] | None = None  # built by later(), the critical path test's pass
        self.duration: list[float] = [
            0 if node.type == "milestone" else (node.attrs.get("duration_days") or 0) for node in nodes
        ]  # milestones take no time; a missing duration counts as 0
        project_of = index.project_of
        self.project: list[str | None] = [project_of(item) for item in ids]
        # each project's places in id order: the maxima over a project keep the first of tied
        # values (an int or a float), so which one is kept depends on the ids alone
        self.members: dict[str | None, list[int]] = {}
        if count and self.project.count(self.project[0]) == count:  # one project (the usual file)
            self.members[self.project[0]] = list(range(count))
        else:
            for at in range(count):
                project = self.project[at]
                mine = self.members.get(project)
                if mine is None:
                    self.members[project] = [at]
                else:
                    mine.append(at)

    def in_order(self, values: list[Any]) -> dict[str, Any]:
        """Values by place as a dict by item, in topological order."""
        return dict(zip(self.items, map(values.__getitem__, self.order), strict=True))

    def in_reverse_order(self, values: list[Any]) -> dict[str, Any]:
        """Values by place as a dict by item, in the backward pass's order."""
        return dict(zip(reversed(self.items), map(values.__getitem__, reversed(self.order)), strict=True))

    def later(self, first: int, update: Callable[[int], bool]) -> None:
        """Call update on place `first`, then, in topological order, on every item after one
        updated: update(place) recomputes an item and says whether its times changed."""
        order, successors = self.order, self.successors
        if self.rank is None:
            self.rank = [0] * len(order)  # place -> position in order
            for position, at in enumerate(order):
                self.rank[at] = position
        rank = self.rank
        pending = [rank[first]]
        queued = {first}
        while pending:
            at = order[heapq.heappop(pending)]
            if update(at):
                for other, _, _ in successors[at]:
                    if other not in queued:
                        queued.add(other)
                        heapq.heappush(pending, rank[other])


def compute_schedule(index: StateIndex) -> Schedule:
    """Forward and backward CPM passes in topological order."""
    network = _Network(index)
    if "uses_calendar" in map(_relation, index._edges):
        try:
            return _CalendarSchedule(network).compute()
        except (OverflowError, ValueError) as error:
            if not isinstance(error, OverflowError) and "range" not in str(error) and "ordinal" not in str(error):
                raise
            raise StateError(  # a constraint date or a duration that moves work past the calendar
                "the schedule's dates fall outside the years 1 to 9999: check constraint dates and durations",
                Location(file=index.source),
            ) from None
    return _compute_in_days(network)


def _compute_in_days(network: _Network) -> Schedule:
    """Calendar days from 0; dates, progress and constraints are not read."""
    ids, order, duration, successors = network.ids, network.order, network.duration, network.successors
    early_start, early_finish = _forward_in_days(network)

    project_finish: dict[str | None, float] = {}
    for project, members in network.members.items():
        finish: float = 0
        for at in members:
            if early_finish[at] > finish:
                finish = early_finish[at]
        project_finish[project] = finish

    count = len(order)
    late_start: list[float] = [0] * count
    late_finish: list[float] = [0] * count
    for at in reversed(order):
        finish = project_finish[network.project[at]]
        own = duration[at]
        for other, kind, lag in successors[at]:
            if kind == "SS":
                bound = late_start[other] - lag + own
            elif kind == "FF":
                bound = late_finish[other] - lag
            elif kind == "SF":
                bound = late_finish[other] - lag + own
            else:
                bound = late_start[other] - lag
            if bound < finish:
                finish = bound
        late_finish[at] = finish
        late_start[at] = finish - own

    total_float = [late - early for late, early in zip(late_start, early_start, strict=True)]
    critical = sorted(
        [at for at in order if -CRITICAL_TOLERANCE < total_float[at] < CRITICAL_TOLERANCE],  # abs() < tolerance
        key=lambda at: (early_start[at], ids[at]),
    )
    projects: dict[str, ProjectSchedule] = {}
    for project, finish in project_finish.items():
        if project is None or not _assessed(network, project):
            continue
        candidate = _test_candidate(network, project, total_float, early_start, ())
        passed = False
        if candidate is not None:
            delayed = _delayed_in_days(network, early_start, early_finish, candidate)
            moved = max(delayed.get(at, early_finish[at]) for at in network.members[project]) - finish
            passed = abs(moved - CRITICAL_PATH_TEST_DELAY) < 1e-6
        projects[project] = ProjectSchedule(
            finish=None,
            critical_path_length_days=finish,
            total_float_days=None,
            cpli=None,
            critical_path_test=passed,
            critical_path_test_task=None if candidate is None else ids[candidate],
        )
    return Schedule(
        early_start=network.in_order(early_start),
        early_finish=network.in_order(early_finish),
        late_start=network.in_reverse_order(late_start),
        late_finish=network.in_reverse_order(late_finish),
        total_float=network.in_order(total_float),
        critical_path=[ids[at] for at in critical],
        project_duration=max(early_finish, default=0),
        projects=projects,
    )


def _forward_in_days(network: _Network) -> tuple[list[float], list[float]]:
    """Early starts and finishes by place. `if bound > start: start = bound` is max(start,
    bound) (and `< finish` min in the backward pass): on a tie the value met first stays,
    int or float, so the figures are exactly those of max() and min() over the links."""
    duration, predecessors = network.duration, network.predecessors
    count = len(duration)
    early_start: list[float] = [0] * count
    early_finish: list[float] = [0] * count
    for at in network.order:
        own = duration[at] + 0
        start = _earliest_start(predecessors[at], early_start, early_finish, own)
        early_start[at] = start
        early_finish[at] = start + own
    return early_start, early_finish


def _earliest_start(links: list[Link], starts: list[float], finishes: list[float], own: float) -> float:
    """The earliest start an item of duration `own` may take after its predecessors (0 at
    the least); on a tie the bound met first stays."""
    start: float = 0
    for other, kind, lag in links:
        if kind == "SS":
            bound = starts[other] + lag
        elif kind == "FF":
            bound = finishes[other] + lag - own
        elif kind == "SF":
            bound = starts[other] + lag - own
        else:
            bound = finishes[other] + lag
        if bound > start:
            start = bound
    return start


def _delayed_in_days(
    network: _Network, early_start: list[float], early_finish: list[float], delayed: int
) -> dict[int, float]:
    """The forward pass again with CRITICAL_PATH_TEST_DELAY days added to one item, from it
    onwards along its successors: the new early finishes of the items that move, by place."""
    starts, finishes = list(early_start), list(early_finish)
    moved: dict[int, float] = {}

    def update(at: int) -> bool:
        own = network.duration[at] + (CRITICAL_PATH_TEST_DELAY if at == delayed else 0)
        start = _earliest_start(network.predecessors[at], starts, finishes, own)
        if start == starts[at] and start + own == finishes[at]:
            return False
        starts[at] = start
        finishes[at] = moved[at] = start + own
        return True

    network.later(delayed, update)
    return moved


def _assessed(network: _Network, project: str) -> bool:
    """Project figures (and their extra forward pass) only for imported schedules: the
    projects that carry schedule_source, the only ones the DCMA rules read them on."""
    return network.index.nodes[project].attrs.get("schedule_source") is not None


def _test_candidate(
    network: _Network,
    project: str,
    total_float: list[float],
    early_start: list[float],
    done: Collection[int],
) -> int | None:
    """The task the critical path test delays: the unfinished task of least float (at most
    zero), earliest first; None when the project has no critical task."""
    candidates = [
        at
        for at in network.members[project]
        if network.node[at].type == "task" and at not in done and total_float[at] <= CRITICAL_TOLERANCE
    ]
    ids = network.ids
    return min(candidates, key=lambda at: (total_float[at], early_start[at], ids[at]), default=None)


_fromordinal = date.fromordinal


def _finish_date(calendar: WorkCalendar, start_date: date, start: float, finish: float) -> date:
    """The last working day of an item from start to finish (its first when it takes no time)."""
    if finish <= start:
        return start_date
    return _fromordinal(math.ceil(calendar.finish_instant(finish)) - 1)


def _ordinal(value: Any) -> int | None:
    return value.toordinal() if isinstance(value, date) else None


# How each item's forward times are found (calendar mode).
_DONE, _STARTED, _OPEN = 0, 1, 2


class _CalendarSchedule:
    """CPM in working days of each item's calendar, with progress and constraints.

    Lists are by place, as in the network."""

    def __init__(self, network: _Network) -> None:
        self.network = network
        index = network.index
        self.as_of = _ordinal(index.as_of)
        self._calendars: dict[str, WorkCalendar] = {}
        standard = WorkCalendar(STANDARD_WEEK, (), (), Location(node="standard"))
        self.project_calendar: dict[str | None, WorkCalendar] = {None: standard}
        for project_node in index.of_type("project"):
            self.project_calendar[project_node.id] = self._calendar_of(project_node.id) or standard
        self.calendar: list[WorkCalendar] = [standard] * len(network.ids)
        for at in network.order:  # in order: the first bad calendar met is the one reported
            project = network.project[at]
            self.calendar[at] = self._calendar_of(network.ids[at]) or self.project_calendar.get(project, standard)
        self.done = {
            at
            for at, node in enumerate(network.node)
            if node.attrs.get("status") == "completed" or node.attrs.get("completed_on") is not None
        }
        self.anchor: dict[str | None, int | None] = {}
        for at in network.order:
            attrs = network.node[at].attrs
            days = [d for d in (_ordinal(attrs.get("actual_start")), _ordinal(attrs.get("start"))) if d is not None]
            project = network.project[at]
            if days:
                current = self.anchor.get(project)
                self.anchor[project] = min(days) if current is None else min(current, min(days))
        for project_node in index.of_type("project"):
            given = _ordinal(project_node.attrs.get("start"))
            if given is not None:
                self.anchor[project_node.id] = given
        # Calendar tables are built around the status date (else the earliest start), not
        # around whatever far-off date happens to be asked for first.
        known = [day for day in self.anchor.values() if day is not None]
        centre = self.as_of if self.as_of is not None else min(known, default=None)
        standard.centre = centre
        for calendar in self._calendars.values():
            calendar.centre = centre
        self._prepare()

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

    def _prepare(self) -> None:
        """What the passes read of each item's attributes, as working-day positions of its
        calendar (the same for every forward pass)."""
        network = self.network
        as_of = self.as_of
        self.mode: list[int] = []
        self.fixed: list[tuple[float, float]] = []  # done: (start, finish before any delay)
        self.actual: list[tuple[int, Any, int]] = []  # started: (start, remaining or None, status date)
        self.lower: list[float] = []  # open: the earliest start
        self.early_bound: list[tuple[int, int] | None] = []  # open: (0 start / 1 finish, position)
        self.late_bound: list[tuple[int, int] | None] = []  # (0 start / 1 finish, position)
        for at, node in enumerate(network.node):
            attrs = node.attrs
            calendar = self.calendar[at]
            actual_start = _ordinal(attrs.get("actual_start"))
            started = actual_start or _ordinal(attrs.get("start"))
            mode, fixed, actual, lower, early = _OPEN, (0.0, 0.0), (0, None, 0), 0.0, None
            if at in self.done and started is not None:
                mode = _DONE
                start = calendar.before(started)
                finished = _ordinal(attrs.get("completed_on")) or _ordinal(attrs.get("finish"))
                finish = calendar.before(finished + 1) if finished is not None else start + (network.duration[at] + 0)
                fixed = (start, max(start, finish))
            elif actual_start is not None:
                mode = _STARTED
                remaining = attrs.get("remaining_duration_days")
                if remaining is None or as_of is None:
                    actual = (calendar.before(actual_start), None, 0)
                else:
                    actual = (calendar.before(actual_start), remaining, calendar.before(as_of))
            else:
                bounds = [d for d in (self.anchor.get(network.project[at]), as_of) if d is not None]
                lower = float(calendar.before(max(bounds))) if bounds else 0.0
                constraint = attrs.get("constraint_type")
                when = _ordinal(attrs.get("constraint_date"))
                if constraint in EARLY_BOUNDS and when is not None:
                    if constraint in ("start_no_earlier_than", "must_start_on"):
                        early = (0, calendar.before(when))
                    else:
                        early = (1, calendar.before(when + 1))
            self.mode.append(mode)
            self.fixed.append(fixed)
            self.actual.append(actual)
            self.lower.append(lower)
            self.early_bound.append(early)
            constraint = attrs.get("constraint_type")
            when = _ordinal(attrs.get("constraint_date"))
            late = None
            if constraint in HARD_CONSTRAINTS and when is not None:
                if constraint in ("must_finish_on", "finish_no_later_than"):
                    late = (1, calendar.before(when + 1))
                else:
                    late = (0, calendar.before(when))
            self.late_bound.append(late)

    def _early(self, at: int, delay: float, early_start: list[float], early_finish: list[float]) -> tuple[float, float]:
        """One item's early start and finish from its predecessors' (delay: days added)."""
        mode = self.mode[at]
        if mode == _DONE:
            start, finish = self.fixed[at]
            return start, finish + delay
        own = self.network.duration[at] + delay
        if mode == _STARTED:
            start, remaining, status = self.actual[at]
            if remaining is not None:
                return start, max(status, start) + remaining + delay
            return start, start + own
        calendar = self.calendar[at]
        start = self.lower[at]
        for other, kind, lag in self.network.predecessors[at]:
            source = self.calendar[other]
            if kind in ("SS", "SF"):
                reference = early_start[other]
                if source is not calendar:
                    reference = calendar.position(source.start_instant(reference))
                bound = reference + lag - (own if kind == "SF" else 0)
            else:
                reference = early_finish[other]
                if source is not calendar:
                    reference = calendar.position(source.finish_instant(reference))
                bound = reference + lag - (own if kind == "FF" else 0)
            if bound > start:
                start = bound
        early = self.early_bound[at]
        if early is not None:
            bound = early[1] if early[0] == 0 else early[1] - own
            if bound > start:
                start = bound
        return start, start + own

    def forward(self) -> tuple[list[float], list[float]]:
        count = len(self.network.ids)
        early_start: list[float] = [0] * count
        early_finish: list[float] = [0] * count
        early = self._early
        for at in self.network.order:
            early_start[at], early_finish[at] = early(at, 0, early_start, early_finish)
        return early_start, early_finish

    def _delayed(self, early_start: list[float], early_finish: list[float], delayed: int) -> dict[int, float]:
        """The forward pass again with CRITICAL_PATH_TEST_DELAY working days added to one item,
        from it onwards along its successors: the new early finishes of the items that move."""
        starts, finishes = list(early_start), list(early_finish)
        moved: dict[int, float] = {}

        def update(at: int) -> bool:
            start, finish = self._early(at, CRITICAL_PATH_TEST_DELAY if at == delayed else 0, starts, finishes)
            if start == starts[at] and finish == finishes[at]:
                return False
            starts[at] = start
            finishes[at] = moved[at] = finish
            return True

        self.network.later(delayed, update)
        return moved

    def compute(self) -> Schedule:
        network = self.network
        ids, order, duration, calendars, done = network.ids, network.order, network.duration, self.calendar, self.done
        count = len(order)
        early_start, early_finish = self.forward()
        finish_instant = [
            calendar.finish_instant(finish) for calendar, finish in zip(calendars, early_finish, strict=True)
        ]
        start_instant = [calendar.start_instant(start) for calendar, start in zip(calendars, early_start, strict=True)]
        project_finish: dict[str | None, float] = {}
        for project, members in network.members.items():
            instant = finish_instant[members[0]]
            for at in members:
                if finish_instant[at] > instant:
                    instant = finish_instant[at]
            project_finish[project] = instant

        late_start: list[float] = [0] * count
        late_finish: list[float] = [0] * count
        ends: dict[tuple[int, str | None], float] = {}  # a project's finish as a calendar's position
        for at in reversed(order):
            if at in done:
                late_start[at], late_finish[at] = early_start[at], early_finish[at]
                continue
            calendar = calendars[at]
            own = early_finish[at] - early_start[at] if network.node[at].attrs.get("actual_start") else duration[at]
            project = network.project[at]
            key = (id(calendar), project)
            finish = ends.get(key)
            if finish is None:
                finish = ends[key] = calendar.position(project_finish[project])
            for other, kind, lag in network.successors[at]:
                if other in done:
                    continue
                source = calendars[other]
                if kind in ("SS", "FS"):
                    bound = late_start[other] - lag
                    if source is not calendar:
                        bound = calendar.position(source.start_instant(bound))
                    bound += own if kind == "SS" else 0
                else:
                    bound = late_finish[other] - lag
                    if source is not calendar:
                        bound = calendar.position(source.finish_instant(bound))
                    bound += own if kind == "SF" else 0
                if bound < finish:
                    finish = bound
            late = self.late_bound[at]
            if late is not None:
                bound = late[1] if late[0] == 1 else late[1] + own
                if bound < finish:
                    finish = bound
            late_finish[at] = finish
            late_start[at] = finish - own

        total_float = [late - early for late, early in zip(late_finish, early_finish, strict=True)]
        critical = sorted(
            (at for at in order if at not in done and total_float[at] <= CRITICAL_TOLERANCE),
            key=lambda at: (early_start[at], ids[at]),
        )
        dates: dict[str, ItemDates] = {}
        for at in order:
            calendar = calendars[at]
            early_date = _fromordinal(calendar.nth(math.floor(early_start[at])))
            late_date = _fromordinal(calendar.nth(math.floor(late_start[at])))
            dates[ids[at]] = ItemDates(
                early_start=early_date,
                early_finish=_finish_date(calendar, early_date, early_start[at], early_finish[at]),
                late_start=late_date,
                late_finish=_finish_date(calendar, late_date, late_start[at], late_finish[at]),
            )
        projects = {
            project: self._project(
                project, finish, total_float, early_start, early_finish, start_instant, finish_instant
            )
            for project, finish in project_finish.items()
            if project is not None and _assessed(network, project)
        }
        return Schedule(
            early_start=network.in_order(early_start),
            early_finish=network.in_order(early_finish),
            late_start=network.in_reverse_order(late_start),
            late_finish=network.in_reverse_order(late_finish),
            total_float=network.in_order(total_float),
            critical_path=[ids[at] for at in critical],
            project_duration=(max(project_finish.values()) - min(map(start_instant.__getitem__, order)))
            if order
            else 0,
            dates=dates,
            projects=projects,
            uses_calendars=True,
        )

    def _project(
        self,
        project: str,
        finish: float,
        total_float: list[float],
        early_start: list[float],
        early_finish: list[float],
        start_instant: list[float],
        finish_instant: list[float],
    ) -> ProjectSchedule:
        network = self.network
        calendar = self.project_calendar[project]
        mine = network.members[project]
        first = min(start_instant[at] for at in mine)
        data_date = max(first, self.as_of) if self.as_of is not None else first
        length = calendar.position(finish) - calendar.position(data_date)
        attrs = network.index.nodes[project].attrs
        baseline = _ordinal(attrs.get("baseline_finish"))
        if baseline is None:
            baselines = [_ordinal(network.node[at].attrs.get("baseline_finish")) for at in mine]
            baseline = max((b for b in baselines if b is not None), default=None)
        project_float = None if baseline is None else calendar.before(baseline + 1) - calendar.position(finish)
        cpli = None
        if project_float is not None and length > 0:
            cpli = (length + project_float) / length
        candidate = _test_candidate(network, project, total_float, early_start, self.done)
        passed = all(at in self.done for at in mine)  # nothing left to delay: nothing to test
        if candidate is not None:
            delayed = self._delayed(early_start, early_finish, candidate)
            moved_to: float | None = None
            for at in mine:
                instant = self.calendar[at].finish_instant(delayed[at]) if at in delayed else finish_instant[at]
                if moved_to is None or instant > moved_to:
                    moved_to = instant
            assert moved_to is not None
            own = self.calendar[candidate]
            moved = own.position(moved_to) - own.position(finish)
            passed = abs(moved - CRITICAL_PATH_TEST_DELAY) < 1e-6
        return ProjectSchedule(
            finish=date.fromordinal(math.ceil(finish) - 1),
            critical_path_length_days=length,
            total_float_days=project_float,
            cpli=cpli,
            critical_path_test=passed,
            critical_path_test_task=None if candidate is None else network.ids[candidate],
        )
