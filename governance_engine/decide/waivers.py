"""Waivers (Kyverno's PolicyException, Checkov's skip comments, done auditably): an approved,
justified, dated exception to one rule for one subject or for everything in one project.
A waived decision stays in the report, marked, never removed; it no longer blocks. An
expired waiver is itself a warning; one that matched nothing is reported."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from ..errors import RulesetError
from ..language.packs import read_yaml_file
from ..outcomes import Outcome, PmoType
from ..report.model import Decision, Waiver, WaiverStatus

Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class WaiverSpec(BaseModel):
    # The schema says what _one_target checks, so an editor flags a waiver naming both.
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"oneOf": [{"required": ["subject"]}, {"required": ["project"]}]},
    )

    rule: Text
    subject: str | None = None
    project: str | None = None
    justification: Text
    approved_by: Text
    expires: date

    @model_validator(mode="after")
    def _one_target(self) -> WaiverSpec:
        if (self.subject is None) == (self.project is None):
            raise ValueError("a waiver names exactly one of 'subject' (a node id) or 'project' (every subject in it)")
        return self

    def matches(self, decision: Decision) -> bool:
        if decision.rule_id != self.rule:
            return False
        return decision.subject == self.subject if self.subject is not None else decision.project == self.project


class WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waivers: list[WaiverSpec]


def load_waivers(path: str | Path) -> list[WaiverSpec]:
    doc, _ = read_yaml_file(Path(path), "waivers file")
    try:
        return WaiverFile.model_validate(doc.data).waivers
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(p for p in first["loc"] if isinstance(p, str | int))
        raise RulesetError(f"{'.'.join(map(str, where)) or 'waivers'}: {first['msg']}", doc.locate(where)) from None


def covering(waivers: list[WaiverSpec], as_of: date):
    """A test of whether a decision is covered by a waiver in force on `as_of`."""
    live = [w for w in waivers if w.expires >= as_of]
    return lambda decision: decision.outcome is not Outcome.approval and any(w.matches(decision) for w in live)


def apply_waivers(
    decisions: list[Decision], waivers: list[WaiverSpec], as_of: date
) -> tuple[list[Decision], list[WaiverStatus]]:
    """Marks the decisions waivers cover (never an approval: there is nothing to waive), adds
    a warning for each expired waiver, and says what became of every waiver."""
    statuses = []
    marked = {id(d): d for d in decisions}
    warnings: list[Decision] = []
    for number, waiver in enumerate(waivers):
        target = waiver.subject or waiver.project or ""
        matched = [d for d in decisions if waiver.matches(d) and d.outcome is not Outcome.approval]
        status: Literal["applied", "expired", "unmatched"]
        if waiver.expires < as_of:
            status = "expired"  # listed in the statuses even when it matches nothing any more
            warnings.extend(_expired_warning(waiver, decision, target, as_of) for decision in matched)
        elif not matched:
            status = "unmatched"
        else:
            status = "applied"
            for decision in matched:
                marked[id(decision)] = marked[id(decision)].model_copy(
                    update={
                        "waiver": Waiver(
                            justification=waiver.justification, approved_by=waiver.approved_by, expires=waiver.expires
                        )
                    }
                )
        statuses.append(
            WaiverStatus(number=number, rule=waiver.rule, target=target, status=status, matched=len(matched))
        )
    kept = [marked[id(d)] for d in decisions]
    return sorted(kept + warnings, key=Decision.sort_key), statuses


def _expired_warning(waiver: WaiverSpec, decision: Decision, target: str, as_of: date) -> Decision:
    return Decision(
        rule_id="WAIVER",
        rule_version=1,
        title="Expired waiver",
        outcome=Outcome.warning,
        subject=decision.subject,
        subject_type=decision.subject_type,
        project=decision.project,
        pmo_type=decision.pmo_type if decision.pmo_type else PmoType.supportive,
        pack=decision.pack,
        message=f"The waiver of {waiver.rule} for {target} approved by {waiver.approved_by} expired on {waiver.expires.isoformat()}; {waiver.rule} applies again",
        evidence={
            "expires": waiver.expires.isoformat(),
            "as_of": as_of.isoformat(),
            "justification": waiver.justification,
        },
    )
