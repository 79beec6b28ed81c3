"""The pmo-state/1 vocabulary rules are checked against (`govern lint`): node types and
their attributes with kinds, read off the state models, plus derived figures and the
relation table of DESIGN.md."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

from ..state import model as state_model


@dataclass(frozen=True)
class AttributeKind:
    kind: str  # number | text | date | list | bool
    values: frozenset[str] = frozenset()  # the allowed texts of an enumeration


NUMBER, TEXT, DATE, LIST, BOOL = (AttributeKind(k) for k in ("number", "text", "date", "list", "bool"))

DERIVED: dict[str, dict[str, AttributeKind]] = {
    "project": {name: NUMBER for name in ("cpi", "spi", "cv", "sv", "eac", "vac", "tcpi")}
    # from the CPM schedule (state/schedule.py), when a rule reads them
    | {name: NUMBER for name in ("critical_path_length_days", "project_total_float_days", "cpli")}
    | {"critical_path_test": BOOL, "critical_path_test_task": TEXT, "cpm_finish": DATE},
    "risk": {"score": NUMBER},
    "task": {"total_float": NUMBER, "critical": BOOL},
    "milestone": {"total_float": NUMBER, "critical": BOOL},
}
CONVENTIONAL: dict[str, dict[str, AttributeKind]] = {
    # in DESIGN.md or used by the shipped packs, kept as unknown attributes by the loader
    "project": {
        "priority": AttributeKind("text", frozenset({"low", "medium", "high", "critical"})),
        "rag_status": AttributeKind("text", frozenset({"green", "amber", "red"})),
    },
    "risk": {"reviewed_on": DATE},
    "deliverable": {"status": TEXT},
}
ANY_NODE = {"id": TEXT, "type": TEXT}

CONTAINED = ("gate", "task", "milestone", "deliverable", "risk", "issue", "change_request", "document")
PERSON_TARGETS = ("project", "risk", "issue", "document", "gate", "change_request")
RELATIONS: dict[str, set[tuple[str, str]]] = {
    "contains": {("portfolio", "program"), ("portfolio", "project"), ("program", "project")}
    | {(c, t) for c in ("project", "program", "portfolio") for t in CONTAINED},
    "governs": {("pmo", t) for t in ("portfolio", "program", "project")},
    "depends_on": {
        ("task", "task"),
        ("task", "milestone"),
        ("milestone", "task"),
        ("milestone", "milestone"),
        ("project", "project"),
    },
    "mitigates": {("task", "risk"), ("document", "risk")},
    "sponsors": {("person", t) for t in PERSON_TARGETS},
    "manages": {("person", t) for t in PERSON_TARGETS} | {("person", "pmo")},
    "owns": {("person", t) for t in PERSON_TARGETS},
    "approves": {("person", t) for t in PERSON_TARGETS},
    "assigned_to": {("person", "task"), ("person", "milestone")},
    "aligns_with": {("project", "objective")},
    "uses_calendar": {(t, "calendar") for t in ("project", "task", "milestone")},
    "decomposes_into": {("task", "task"), ("task", "milestone")},
    "affects": {
        (s, t) for s in ("risk", "issue", "change_request") for t in ("task", "milestone", "deliverable", "project")
    },
}
EDGE_ATTRIBUTES: dict[str, dict[str, AttributeKind]] = {
    "depends_on": {"kind": AttributeKind("text", frozenset({"FS", "SS", "FF", "SF"})), "lag_days": NUMBER},
    "assigned_to": {"allocation": NUMBER},
}


def _kind(annotation: Any) -> AttributeKind:
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [_kind(a) for a in get_args(annotation) if a is not type(None)]
        return kinds[0] if len(kinds) == 1 else (NUMBER if all(k.kind == "number" for k in kinds) else TEXT)
    if origin is typing.NotRequired or origin is typing.Required:
        return _kind(get_args(annotation)[0])
    if origin is Literal:
        return AttributeKind("text", frozenset(map(str, get_args(annotation))))
    if origin is list:
        return LIST
    if annotation is date:
        return DATE
    if annotation in (int, float):
        return NUMBER
    if annotation is bool:
        return BOOL
    return TEXT


@lru_cache(maxsize=1)
def node_attributes() -> dict[str, dict[str, AttributeKind]]:
    """Attributes per known node type, with their kinds."""
    union = next(m for m in get_args(state_model.NodeData) if isinstance(m, state_model._OpenUnion))
    found: dict[str, dict[str, AttributeKind]] = {}
    for node_type, model in union.known:
        hints = typing.get_type_hints(model, include_extras=True)
        attrs = {name: _kind(hint) for name, hint in hints.items() if name not in ("id", "type")}
        attrs.update(DERIVED.get(node_type, {}))
        attrs.update(CONVENTIONAL.get(node_type, {}))
        found[node_type] = {**ANY_NODE, **attrs}
    return found


def relation_targets(relation: str, source: str | None, direction: str) -> set[str] | None:
    """Node types a step can reach; None when the relation or the source type is not known."""
    pairs = RELATIONS.get(relation)
    if pairs is None or source is None:
        return None
    if direction == "out":
        return {t for s, t in pairs if s == source}
    return {s for s, t in pairs if t == source}
