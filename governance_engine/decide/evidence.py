"""What a decision shows: the values its rule looked at, the message with them filled in, and
for an undecidable rule exactly which attributes would settle it. Computed once, after
evaluation, by the reference interpreter (the lets by the compiled code when the engine runs
the snapshot evaluator: the same values), so every evaluator's report is identical."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from ..evaluate import values as v
from ..evaluate.common import walk_path
from ..evaluate.reference import Context, evaluate_expr, evaluate_rule
from ..language import ast
from ..language.rules import Rule, attributes_read
from ..state.index import Edge, Node, StateIndex

# Figures the loader derives, and the attributes they are computed from: when a figure is
# undefined, the inputs that are absent are what would settle the rule.
DERIVED_INPUTS = {
    "cpi": ("earned_value", "actual_cost"),
    "spi": ("earned_value", "planned_value"),
    "cv": ("earned_value", "actual_cost"),
    "sv": ("earned_value", "planned_value"),
    "eac": ("budget", "earned_value", "actual_cost"),
    "vac": ("budget", "earned_value", "actual_cost"),
    "tcpi": ("budget", "earned_value", "actual_cost"),
    "score": ("probability", "impact"),
    # schedule figures: a project without a baseline finish has no total float and no CPLI
    "project_total_float_days": ("baseline_finish",),
    "cpli": ("baseline_finish",),
}
PLACEHOLDER = re.compile(r"\{(\$?[A-Za-z_][A-Za-z0-9_]{0,63})\}")
# A compiled rule's lets for one subject: (subject, index, as_of, the subject's derived facts,
# roll-up) -> the values in the rule's order, those the reference interpreter gives.
CompiledLets = Callable[..., Sequence[Any]]


def json_value(value: Any) -> Any:
    """Evidence as JSON: dates ISO, unknown as null, floats rounded to stay stable."""
    if value is v.UNKNOWN or value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, list):
        return [json_value(x) for x in value]
    if isinstance(value, dict):
        return {str(k): json_value(x) for k, x in sorted(value.items())}
    return value


def display(value: Any) -> str:
    if value is v.UNKNOWN or value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(display(x) for x in value) or "none"
    return str(value)


class Explainer:
    """Re-reads one subject with the reference interpreter to give evidence and missing data."""

    def __init__(
        self,
        index: StateIndex,
        as_of: date,
        rules: list[Rule],
        rollup: Any = None,
        compiled_lets: Mapping[int, CompiledLets] | None = None,
    ) -> None:
        """`compiled_lets`, by id of the Rule: the snapshot evaluator's compiled lets; without
        them (Rete, reference) the lets are computed by the reference interpreter."""
        self.index, self.as_of, self.rollup = index, as_of, rollup
        self.writers = {r.derive: r for r in rules if r.derive and r.in_force(as_of)}
        self.derived_names = frozenset(r.derive for r in rules if r.derive)
        self._derived: dict[str, dict[str, Any]] = {}
        self._lets = compiled_lets or {}

    def derived_for(self, subject: Node) -> dict[str, Any]:
        """Derived facts of one subject, settled in the order their writers depend on."""
        if subject.id not in self._derived:
            facts: dict[str, Any] = {}
            self._derived[subject.id] = facts
            for name, writer in self.writers.items():
                if writer.applies_to == subject.type:
                    self._settle(name, writer, subject, facts)
        return self._derived[subject.id]

    def _settle(self, name: str, writer: Rule, subject: Node, facts: dict[str, Any]) -> None:
        if name in facts:
            return
        facts[name] = v.UNKNOWN
        for read in attributes_read(writer):
            if read in self.writers and read not in facts:
                self._settle(read, self.writers[read], subject, facts)
        verdict = evaluate_rule(writer, Context(self.index, self.as_of, subject, facts, writer, self.derived_names))
        facts[name] = v.UNKNOWN if verdict is v.UNKNOWN else verdict is True

    def context(self, rule: Rule, subject: Node) -> Context:
        ctx = Context(self.index, self.as_of, subject, self.derived_for(subject), rule, self.derived_names)
        ctx.rollup = self.rollup
        compiled = self._lets.get(id(rule)) if rule.lets else None
        if compiled is not None:
            values = compiled(subject, self.index, self.as_of, ctx.derived, self.rollup)
            ctx.lets = dict(zip([name for name, _ in rule.lets], values, strict=True))
            return ctx
        for name, expr in rule.lets:
            ctx.lets[name] = evaluate_expr(expr, ctx, subject, None)
        return ctx

    def evidence(self, rule: Rule, subject: Node, ctx: Context) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name in sorted(attributes_read(rule)):
            found[name] = json_value(ctx.attribute(subject, name))
        for name, _ in rule.lets:
            found[name] = json_value(ctx.lets[name])
        for name, value in rule.parameters.items():
            found[f"${name}"] = json_value(value)
        return dict(sorted(found.items()))

    def render(self, template: str, rule: Rule, subject: Node, ctx: Context) -> str:
        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("$"):
                return (
                    display(rule.parameters.get(name[1:], v.UNKNOWN)) if name[1:] in rule.parameters else match.group(0)
                )
            if name in ctx.lets:
                return display(ctx.lets[name])
            if name == "as_of":
                return self.as_of.isoformat()
            if name == "id":
                return subject.id
            if name == "type":
                return subject.type
            return display(ctx.attribute(subject, name))

        return PLACEHOLDER.sub(replace, template)

    def missing(self, rule: Rule, subject: Node, ctx: Context) -> list[tuple[str, str]]:
        """The (node, attribute) pairs whose absence leaves the rule undecided."""
        found: set[tuple[str, str]] = set()
        if rule.scope is not None:
            self._trace(rule.scope, ctx, subject, None, found)
        self._trace(rule.body, ctx, subject, None, found)
        if not found:  # present but unusable values (a text where a number belongs)
            found = {(subject.id, name) for name in attributes_read(rule)}
        return sorted(found)

    def _trace(self, expr: ast.Expr, ctx: Context, node: Node, edge: Edge | None, found: set) -> Any:
        """Evaluate like the reference interpreter, collecting what is absent where it matters."""
        value = evaluate_expr(expr, ctx, node, edge)
        if value is not v.UNKNOWN:
            return value
        match expr:
            case ast.Attr(name=name):
                self._absent(node, name, ctx, found)
            case ast.SubjectAttr(name=name):
                self._absent(ctx.subject, name, ctx, found)
            case ast.EdgeAttr(name=name):
                if edge is not None:
                    found.add((f"{edge.source}->{edge.target}", name))
            case ast.LetRef(name=name):
                self._trace(dict(ctx.rule.lets)[name], ctx, ctx.subject, None, found)
            case ast.And(items=items) | ast.Or(items=items):
                for item in items:
                    if v.truth(evaluate_expr(item, ctx, node, edge)) is v.UNKNOWN:
                        self._trace(item, ctx, node, edge, found)
            case ast.Aggregate(path=path, where=where, value=inner):
                for other, via in walk_path(ctx.index, node.id, path):
                    verdict = True if where is None else v.truth(evaluate_expr(where, ctx, other, via))
                    if verdict is v.UNKNOWN and where is not None:
                        self._trace(where, ctx, other, via, found)
                    elif verdict is True and inner is not None:
                        self._trace(inner, ctx, other, via, found)
            case _:
                for child in ast.children(expr):
                    self._trace(child, ctx, node, edge, found)
        return value

    def _absent(self, node: Node, name: str, ctx: Context, found: set) -> None:
        if node is ctx.subject and name in self.writers and self.writers[name].applies_to == node.type:
            writer = self.writers[name]
            writer_ctx = self.context(writer, node)
            self._trace(writer.body, writer_ctx, node, None, found)
            return
        inputs = [i for i in DERIVED_INPUTS.get(name, ()) if node.attrs.get(i) is None]
        if name in DERIVED_INPUTS and inputs:
            found.update((node.id, i) for i in inputs)
        else:
            found.add((node.id, name))
