"""Hypothesis strategies for random rules and random states, shared by the differential and
property tests. States use custom node types and attributes so that any value is legal input."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from hypothesis import strategies as st

from governance_engine.errors import Location
from governance_engine.language import ast
from governance_engine.language.packs import Pack
from governance_engine.language.rules import Rule, stratify
from governance_engine.outcomes import PMO_ORDER, Outcome, PmoType

AS_OF = date(2026, 11, 20)
NODE_TYPES = ("widget", "gadget")
ATTRS = ("a", "b", "c", "d")
RELATIONS = ("links", "feeds")
WORDS = ("red", "green", "amber", "2026-11-01", "2026-12-24", "x")

scalar_values = st.one_of(
    st.integers(-20, 20),
    st.floats(-20, 20, allow_nan=False, allow_infinity=False).map(lambda f: round(f, 2)),
    st.sampled_from(WORDS),
    st.booleans(),
)
attr_values = st.one_of(scalar_values, st.lists(st.sampled_from(WORDS[:3]), max_size=3))


@st.composite
def states(draw, max_nodes: int = 7) -> dict:
    count = draw(st.integers(1, max_nodes))
    nodes = []
    for i in range(count):
        node = {"id": f"n{i}", "type": draw(st.sampled_from(NODE_TYPES))}
        for name in ATTRS:
            if draw(st.booleans()):
                node[name] = draw(attr_values)
        nodes.append(node)
    edges = []
    for _ in range(draw(st.integers(0, count * 2))):
        edge = {
            "source": f"n{draw(st.integers(0, count - 1))}",
            "target": f"n{draw(st.integers(0, count - 1))}",
            "relation": draw(st.sampled_from(RELATIONS)),
        }
        if draw(st.booleans()):
            edge["weight"] = draw(st.integers(0, 100))
        edges.append(edge)
    return {
        "directed": True,
        "multigraph": True,
        "graph": {"as_of": AS_OF.isoformat(), "pmo_type": draw(st.sampled_from([t.value for t in PMO_ORDER]))},
        "nodes": nodes,
        "edges": edges,
    }


literals = st.one_of(
    st.integers(-20, 20).map(ast.Literal),
    st.sampled_from((0.5, 1.5, -2.25)).map(ast.Literal),
    st.sampled_from(WORDS).map(ast.Literal),
    st.booleans().map(ast.Literal),
    st.sampled_from((date(2026, 11, 1), date(2026, 12, 24))).map(ast.Literal),
)
paths = st.lists(
    st.builds(
        ast.Step,
        st.sampled_from(("out", "in")),
        st.sampled_from(RELATIONS),
        st.sampled_from((None, *NODE_TYPES)),
    ),
    min_size=1,
    max_size=2,
).map(tuple)


@cache
def values(depth: int, in_filter: bool) -> st.SearchStrategy[ast.Expr]:
    leaves = [literals, st.sampled_from(ATTRS).map(ast.Attr), st.just(ast.AsOf())]
    if in_filter:
        leaves += [st.sampled_from(ATTRS).map(ast.SubjectAttr), st.just(ast.EdgeAttr("weight"))]
    leaf = st.one_of(*leaves)
    if depth <= 0:
        return leaf
    inner = values(depth - 1, in_filter)
    return st.one_of(
        leaf,
        st.builds(ast.Arith, st.sampled_from("+-*/"), inner, inner),
        st.builds(ast.Neg, inner),
        st.builds(lambda f, a: ast.Call(f, (a,)), st.sampled_from(("days_since", "days_until", "abs", "len")), inner),
        st.builds(lambda a, b: ast.Call("coalesce", (a, b)), inner, inner),
        st.builds(lambda a, b: ast.Call("difference", (a, b)), inner, inner),
        st.builds(lambda a, b: ast.Index(a, b), inner, inner),
        st.builds(lambda items: ast.ListExpr(tuple(items)), st.lists(literals, max_size=3)),
        st.builds(
            lambda f, p, w, val: ast.Aggregate(f, p, w, val if f in ("sum", "min", "max", "values") else None),
            st.sampled_from(("count", "sum", "min", "max", "values")),
            paths,
            st.one_of(st.none(), conditions(depth - 1, True, ())),
            values(depth - 1, True),
        )
        if not in_filter
        else leaf,
    )


@cache
def conditions(depth: int, in_filter: bool, derived: tuple[str, ...]) -> st.SearchStrategy[ast.Expr]:
    value = values(max(depth - 1, 0), in_filter)
    leaves = [
        st.builds(ast.Compare, st.sampled_from(("==", "!=", "<", "<=", ">", ">=")), value, value),
        st.builds(ast.Compare, st.sampled_from(("in", "notin")), value, value),
        st.builds(
            lambda op, left, items: ast.Compare(op, left, ast.ListExpr(tuple(items))),
            st.sampled_from(("in", "notin")),
            value,
            st.lists(literals, max_size=3),
        ),
        st.builds(ast.IsNull, value, st.booleans()),
        st.sampled_from(ATTRS).map(ast.Attr),
        st.booleans().map(ast.Literal),
    ]
    if derived and not in_filter:
        leaves.append(st.sampled_from(derived).map(ast.Attr))
    if not in_filter and depth > 0:
        leaves.append(
            st.builds(
                lambda f, p, w: ast.Aggregate(f, p, w, None),
                st.sampled_from(("exists", "all")),
                paths,
                conditions(depth - 1, True, ()),
            )
        )
    leaf = st.one_of(*leaves)
    if depth <= 0:
        return leaf
    inner = conditions(depth - 1, in_filter, derived)
    return st.one_of(
        leaf,
        st.builds(lambda items: ast.And(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda items: ast.Or(tuple(items)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(ast.Not, inner),
    )


def make_rule(
    rule_id: str,
    applies_to: str,
    condition,
    *,
    scope=None,
    unless=None,
    derive=None,
    on_missing="insufficient",
    outcomes=None,
    window=(None, None),
    lets=(),
) -> Rule:
    return Rule(
        id=rule_id,
        version=1,
        title=f"rule {rule_id}",
        applies_to=applies_to,
        scope=scope,
        lets=lets,
        condition=condition,
        unless=unless,
        on_missing=on_missing,
        outcomes=outcomes or dict.fromkeys(PMO_ORDER, Outcome.warning),
        derive=derive,
        message="",
        action=None,
        guidance=None,
        references=(),
        tags=(),
        effective_from=window[0],
        effective_until=window[1],
        relaxable=False,
        module="generated",
        location=Location(file="<generated>"),
    )


def make_pack(rules: list[Rule], pmo_type: PmoType | None = None) -> Pack:
    return Pack(
        name="generated",
        version="0",
        pmo_type=pmo_type,
        description="",
        rules=tuple(stratify(rules)),
        parameters={},
        parameter_specs={},
        lineage=("generated",),
        digest="sha256:0",
    )


windows = st.sampled_from(
    [(None, None), (AS_OF - timedelta(days=10), None), (None, AS_OF - timedelta(days=1)), (AS_OF, AS_OF)]
)


@st.composite
def packs(draw) -> Pack:
    rules: list[Rule] = []
    derived: tuple[str, ...] = ()
    for i in range(draw(st.integers(0, 2))):
        name = f"flag{i}"
        rules.append(
            make_rule(
                f"D{i}",
                draw(st.sampled_from(NODE_TYPES)) if not derived else "widget",
                draw(conditions(2, False, derived)),
                scope=draw(st.one_of(st.none(), conditions(1, False, ()))),
                derive=name,
                on_missing=draw(st.sampled_from(("insufficient", "breach", "pass"))),
                window=draw(windows),
            )
        )
        derived = (*derived, name)
    readable = tuple(d for d, r in zip(derived, rules, strict=True) if r.applies_to == "widget")
    for i in range(draw(st.integers(1, 4))):
        applies_to = draw(st.sampled_from(NODE_TYPES))
        usable = readable if applies_to == "widget" else ()
        lets = ()
        if draw(st.booleans()):
            lets = (("v0", draw(values(2, False))),)
        condition = draw(conditions(3, False, usable))
        if lets and draw(st.booleans()):
            condition = ast.And((condition, ast.Compare(">", ast.LetRef("v0"), ast.Literal(draw(st.integers(-5, 5))))))
        rules.append(
            make_rule(
                f"R{i}",
                applies_to,
                condition,
                scope=draw(st.one_of(st.none(), conditions(1, False, usable))),
                unless=draw(st.one_of(st.none(), conditions(1, False, usable))),
                on_missing=draw(st.sampled_from(("insufficient", "breach", "pass"))),
                window=draw(windows),
                lets=lets,
            )
        )
    return make_pack(rules)
