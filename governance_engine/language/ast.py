"""The engine-neutral rule syntax tree: what both evaluators and the reference interpreter read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Span:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Expr:
    span: Span | None = field(default=None, compare=False, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    value: Any


@dataclass(frozen=True, slots=True)
class Param(Expr):
    """A pack parameter, `$name`; replaced by a Literal when a rule is bound to a pack."""

    name: str


@dataclass(frozen=True, slots=True)
class Attr(Expr):
    """An attribute of the node in scope: the subject, or the related node inside a filter."""

    name: str


@dataclass(frozen=True, slots=True)
class SubjectAttr(Expr):
    """`subject.x`: the rule's subject, reachable from inside a filter."""

    name: str


@dataclass(frozen=True, slots=True)
class EdgeAttr(Expr):
    """`edge.x`: an attribute of the edge just traversed (inside a filter or value)."""

    name: str


@dataclass(frozen=True, slots=True)
class LetRef(Expr):
    """A named value the rule defines under `let`."""

    name: str


@dataclass(frozen=True, slots=True)
class AsOf(Expr):
    pass


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class Neg(Expr):
    operand: Expr


@dataclass(frozen=True, slots=True)
class And(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Or(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Arith(Expr):
    op: str  # + - * /
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Compare(Expr):
    op: str  # == != < <= > >= in notin
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class IsNull(Expr):
    operand: Expr
    negated: bool = False


@dataclass(frozen=True, slots=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Index(Expr):
    base: Expr
    key: Expr


@dataclass(frozen=True, slots=True)
class Call(Expr):
    """A scalar function: days_since, days_until, working_days_since, len, difference, abs, coalesce."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Step:
    direction: str  # "out" | "in"
    relation: str
    node_type: str | None  # None: any type


@dataclass(frozen=True, slots=True)
class Aggregate(Expr):
    """A graph function over the nodes a path reaches: count, exists, all, sum, min, max,
    values; and blockers, the blocking decisions on the projects below them (roll-up)."""

    func: str
    path: tuple[Step, ...]
    where: Expr | None
    value: Expr | None


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions, for walks that do not care about the node kind."""
    match expr:
        case Not(operand=o) | Neg(operand=o) | IsNull(operand=o):
            return (o,)
        case And(items=items) | Or(items=items) | ListExpr(items=items):
            return items
        case Arith(left=a, right=b) | Compare(left=a, right=b):
            return (a, b)
        case Index(base=a, key=b):
            return (a, b)
        case Call(args=args):
            return args
        case Aggregate(where=w, value=v):
            return tuple(x for x in (w, v) if x is not None)
    return ()


def reads_decisions(expr: Expr) -> bool:
    """Whether an expression needs other subjects' decisions (a roll-up): such rules are
    evaluated after the decide stage."""
    return any(isinstance(e, Aggregate) and e.func == "blockers" for e in walk(expr))


def walk(expr: Expr):
    """Every node of the tree, parents first."""
    yield expr
    for child in children(expr):
        yield from walk(child)
