"""pydantic types of a pmo-state/1 document, validated straight from JSON bytes in one pass.

Nodes and edges validate into plain dicts (TypedDicts with extra="allow"), so unknown
attributes and custom node types survive untouched and no model objects are built.
Everything is strict: a string is not a number, a timestamp is not a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    TypeAdapter,
)
from pydantic import with_config as _with_config
from pydantic_core import CoreSchema, PydanticCustomError, core_schema
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

SCHEMA = "pmo-state/1"

PmoType = Literal["supportive", "controlling", "directive"]
Phase = Literal["initiation", "planning", "execution", "closing", "closed"]
ProjectStatus = Literal["active", "on_hold", "cancelled", "completed"]
GateStatus = Literal["pending", "requested", "approved", "rejected"]
RiskStatus = Literal["open", "closed"]
Severity = Literal["low", "medium", "high", "critical"]
ChangeStatus = Literal["submitted", "approved", "rejected", "implemented"]
DocumentStatus = Literal["draft", "submitted", "approved"]
DependencyKind = Literal["FS", "SS", "FF", "SF"]
ConstraintType = Literal[
    "as_soon_as_possible",
    "as_late_as_possible",
    "must_start_on",
    "must_finish_on",
    "start_no_earlier_than",
    "start_no_later_than",
    "finish_no_earlier_than",
    "finish_no_later_than",
]
ISOWeekday = Annotated[int, Field(ge=1, le=7)]


# The largest size of a number: beyond it an integer no longer converts to a float, which the
# figures derived from it (a division) and the Rete's facts need.
MAGNITUDE = 10**300


@dataclass(frozen=True, slots=True)
class _FiniteNumber:
    """An int or a finite float (kept as given) within ±1e300, optionally bounded more
    tightly; one error per field."""

    ge: int | None = None
    le: int | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        ge = -MAGNITUDE if self.ge is None else self.ge
        le = MAGNITUDE if self.le is None else self.le
        shown = {-MAGNITUDE: "-1e300", MAGNITUDE: "1e300"}
        message = f"Input should be a finite number from {shown.get(ge, ge)} to {shown.get(le, le)}"
        return core_schema.union_schema(
            [
                core_schema.int_schema(ge=ge, le=le, strict=True),
                core_schema.float_schema(ge=ge, le=le, strict=True, allow_inf_nan=False),
            ],
            custom_error_type="number_expected",
            custom_error_message=message,
        )


Number = Annotated[int | float, _FiniteNumber()]
NonNegative = Annotated[int | float, _FiniteNumber(ge=0)]
Percent = Annotated[int | float, _FiniteNumber(0, 100)]
Allocation = Annotated[int | float, _FiniteNumber(0, 1000)]
Rating = Annotated[int, Field(ge=1, le=5)]
Id = Annotated[str, Field(min_length=1)]

_CONFIG = ConfigDict(extra="allow", strict=True)


def _node(cls: type) -> type:
    """Apply the shared node config: strict types, unknown attributes kept."""
    return _with_config(_CONFIG)(cls)


@_node
class CustomNode(TypedDict):
    """Any node type the schema does not know: only id and type are required."""

    id: Id
    type: str


@_node
class PmoNode(CustomNode):
    """A PMO; its pmo_type is required because projects take their type from it."""

    name: NotRequired[str | None]
    pmo_type: PmoType


@_node
class ContainerNode(CustomNode):
    """A portfolio or a program."""

    name: NotRequired[str | None]
    budget: NotRequired[Number | None]


@_node
class ProjectNode(CustomNode):
    """A project with its earned-value inputs."""

    name: NotRequired[str | None]
    phase: NotRequired[Phase | None]
    status: NotRequired[ProjectStatus | None]
    start: NotRequired[date | None]
    finish: NotRequired[date | None]
    baseline_finish: NotRequired[date | None]
    forecast_finish: NotRequired[date | None]
    budget: NotRequired[Number | None]
    contingency: NotRequired[Number | None]
    planned_value: NotRequired[Number | None]
    earned_value: NotRequired[Number | None]
    actual_cost: NotRequired[Number | None]
    percent_complete: NotRequired[Percent | None]
    schedule_source: NotRequired[Literal["mspdi", "xer", "psplib", "manual"] | None]


@_node
class GateNode(CustomNode):
    """A stage gate."""

    name: NotRequired[str | None]
    sequence: NotRequired[int | None]
    status: NotRequired[GateStatus | None]
    target_phase: NotRequired[Phase | None]
    requested_on: NotRequired[date | None]


@_node
class WorkNode(CustomNode):
    """A task, milestone or deliverable."""

    name: NotRequired[str | None]
    start: NotRequired[date | None]
    finish: NotRequired[date | None]
    due: NotRequired[date | None]
    duration_days: NotRequired[NonNegative | None]
    percent_complete: NotRequired[Percent | None]
    status: NotRequired[str | None]
    baseline_finish: NotRequired[date | None]
    completed_on: NotRequired[date | None]
    # Schedule attributes, as imported from MS Project, Primavera P6 or PSPLIB (#8).
    # Durations and lags of an item linked to a calendar are in that calendar's working days.
    baseline_start: NotRequired[date | None]
    actual_start: NotRequired[date | None]
    remaining_duration_days: NotRequired[NonNegative | None]
    constraint_type: NotRequired[ConstraintType | None]
    constraint_date: NotRequired[date | None]
    summary: NotRequired[bool | None]
    level_of_effort: NotRequired[bool | None]
    wbs: NotRequired[str | None]
    source_total_float_days: NotRequired[Number | None]


@_node
class RiskNode(CustomNode):
    """A risk; probability and impact are rated 1-5."""

    title: NotRequired[str | None]
    probability: NotRequired[Rating | None]
    impact: NotRequired[Rating | None]
    status: NotRequired[RiskStatus | None]
    owner: NotRequired[str | None]
    review_due: NotRequired[date | None]


@_node
class IssueNode(CustomNode):
    """An issue."""

    title: NotRequired[str | None]
    severity: NotRequired[Severity | None]
    status: NotRequired[str | None]
    opened_on: NotRequired[date | None]
    due: NotRequired[date | None]
    owner: NotRequired[str | None]


@_node
class ChangeRequestNode(CustomNode):
    """A change request."""

    title: NotRequired[str | None]
    status: NotRequired[ChangeStatus | None]
    cost_impact: NotRequired[Number | None]
    schedule_impact_days: NotRequired[Number | None]
    submitted_on: NotRequired[date | None]


@_node
class DocumentNode(CustomNode):
    """A governance document; kind is an open list."""

    kind: NotRequired[str | None]
    status: NotRequired[DocumentStatus | None]
    updated_on: NotRequired[date | None]
    approved_on: NotRequired[date | None]


@_node
class PersonNode(CustomNode):
    """A person and their weekly capacity in hours."""

    name: NotRequired[str | None]
    role: NotRequired[str | None]
    capacity: NotRequired[NonNegative | None]
    certifications: NotRequired[list[str] | None]


@_node
class ObjectiveNode(CustomNode):
    """A strategic objective."""

    name: NotRequired[str | None]


@_node
class CalendarNode(CustomNode):
    """Working time for CPM: projects and items link to it with `uses_calendar`."""

    name: NotRequired[str | None]
    working_weekdays: NotRequired[list[ISOWeekday] | None]
    holidays: NotRequired[list[date] | None]
    working_exceptions: NotRequired[list[date] | None]
    hours_per_day: NotRequired[NonNegative | None]


KNOWN_TAG_ERROR = "known_tag"


@dataclass(frozen=True, slots=True)
class _OpenUnion:
    """A union tagged by one field, dispatched in Rust, with a fallback for other tags.

    A callable discriminator would convert every item to Python first (twice the cost);
    instead the known models form a native tagged union and only items it rejects try
    the fallback, which refuses known tags so their own errors are the ones reported.
    Errors carry the branch ("known" + tag, or "other") in their loc.
    """

    field: str
    known: tuple[tuple[str, type], ...]
    fallback: type

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        tags = frozenset(tag for tag, _ in self.known)
        field = self.field

        def other_tags_only(value: dict[str, Any]) -> dict[str, Any]:
            if value[field] in tags:
                raise PydanticCustomError(KNOWN_TAG_ERROR, "validated by its own model")
            return value

        tagged = core_schema.tagged_union_schema(
            {tag: handler.generate_schema(model) for tag, model in self.known},
            discriminator=field,
        )
        fallback = core_schema.no_info_after_validator_function(other_tags_only, handler.generate_schema(self.fallback))
        return core_schema.union_schema([(tagged, "known"), (fallback, "other")], mode="left_to_right")


NodeData = Annotated[
    dict[str, Any],
    _OpenUnion(
        "type",
        (
            ("pmo", PmoNode),
            ("portfolio", ContainerNode),
            ("program", ContainerNode),
            ("project", ProjectNode),
            ("gate", GateNode),
            ("task", WorkNode),
            ("milestone", WorkNode),
            ("deliverable", WorkNode),
            ("risk", RiskNode),
            ("issue", IssueNode),
            ("change_request", ChangeRequestNode),
            ("document", DocumentNode),
            ("person", PersonNode),
            ("objective", ObjectiveNode),
            ("calendar", CalendarNode),
        ),
        CustomNode,
    ),
]


@_node
class EdgeData(TypedDict):
    """An edge of any relation, custom ones included."""

    source: Id
    target: Id
    relation: Annotated[str, Field(min_length=1)]
    allocation: NotRequired[Allocation]


@_node
class DependencyData(EdgeData):
    """A depends_on edge: from the dependent item to the one it depends on."""

    kind: NotRequired[DependencyKind]
    lag_days: NotRequired[Number]


# The relations of the vocabulary (language/vocabulary.py RELATIONS) are dispatched by tag,
# so only custom relations pay for trying the tagged union first.
GENERIC_RELATIONS = (
    "contains",
    "governs",
    "mitigates",
    "sponsors",
    "manages",
    "owns",
    "approves",
    "assigned_to",
    "aligns_with",
    "uses_calendar",
    "decomposes_into",
    "affects",
)
EdgeUnion = Annotated[
    dict[str, Any],
    _OpenUnion(
        "relation",
        (("depends_on", DependencyData), *((relation, EdgeData) for relation in GENERIC_RELATIONS)),
        EdgeData,
    ),
]


@_node
class GraphData(TypedDict):
    """Graph-level attributes; others are kept."""

    schema: NotRequired[Literal["pmo-state/1"]]
    as_of: NotRequired[date | None]
    currency: NotRequired[str | None]
    pmo_type: NotRequired[PmoType | None]


@_with_config(ConfigDict(extra="ignore", strict=True))
class StateDocument(TypedDict):
    """A node-link document; edges may be called "links" as networkx once named them."""

    directed: NotRequired[Literal[True]]
    multigraph: NotRequired[bool]
    graph: NotRequired[GraphData]
    nodes: list[NodeData]
    edges: NotRequired[list[EdgeUnion]]
    links: NotRequired[list[EdgeUnion]]


DOCUMENT = TypeAdapter(StateDocument)


def state_json_schema() -> dict[str, Any]:
    """The JSON Schema of a state document for editors. pydantic renders the open tagged
    unions as `discriminator` (an OpenAPI keyword JSON Schema ignores) beside the fallback,
    which would accept any node; here each known tag gets an if/then on its model instead."""
    schema = DOCUMENT.json_schema()

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            options = node.get("anyOf")
            if (
                isinstance(options, list)
                and len(options) == 2
                and isinstance(options[0], dict)
                and "discriminator" in options[0]
            ):
                tagged, fallback = options
                field = tagged["discriminator"]["propertyName"]
                rules = [
                    {"if": {"properties": {field: {"const": tag}}, "required": [field]}, "then": {"$ref": ref}}
                    for tag, ref in sorted(tagged["discriminator"]["mapping"].items())
                ]
                return {"allOf": [fallback, *rules]}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    return rewrite(schema)
