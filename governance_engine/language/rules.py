"""Checked rules: expressions parsed, parameters bound to a pack's values, `let` names
resolved, derived facts ordered (stratified). What the evaluators receive."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import networkx as nx

from ..errors import Location, RulesetError
from ..outcomes import PMO_ORDER, Outcome, PmoType
from . import ast
from .model import ActionSpec, RuleSpec
from .parser import parse_expression

TextLocator = Callable[[int, int], Location]


@dataclass(frozen=True)
class Rule:
    """One version of one rule, bound to a pack's parameters and outcomes."""

    id: str
    version: int
    title: str
    applies_to: str
    scope: ast.Expr | None
    lets: tuple[tuple[str, ast.Expr], ...]
    condition: ast.Expr
    unless: ast.Expr | None
    on_missing: str
    outcomes: dict[PmoType, Outcome | None]
    derive: str | None
    message: str
    action: ActionSpec | None
    guidance: str | None
    references: tuple[str, ...]
    tags: tuple[str, ...]
    effective_from: date | None
    effective_until: date | None
    relaxable: bool
    module: str
    location: Location
    parameters: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, TextLocator] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def body(self) -> ast.Expr:
        """condition and not unless: what must hold for the rule to fire."""
        if self.unless is None:
            return self.condition
        return ast.And((self.condition, ast.Not(self.unless)))

    @cached_property
    def subject_attributes(self) -> frozenset[str]:
        names: set[str] = set()

        def visit(expr: ast.Expr) -> None:
            if isinstance(expr, ast.Attr):
                names.add(expr.name)
            if isinstance(expr, ast.Aggregate):
                return
            for child in ast.children(expr):
                visit(child)

        for expr in self.expressions():
            visit(expr)
        return frozenset(names)

    @cached_property
    def rolls_up(self) -> bool:
        """A roll-up rule reads decisions on the projects below its subject (`blockers()`)."""
        return any(ast.reads_decisions(e) for e in self.expressions())

    def in_force(self, as_of: date) -> bool:
        if self.effective_from and as_of < self.effective_from:
            return False
        return not (self.effective_until and as_of > self.effective_until)

    def expressions(self) -> list[ast.Expr]:
        return [e for _, e in self.named_expressions()]

    def named_expressions(self) -> list[tuple[str, ast.Expr]]:
        """Each expression with the field it was written in ("let.x", "condition", ...)."""
        found = [(f"let.{name}", e) for name, e in self.lets] + [("condition", self.condition)]
        return found + [(name, e) for name, e in (("scope", self.scope), ("unless", self.unless)) if e is not None]


@dataclass(frozen=True)
class SourceRule:
    """A rule as read from its file, expressions parsed, parameters still open; `fields`
    maps each expression field ("condition", "let.x", ...) to where its text lies."""

    spec: RuleSpec
    module: str
    location: Location
    scope: ast.Expr | None
    lets: tuple[tuple[str, ast.Expr], ...]
    condition: ast.Expr
    unless: ast.Expr | None
    fields: dict[str, TextLocator] = field(default_factory=dict)


def parse_rule(
    spec: RuleSpec, module: str, location: Location, text_locator: Callable[[tuple], TextLocator]
) -> SourceRule:
    """`text_locator(field_path)` maps positions in a field's text to the rule's file."""
    fields: dict[str, TextLocator] = {}

    def parse(text: str | None, *field_path) -> ast.Expr | None:
        if text is None:
            return None
        fields[".".join(field_path)] = text_locator(field_path)
        return parse_expression(text, fields[".".join(field_path)])

    lets = tuple((name, parse(text, "let", name)) for name, text in spec.let.items())
    return SourceRule(
        spec=spec,
        module=module,
        location=location,
        scope=parse(spec.scope, "scope"),
        lets=lets,  # type: ignore[arg-type]
        condition=parse(spec.condition, "condition"),  # type: ignore[arg-type]
        unless=parse(spec.unless, "unless"),
        fields=fields,
    )


def outcome_map(spec: Any) -> dict[PmoType, Outcome | None]:
    """A single outcome means the same for every PMO type (caps apply later)."""
    if isinstance(spec, dict):
        return {t: (None if spec.get(t, "none") == "none" else Outcome(spec[t])) for t in PMO_ORDER}
    value = None if spec in (None, "none") else Outcome(spec)
    return dict.fromkeys(PMO_ORDER, value)


class _Binder:
    """Substitutes parameters and resolves let names; refuses what the evaluators cannot read."""

    def __init__(self, rule: SourceRule, parameters: dict[str, Any], derived: set[str]) -> None:
        self.rule, self.parameters, self.derived = rule, parameters, derived
        self.let_names: set[str] = set()
        self.used_parameters: dict[str, Any] = {}
        self.field = ""

    def error(self, message: str, expr: ast.Expr) -> RulesetError:
        locate = self.rule.fields.get(self.field)
        if locate is not None and expr.span is not None:
            where = locate(expr.span.line, expr.span.column)
        else:
            where = self.rule.location
        return RulesetError(f"rule {self.rule.spec.id}: {message}", where)

    def bind_condition(self, expr: ast.Expr) -> ast.Expr:
        """A condition: derived facts may stand as boolean operands of and/or/not here."""
        match expr:
            case ast.Attr(name=name) if name in self.derived:
                return expr
            case ast.And(items=items):
                return ast.And(tuple(self.bind_condition(i) for i in items), span=expr.span)
            case ast.Or(items=items):
                return ast.Or(tuple(self.bind_condition(i) for i in items), span=expr.span)
            case ast.Not(operand=o):
                return ast.Not(self.bind_condition(o), span=expr.span)
        return self.bind(expr, False)

    def bind(self, expr: ast.Expr, in_filter: bool) -> ast.Expr:
        match expr:
            case ast.Attr(name=name) if name in self.derived:
                raise self.error(
                    f"derived fact {name!r} can only be read as a condition on its own (e.g. '{name} and ...', 'not {name}')",
                    expr,
                )
            case ast.Param(name=name):
                if name not in self.parameters:
                    known = ", ".join(sorted(self.parameters)) or "none"
                    raise self.error(f"unknown parameter ${name} (known: {known})", expr)
                self.used_parameters[name] = self.parameters[name]
                return ast.Literal(self.parameters[name], span=expr.span)
            case ast.Attr(name=name) if not in_filter and name in self.let_names:
                return ast.LetRef(name, span=expr.span)
            case ast.SubjectAttr(name=name) if name in self.derived:
                raise self.error(f"derived fact {name!r} can only be read on the rule's own subject", expr)
            case ast.SubjectAttr() if not in_filter:
                raise self.error("'subject.' is for filters; outside one, name the attribute directly", expr)
            case ast.EdgeAttr() if not in_filter:
                raise self.error("'edge.' can only be used inside a graph function", expr)
            case ast.Aggregate(func=f, path=p, where=w, value=v):
                return ast.Aggregate(
                    f,
                    p,
                    None if w is None else self.bind(w, True),
                    None if v is None else self.bind(v, True),
                    span=expr.span,
                )
            case ast.Not(operand=o):
                return ast.Not(self.bind(o, in_filter), span=expr.span)
            case ast.Neg(operand=o):
                return ast.Neg(self.bind(o, in_filter), span=expr.span)
            case ast.IsNull(operand=o, negated=n):
                return ast.IsNull(self.bind(o, in_filter), n, span=expr.span)
            case ast.And(items=items):
                return ast.And(tuple(self.bind(i, in_filter) for i in items), span=expr.span)
            case ast.Or(items=items):
                return ast.Or(tuple(self.bind(i, in_filter) for i in items), span=expr.span)
            case ast.ListExpr(items=items):
                return ast.ListExpr(tuple(self.bind(i, in_filter) for i in items), span=expr.span)
            case ast.Arith(op=op, left=a, right=b):
                return ast.Arith(op, self.bind(a, in_filter), self.bind(b, in_filter), span=expr.span)
            case ast.Compare(op=op, left=a, right=b):
                return ast.Compare(op, self.bind(a, in_filter), self.bind(b, in_filter), span=expr.span)
            case ast.Index(base=a, key=b):
                return ast.Index(self.bind(a, in_filter), self.bind(b, in_filter), span=expr.span)
            case ast.Call(name=name, args=args):
                return ast.Call(name, tuple(self.bind(a, in_filter) for a in args), span=expr.span)
        return expr


def bind_rule(
    source: SourceRule,
    parameters: dict[str, Any],
    outcomes: dict[PmoType, Outcome | None],
    derived: set[str],
) -> Rule:
    spec = source.spec
    binder = _Binder(source, parameters, derived)
    lets = []
    for name, expr in source.lets:
        binder.field = f"let.{name}"
        lets.append((name, binder.bind(expr, False)))
        binder.let_names.add(name)
    binder.field = "message"
    for text in (spec.message, spec.action.text if spec.action else ""):
        for name in re.findall(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}", text):
            binder.bind(ast.Param(name), False)

    def bind(field_name: str, expr: ast.Expr | None) -> ast.Expr | None:
        binder.field = field_name
        return None if expr is None else binder.bind_condition(expr)

    scope = bind("scope", source.scope)
    binder.field = "condition"
    condition = binder.bind_condition(source.condition)
    unless = bind("unless", source.unless)
    return Rule(
        id=spec.id,
        version=spec.version,
        title=spec.title,
        applies_to=spec.applies_to,
        scope=scope,
        lets=tuple(lets),
        condition=condition,
        unless=unless,
        on_missing=spec.on_missing,
        outcomes=outcomes,
        derive=spec.derive,
        message=spec.message,
        action=spec.action,
        guidance=spec.guidance,
        references=tuple(spec.references),
        tags=tuple(spec.tags),
        effective_from=spec.effective_from,
        effective_until=spec.effective_until,
        relaxable=spec.relaxable,
        module=source.module,
        location=source.location,
        parameters=dict(sorted(binder.used_parameters.items())),
        fields=source.fields,
    )


def attributes_read(rule: Rule) -> frozenset[str]:
    """Attributes of the subject that the rule reads outside filters (for derived-fact order,
    evidence and remedies); computed once per rule."""
    return rule.subject_attributes


def stratify(rules: list[Rule]) -> list[Rule]:
    """Order rules so that every derived fact is settled before a rule reads it.
    A cycle among deriving rules is a RulesetError naming them."""
    writers: dict[str, list[Rule]] = {}
    for rule in rules:
        if rule.derive:
            writers.setdefault(rule.derive, []).append(rule)
    graph = nx.DiGraph()
    for rule in rules:
        graph.add_node(rule.key)
        for name in attributes_read(rule):
            for writer in writers.get(name, []):
                graph.add_edge(writer.key, rule.key)
    try:
        order = list(nx.lexicographical_topological_sort(graph))
    except nx.NetworkXUnfeasible:
        cycle = " -> ".join(u for u, _ in nx.find_cycle(graph))
        first = next(r for r in rules if r.key == nx.find_cycle(graph)[0][0])
        raise RulesetError(f"derived facts depend on each other in a cycle: {cycle}", first.location) from None
    by_key = {r.key: r for r in rules}
    return [by_key[k] for k in order]
