"""Remedies (issue #10): for a decision, the smallest change that clears it. Each remedy on
its own, everything else unchanged, makes the rule stop firing on that subject.

Numeric attributes are solved from the rule itself: the rule is re-read on the subject with
one attribute moved (derived figures recomputed from their inputs), by bisection towards the
boundary, and the boundary is rounded outward to the attribute's precision, so that a value
halfway between today's and the remedy still fires. Only the subject is re-read, never the
state. A condition that asks for a related node that is not there (`not exists(<-owns<-person)`)
gives a structural remedy: the edge to add."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from typing import Any

from ..evaluate import values as v
from ..evaluate.reference import evaluate_rule
from ..language import ast
from ..language.rules import Rule, attributes_read
from ..state.derive import DERIVERS
from ..state.index import Node, StateIndex
from .evidence import DERIVED_INPUTS, Explainer

MAX_REMEDIES = 4
SEARCH_STEPS = 48


class RemedyFinder:
    def __init__(self, index: StateIndex, as_of: date, rules: list[Rule], rollup: Any = None) -> None:
        self.index, self.as_of, self.rules, self.rollup = index, as_of, rules, rollup

    def fires(self, rule: Rule, subject: Node, attribute: str, value: Any) -> bool:
        attrs = dict(subject.attrs)
        attrs[attribute] = value
        derive = DERIVERS.get(subject.type)
        if derive is not None:
            derive(attrs)
        changed = replace(subject, attrs=attrs)
        explainer = Explainer(self.index, self.as_of, self.rules, self.rollup)
        verdict = evaluate_rule(rule, explainer.context(rule, changed))
        return verdict is True or verdict is v.UNKNOWN

    def candidates(self, rule: Rule, subject: Node) -> list[str]:
        """Numeric attributes of the subject the rule reads, the inputs of the derived figures
        it reads (CPI is changed through earned value and actual cost), and those of the rules
        that derive the facts it reads."""
        writers = {r.derive: r for r in self.rules if r.derive and r.in_force(self.as_of)}
        names: list[str] = []
        pending, seen = sorted(attributes_read(rule)), set()
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            if name in writers and writers[name].applies_to == subject.type:
                pending.extend(sorted(attributes_read(writers[name])))
                continue
            for candidate in DERIVED_INPUTS.get(name, (name,)):
                if (
                    v.is_number(subject.attrs.get(candidate))
                    and candidate not in names
                    and candidate not in DERIVED_INPUTS
                ):
                    names.append(candidate)
        return names

    def numeric(self, rule: Rule, subject: Node, attribute: str) -> dict[str, Any] | None:
        current = subject.attrs[attribute]
        step = max(abs(current), 1.0)
        target = None
        for power in range(SEARCH_STEPS):
            for direction in (1, -1):
                probe = current + direction * step * (2.0**power - 1 if power else 0.5)
                if not self.fires(rule, subject, attribute, probe):
                    target = probe
                    break
            if target is not None:
                break
        if target is None or (current > 0 and target <= 0) or (current < 0 and target >= 0):
            return None  # only a change of sign clears it: not a remedy a PMO can act on
        inside, outside = float(current), float(target)
        for _ in range(SEARCH_STEPS):
            middle = (inside + outside) / 2
            if self.fires(rule, subject, attribute, middle):
                inside = middle
            else:
                outside = middle
        value = _outward(outside, current, upward=outside > current)
        while self.fires(rule, subject, attribute, value):  # rounding landed on the boundary
            value = _outward(
                value + (_unit(current) if outside > current else -_unit(current)), current, upward=outside > current
            )
        return {"node": subject.id, "attribute": attribute, "value": value}

    def structural(self, rule: Rule) -> list[dict[str, Any]]:
        found = []
        for leaf in _negated_existence(rule.body):
            step = leaf.path[0]
            if step.direction == "in":
                found.append({"add_edge": {"relation": step.relation, "source_type": step.node_type or "*"}})
            else:
                found.append({"add_edge": {"relation": step.relation, "target_type": step.node_type or "*"}})
        return found

    def remedies(self, rule: Rule, subject: Node) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for attribute in self.candidates(rule, subject):
            remedy = self.numeric(rule, subject, attribute)
            if remedy is not None:
                found.append(remedy)
        for remedy in self.structural(rule):
            edge = remedy["add_edge"]
            edge["target" if "source_type" in edge else "source"] = subject.id
            found.append(remedy)
        return found[:MAX_REMEDIES]


def _negated_existence(expr: ast.Expr) -> list[ast.Aggregate]:
    """`not exists(one step)` conjuncts of a condition: adding that edge clears them."""
    parts = expr.items if isinstance(expr, ast.And) else (expr,)
    found = []
    for part in parts:
        if isinstance(part, ast.Not) and isinstance(part.operand, ast.Aggregate):
            aggregate = part.operand
            if aggregate.func == "exists" and aggregate.where is None and len(aggregate.path) == 1:
                found.append(aggregate)
    return found


def _decimals(value: Any) -> int:
    if isinstance(value, int):
        return 0
    text = repr(float(value))
    return min(len(text.split(".")[1]) if "." in text and "e" not in text else 2, 6)


def _unit(value: Any) -> float:
    return 10.0 ** -_decimals(value)


def _outward(value: float, current: Any, *, upward: bool) -> Any:
    """Round to the precision of the attribute's current value, away from it."""
    places = _decimals(current)
    scaled = value * 10**places
    rounded = (math.ceil(scaled - 1e-9) if upward else math.floor(scaled + 1e-9)) / 10**places
    return int(rounded) if places == 0 else round(rounded, places)
