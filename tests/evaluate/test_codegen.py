"""The generated snapshot code: valid Python for every shipped pack, literals that stay data
whatever their text, a namespace with no way out, and the same source on every run."""

from __future__ import annotations

import ast as python_ast
import hashlib
import os
import subprocess
import sys
import warnings
from datetime import date

import pytest

from governance_engine.evaluate.codegen import compile_pack, generate
from governance_engine.evaluate.reference import ReferenceEvaluator
from governance_engine.evaluate.snapshot import SnapshotEvaluator
from governance_engine.evaluate.values import UNKNOWN
from governance_engine.language import ast
from governance_engine.language.packs import FAMILY, load_pack
from governance_engine.state.load import state_from_dict

from ..strategies import AS_OF, make_pack, make_rule

HOSTILE = (
    "x'); __import__('os').system('exit 3'); ('",
    'x"); __import__("os").system("exit 3"); ("',
    "'''\"\"\"",
    "back\\slash\\",
    "\\'; raise SystemExit #",
    "nul\x00 and\nnew line\r\t",
    "é ü 日本 \u2028 \U0001f600",
    "{__import__}",
    "__import__",
)


def outcomes(evaluator, index) -> set[tuple[str, str, str]]:
    return {
        (f.rule.key, f.subject, "unknown" if f.verdict is UNKNOWN else str(f.verdict))
        for f in evaluator.evaluate(index, AS_OF)
    }


def state(nodes: list[dict], edges: list[dict] | None = None):
    return state_from_dict(
        {
            "directed": True,
            "multigraph": True,
            "graph": {"as_of": AS_OF.isoformat()},
            "nodes": nodes,
            "edges": edges or [],
        }
    )


def names_in(source: str) -> set[str]:
    tree = python_ast.parse(source)
    return {n.id for n in python_ast.walk(tree) if isinstance(n, python_ast.Name)} | {
        n.attr for n in python_ast.walk(tree) if isinstance(n, python_ast.Attribute)
    }


@pytest.mark.parametrize("name", FAMILY)
def test_every_shipped_pack_compiles_to_valid_python(name: str) -> None:
    pack = load_pack(name)
    source, _ = generate(pack)
    compile(source, name, "exec")
    assert len(compile_pack(pack)) == len(pack.rules)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_literals_stay_data(text: str) -> None:
    """The text is compared, listed, looked up and used as a name of attribute, relation,
    node type and derived fact; it never runs, and the answers are the reference's."""
    text_literal = ast.Literal(text)
    rules = [
        make_rule("D1", "widget", ast.Compare("==", ast.Attr("a"), text_literal), derive=text),
        make_rule(
            "R1",
            "widget",
            ast.Or(
                (
                    ast.Compare("==", ast.Attr("a"), text_literal),
                    ast.Compare("in", ast.Attr("b"), ast.ListExpr((text_literal, ast.Literal("other")))),
                    ast.Compare(
                        "==", ast.Index(ast.Literal({text: "hit", "k": "miss"}), ast.Attr("c")), ast.Literal("hit")
                    ),
                )
            ),
        ),
        make_rule("R2", "widget", ast.Attr(text)),
        make_rule("R3", "widget", ast.Aggregate("exists", (ast.Step("out", text, text),), None, None)),
    ]
    pack = make_pack(rules)
    source, _ = generate(pack)
    assert "__import__" not in names_in(source)
    assert "system" not in names_in(source)
    index = state(
        [
            {"id": "hit-a", "type": "widget", "a": text},
            {"id": "hit-b", "type": "widget", "b": text},
            {"id": "hit-c", "type": "widget", "c": text},
            {"id": "miss", "type": "widget", "a": text + " ", "b": "x", "c": "k"},
            {"id": "odd", "type": text, "a": 1},
        ],
        [{"source": "miss", "target": "odd", "relation": text}],
    )
    found = outcomes(SnapshotEvaluator(pack), index)
    assert found == outcomes(ReferenceEvaluator(pack), index)
    assert {s for key, s, verdict in found if key == "R1@1" and verdict == "True"} == {"hit-a", "hit-b", "hit-c"}
    assert ("R2@1", "hit-a", "True") in found
    assert ("R3@1", "miss", "True") in found


def test_literals_of_every_kind_are_written_back_exactly() -> None:
    values = [
        0.1,
        -2.25,
        10**40,
        float("inf"),
        float("-inf"),
        date(2026, 12, 24),
        ["a", 1, 2.5, None, True, date(2026, 1, 1)],
        {"k": [1, {"n": "m"}], "é": None},
        None,
        False,
    ]
    rules = [
        make_rule(f"R{i}", "widget", ast.Compare("==", ast.Attr("a"), ast.Literal(value)))
        for i, value in enumerate(values)
    ] + [make_rule("L1", "widget", ast.Compare("<", ast.Attr("a"), ast.Literal(float("inf"))))]
    pack = make_pack(rules)
    nodes = [
        {"id": f"n{i}", "type": "widget", "a": value} for i, value in enumerate([0.1, -2.25, 10**40, 3, "2026-12-24"])
    ]
    index = state(nodes)
    assert outcomes(SnapshotEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index)


def test_constants_where_conditions_go_compile_without_warnings() -> None:
    """`5 is True` would be a SyntaxWarning: constants in conditions are named first."""
    five, text = ast.Literal(5), ast.Literal("x")
    rules = [
        make_rule("R1", "widget", ast.And((five, ast.Attr("a"))), scope=five),
        make_rule("R2", "widget", ast.Or((text, ast.IsNull(ast.Attr("a")))), scope=ast.Arith("+", five, five)),
        make_rule("R3", "widget", ast.Aggregate("exists", (ast.Step("out", "links", None),), text, None)),
        make_rule("R4", "widget", text, derive="flag"),
    ]
    pack = make_pack(rules)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(generate(pack)[0], "<test>", "exec")
    index = state([{"id": "n1", "type": "widget", "a": True}], [{"source": "n1", "target": "n1", "relation": "links"}])
    assert outcomes(SnapshotEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index)


def test_lets_read_lets_once_each_and_unread_lets_cost_nothing() -> None:
    a, b = ast.LetRef("a"), ast.LetRef("b")
    lets = (
        ("a", ast.Arith("+", ast.Attr("a"), ast.Literal(1))),
        ("b", ast.Arith("*", a, a)),
        ("unread", ast.Aggregate("sum", (ast.Step("out", "links", None),), None, ast.Attr("zz"))),
    )
    condition = ast.Or((ast.Compare(">", b, ast.Literal(3)), ast.Compare("<", a, ast.Literal(0))))
    pack = make_pack([make_rule("R1", "widget", condition, lets=lets, scope=ast.IsNull(ast.Attr("c"), True))])
    source = generate(pack)[0]
    assert source.count("def let0") == source.count("def let1") == 1
    assert "def let2" not in source
    index = state([{"id": f"n{i}", "type": "widget", "a": a, "c": 1} for i, a in enumerate((-5, -1, 0, 1, 2.5, "x"))])
    assert outcomes(SnapshotEvaluator(pack), index) == outcomes(ReferenceEvaluator(pack), index)


def test_the_namespace_holds_no_way_out() -> None:
    run = compile_pack(load_pack("directive"))[0]
    builtins = run.__globals__["__builtins__"]
    assert not {"__import__", "eval", "exec", "open", "compile", "getattr", "globals"} & set(builtins)


def _digest(seed: str) -> str:
    code = (
        "import hashlib; from governance_engine.evaluate.codegen import generate; "
        "from governance_engine.language.packs import FAMILY, load_pack; "
        "print(hashlib.sha256(''.join(generate(load_pack(n))[0] for n in FAMILY).encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout


def test_the_same_pack_gives_the_same_source() -> None:
    pack = load_pack("directive")
    assert generate(pack)[0] == generate(pack)[0]
    here = hashlib.sha256("".join(generate(load_pack(n))[0] for n in FAMILY).encode()).hexdigest()
    assert _digest("1").strip() == _digest("2").strip() == here


@pytest.mark.parametrize("seed", (1, 3, 7))
def test_compiled_lets_equal_the_reference_interpreters_on_the_shipped_packs(seed: int) -> None:
    """The evidence and messages read the lets from the compiled code under the snapshot
    evaluator: for every rule with lets and every subject of its type, the same values (and
    kinds: 1 is not 1.0 is not True) as the reference interpreter, roll-ups included."""
    from governance_engine import Engine
    from governance_engine.decide.evidence import Explainer
    from governance_engine.decide.rollup import RollUp
    from governance_engine.generate import generate_portfolio

    engine = Engine(evaluator="reference")
    compared = 0
    for document in generate_portfolio(4, seed=seed, tasks=30, breaking_share=0.5):
        index, _ = engine.load(document)
        index.enrich_schedule()
        when = index.as_of or AS_OF
        rollup = RollUp(index, engine.evaluate(index).decisions)
        for name in FAMILY:
            pack = load_pack(name)
            compiled = SnapshotEvaluator(pack).lets
            assert set(compiled) == {id(r) for r in pack.rules if r.lets}
            reference = Explainer(index, when, list(pack.rules), rollup)
            fast = Explainer(index, when, list(pack.rules), rollup, compiled)
            for rule in pack.rules:
                if not rule.lets:
                    continue
                for subject in index.of_type(rule.applies_to):
                    expected = reference.context(rule, subject).lets
                    assert repr(fast.context(rule, subject).lets) == repr(expected), (name, rule.id, subject.id)
                    compared += 1
    assert compared > 100
