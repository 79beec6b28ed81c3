"""The dependency-cycle check against networkx, on random graphs."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine.state.build import _acyclic, find_cycle

NODES = st.sampled_from([f"t{i}" for i in range(7)])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(NODES, NODES), max_size=16))
def test_cycle_check_agrees_with_networkx(edges: list[tuple[str, str]]) -> None:
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
    graph = nx.DiGraph(edges)
    acyclic = nx.is_directed_acyclic_graph(graph)
    assert _acyclic(successors) is acyclic
    cycle = find_cycle(successors)
    if acyclic:
        assert cycle is None
    else:
        assert cycle is not None and cycle[0] == cycle[-1]
        assert all(graph.has_edge(a, b) for a, b in zip(cycle, cycle[1:], strict=False))
