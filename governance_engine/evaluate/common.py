"""What every evaluator shares: the finding it hands to the decide stage, how a rule's
three-valued result becomes a verdict, and how a path walks the state's adjacency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..language import ast
from ..language.packs import Pack
from ..language.rules import Rule
from ..state.index import Edge, Node, StateIndex
from .values import UNKNOWN


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule that fired on a subject (verdict True) or could not be decided (UNKNOWN)."""

    rule: Rule
    subject: str
    verdict: Any


@dataclass(frozen=True, slots=True)
class Scope:
    """The subjects one pack evaluates: all nodes of the types its rules apply to, or a subset."""

    subject_ids: frozenset[str] | None = None

    def select(self, nodes: list[Node]) -> list[Node]:
        if self.subject_ids is None:
            return nodes
        return [n for n in nodes if n.id in self.subject_ids]


EVERYTHING = Scope()


def resolve(rule: Rule, scope_value: Any, body_value: Any) -> Any:
    """Scope first: a rule whose scope is not definitely true yields nothing (None).
    Otherwise True (fires), False (quiet) or UNKNOWN, with `on_missing` applied."""
    if scope_value is not True:
        return None
    if body_value is UNKNOWN:
        if rule.on_missing == "breach":
            return True
        if rule.on_missing == "pass":
            return False
    return body_value


def walk_path(
    index: StateIndex, start: str, path: tuple[ast.Step, ...], visited: set[str] | None = None
) -> list[tuple[Node, Edge]]:
    """The (node, last edge) pairs a path reaches from `start`, sorted so that folds
    (sums of floats included) do not depend on the order of the file. Every node reached
    goes into `visited` when given (a node's type change counts as a change to its edges)."""
    frontier: list[tuple[str, Edge | None]] = [(start, None)]
    last = len(path) - 1
    for position, step in enumerate(path):
        reached: dict[tuple[str, int], tuple[str, Edge]] = {}
        for node_id, _ in frontier:
            edges = (
                index.out_edges(node_id, step.relation)
                if step.direction == "out"
                else index.in_edges(node_id, step.relation)
            )
            for edge in edges:
                other = edge.target if step.direction == "out" else edge.source
                if step.node_type is not None and index.nodes[other].type != step.node_type:
                    continue
                if visited is not None:
                    visited.add(other)
                key = (other, edge.key if position == last else 0)
                reached.setdefault(key, (other, edge))
        frontier = [reached[k] for k in sorted(reached)]
    return [(index.nodes[node_id], edge) for node_id, edge in frontier if edge is not None]


class Evaluator(Protocol):
    """Compiled once per pack; evaluates one state at a time."""

    name: str

    def __init__(self, pack: Pack) -> None: ...

    def evaluate(self, index: StateIndex, as_of, scope: Scope = EVERYTHING) -> list[Finding]:
        """Every rule of the pack that is in force, but roll-ups (see Engine.roll_up)."""
        ...
