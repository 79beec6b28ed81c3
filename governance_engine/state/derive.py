"""Derived figures computed at load, so every rule reads the same trusted values.

A figure whose input is missing or whose denominator is zero is left out of the
attributes: absence is how "not defined" is represented (never NaN, never a crash).
Values the file itself gives for these names are replaced or removed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

EVM_FIGURES = ("cpi", "spi", "cv", "sv", "eac", "vac", "tcpi")

Number = int | float


def derive_project(attrs: dict[str, Any]) -> None:
    """Earned-value figures from budget (BAC), planned value, earned value, actual cost."""
    for name in EVM_FIGURES:
        attrs.pop(name, None)
    budget = attrs.get("budget")
    planned = attrs.get("planned_value")
    earned = attrs.get("earned_value")
    actual = attrs.get("actual_cost")
    cpi = _ratio(earned, actual)
    _put(attrs, "cpi", cpi)
    _put(attrs, "spi", _ratio(earned, planned))
    _put(attrs, "cv", _difference(earned, actual))
    _put(attrs, "sv", _difference(earned, planned))
    eac = _ratio(budget, cpi)
    _put(attrs, "eac", eac)
    _put(attrs, "vac", _difference(budget, eac))
    _put(attrs, "tcpi", _ratio(_difference(budget, earned), _difference(budget, actual)))


def derive_risk(attrs: dict[str, Any]) -> None:
    """Risk score = probability x impact."""
    attrs.pop("score", None)
    probability = attrs.get("probability")
    impact = attrs.get("impact")
    if probability is not None and impact is not None:
        attrs["score"] = probability * impact


DERIVERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "project": derive_project,
    "risk": derive_risk,
}


def _ratio(numerator: Number | None, denominator: Number | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    try:
        return numerator / denominator
    except OverflowError:
        return None


def _difference(left: Number | None, right: Number | None) -> Number | None:
    if left is None or right is None:
        return None
    return left - right


def _put(attrs: dict[str, Any], name: str, value: Number | None) -> None:
    if isinstance(value, int) or (value is not None and math.isfinite(value)):
        attrs[name] = value
