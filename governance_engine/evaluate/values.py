"""Three-valued (Kleene) semantics shared by every evaluator: what a comparison, a sum or a
date function means when a value is absent or of the wrong kind.

Absence is UNKNOWN, never False: a rule must not pass because its data is missing.
A type mismatch (a date compared with a number) is UNKNOWN too: the evidence cannot decide.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any, Final


class _Unknown:
    __slots__ = ()
    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        raise TypeError("UNKNOWN has no truth value; use the three-valued helpers")


UNKNOWN: Final = _Unknown()


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_date(value: Any) -> Any:
    """Dates arrive as date objects (known attributes) or ISO strings (custom ones)."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return UNKNOWN
    return UNKNOWN


def truth(value: Any) -> Any:
    """A condition's value: True, False, or UNKNOWN for absence or a non-boolean."""
    if value is True or value is False:
        return value
    return UNKNOWN


def kleene_not(value: Any) -> Any:
    return UNKNOWN if value is UNKNOWN else not value


def _comparable(a: Any, b: Any) -> bool:
    if is_number(a):
        return is_number(b)
    if isinstance(a, str):
        return isinstance(b, str)
    if isinstance(a, date):
        return isinstance(b, date)
    if isinstance(a, bool):
        return isinstance(b, bool)
    return False


def _coerce_dates(a: Any, b: Any) -> tuple[Any, Any]:
    """A date compared with an ISO string (a custom attribute) compares as dates."""
    if isinstance(a, date) and isinstance(b, str):
        return a, as_date(b)
    if isinstance(b, date) and isinstance(a, str):
        return as_date(a), b
    return a, b


def equals(a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    a, b = _coerce_dates(a, b)
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(repr, a)) == sorted(map(repr, b))
    if not _comparable(a, b):
        return UNKNOWN
    return a == b


def compare(op: str, a: Any, b: Any) -> Any:
    if op == "==":
        return equals(a, b)
    if op == "!=":
        return kleene_not(equals(a, b))
    if op == "in":
        return member(a, b)
    if op == "notin":
        return kleene_not(member(a, b))
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    a, b = _coerce_dates(a, b)
    if a is UNKNOWN or b is UNKNOWN or isinstance(a, bool) or not _comparable(a, b):
        return UNKNOWN
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    raise ValueError(f"unknown comparison {op}")


def member(item: Any, collection: Any) -> Any:
    """`x in list`: True if some element equals x, False if all differ, else UNKNOWN."""
    if item is UNKNOWN or collection is UNKNOWN:
        return UNKNOWN
    if isinstance(collection, str) and isinstance(item, str):
        return item in collection
    if not isinstance(collection, list):
        return UNKNOWN
    undecided = False
    for element in collection:
        verdict = equals(item, element)
        if verdict is True:
            return True
        if verdict is UNKNOWN:
            undecided = True
    return UNKNOWN if undecided else False


def arith(op: str, a: Any, b: Any) -> Any:
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if is_number(a) and is_number(b):
        try:
            if op == "+":
                result = a + b
            elif op == "-":
                result = a - b
            elif op == "*":
                result = a * b
            elif b == 0:
                return UNKNOWN
            else:
                result = a / b
        except OverflowError:  # an integer beyond the floats met a float, or a quotient beyond them
            return UNKNOWN
        return result if not isinstance(result, float) or math.isfinite(result) else UNKNOWN
    da, db = as_date(a), as_date(b)
    if op == "-" and isinstance(da, date) and isinstance(db, date):
        return (da - db).days
    if op == "+" and is_number(a) and isinstance(db, date):  # N + date is date + N
        return arith(op, db, a)
    if op in "+-" and isinstance(da, date) and is_number(b) and math.isfinite(b) and abs(b) < 3_000_000:
        try:
            return da + timedelta(days=b if op == "+" else -b)
        except OverflowError:
            return UNKNOWN
    return UNKNOWN


def negate(a: Any) -> Any:
    return -a if is_number(a) else UNKNOWN


def index(base: Any, key: Any) -> Any:
    if base is UNKNOWN or key is UNKNOWN:
        return UNKNOWN
    if isinstance(base, dict) and isinstance(key, str):
        return base.get(key, UNKNOWN)
    if isinstance(base, list) and is_number(key) and not isinstance(key, float):
        return base[key] if -len(base) <= key < len(base) else UNKNOWN
    return UNKNOWN


def working_days_between(start: date, end: date) -> int:
    """Mon-Fri days after `start` up to and including `end` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start)
    weeks, extra = divmod((end - start).days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count


def call(name: str, args: list[Any], as_of: date) -> Any:
    if name == "coalesce":
        return args[0] if args[0] is not UNKNOWN else args[1]
    if any(a is UNKNOWN for a in args):
        return UNKNOWN
    if name in ("days_since", "days_until", "working_days_since", "working_days_until"):
        when = as_date(args[0])
        if when is UNKNOWN:
            return UNKNOWN
        if name == "days_since":
            return (as_of - when).days
        if name == "days_until":
            return (when - as_of).days
        if name == "working_days_since":
            return working_days_between(when, as_of)
        return working_days_between(as_of, when)
    if name == "len":
        return len(args[0]) if isinstance(args[0], list | str) else UNKNOWN
    if name == "difference":
        a, b = args
        if not isinstance(a, list) or not isinstance(b, list):
            return UNKNOWN
        return [x for x in a if not any(equals(x, y) is True for y in b)]
    if name == "abs":
        return abs(args[0]) if is_number(args[0]) else UNKNOWN
    raise ValueError(f"unknown function {name}")


def aggregate(func: str, verdicts: list[Any], values: list[Any]) -> Any:
    """Fold the related nodes a path reached. `verdicts[i]` is node i's filter result,
    `values[i]` its value (for sum/min/max/values). Any node whose filter is UNKNOWN, or
    that passes with an unknown value, leaves the figure UNKNOWN where it could change it."""
    if func == "exists":
        if any(v is True for v in verdicts):
            return True
        return UNKNOWN if any(v is UNKNOWN for v in verdicts) else False
    if func == "all":
        if any(v is False for v in verdicts):
            return False
        return UNKNOWN if any(v is UNKNOWN for v in verdicts) else True
    if any(v is UNKNOWN for v in verdicts):
        return UNKNOWN
    if func == "count":
        return sum(1 for v in verdicts if v is True)
    return fold(func, [x for v, x in zip(verdicts, values, strict=True) if v is True])


def fold(func: str, chosen: list[Any]) -> Any:
    """sum / min / max / values of the values a filter kept, once every verdict was True."""
    if func == "values":
        return chosen if all(x is not UNKNOWN for x in chosen) else UNKNOWN
    if not all(type(x) is int or type(x) is float or is_number(x) for x in chosen):
        return UNKNOWN
    if func == "sum":
        return sum(chosen)
    if not chosen:
        return UNKNOWN
    return min(chosen) if func == "min" else max(chosen)
