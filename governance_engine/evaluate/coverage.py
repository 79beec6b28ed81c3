"""Rule coverage for `govern test --coverage`: which rules some case fired, which some case
evaluated on a candidate subject without firing (a near miss), and which condition leaves
were seen both true and false. Observed with the reference interpreter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..decide.decisions import Assignment
from ..decide.evidence import Explainer
from ..language import ast
from ..language.rules import Rule
from ..state.index import StateIndex
from . import values as v
from .reference import evaluate_expr, evaluate_rule


def leaves(expr: ast.Expr) -> list[ast.Expr]:
    """The boolean leaves of a condition: what and/or/not combine."""
    if isinstance(expr, ast.And | ast.Or):
        return [leaf for item in expr.items for leaf in leaves(item)]
    if isinstance(expr, ast.Not):
        return leaves(expr.operand)
    return [expr]


@dataclass
class RuleCoverage:
    rule: Rule
    fired: bool = False
    near_miss: bool = False
    seen: list[set[bool]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen = [set() for _ in self.conditions()]

    def conditions(self) -> list[ast.Expr]:
        return [leaf for expr in (self.rule.condition, self.rule.unless) if expr is not None for leaf in leaves(expr)]


class Coverage:
    def __init__(self) -> None:
        self.rules: dict[str, RuleCoverage] = {}

    def declare(self, rules: list[Rule]) -> None:
        for rule in rules:
            self.rules.setdefault(rule.key, RuleCoverage(rule))

    def observe(self, index: StateIndex, as_of: date, assignments: dict[str, Assignment], rollup: Any = None) -> None:
        """`rollup` (the case's decisions) lets roll-up rules be observed too."""
        packs = {a.pack.name: a.pack for a in assignments.values()}
        for pack in packs.values():
            explainer = Explainer(index, as_of, list(pack.rules), rollup)
            for rule in pack.rules_in_force(as_of):
                entry = self.rules.setdefault(rule.key, RuleCoverage(rule))
                for subject in index.of_type(rule.applies_to):
                    if assignments.get(subject.id) is None or assignments[subject.id].pack is not pack:
                        continue
                    ctx = explainer.context(rule, subject)
                    verdict = evaluate_rule(rule, ctx)
                    if verdict is None:
                        continue
                    entry.fired |= verdict is True
                    entry.near_miss |= verdict is False
                    for position, leaf in enumerate(entry.conditions()):
                        value = v.truth(evaluate_expr(leaf, ctx, subject, None))
                        if value is not v.UNKNOWN:
                            entry.seen[position].add(value)

    def totals(self) -> tuple[int, int, int, int, int]:
        """(rules, fired, near misses, condition outcomes seen, condition outcomes possible)."""
        entries = list(self.rules.values())
        seen = sum(len(s) for e in entries for s in e.seen)
        possible = sum(2 * len(e.seen) for e in entries)
        return len(entries), sum(e.fired for e in entries), sum(e.near_miss for e in entries), seen, possible

    def percent(self) -> float:
        """The weakest of the three figures, as a percentage."""
        rules, fired, near, seen, possible = self.totals()
        shares = [fired / rules if rules else 1.0, near / rules if rules else 1.0, seen / possible if possible else 1.0]
        return 100 * min(shares)
