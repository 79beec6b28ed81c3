"""A validated document in, a StateIndex out: ids unique, edges between known nodes,
depends_on acyclic, derived figures added. Plain dicts only; no networkx here.
"""

from __future__ import annotations

from typing import Any

from governance_engine.state.derive import DERIVERS
from governance_engine.state.index import Edge, Node, StateIndex
from governance_engine.state.locate import Locator
from governance_engine.state.problems import edge_name, state_error


def build_index(doc: dict[str, Any], source: str, locator: Locator) -> StateIndex:
    """Check the document's structure and index it; consumes doc's node and edge dicts."""
    if "edges" in doc and "links" in doc:
        raise state_error(
            "give edges under 'edges' or 'links', not both",
            source=source,
            locator=locator,
            path=("links",),
        )
    nodes = _nodes(doc["nodes"], source, locator)
    section = "links" if "links" in doc else "edges"
    edges, depends = _edges(doc.get(section, []), nodes, section, source, locator)
    if depends:
        _check_acyclic(depends, edges, section, source, locator)
    return StateIndex(source, doc.get("graph", {}), nodes, edges)


def _nodes(items: list[dict[str, Any]], source: str, locator: Locator) -> dict[str, Node]:
    nodes: dict[str, Node] = {}
    for position, attrs in enumerate(items):
        node_id = attrs.pop("id")
        node_type = attrs.pop("type")
        if node_id in nodes:
            raise state_error(
                f"duplicate node id {node_id!r}",
                source=source,
                locator=locator,
                path=("nodes", position),
                node=node_id,
            )
        derive = DERIVERS.get(node_type)
        if derive is not None:
            derive(attrs)
        nodes[node_id] = Node(node_id, node_type, attrs)
    return nodes


def _edges(
    items: list[dict[str, Any]],
    nodes: dict[str, Node],
    section: str,
    source: str,
    locator: Locator,
) -> tuple[list[Edge], dict[str, list[str]]]:
    """Edges in file order (the index numbers their keys) and the depends_on successors.

    The file's own networkx "key" is dropped: keys are recomputed independently of order.
    """
    edges: list[Edge] = []
    depends: dict[str, list[str]] = {}
    for position, attrs in enumerate(items):
        start = attrs.pop("source")
        end = attrs.pop("target")
        relation = attrs.pop("relation")
        attrs.pop("key", None)
        if start not in nodes or end not in nodes:
            role, missing = ("source", start) if start not in nodes else ("target", end)
            raise state_error(
                f"edge {role} {missing!r} is not a node",
                source=source,
                locator=locator,
                path=(section, position, role),
                edge=edge_name(start, end, relation),
            )
        if relation == "depends_on":
            depends.setdefault(start, []).append(end)
        edges.append(Edge(start, end, relation, attrs, 0))
    return edges, depends


def _check_acyclic(
    depends: dict[str, list[str]],
    edges: list[Edge],
    section: str,
    source: str,
    locator: Locator,
) -> None:
    """depends_on must be acyclic (tasks and projects alike); name the cycle if not."""
    if _acyclic(depends):
        return
    cycle = find_cycle(depends)
    if cycle is None:
        return
    first, second = cycle[0], cycle[1]
    position = next(
        index
        for index, edge in enumerate(edges)
        if (edge.source, edge.target, edge.relation) == (first, second, "depends_on")
    )
    raise state_error(
        "depends_on edges form a cycle: " + " -> ".join(cycle),
        source=source,
        locator=locator,
        path=(section, position),
        node=first,
        edge=edge_name(first, second, "depends_on"),
    )


def _acyclic(successors: dict[str, list[str]]) -> bool:
    """Depth-first search in the file's order: the quick answer for the usual acyclic file
    (find_cycle sorts as it goes, so that the cycle it names does not depend on the order)."""
    finished: set[str] = set()
    on_path: set[str] = set()
    for root, following in successors.items():
        if root in finished:
            continue
        on_path.add(root)
        stack = [(root, iter(following))]
        while stack:
            node, pending = stack[-1]
            for successor in pending:
                if successor in on_path:
                    return False
                if successor not in finished:
                    on_path.add(successor)
                    stack.append((successor, iter(successors.get(successor, ()))))
                    break
            else:
                stack.pop()
                on_path.discard(node)
                finished.add(node)
    return True


def find_cycle(successors: dict[str, list[str]]) -> list[str] | None:
    """A cycle as [a, b, ..., a] by iterative depth-first search, or None; deterministic."""
    done: set[str] = set()
    for root in sorted(successors):
        if root in done:
            continue
        path = [root]
        on_path = {root}
        stack = [iter(sorted(successors.get(root, ())))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                continue
            if following in on_path:
                return [*path[path.index(following) :], following]
            if following in done:
                continue
            path.append(following)
            on_path.add(following)
            stack.append(iter(sorted(successors.get(following, ()))))
    return None
