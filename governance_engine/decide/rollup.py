"""Gate roll-up (issue #10): a gate on a program or portfolio is held while any project it
contains, transitively, carries a blocking decision. Rules read it with `blockers(PATH)`;
they run after the other rules are decided, since they read decisions."""

from __future__ import annotations

from ..evaluate.common import walk_path
from ..language import ast
from ..outcomes import BLOCKING
from ..report.model import Decision
from ..state.index import StateIndex


class RollUp:
    """The blocking decisions of one evaluation, by project."""

    def __init__(self, index: StateIndex, decisions: list[Decision], waived=lambda decision: False) -> None:
        """`waived(decision)` tells the decisions an exception covers: they hold nothing."""
        self.index = index
        self.by_project: dict[str, list[Decision]] = {}
        for decision in decisions:
            if decision.outcome in BLOCKING and decision.project is not None and not waived(decision):
                self.by_project.setdefault(decision.project, []).append(decision)

    def below(self, start: str, path: tuple[ast.Step, ...]) -> list[Decision]:
        """Blocking decisions on the projects that the nodes `path` reaches contain (or are)."""
        seen: set[str] = set()
        frontier = [node.id for node, _ in walk_path(self.index, start, path)]
        while frontier:
            node = frontier.pop()
            if node in seen:
                continue
            seen.add(node)
            frontier.extend(e.target for e in self.index.out_edges(node, "contains"))
        found = [d for project in sorted(seen) for d in self.by_project.get(project, ())]
        return sorted(found, key=Decision.sort_key)
