"""The oracle: a plain tree-walking interpreter of the rule syntax tree. Slow and obvious on
purpose; the snapshot and Rete evaluators are tested equal to it."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..language import ast
from ..language.packs import Pack
from ..language.rules import Rule
from ..state.index import Edge, Node, StateIndex
from . import values as v
from .common import EVERYTHING, Finding, Scope, resolve, walk_path


class Context:
    """What an expression can see while it is evaluated on one subject."""

    def __init__(
        self,
        index: StateIndex,
        as_of: date,
        subject: Node,
        derived: dict[str, Any],
        rule: Rule,
        derived_names: frozenset[str],
    ) -> None:
        self.index, self.as_of, self.subject, self.derived, self.rule = index, as_of, subject, derived, rule
        self.derived_names = derived_names
        self.lets: dict[str, Any] = {}
        self.rollup: Any = None  # decide.rollup.RollUp, for roll-up rules only

    def attribute(self, node: Node, name: str) -> Any:
        """Derived facts are read only from what the rules derived (on the subject: the
        binder refuses them elsewhere), never from a same-named attribute in the file."""
        if name in self.derived_names:
            return self.derived.get(name, v.UNKNOWN)
        if name == "id":
            return node.id
        if name == "type":
            return node.type
        value = node.attrs.get(name, v.UNKNOWN)
        return v.UNKNOWN if value is None else value


def evaluate_expr(expr: ast.Expr, ctx: Context, node: Node, edge: Edge | None) -> Any:
    match expr:
        case ast.Literal(value=value):
            return value
        case ast.Attr(name=name):
            return ctx.attribute(node, name)
        case ast.SubjectAttr(name=name):
            return ctx.attribute(ctx.subject, name)
        case ast.EdgeAttr(name=name):
            if edge is None:
                return v.UNKNOWN
            value = edge.attrs.get(name, v.UNKNOWN)
            return v.UNKNOWN if value is None else value
        case ast.LetRef(name=name):
            return ctx.lets[name]
        case ast.AsOf():
            return ctx.as_of
        case ast.Not(operand=o):
            return v.kleene_not(v.truth(evaluate_expr(o, ctx, node, edge)))
        case ast.Neg(operand=o):
            return v.negate(evaluate_expr(o, ctx, node, edge))
        case ast.And(items=items):
            results = [v.truth(evaluate_expr(i, ctx, node, edge)) for i in items]
            if any(r is False for r in results):
                return False
            return v.UNKNOWN if any(r is v.UNKNOWN for r in results) else True
        case ast.Or(items=items):
            results = [v.truth(evaluate_expr(i, ctx, node, edge)) for i in items]
            if any(r is True for r in results):
                return True
            return v.UNKNOWN if any(r is v.UNKNOWN for r in results) else False
        case ast.Arith(op=op, left=a, right=b):
            return v.arith(op, evaluate_expr(a, ctx, node, edge), evaluate_expr(b, ctx, node, edge))
        case ast.Compare(op=("in" | "notin") as op, left=a, right=ast.ListExpr(items=items)):
            # element by element: a known element that matches settles `in`, whatever the others
            return v.compare(op, evaluate_expr(a, ctx, node, edge), [evaluate_expr(i, ctx, node, edge) for i in items])
        case ast.Compare(op=op, left=a, right=b):
            return v.compare(op, evaluate_expr(a, ctx, node, edge), evaluate_expr(b, ctx, node, edge))
        case ast.IsNull(operand=o, negated=negated):
            absent = evaluate_expr(o, ctx, node, edge) is v.UNKNOWN
            return not absent if negated else absent
        case ast.ListExpr(items=items):
            elements = [evaluate_expr(i, ctx, node, edge) for i in items]
            return v.UNKNOWN if any(e is v.UNKNOWN for e in elements) else elements
        case ast.Index(base=b, key=k):
            return v.index(evaluate_expr(b, ctx, node, edge), evaluate_expr(k, ctx, node, edge))
        case ast.Call(name=name, args=args):
            return v.call(name, [evaluate_expr(a, ctx, node, edge) for a in args], ctx.as_of)
        case ast.Aggregate(func="blockers", path=path):
            return v.UNKNOWN if ctx.rollup is None else len(ctx.rollup.below(node.id, path))
        case ast.Aggregate(func=func, path=path, where=where, value=value):
            reached = walk_path(ctx.index, node.id, path)
            verdicts = [
                True if where is None else v.truth(evaluate_expr(where, ctx, other, via)) for other, via in reached
            ]
            values = [v.UNKNOWN if value is None else evaluate_expr(value, ctx, other, via) for other, via in reached]
            return v.aggregate(func, verdicts, values)
    raise TypeError(f"unknown expression {type(expr).__name__}")


def evaluate_rule(rule: Rule, ctx: Context) -> Any:
    """None (does not apply), True, False or UNKNOWN, for the subject in `ctx`."""
    subject = ctx.subject
    for name, expr in rule.lets:
        ctx.lets[name] = evaluate_expr(expr, ctx, subject, None)
    scope = True if rule.scope is None else v.truth(evaluate_expr(rule.scope, ctx, subject, None))
    if scope is not True:
        return resolve(rule, scope, None)
    return resolve(rule, scope, v.truth(evaluate_expr(rule.body, ctx, subject, None)))


class ReferenceEvaluator:
    name = "reference"

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self.derived_names = frozenset(r.derive for r in pack.rules if r.derive)

    def evaluate(self, index: StateIndex, as_of: date, scope: Scope = EVERYTHING, rollup: Any = None) -> list[Finding]:
        """Every rule but roll-ups; with `rollup` (the decisions so far), only roll-ups."""
        derived: dict[str, dict[str, Any]] = {}
        findings = []
        for rule in self.pack.rules_in_force(as_of):
            if rule.rolls_up != (rollup is not None):
                continue
            for subject in scope.select(index.of_type(rule.applies_to)):
                facts = derived.setdefault(subject.id, {})
                ctx = Context(index, as_of, subject, facts, rule, self.derived_names)
                ctx.rollup = rollup
                verdict = evaluate_rule(rule, ctx)
                if rule.derive:
                    facts[rule.derive] = v.UNKNOWN if verdict is v.UNKNOWN else verdict is True
                elif verdict is True or verdict is v.UNKNOWN:
                    findings.append(Finding(rule, subject.id, verdict))
        return findings
