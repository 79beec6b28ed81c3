"""Rule syntax tree -> the text a PMO designer would have written (for explain and lint)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from . import ast

PRECEDENCE = {ast.Or: 1, ast.And: 2, ast.Not: 3, ast.Compare: 4, ast.IsNull: 4}
ARITH = {"+": 5, "-": 5, "*": 6, "/": 6}


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return f'date("{value.isoformat()}")'
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _level(expr: ast.Expr) -> int:
    if isinstance(expr, ast.Arith):
        return ARITH[expr.op]
    return PRECEDENCE.get(type(expr), 9)


def _wrapped(expr: ast.Expr, parent: int) -> str:
    text = unparse(expr)
    return f"({text})" if _level(expr) < parent else text


def _path(path: tuple[ast.Step, ...]) -> str:
    arrows = {"out": "->", "in": "<-"}
    return "".join(f"{arrows[s.direction]}{s.relation}{arrows[s.direction]}{s.node_type or '*'}" for s in path)


def unparse(expr: ast.Expr) -> str:
    match expr:
        case ast.Literal(value=value):
            return _literal(value)
        case ast.Param(name=name):
            return f"${name}"
        case ast.Attr(name=name) | ast.LetRef(name=name):
            return name
        case ast.SubjectAttr(name=name):
            return f"subject.{name}"
        case ast.EdgeAttr(name=name):
            return f"edge.{name}"
        case ast.AsOf():
            return "as_of"
        case ast.Not(operand=o):
            return f"not {_wrapped(o, 3)}"
        case ast.Neg(operand=o):
            return f"-{_wrapped(o, 7)}"
        case ast.And(items=items):
            return " and ".join(_wrapped(i, 3) for i in items)
        case ast.Or(items=items):
            return " or ".join(_wrapped(i, 2) for i in items)
        case ast.Arith(op=op, left=a, right=b):
            return f"{_wrapped(a, ARITH[op])} {op} {_wrapped(b, ARITH[op] + 1)}"
        case ast.Compare(op=op, left=a, right=b):
            shown = {"notin": "not in"}.get(op, op)
            return f"{_wrapped(a, 5)} {shown} {_wrapped(b, 5)}"
        case ast.IsNull(operand=o, negated=negated):
            return f"{_wrapped(o, 5)} is {'not ' if negated else ''}null"
        case ast.ListExpr(items=items):
            return "[" + ", ".join(unparse(i) for i in items) + "]"
        case ast.Index(base=b, key=k):
            return f"{_wrapped(b, 8)}[{unparse(k)}]"
        case ast.Call(name=name, args=args):
            return f"{name}({', '.join(unparse(a) for a in args)})"
        case ast.Aggregate(func=func, path=path, where=where, value=value):
            text = _path(path) + (f" where {unparse(where)}" if where is not None else "")
            return f"{func}({text}{', ' + unparse(value) if value is not None else ''})"
    raise TypeError(type(expr).__name__)
