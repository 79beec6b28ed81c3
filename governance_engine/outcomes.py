"""The outcome scale and what each PMO type may issue (DESIGN.md, "Outcomes and PMO authority")."""

from __future__ import annotations

from enum import StrEnum


class PmoType(StrEnum):
    supportive = "supportive"
    controlling = "controlling"
    directive = "directive"


class Outcome(StrEnum):
    info = "info"
    warning = "warning"
    required_action = "required_action"
    escalation = "escalation"
    rejection = "rejection"
    approval = "approval"
    insufficient_evidence = "insufficient_evidence"


PMO_ORDER = (PmoType.supportive, PmoType.controlling, PmoType.directive)
SCALE = (Outcome.info, Outcome.warning, Outcome.required_action, Outcome.escalation, Outcome.rejection)
RANK = {outcome: rank for rank, outcome in enumerate(SCALE)}
BLOCKING = frozenset({Outcome.required_action, Outcome.escalation, Outcome.rejection})
CAP = {
    PmoType.supportive: Outcome.warning,
    PmoType.controlling: Outcome.escalation,
    PmoType.directive: Outcome.rejection,
}
MAY_APPROVE = {PmoType.supportive: False, PmoType.controlling: True, PmoType.directive: True}


def strength(outcome: Outcome | None) -> int:
    """Rank on the escalation scale; approval and 'none' sit below info (-1)."""
    if outcome is None:
        return -1
    return RANK.get(outcome, -1)


def capped(outcome: Outcome, pmo_type: PmoType) -> Outcome:
    """What a PMO of this type may actually issue for a rule that asks for `outcome`.
    A supportive PMO recommends instead of approving: an approval becomes info."""
    if outcome is Outcome.approval:
        return outcome if MAY_APPROVE[pmo_type] else Outcome.info
    cap = CAP[pmo_type]
    return outcome if RANK[outcome] <= RANK[cap] else cap
