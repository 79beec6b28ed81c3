"""Critical-path method over tasks and milestones, on networkx, computed on demand.

Direction: an edge `S -depends_on-> P` means S (the successor) depends on P (its
predecessor). With lag L the relationship kinds constrain S as follows:
FS: ES(S) >= EF(P) + L;  SS: ES(S) >= ES(P) + L;  FF: EF(S) >= EF(P) + L;
SF: EF(S) >= ES(P) + L.  The backward pass applies the same constraints in reverse.
Times are calendar days from the project start (0). Each item's late finish is bounded
by the finish of its own project (the latest early finish among that project's items),
so a short project in a multi-project file does not gain float from a long one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from governance_engine.errors import Location, StateError

if TYPE_CHECKING:
    from governance_engine.state.index import Node, StateIndex

SCHEDULED_TYPES = ("task", "milestone")
CRITICAL_TOLERANCE = 1e-9

Link = tuple[str, str, float]  # (other item, kind, lag_days)


@dataclass(frozen=True, slots=True)
class Schedule:
    """Early/late dates in days from the start, total float, and the critical path."""

    early_start: dict[str, float]
    early_finish: dict[str, float]
    late_start: dict[str, float]
    late_finish: dict[str, float]
    total_float: dict[str, float]
    critical_path: list[str]
    project_duration: float


def duration_of(node: Node) -> float:
    """duration_days; milestones take no time; a missing duration counts as 0."""
    if node.type == "milestone":
        return 0
    return node.attrs.get("duration_days") or 0


def compute_schedule(index: StateIndex) -> Schedule:
    """Forward and backward CPM passes in networkx topological order."""
    import networkx

    duration = {node.id: duration_of(node) for kind in SCHEDULED_TYPES for node in index.of_type(kind)}
    predecessors: dict[str, list[Link]] = defaultdict(list)
    successors: dict[str, list[Link]] = defaultdict(list)
    graph = networkx.DiGraph()
    graph.add_nodes_from(sorted(duration))
    for item in sorted(duration):
        for edge in index.out_edges(item, "depends_on"):
            if edge.target not in duration:
                continue
            kind = edge.attrs.get("kind", "FS")
            lag = edge.attrs.get("lag_days", 0)
            predecessors[item].append((edge.target, kind, lag))
            successors[edge.target].append((item, kind, lag))
            graph.add_edge(edge.target, item)
    try:
        order = list(networkx.lexicographical_topological_sort(graph))
    except networkx.NetworkXUnfeasible:
        raise StateError("depends_on edges among tasks form a cycle", Location(file=index.source)) from None

    early_start: dict[str, float] = {}
    early_finish: dict[str, float] = {}
    for item in order:
        start: float = 0
        for other, kind, lag in predecessors[item]:
            start = max(
                start,
                _earliest_start(kind, lag, early_start[other], early_finish[other], duration[item]),
            )
        early_start[item] = start
        early_finish[item] = start + duration[item]

    project_finish: dict[str | None, float] = {}
    for item in order:
        project = index.project_of(item)
        project_finish[project] = max(project_finish.get(project, 0), early_finish[item])

    late_start: dict[str, float] = {}
    late_finish: dict[str, float] = {}
    for item in reversed(order):
        finish = project_finish[index.project_of(item)]
        for other, kind, lag in successors[item]:
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
    return Schedule(
        early_start=early_start,
        early_finish=early_finish,
        late_start=late_start,
        late_finish=late_finish,
        total_float=total_float,
        critical_path=critical,
        project_duration=max(early_finish.values(), default=0),
    )


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
