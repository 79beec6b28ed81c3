"""The expression parser: every construct gives the expected AST; every mistake is one
RulesetError located at the offending character of the file."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine.errors import Location, RulesetError
from governance_engine.language import ast
from governance_engine.language.parser import MAX_EXPRESSION_CHARS, SCALAR_FUNCTIONS, parse_expression

LINE, COL = 7, 16  # where the expression text starts in its file
WHERE = Location(file="r.yaml", line=LINE, column=COL)


def parse(text: str) -> ast.Expr:
    return parse_expression(text, WHERE)


def error(text: str, where: Location = WHERE) -> RulesetError:
    with pytest.raises(RulesetError) as caught:
        parse_expression(text, where)
    assert caught.value.location.file == where.file
    return caught.value


def lit(value) -> ast.Literal:
    return ast.Literal(value)


def attr(name: str) -> ast.Attr:
    return ast.Attr(name)


def out(relation: str, node_type: str | None) -> ast.Step:
    return ast.Step("out", relation, node_type)


def into(relation: str, node_type: str | None) -> ast.Step:
    return ast.Step("in", relation, node_type)


# --------------------------------------------------------------------------- valid expressions

VALID: list[tuple[str, ast.Expr]] = [
    # literals and names
    ("42", lit(42)),
    ("2.5", lit(2.5)),
    ("-3", lit(-3)),
    ('"red"', lit("red")),
    ("true", lit(True)),
    ("false", lit(False)),
    ("phase", attr("phase")),
    ("as_of", ast.AsOf()),
    ("subject.phase", ast.SubjectAttr("phase")),
    ("edge.kind", ast.EdgeAttr("kind")),
    ("-budget", ast.Neg(attr("budget"))),
    # comparisons
    ("a == 1", ast.Compare("==", attr("a"), lit(1))),
    ("a != 1", ast.Compare("!=", attr("a"), lit(1))),
    ("a < 1", ast.Compare("<", attr("a"), lit(1))),
    ("a <= 1", ast.Compare("<=", attr("a"), lit(1))),
    ("a > 1", ast.Compare(">", attr("a"), lit(1))),
    ("a >= 1", ast.Compare(">=", attr("a"), lit(1))),
    ('status == "active"', ast.Compare("==", attr("status"), lit("active"))),
    # boolean operators: not binds tighter than and, and tighter than or
    (
        "a and b or not c",
        ast.Or((ast.And((attr("a"), attr("b"))), ast.Not(attr("c")))),
    ),
    ("a or b and c", ast.Or((attr("a"), ast.And((attr("b"), attr("c")))))),
    ("a and b and c", ast.And((attr("a"), attr("b"), attr("c")))),
    ("a or b or c", ast.Or((attr("a"), attr("b"), attr("c")))),
    ("(a or b) and c", ast.And((ast.Or((attr("a"), attr("b"))), attr("c")))),
    ("not not a", ast.Not(ast.Not(attr("a")))),
    ("not a == 1", ast.Not(ast.Compare("==", attr("a"), lit(1)))),
    # arithmetic: * / before + -, left associative
    (
        "1 + 2 * 3",
        ast.Arith("+", lit(1), ast.Arith("*", lit(2), lit(3))),
    ),
    (
        "(1 + 2) * 3",
        ast.Arith("*", ast.Arith("+", lit(1), lit(2)), lit(3)),
    ),
    (
        "a - b - c",
        ast.Arith("-", ast.Arith("-", attr("a"), attr("b")), attr("c")),
    ),
    (
        "a / b * c",
        ast.Arith("*", ast.Arith("/", attr("a"), attr("b")), attr("c")),
    ),
    (
        "actual_cost > budget * 1.1 + 5",
        ast.Compare(
            ">",
            attr("actual_cost"),
            ast.Arith("+", ast.Arith("*", attr("budget"), lit(1.1)), lit(5)),
        ),
    ),
    ("-a * 2", ast.Arith("*", ast.Neg(attr("a")), lit(2))),
    # membership and null tests
    (
        'phase in ["planning", "execution"]',
        ast.Compare("in", attr("phase"), ast.ListExpr((lit("planning"), lit("execution")))),
    ),
    ("kind not in [1, 2]", ast.Compare("notin", attr("kind"), ast.ListExpr((lit(1), lit(2))))),
    ("x in []", ast.Compare("in", attr("x"), ast.ListExpr(()))),
    ("owner is null", ast.IsNull(attr("owner"), False)),
    ("owner is not null", ast.IsNull(attr("owner"), True)),
    ("a + 1 is null", ast.IsNull(ast.Arith("+", attr("a"), lit(1)), False)),
    # parameters
    ("$limit", ast.Param("limit")),
    ("tcpi > $tcpi_limit", ast.Compare(">", attr("tcpi"), ast.Param("tcpi_limit"))),
    ("$gate_documents[target_phase]", ast.Index(ast.Param("gate_documents"), attr("target_phase"))),
    ('$m["x"][0]', ast.Index(ast.Index(ast.Param("m"), lit("x")), lit(0))),
    ("role in $roles", ast.Compare("in", attr("role"), ast.Param("roles"))),
    # scalar functions
    ("days_since(start) > 3", ast.Compare(">", ast.Call("days_since", (attr("start"),)), lit(3))),
    ("days_until(due)", ast.Call("days_until", (attr("due"),))),
    ("working_days_since(requested_on)", ast.Call("working_days_since", (attr("requested_on"),))),
    ("working_days_until(due)", ast.Call("working_days_until", (attr("due"),))),
    ("len(tags)", ast.Call("len", (attr("tags"),))),
    ("difference(a, b)", ast.Call("difference", (attr("a"), attr("b")))),
    ("abs(cv)", ast.Call("abs", (attr("cv"),))),
    ("coalesce(forecast_finish, finish)", ast.Call("coalesce", (attr("forecast_finish"), attr("finish")))),
    ('date("2026-07-01")', lit(date(2026, 7, 1))),
    ('finish > date("2026-07-01")', ast.Compare(">", attr("finish"), lit(date(2026, 7, 1)))),
    # graph functions
    ("count(->contains->risk)", ast.Aggregate("count", (out("contains", "risk"),), None, None)),
    ("exists(->contains->risk)", ast.Aggregate("exists", (out("contains", "risk"),), None, None)),
    ("exists(<-mitigates<-*)", ast.Aggregate("exists", (into("mitigates", None),), None, None)),
    (
        "count(<-contains<-project->contains->document)",
        ast.Aggregate("count", (into("contains", "project"), out("contains", "document")), None, None),
    ),
    (
        'count(->contains->risk where status == "open" and score >= $red)',
        ast.Aggregate(
            "count",
            (out("contains", "risk"),),
            ast.And(
                (ast.Compare("==", attr("status"), lit("open")), ast.Compare(">=", attr("score"), ast.Param("red")))
            ),
            None,
        ),
    ),
    (
        "all(->contains->gate where status == subject.status)",
        ast.Aggregate(
            "all",
            (out("contains", "gate"),),
            ast.Compare("==", attr("status"), ast.SubjectAttr("status")),
            None,
        ),
    ),
    ("sum(->contains->task, cost)", ast.Aggregate("sum", (out("contains", "task"),), None, attr("cost"))),
    ("min(->contains->task, finish)", ast.Aggregate("min", (out("contains", "task"),), None, attr("finish"))),
    ("max(->contains->task, finish)", ast.Aggregate("max", (out("contains", "task"),), None, attr("finish"))),
    (
        "sum(<-assigned_to<-person where edge.allocation > 0, edge.allocation)",
        ast.Aggregate(
            "sum",
            (into("assigned_to", "person"),),
            ast.Compare(">", ast.EdgeAttr("allocation"), lit(0)),
            ast.EdgeAttr("allocation"),
        ),
    ),
    (
        'values(<-contains<-project->contains->document where status == "approved", kind)',
        ast.Aggregate(
            "values",
            (into("contains", "project"), out("contains", "document")),
            ast.Compare("==", attr("status"), lit("approved")),
            attr("kind"),
        ),
    ),
    (
        "not exists(<-approves<-person where role in $roles)",
        ast.Not(
            ast.Aggregate(
                "exists",
                (into("approves", "person"),),
                ast.Compare("in", attr("role"), ast.Param("roles")),
                None,
            )
        ),
    ),
    (
        "count(->contains->task) + 1 > 2",
        ast.Compare(
            ">",
            ast.Arith("+", ast.Aggregate("count", (out("contains", "task"),), None, None), lit(1)),
            lit(2),
        ),
    ),
    # whitespace and line breaks are free
    ("  a\n  and\n  b  ", ast.And((attr("a"), attr("b")))),
    ("count ( ->contains->task )", ast.Aggregate("count", (out("contains", "task"),), None, None)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_expression_gives_expected_ast(text: str, expected: ast.Expr) -> None:
    assert parse(text) == expected


def test_spans_are_relative_to_the_expression_text() -> None:
    expr = parse("a == 1 and\n  b > 2")
    assert isinstance(expr, ast.And)
    first, second = expr.items
    assert first.span == ast.Span(1, 1)
    assert second.span == ast.Span(2, 3)
    assert second.right.span == ast.Span(2, 7)


def test_names_that_start_with_keywords_are_plain_names() -> None:
    # `or`, `and`, `in`, `is`, `not`, `null` ... are only keywords as whole words
    assert parse("order == notes") == ast.Compare("==", attr("order"), attr("notes"))
    assert parse("android and island") == ast.And((attr("android"), attr("island")))
    assert parse("counter") == attr("counter")
    assert parse("nullable is null") == ast.IsNull(attr("nullable"))


def test_string_escapes_are_decoded() -> None:
    assert parse(r'"say \"hi\"\n"') == lit('say "hi"\n')


def test_floats_and_exponents() -> None:
    assert parse("1e3") == lit(1000.0)
    assert parse("0.5") == lit(0.5)
    assert isinstance(parse("7").value, int)


# --------------------------------------------------------------------------- errors


def test_unexpected_token_is_located_on_line_one() -> None:
    e = error("budget > > 3")  # the second '>' is character 10
    assert e.message.startswith("unexpected '>'")
    assert "expected one of" in e.message
    assert (e.location.line, e.location.column) == (LINE, COL + 10 - 1)


def test_unexpected_character_is_located() -> None:
    e = error("a @ b")
    assert e.message.startswith("unexpected character '@'")
    assert "expected one of" in e.message
    assert (e.location.line, e.location.column) == (LINE, COL + 2)


def test_error_on_a_later_line_uses_that_lines_column() -> None:
    e = error("a > 1\n  and @")
    assert (e.location.line, e.location.column) == (LINE + 1, 7)
    e = error("a > 1\nand\n   b c")
    assert e.message.startswith("unexpected 'c'")
    assert (e.location.line, e.location.column) == (LINE + 2, 6)


def test_location_defaults_to_line_and_column_one() -> None:
    e = error("a b", Location(file="x.yaml"))
    assert (e.location.line, e.location.column) == (1, 3)


def test_expected_tokens_are_listed_in_lower_case_without_underscores() -> None:
    e = error("a ==")
    assert "unexpected end of expression" in e.message
    assert "expected one of: " in e.message
    expected = e.message.split("expected one of: ")[1].split(", ")
    assert "name" in expected and "param" in expected and "signed_number" in expected
    assert all(name == name.lower() and not name.startswith("_") for name in expected)


def test_chained_comparison_is_refused() -> None:
    e = error("a < b < c")
    assert e.message.startswith("unexpected '<'")
    assert e.location.column == COL + 6


def test_unclosed_string_is_an_unexpected_character() -> None:
    e = error('status == "open')
    assert e.message.startswith("unexpected character '\"'")
    assert e.location.column == COL + 10


def test_stray_closing_bracket() -> None:
    e = error("x[1]]")
    assert e.message == "unexpected ']'; expected one of: $end"
    assert e.location.column == COL + 4


def test_path_step_without_node_type() -> None:
    e = error("count(->contains)")
    assert e.message.startswith("unexpected ')'")
    assert "out_arrow" in e.message
    assert e.location.column == COL + 16


def test_unexpected_end_points_after_the_last_character() -> None:
    e = error("a ==")
    assert e.message.startswith("unexpected end of expression")
    assert (e.location.line, e.location.column) == (LINE, COL + len("a =="))


def test_unknown_function_lists_the_known_ones() -> None:
    e = error("a and frobnicate(1)")
    assert e.message.startswith("unknown function 'frobnicate' (known: ")
    for name in SCALAR_FUNCTIONS:
        assert name in e.message
    assert "abs, coalesce, date, days_since" in e.message  # sorted
    assert (e.location.line, e.location.column) == (LINE, COL + 6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("len(a, b)", "len() takes 1 argument(s), got 2"),
        ("len()", "len() takes 1 argument(s), got 0"),
        ("difference(a)", "difference() takes 2 argument(s), got 1"),
        ("coalesce(a, b, c)", "coalesce() takes 2 argument(s), got 3"),
        ("days_since()", "days_since() takes 1 argument(s), got 0"),
        ('date("2026-01-01", "x")', "date() takes 1 argument(s), got 2"),
    ],
)
def test_wrong_argument_count(text: str, message: str) -> None:
    e = error(f"x > {text}")
    assert e.message == message
    assert e.location.column == COL + 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('date("next week")', "date('next week') is not an ISO date YYYY-MM-DD"),
        ('date("2026-02-30")', "date('2026-02-30') is not an ISO date YYYY-MM-DD"),
        ("date(start)", "date() takes a literal 'YYYY-MM-DD' string"),
        ("date(20260101)", "date() takes a literal 'YYYY-MM-DD' string"),
    ],
)
def test_bad_date_literal(text: str, message: str) -> None:
    e = error(f"finish > {text}")
    assert e.message == message
    assert (e.location.line, e.location.column) == (LINE, COL + 9)


def test_unknown_prefix() -> None:
    e = error("status == x.y")
    assert e.message == "unknown prefix 'x': use 'subject.' or 'edge.' (or a plain attribute name)"
    assert (e.location.line, e.location.column) == (LINE, COL + 10)


def test_aggregate_missing_its_value() -> None:
    e = error("sum(->contains->task) > 3")
    assert e.message == "sum() needs a value: sum(PATH, ATTRIBUTE)"
    assert e.location.column == COL
    for func in ("min", "max", "values"):
        assert error(f"{func}(->contains->task)").message.startswith(f"{func}() needs a value")


def test_aggregate_with_an_unwanted_value() -> None:
    assert error("count(->contains->task, cost)").message == "count() takes no value argument"
    assert error("exists(->contains->task, cost)").message == "exists() takes no value argument"


def test_all_needs_a_condition() -> None:
    e = error("a and all(->contains->task)")
    assert e.message == "all() needs a condition: all(PATH where CONDITION)"
    assert e.location.column == COL + 6


def test_empty_expression() -> None:
    for text in ("", "   ", "\n\t"):
        e = error(text)
        assert e.message == "empty expression"
        assert (e.location.line, e.location.column) == (LINE, COL)


def test_not_a_string() -> None:
    with pytest.raises(RulesetError, match="expected an expression string, got int"):
        parse_expression(5, WHERE)  # type: ignore[arg-type]


def test_number_literals_out_of_range() -> None:
    assert error("a > 1e999").message == "number literal out of range"
    e = error("a > " + "9" * 41)
    assert e.message == "number literal too long"
    assert e.location.column == COL + 4


def test_expression_longer_than_the_limit() -> None:
    text = "a" * (MAX_EXPRESSION_CHARS + 1)
    e = error(text)
    assert e.message == f"expression longer than {MAX_EXPRESSION_CHARS} characters"
    # exactly at the limit is still parsed
    assert parse("a" * MAX_EXPRESSION_CHARS) == attr("a" * MAX_EXPRESSION_CHARS)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 500 + "1" + ")" * 500,
        "(" * 5000 + "1" + ")" * 5000,
        "not " * 1000 + "a",
        "-" * 5000 + "a",
        "[" * 3000 + "]" * 3000,
        "a" + "[1]" * 3000,
        "len(" * 2000 + "a" + ")" * 2000,
    ],
    ids=["parens-500", "parens-5000", "not-1000", "neg-5000", "lists-3000", "index-3000", "calls-2000"],
)
def test_deep_nesting_is_a_ruleset_error_not_a_recursion_error(text: str) -> None:
    e = error(text)
    assert e.message == "expression nested deeper than 48 levels"
    assert (e.location.line, e.location.column) == (LINE, COL)


def test_moderate_nesting_is_accepted() -> None:
    assert parse("(" * 20 + "1" + ")" * 20) == lit(1)
    assert parse("not " * 30 + "a") is not None


def test_unbalanced_open_parens_at_the_length_limit() -> None:
    e = error("(" * MAX_EXPRESSION_CHARS)
    assert e.message.startswith("unexpected end of expression")


# --------------------------------------------------------------------------- token soup

ALPHABET = list('abxyz_$.,()[]<>=!+-*/"0123456789 \n') + [
    " and ",
    " or ",
    "not ",
    " in ",
    " is ",
    "null",
    "true",
    "->contains->",
    "<-mitigates<-",
    "*",
    "count(",
    "sum(",
    "all(",
    " where ",
    "subject.",
    "edge.",
    "date(",
    "len(",
    '"2026-07-01"',
]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join))
def test_token_soup_gives_an_expression_or_a_ruleset_error(text: str) -> None:
    try:
        result = parse_expression(text, WHERE)
    except RulesetError as e:
        assert e.message
        assert e.location.file == "r.yaml"
        assert e.location.line is not None and e.location.line >= LINE
        assert e.location.column is not None and e.location.column >= 1
        if e.location.line == LINE:
            assert e.location.column >= COL
    else:
        assert isinstance(result, ast.Expr)


@settings(max_examples=300)
@given(st.text(alphabet='abnotrdisul_$.,()[]<>=!+-*/"0123456789 \n\t', max_size=60))
def test_character_soup_gives_an_expression_or_a_ruleset_error(text: str) -> None:
    try:
        result = parse_expression(text, WHERE)
    except RulesetError as e:
        assert e.message
        assert e.location.line is not None and e.location.line >= LINE
    else:
        assert isinstance(result, ast.Expr)
