"""Expression text -> rule syntax tree. Every mistake is a RulesetError with line and column."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from functools import lru_cache, partial
from importlib import resources

from lark import Lark, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from ..errors import Location, RulesetError
from . import ast

MAX_EXPRESSION_CHARS = 20_000
MAX_NESTING = 48
MAX_TREE_DEPTH = 100  # syntax tree levels: a long `a + b + ...` chain nests one level per term

SCALAR_FUNCTIONS = {
    "days_since": 1,
    "days_until": 1,
    "working_days_since": 1,
    "working_days_until": 1,
    "date": 1,
    "len": 1,
    "difference": 2,
    "abs": 1,
    "coalesce": 2,
}
AGGREGATES_NEEDING_VALUE = {"sum", "min", "max", "values"}


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = resources.files(__package__).joinpath("expression.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


class _ExpressionError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def _span(meta) -> ast.Span | None:
    return ast.Span(meta.line, meta.column) if not meta.empty else None


@v_args(meta=True)
class _ToAst(Transformer):
    def or_(self, meta, items):
        return items[0] if len(items) == 1 else ast.Or(tuple(items), span=_span(meta))

    def and_(self, meta, items):
        return items[0] if len(items) == 1 else ast.And(tuple(items), span=_span(meta))

    def not_(self, meta, items):
        return ast.Not(items[0], span=_span(meta))

    def compare(self, meta, items):
        left, op, right = items
        return ast.Compare(str(op), left, right, span=_span(meta))

    def in_(self, meta, items):
        return ast.Compare("in", items[0], items[1], span=_span(meta))

    def not_in(self, meta, items):
        return ast.Compare("notin", items[0], items[1], span=_span(meta))

    def is_null(self, meta, items):
        return ast.IsNull(items[0], False, span=_span(meta))

    def is_not_null(self, meta, items):
        return ast.IsNull(items[0], True, span=_span(meta))

    def arith(self, meta, items):
        result = items[0]
        for op, right in zip(items[1::2], items[2::2], strict=True):
            result = ast.Arith(str(op), result, right, span=_span(meta))
        return result

    def neg(self, meta, items):
        operand = items[0]
        if isinstance(operand, ast.Literal) and isinstance(operand.value, int | float):
            return ast.Literal(-operand.value, span=_span(meta))
        return ast.Neg(operand, span=_span(meta))

    def index(self, meta, items):
        return ast.Index(items[0], items[1], span=_span(meta))

    def number(self, meta, items):
        text = str(items[0])
        if len(text) > 40:
            raise _ExpressionError("number literal too long", meta.line, meta.column)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            raise _ExpressionError("number literal out of range", meta.line, meta.column)
        return ast.Literal(value, span=_span(meta))

    def string(self, meta, items):
        # The grammar's ESCAPED_STRING admits what JSON refuses (raw control characters,
        # unknown escapes such as "C:\docs") and lone surrogates no report can encode.
        try:
            value = json.loads(str(items[0]))
            value.encode("utf-8")
        except json.JSONDecodeError as error:
            raise _ExpressionError(f"invalid string literal: {error.msg}", meta.line, meta.column + error.pos) from None
        except UnicodeEncodeError:
            raise _ExpressionError("invalid string literal: a lone surrogate escape", meta.line, meta.column) from None
        return ast.Literal(value, span=_span(meta))

    def true(self, meta, items):
        return ast.Literal(True, span=_span(meta))

    def false(self, meta, items):
        return ast.Literal(False, span=_span(meta))

    def param(self, meta, items):
        return ast.Param(str(items[0])[1:], span=_span(meta))

    def list(self, meta, items):
        return ast.ListExpr(tuple(i for i in items if i is not None), span=_span(meta))

    def name(self, meta, items):
        first, second = str(items[0]), items[1]
        span = _span(meta)
        if second is None:
            return ast.AsOf(span=span) if first == "as_of" else ast.Attr(first, span=span)
        if first == "subject":
            return ast.SubjectAttr(str(second), span=span)
        if first == "edge":
            return ast.EdgeAttr(str(second), span=span)
        raise _ExpressionError(
            f"unknown prefix {first!r}: use 'subject.' or 'edge.' (or a plain attribute name)",
            meta.line,
            meta.column,
        )

    def call(self, meta, items):
        name = str(items[0])
        args = tuple(a for a in items[1:] if a is not None)
        if name not in SCALAR_FUNCTIONS:
            known = ", ".join(sorted(SCALAR_FUNCTIONS))
            raise _ExpressionError(f"unknown function {name!r} (known: {known})", meta.line, meta.column)
        if len(args) != SCALAR_FUNCTIONS[name]:
            raise _ExpressionError(
                f"{name}() takes {SCALAR_FUNCTIONS[name]} argument(s), got {len(args)}", meta.line, meta.column
            )
        if name == "date":
            return ast.Literal(_date_literal(args[0], meta), span=_span(meta))
        return ast.Call(name, args, span=_span(meta))

    def aggregate(self, meta, items):
        func, path, where, value = str(items[0]), items[1], items[2], items[3]
        if func in AGGREGATES_NEEDING_VALUE and value is None:
            raise _ExpressionError(f"{func}() needs a value: {func}(PATH, ATTRIBUTE)", meta.line, meta.column)
        if func not in AGGREGATES_NEEDING_VALUE and value is not None:
            raise _ExpressionError(f"{func}() takes no value argument", meta.line, meta.column)
        if func == "blockers" and where is not None:
            raise _ExpressionError("blockers() takes no filter: blockers(PATH)", meta.line, meta.column)
        if func == "all" and where is None:
            raise _ExpressionError("all() needs a condition: all(PATH where CONDITION)", meta.line, meta.column)
        return ast.Aggregate(func, path, where, value, span=_span(meta))

    def path(self, meta, items):
        return tuple(items)

    def out_step(self, meta, items):
        return ast.Step("out", str(items[1]), items[3])

    def in_step(self, meta, items):
        return ast.Step("in", str(items[1]), items[3])

    def node_type(self, meta, items):
        return str(items[0]) if items and items[0] is not None else None


def _date_literal(arg: ast.Expr, meta) -> date:
    if not isinstance(arg, ast.Literal) or not isinstance(arg.value, str):
        raise _ExpressionError("date() takes a literal 'YYYY-MM-DD' string", meta.line, meta.column)
    try:
        return date.fromisoformat(arg.value)
    except ValueError:
        raise _ExpressionError(f"date({arg.value!r}) is not an ISO date YYYY-MM-DD", meta.line, meta.column) from None


def _depth(tree: Tree) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, Tree))
    return deepest


def _ast_depth(expr: ast.Expr) -> int:
    """Without recursion: the evaluators recurse along the tree, so its depth is bounded."""
    deepest, stack = 0, [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_TREE_DEPTH:
            stack.extend((c, depth + 1) for c in ast.children(node))
    return deepest


def offset_location(where: Location, line: int, column: int) -> Location:
    """The file position of (line, column) inside an expression that starts at `where`."""
    base_line = where.line or 1
    base_col = where.column or 1
    return Location(file=where.file, line=base_line + line - 1, column=(base_col + column - 1) if line == 1 else column)


def _describe_expected(error: UnexpectedInput) -> str:
    expected = sorted(getattr(error, "expected", None) or getattr(error, "allowed", None) or [])
    names = [e.lstrip("_").lower() for e in expected][:8]
    return f"; expected one of: {', '.join(names)}" if names else ""


def parse_expression(text: str, where: Location | Callable[[int, int], Location]) -> ast.Expr:
    """Parse one expression. `where` locates the text in its file: the Location of its first
    character, or a function from (line, column) in the text to a Location in the file
    (for YAML block scalars, whose lines are indented and folded)."""
    if isinstance(text, str) and text in _PARSED:
        return _PARSED[text]
    located = where if callable(where) else partial(offset_location, where)
    where = located(1, 1)

    if not isinstance(text, str):
        raise RulesetError(f"expected an expression string, got {type(text).__name__}", where)
    if len(text) > MAX_EXPRESSION_CHARS:
        raise RulesetError(f"expression longer than {MAX_EXPRESSION_CHARS} characters", where)
    if not text.strip():
        raise RulesetError("empty expression", where)
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as e:
        raise RulesetError(
            f"unexpected character {e.char!r}{_describe_expected(e)}", located(e.line, e.column)
        ) from None
    except UnexpectedToken as e:
        if e.token.type == "$END":  # lark borrows the last token's position: point past the text
            lines = text.rstrip().split("\n")
            raise RulesetError(
                f"unexpected end of expression{_describe_expected(e)}", located(len(lines), len(lines[-1]) + 1)
            ) from None
        raise RulesetError(f"unexpected {str(e.token)!r}{_describe_expected(e)}", located(e.line, e.column)) from None
    except UnexpectedInput as e:
        raise RulesetError(f"cannot parse the expression{_describe_expected(e)}", where) from None
    except RecursionError:
        raise RulesetError(f"expression nested deeper than {MAX_NESTING} levels", where) from None
    if _depth(tree) > MAX_NESTING * 3:
        raise RulesetError(f"expression nested deeper than {MAX_NESTING} levels", where)
    try:
        expr = _ToAst().transform(tree)
    except VisitError as e:
        inner = e.orig_exc
        if isinstance(inner, _ExpressionError):
            raise RulesetError(inner.message, located(inner.line, inner.column)) from None
        raise
    if _ast_depth(expr) > MAX_TREE_DEPTH:
        raise RulesetError(f"expression nested deeper than {MAX_TREE_DEPTH} levels (split it with 'let')", where)
    if len(_PARSED) >= MAX_PARSED:
        _PARSED.clear()
    _PARSED[text] = expr
    return expr


# Expressions parsed in this process, by text. Packs layered on one another parse the same
# rules again (three times for the shipped family); the AST is immutable and its spans are
# relative to the text, so one parse serves every file the text appears in. Only successful
# parses are kept: an error is raised again with its own file's location.
_PARSED: dict[str, ast.Expr] = {}
MAX_PARSED = 4096


__all__ = ["parse_expression", "offset_location", "SCALAR_FUNCTIONS"]
