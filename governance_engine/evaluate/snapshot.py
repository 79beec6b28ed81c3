"""The snapshot evaluator: each rule compiled once per Engine into a generated Python function
over the StateIndex (see codegen). The default for one-shot evaluation (evaluate, audit, test,
impact). Same semantics as the reference interpreter, without walking the syntax tree on
every subject.

Also here: the closure compiler (`compile_expression`, `_Ctx`) with which the Rete evaluator
computes the operands of its facts, collecting what each one read when a session asks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from ..language import ast
from ..language.packs import Pack
from ..state.index import Node, StateIndex
from . import values as v
from .codegen import LetsFunction, compile_lets, compile_pack
from .common import EVERYTHING, Finding, Scope, walk_path

UNKNOWN = v.UNKNOWN
Compiled = Callable[[Any, Node, Any], Any]


class _Ctx:
    """`visited`, when a set, collects every node a graph function looked at (the read set an
    incremental session needs); one-shot evaluation leaves it None. Roll-up rules (`blockers`)
    are not compiled here: they run on the generated code, after the decide stage."""

    __slots__ = ("index", "as_of", "subject", "derived", "lets", "let_fns", "visited")

    def __init__(self, index: StateIndex, as_of: date) -> None:
        self.index, self.as_of = index, as_of
        self.subject: Node | None = None
        self.derived: dict[str, Any] = {}
        self.lets: dict[str, Any] = {}
        self.let_fns: dict[str, Compiled] = {}
        self.visited: set[str] | None = None


def compile_expression(expr: ast.Expr, derived_names: frozenset[str]) -> Compiled:
    def sub(e: ast.Expr) -> Compiled:
        return compile_expression(e, derived_names)

    match expr:
        case ast.Literal(value=value):
            return lambda ctx, node, edge: value
        case ast.Attr(name=name) if name in derived_names:

            def derived_attr(ctx, node, edge):
                return ctx.derived.get(name, UNKNOWN)

            return derived_attr
        case ast.Attr(name="id"):
            return lambda ctx, node, edge: node.id
        case ast.Attr(name="type"):
            return lambda ctx, node, edge: node.type
        case ast.SubjectAttr(name="id"):
            return lambda ctx, node, edge: ctx.subject.id
        case ast.SubjectAttr(name="type"):
            return lambda ctx, node, edge: ctx.subject.type
        case ast.Attr(name=name):

            def attr(ctx, node, edge):
                value = node.attrs.get(name)
                return UNKNOWN if value is None else value

            return attr
        case ast.SubjectAttr(name=name):

            def subject_attr(ctx, node, edge):
                value = ctx.subject.attrs.get(name)
                return UNKNOWN if value is None else value

            return subject_attr
        case ast.EdgeAttr(name=name):

            def edge_attr(ctx, node, edge):
                value = None if edge is None else edge.attrs.get(name)
                return UNKNOWN if value is None else value

            return edge_attr
        case ast.LetRef(name=name):

            def let_value(ctx, node, edge):
                """Lets are computed when first read: a rule out of scope never pays for them."""
                if name not in ctx.lets:
                    ctx.lets[name] = ctx.let_fns[name](ctx, ctx.subject, None)
                return ctx.lets[name]

            return let_value
        case ast.AsOf():
            return lambda ctx, node, edge: ctx.as_of
        case ast.Not(operand=o):
            inner = sub(o)

            def negation(ctx, node, edge):
                value = inner(ctx, node, edge)
                if value is True:
                    return False
                if value is False:
                    return True
                return UNKNOWN

            return negation
        case ast.Neg(operand=o):
            inner = sub(o)
            return lambda ctx, node, edge: v.negate(inner(ctx, node, edge))
        case ast.And(items=items):
            parts = tuple(sub(i) for i in items)

            def conjunction(ctx, node, edge):
                result = True
                for part in parts:
                    value = part(ctx, node, edge)
                    if value is False:
                        return False
                    if value is not True:
                        result = UNKNOWN
                return result

            return conjunction
        case ast.Or(items=items):
            parts = tuple(sub(i) for i in items)

            def disjunction(ctx, node, edge):
                result = False
                for part in parts:
                    value = part(ctx, node, edge)
                    if value is True:
                        return True
                    if value is not False:
                        result = UNKNOWN
                return result

            return disjunction
        case ast.Arith(op=op, left=a, right=b):
            left, right = sub(a), sub(b)
            return lambda ctx, node, edge: v.arith(op, left(ctx, node, edge), right(ctx, node, edge))
        case ast.Compare(op=op, left=a, right=ast.Literal(value=literal)) if op in (
            "<",
            "<=",
            ">",
            ">=",
        ) and v.is_number(literal):
            return _numeric_threshold(op, sub(a), literal)
        case ast.Compare(op=("==" | "!=") as op, left=a, right=ast.Literal(value=str() as literal)):
            return _text_equality(op == "==", sub(a), literal)
        case ast.Compare(op=("in" | "notin") as op, left=a, right=ast.ListExpr(items=items)) if items and all(
            isinstance(i, ast.Literal) and isinstance(i.value, str) for i in items
        ):
            return _text_membership(op == "in", sub(a), frozenset(i.value for i in items))  # type: ignore[attr-defined]
        case ast.Compare(op=("in" | "notin") as op, left=a, right=ast.Literal(value=list() as values)) if (
            values and all(isinstance(x, str) for x in values)
        ):
            return _text_membership(op == "in", sub(a), frozenset(values))
        case ast.Compare(op=("in" | "notin") as op, left=a, right=ast.ListExpr(items=items)):
            item, parts = sub(a), tuple(sub(i) for i in items)  # element by element, as the reference
            return lambda ctx, node, edge: v.compare(op, item(ctx, node, edge), [p(ctx, node, edge) for p in parts])
        case ast.Compare(op=op, left=a, right=b):
            left, right = sub(a), sub(b)
            return lambda ctx, node, edge: v.compare(op, left(ctx, node, edge), right(ctx, node, edge))
        case ast.IsNull(operand=o, negated=negated):
            inner = sub(o)
            if negated:
                return lambda ctx, node, edge: inner(ctx, node, edge) is not UNKNOWN
            return lambda ctx, node, edge: inner(ctx, node, edge) is UNKNOWN
        case ast.ListExpr(items=items):
            parts = tuple(sub(i) for i in items)

            def make_list(ctx, node, edge):
                elements = [p(ctx, node, edge) for p in parts]
                return UNKNOWN if any(e is UNKNOWN for e in elements) else elements

            return make_list
        case ast.Index(base=b, key=k):
            base, key = sub(b), sub(k)
            return lambda ctx, node, edge: v.index(base(ctx, node, edge), key(ctx, node, edge))
        case ast.Call(name=name, args=args):
            parts = tuple(sub(a) for a in args)
            return lambda ctx, node, edge: v.call(name, [p(ctx, node, edge) for p in parts], ctx.as_of)
        case ast.Aggregate(func=func, path=path, where=where, value=value) if func != "blockers":
            return _aggregate(func, path, None if where is None else sub(where), None if value is None else sub(value))
    raise TypeError(f"unknown expression {type(expr).__name__}")


def _numeric_threshold(op: str, left: Compiled, limit: float) -> Compiled:
    """The commonest leaf (`cpi < 0.9`), without the generic comparison's dispatch."""

    def check(value: Any) -> Any:
        if type(value) is float or type(value) is int:
            if op == "<":
                return value < limit
            if op == "<=":
                return value <= limit
            if op == ">":
                return value > limit
            return value >= limit
        return UNKNOWN

    return lambda ctx, node, edge: check(left(ctx, node, edge))


def _text_equality(equal: bool, left: Compiled, literal: str) -> Compiled:
    """`status == "open"`: a text compared with a text literal, the commonest leaf of all."""

    def check(ctx, node, edge):
        value = left(ctx, node, edge)
        if type(value) is str:
            return (value == literal) is equal
        verdict = v.equals(value, literal)
        return verdict if verdict is UNKNOWN else verdict is equal

    return check


def _text_membership(inside: bool, left: Compiled, texts: frozenset[str]) -> Compiled:
    """`phase in ["execution", "closing"]` over text literals: a set lookup."""

    def check(ctx, node, edge):
        value = left(ctx, node, edge)
        if type(value) is str:
            return (value in texts) is inside
        verdict = v.member(value, list(texts))
        return verdict if verdict is UNKNOWN else verdict is inside

    return check


def _aggregate(func: str, path: tuple[ast.Step, ...], where: Compiled | None, value: Compiled | None) -> Compiled:
    single = path[0] if len(path) == 1 else None

    def reach(ctx, node):
        if single is None:
            return walk_path(ctx.index, node.id, path, ctx.visited)
        index = ctx.index
        if single.direction == "out":
            pairs = [(index.nodes[e.target], e) for e in index.out_edges(node.id, single.relation)]
        else:
            pairs = [(index.nodes[e.source], e) for e in index.in_edges(node.id, single.relation)]
        if single.node_type is not None:
            pairs = [(n, e) for n, e in pairs if n.type == single.node_type]
        if ctx.visited is not None:
            ctx.visited.update(n.id for n, _ in pairs)
        return pairs

    if func == "count" and where is None:
        return lambda ctx, node, edge: len(reach(ctx, node))
    if func == "exists" and where is None:
        return lambda ctx, node, edge: bool(reach(ctx, node))
    if func in ("exists", "all", "count"):
        return _quantifier(func, reach, where)  # type: ignore[arg-type]

    def fold(ctx, node, edge):
        reached = reach(ctx, node)
        verdicts = [True if where is None else where(ctx, other, via) for other, via in reached]
        verdicts = [x if x is True or x is False else UNKNOWN for x in verdicts]
        values = [
            value(ctx, other, via) if verdict is True else UNKNOWN
            for verdict, (other, via) in zip(verdicts, reached, strict=True)
        ]  # type: ignore[misc]
        return v.aggregate(func, verdicts, values)

    return fold


def _quantifier(func: str, reach, where: Compiled) -> Compiled:
    """exists / all / count with a filter, stopping as soon as the answer is settled
    (the same answers as values.aggregate)."""

    def exists(ctx, node, edge):
        undecided = False
        for other, via in reach(ctx, node):
            verdict = where(ctx, other, via)
            if verdict is True:
                return True
            if verdict is not False:
                undecided = True
        return UNKNOWN if undecided else False

    def every(ctx, node, edge):
        undecided = False
        for other, via in reach(ctx, node):
            verdict = where(ctx, other, via)
            if verdict is False:
                return False
            if verdict is not True:
                undecided = True
        return UNKNOWN if undecided else True

    def count(ctx, node, edge):
        total = 0
        for other, via in reach(ctx, node):
            verdict = where(ctx, other, via)
            if verdict is True:
                total += 1
            elif verdict is not False:
                return UNKNOWN
        return total

    return {"exists": exists, "all": every, "count": count}[func]


class SnapshotEvaluator:
    name = "snapshot"

    def __init__(self, pack: Pack) -> None:
        self.pack = pack
        self._rules = tuple(zip(pack.rules, compile_pack(pack), strict=True))
        # the lets of each rule for one subject, by id of the rule (the decide stage's evidence)
        self.lets: dict[int, LetsFunction] = {
            id(rule): lets for rule, lets in zip(pack.rules, compile_lets(pack), strict=True) if lets is not None
        }

    def evaluate(self, index: StateIndex, as_of: date, scope: Scope = EVERYTHING, rollup: Any = None) -> list[Finding]:
        """Every rule but roll-ups; with `rollup` (the decisions so far), only roll-ups."""
        derived: dict[str, dict[str, Any]] = {}
        findings: list[Finding] = []
        subjects: dict[str, list[Node]] = {}
        for rule, run in self._rules:
            if not rule.in_force(as_of) or rule.rolls_up != (rollup is not None):
                continue
            if rule.applies_to not in subjects:
                subjects[rule.applies_to] = scope.select(index.of_type(rule.applies_to))
            run(subjects[rule.applies_to], index, as_of, derived, rollup, findings)
        return findings
