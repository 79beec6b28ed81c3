"""The StateIndex: a loaded state as plain dicts, cheap to build and to query.

Rules read nodes by type and edges by (node, relation) from dict indexes. A networkx graph
and the CPM schedule are built only when asked for: building a MultiDiGraph for every file
costs more than a whole evaluation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from governance_engine.errors import Location, StateError

if TYPE_CHECKING:
    import networkx

    from governance_engine.state.schedule import Schedule


@dataclass(slots=True)
class Node:
    """A node: id, type and every other attribute (dates as date, derived figures added)."""

    id: str
    type: str
    attrs: dict[str, Any]


@dataclass(slots=True)
class Edge:
    """A directed edge; key numbers parallel edges independently of their order in the file.

    key is assigned by the StateIndex that holds the edge.
    """

    source: str
    target: str
    relation: str
    attrs: dict[str, Any]
    key: int


_by_id = attrgetter("id")
_by_target = attrgetter("target")
_by_source_key = attrgetter("source", "key")
_edge_order = attrgetter("source", "target", "relation", "key")


def _attrs_text(edge: Edge) -> str:
    return json.dumps(edge.attrs, sort_keys=True, default=str)


_EMPTY: list = []


def _number_parallel(outgoing: list[Edge]) -> None:
    """Sort one node's edges of one relation by target and key them within each target.

    Parallel edges (same target) are keyed by their sorted attribute JSON, so the keys do
    not depend on the order of the file.
    """
    outgoing.sort(key=_by_target)
    start = 0
    while start < len(outgoing):
        end = start + 1
        while end < len(outgoing) and outgoing[end].target == outgoing[start].target:
            end += 1
        if end - start > 1:
            parallel = sorted(outgoing[start:end], key=_attrs_text)
            for key, edge in enumerate(parallel):
                edge.key = key
            outgoing[start:end] = parallel
        start = end


class StateIndex:
    """Nodes by id and by type, edges by (node, relation) in both directions.

    Lists returned by the query methods, nodes and attribute dicts are shared with the index
    (copying them cost more than evaluating rules): callers must not change them.
    """

    def __init__(
        self,
        source: str,
        graph: dict[str, Any],
        nodes: dict[str, Node],
        edges: list[Edge],
    ) -> None:
        self.source = source
        self.graph = graph
        as_of = graph.get("as_of")
        self.as_of: date | None = as_of if isinstance(as_of, date) else None
        self.nodes = nodes
        self._edges = edges
        self._by_type: dict[str, list[Node]] = {}
        for node in nodes.values():
            self._by_type.setdefault(node.type, []).append(node)
        for same_type in self._by_type.values():
            if len(same_type) > 1:
                same_type.sort(key=_by_id)
        self._out: dict[tuple[str, str], list[Edge]] = {}
        self._in: dict[tuple[str, str], list[Edge]] = {}
        for edge in edges:
            self._out.setdefault((edge.source, edge.relation), []).append(edge)
            self._in.setdefault((edge.target, edge.relation), []).append(edge)
        for outgoing in self._out.values():
            if len(outgoing) > 1:
                _number_parallel(outgoing)
        for incoming in self._in.values():
            if len(incoming) > 1:
                incoming.sort(key=_by_source_key)
        self._project_of: dict[str, str | None] = {}
        self._pmo_type_of: dict[str, str | None] = {}
        self._networkx: networkx.MultiDiGraph | None = None
        self._schedule: Schedule | None = None

    def edges(self) -> list[Edge]:
        """Every edge, sorted by (source, target, relation, key)."""
        return sorted(self._edges, key=_edge_order)

    def of_type(self, node_type: str) -> list[Node]:
        """Nodes of one type, sorted by id."""
        return self._by_type.get(node_type, _EMPTY)

    def out_edges(self, node_id: str, relation: str) -> list[Edge]:
        """Edges leaving node_id with this relation, sorted by (target, key)."""
        return self._out.get((node_id, relation), _EMPTY)

    def in_edges(self, node_id: str, relation: str) -> list[Edge]:
        """Edges entering node_id with this relation, sorted by (source, key)."""
        return self._in.get((node_id, relation), _EMPTY)

    def _containers(self, node_id: str) -> list[str]:
        return [edge.source for edge in self._in.get((node_id, "contains"), ())]

    def project_of(self, node_id: str) -> str | None:
        """The node itself if a project, else the nearest project containing it, else None."""
        if node_id in self._project_of:
            return self._project_of[node_id]
        found = self._find_project(node_id)
        self._project_of[node_id] = found
        return found

    def _find_project(self, node_id: str) -> str | None:
        node = self.nodes.get(node_id)
        if node is None:
            return None
        if node.type == "project":
            return node_id
        containers = self._in.get((node_id, "contains"))
        if not containers:
            return None
        if len(containers) == 1 and self.nodes[containers[0].source].type == "project":
            return containers[0].source  # the common case: the first level of the search below
        seen = {node_id}
        level = [node_id]
        while level:
            upper: list[str] = []
            found: list[str] = []
            for member in level:
                for container in self._containers(member):
                    if container in seen:
                        continue
                    seen.add(container)
                    (found if self.nodes[container].type == "project" else upper).append(container)
            if len(found) > 1:  # which one judges it would hang on how the ids sort
                raise StateError(
                    f"{node.type} {node_id!r} is in two projects at the same distance: {', '.join(sorted(found))}",
                    Location(file=self.source, node=node_id),
                )
            if found:
                return found[0]
            level = upper
        return None

    def pmo_type_of(self, project_id: str) -> str | None:
        """The project's PMO type: the nearest governing PMO, else the graph's pmo_type.

        The search goes breadth-first up `contains` edges: PMOs governing the project
        itself come first, then those governing its program, then its portfolio. Two PMOs
        of different types at the same distance are a StateError naming the project.
        """
        if project_id not in self._pmo_type_of:
            self._pmo_type_of[project_id] = self._find_pmo_type(project_id)
        return self._pmo_type_of[project_id]

    def _find_pmo_type(self, project_id: str) -> str | None:
        seen = {project_id}
        level = [project_id]
        while level:
            types: dict[str, str] = {}
            for member in level:
                for edge in self._in.get((member, "governs"), ()):
                    pmo = self.nodes[edge.source]
                    if pmo.type == "pmo" and pmo.attrs.get("pmo_type"):
                        types.setdefault(pmo.attrs["pmo_type"], pmo.id)
            if len(types) > 1:
                clash = ", ".join(f"{pmo} ({kind})" for kind, pmo in sorted(types.items()))
                raise StateError(
                    f"project {project_id!r} is governed at the same distance by PMOs of different types: {clash}",
                    Location(file=self.source, node=project_id),
                )
            if types:
                return next(iter(types))
            upper = [up for member in level for up in self._containers(member) if up not in seen]
            seen.update(upper)
            level = upper
        default = self.graph.get("pmo_type")
        return default if isinstance(default, str) else None

    def to_networkx(self) -> networkx.MultiDiGraph:
        """The state as a networkx MultiDiGraph, built on first call and cached (read-only)."""
        if self._networkx is None:
            import networkx

            graph = networkx.MultiDiGraph()
            graph.graph.update(self.graph)
            for node_id in sorted(self.nodes):
                node = self.nodes[node_id]
                graph.add_node(node_id, type=node.type, **node.attrs)
            for edge in sorted(self._edges, key=_edge_order):
                graph.add_edge(
                    edge.source,
                    edge.target,
                    key=edge.key,
                    relation=edge.relation,
                    **edge.attrs,
                )
            self._networkx = graph
        return self._networkx

    def schedule(self) -> Schedule:
        """Critical-path schedule of tasks and milestones, computed on first call."""
        if self._schedule is None:
            from governance_engine.state.schedule import compute_schedule

            self._schedule = compute_schedule(self)
        return self._schedule

    def enrich_schedule(self) -> None:
        """Copy total_float and critical into task/milestone attrs, and the DCMA project
        figures into project attrs, for rules that read them. Values a file gives for these
        names are replaced, or removed where the schedule leaves them undefined."""
        schedule = self.schedule()
        critical = set(schedule.critical_path)
        for node_id, total_float in schedule.total_float.items():
            attrs = self.nodes[node_id].attrs
            attrs["total_float"] = total_float
            attrs["critical"] = node_id in critical
        for project in self.of_type("project"):
            attrs = project.attrs
            for name in PROJECT_SCHEDULE_ATTRIBUTES:
                attrs.pop(name, None)
            figures = schedule.projects.get(project.id)
            if figures is None:
                continue
            values = {
                "critical_path_length_days": figures.critical_path_length_days,
                "project_total_float_days": figures.total_float_days,
                "cpli": figures.cpli,
                "critical_path_test": figures.critical_path_test,
                "critical_path_test_task": figures.critical_path_test_task,
                "cpm_finish": figures.finish,
            }
            attrs.update({name: value for name, value in values.items() if value is not None})


# The project figures enrich_schedule sets (engine.SCHEDULE_ATTRIBUTES makes rules that read
# them ask for the schedule).
PROJECT_SCHEDULE_ATTRIBUTES = (
    "critical_path_length_days",
    "project_total_float_days",
    "cpli",
    "critical_path_test",
    "critical_path_test_task",
    "cpm_finish",
)
