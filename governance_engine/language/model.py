"""Pydantic models of the documents PMO designers write: ruleset files and pack manifests.
They are also the source of `govern schema`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from ..outcomes import Outcome, PmoType

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]
AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]{0,63}$")]
ModuleName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Expression = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


def _parameter_value(value: Any) -> Any:
    """A parameter holds what rules compare: numbers, text, booleans, dates, and lists or
    mappings of them. A date with a time of day (YAML reads `2026-08-01 10:00` so) compares
    with nothing the rules see."""
    if isinstance(value, datetime):
        raise ValueError(f"{value.isoformat(sep=' ')} has a time of day: give a date (YYYY-MM-DD)")
    if isinstance(value, list):
        for item in value:
            _parameter_value(item)
    elif isinstance(value, dict):
        for item in value.values():
            _parameter_value(item)
    elif value is not None and not isinstance(value, str | int | float | bool | date):
        raise ValueError(f"a parameter cannot hold a {type(value).__name__}")
    return value


ParameterValue = Annotated[Any, AfterValidator(_parameter_value)]
DeclaredOutcome = Outcome | Literal["none"]
OutcomeSpec = DeclaredOutcome | dict[PmoType, DeclaredOutcome]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    """A threshold a pack may set. `stricter` says which way tightens the policy, so that a
    pack that builds on another can be refused when it relaxes it."""

    default: ParameterValue
    stricter: Literal["higher", "lower", "superset", "subset", "none"]
    description: str = ""
    relaxable: bool = False


class ActionSpec(_Strict):
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    owner: Literal["manager", "sponsor", "pmo_lead", "owner"] = "manager"
    due_days: Annotated[int, Field(ge=0, le=3650)] = 10


class RuleSpec(_Strict):
    id: Identifier
    version: Annotated[int, Field(ge=1, le=10_000)] = 1
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    applies_to: AttributeName
    scope: Expression | None = None
    let: dict[AttributeName, Expression] = {}
    condition: Expression
    unless: Expression | None = None
    on_missing: Literal["insufficient", "breach", "pass"] = "insufficient"
    outcome: OutcomeSpec | None = None
    derive: AttributeName | None = None
    message: Annotated[str, StringConstraints(max_length=2000)] = ""
    action: ActionSpec | None = None
    guidance: str | None = None
    references: list[str] = []
    tags: list[str] = []
    effective_from: date | None = None
    effective_until: date | None = None
    relaxable: bool = False
    relaxable_reason: str | None = None

    @model_validator(mode="after")
    def _decides_or_derives(self) -> RuleSpec:
        if (self.outcome is None) == (self.derive is None):
            raise ValueError("a rule has exactly one of 'outcome' (it decides) or 'derive' (it sets a fact)")
        if self.effective_from and self.effective_until and self.effective_until < self.effective_from:
            raise ValueError("effective_until is before effective_from")
        if self.relaxable and not self.relaxable_reason:
            raise ValueError("a relaxable rule must give its relaxable_reason")
        return self


class RulesetSpec(_Strict):
    ruleset: ModuleName
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    description: str = ""
    parameters: dict[AttributeName, ParameterSpec] = {}
    attributes: dict[AttributeName, list[AttributeName]] = Field(
        default={}, description="custom attributes per node type that rules may read"
    )
    edge_attributes: dict[AttributeName, list[AttributeName]] = Field(
        default={}, description="custom attributes per edge relation that rules may read (as edge.name)"
    )
    rules: list[RuleSpec]


class PackSpec(_Strict):
    pack: ModuleName
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    pmo_type: PmoType | None = None
    description: str = ""
    extends: str | None = None
    include: list[ModuleName] = []
    parameters: dict[AttributeName, ParameterValue] = {}
    outcomes: dict[Identifier, OutcomeSpec] = {}
    disable: list[Identifier] = []
