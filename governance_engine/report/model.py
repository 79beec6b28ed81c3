"""The report contract `pmo-governance-report/1`: pydantic models, so the JSON form and its
schema come from one place and a report can be read back and checked."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

from ..outcomes import Outcome, PmoType

REPORT_SCHEMA: Literal["pmo-governance-report/1"] = "pmo-governance-report/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PackRef(_Model):
    """Shared by every report of an Engine, so it cannot be changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    version: str
    digest: str
    pmo_type: PmoType | None = None
    lineage: list[str] = []


class InputRef(_Model):
    source: str
    digest: str


class Action(_Model):
    text: str
    owner: str | None
    owner_name: str | None
    due: date


class Missing(_Model):
    node: str
    attribute: str


class Blocker(_Model):
    """A blocking decision below a program or portfolio gate that holds it (roll-up)."""

    subject: str
    rule_id: str
    outcome: Outcome


class Remedy(_Model):
    """One change that, on its own, clears the decision: an attribute's value, or an edge."""

    node: str | None = None
    attribute: str | None = None
    value: Any = None
    add_edge: dict[str, str] | None = None

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler):
        return {k: v for k, v in handler(self).items() if v is not None}


class Waiver(_Model):
    """The exception that covers a decision: it stays in the report, and no longer blocks."""

    justification: str
    approved_by: str
    expires: date


class WaiverStatus(_Model):
    number: int
    rule: str
    target: str
    status: Literal["applied", "expired", "unmatched"]
    matched: int


class Decision(_Model):
    rule_id: str
    rule_version: int
    title: str
    outcome: Outcome
    subject: str
    subject_type: str
    project: str | None
    pmo_type: PmoType
    pack: str
    message: str
    action: Action | None = None
    guidance: str | None = None
    evidence: dict[str, Any] = {}
    missing: list[Missing] = []
    blocked_by: list[Blocker] = []
    remedies: list[Remedy] = []
    waiver: Waiver | None = None

    def sort_key(self) -> tuple:
        return (self.project or "", self.subject, self.rule_id, self.rule_version, self.outcome.value)


class ProjectSummary(_Model):
    id: str
    name: str | None
    pmo_type: PmoType
    pack: str
    strongest: Outcome | None
    decisions: int


class Report(_Model):
    schema_: Literal["pmo-governance-report/1"] = Field(REPORT_SCHEMA, alias="schema")
    engine_version: str
    evaluator: str
    as_of: date
    pmo_type: PmoType | None
    pack: PackRef
    packs: list[PackRef]
    input: InputRef
    summary: dict[str, int]
    projects: list[ProjectSummary]
    decisions: list[Decision]
    waivers: list[WaiverStatus] = []

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2) + "\n"

    @property
    def blocking(self) -> bool:
        """A required action, escalation or rejection that no waiver covers."""
        return any(
            d.outcome in (Outcome.required_action, Outcome.escalation, Outcome.rejection) and d.waiver is None
            for d in self.decisions
        )
