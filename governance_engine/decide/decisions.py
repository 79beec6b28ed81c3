"""Findings -> decisions: the PMO type's authority caps, actions with owners and due dates,
and approvals that stand only where nothing blocks them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ..evaluate import values as v
from ..evaluate.common import Finding
from ..language import ast
from ..language.packs import Pack
from ..language.rules import Rule
from ..outcomes import BLOCKING, Outcome, PmoType, capped
from ..report.model import Action, Blocker, Decision, Missing, Remedy
from ..state.index import Node, StateIndex
from .evidence import CompiledLets, Explainer
from .remedies import RemedyFinder
from .rollup import RollUp

OWNER_RELATIONS = {"manager": "manages", "sponsor": "sponsors", "owner": "owns"}


@dataclass(frozen=True)
class Assignment:
    """Under which PMO type and pack one subject is judged."""

    pmo_type: PmoType
    pack: Pack
    project: str | None


def _person(index: StateIndex, node_id: str | None, relation: str) -> Node | None:
    if node_id is None:
        return None
    people = [
        index.nodes[e.source] for e in index.in_edges(node_id, relation) if index.nodes[e.source].type == "person"
    ]
    return people[0] if people else None


def resolve_owner(index: StateIndex, role: str, subject: Node, project: str | None) -> Node | None:
    """The person who must act: the subject's own manager/sponsor/owner, else that of its
    project (or, outside any project, of the program or portfolio that contains it)."""
    if role == "pmo_lead":
        leads = [p for p in index.of_type("person") if p.attrs.get("role") == "pmo_lead"]
        return leads[0] if leads else None
    relation = OWNER_RELATIONS[role]
    found = _person(index, subject.id, relation)
    if found is None and role == "owner":
        named = subject.attrs.get("owner")
        if isinstance(named, str) and named in index.nodes:
            return index.nodes[named]
    container = project or next((e.source for e in index.in_edges(subject.id, "contains")), None)
    return (
        found
        or _person(index, container, relation)
        or (_person(index, container, "manages") if role == "owner" else None)
    )


def _action(index: StateIndex, rule: Rule, subject: Node, project: str | None, as_of: date, text: str) -> Action:
    assert rule.action is not None
    owner = resolve_owner(index, rule.action.owner, subject, project)
    return Action(
        text=text,
        owner=owner.id if owner else None,
        owner_name=(owner.attrs.get("name") if owner else None),
        due=as_of + timedelta(days=rule.action.due_days),
    )


def decide(
    index: StateIndex,
    as_of: date,
    findings: list[Finding],
    assignments: dict[str, Assignment],
    rollup: RollUp | None = None,
    *,
    remedies: bool = False,
    compiled_lets: Mapping[int, CompiledLets] | None = None,
) -> list[Decision]:
    """With `remedies`, each decision that fired carries the changes that would clear it
    (a search per decision: asked for, not computed on every evaluation)."""
    explainers: dict[str, Explainer] = {}
    decisions: list[Decision] = []
    for finding in findings:
        rule, subject = finding.rule, index.nodes[finding.subject]
        where = assignments[finding.subject]
        wanted = rule.outcomes.get(where.pmo_type)
        if wanted is None:
            continue
        outcome = Outcome.insufficient_evidence if finding.verdict is v.UNKNOWN else capped(wanted, where.pmo_type)
        explainer = explainers.get(where.pack.name)
        if explainer is None:
            explainer = explainers[where.pack.name] = Explainer(
                index, as_of, list(where.pack.rules), rollup, compiled_lets
            )
        ctx = explainer.context(rule, subject)
        missing = explainer.missing(rule, subject, ctx) if outcome is Outcome.insufficient_evidence else []
        if missing:
            absent = ", ".join(f"{n}.{a}" for n, a in missing)
            message = f"Cannot decide '{rule.title}': insufficient evidence, {absent} missing"
        else:
            message = explainer.render(rule.message or rule.title, rule, subject, ctx)
        action = None
        if rule.action is not None and outcome in BLOCKING:
            action = _action(
                index, rule, subject, where.project, as_of, explainer.render(rule.action.text, rule, subject, ctx)
            )
        decisions.append(
            Decision(
                rule_id=rule.id,
                rule_version=rule.version,
                title=rule.title,
                outcome=outcome,
                subject=subject.id,
                subject_type=subject.type,
                project=where.project,
                pmo_type=where.pmo_type,
                pack=where.pack.name,
                message=message,
                action=action,
                guidance=rule.guidance,
                evidence=explainer.evidence(rule, subject, ctx),
                missing=[Missing(node=n, attribute=a) for n, a in missing],
                blocked_by=_blockers(rule, subject, rollup),
                remedies=_remedies(index, as_of, where.pack, rule, subject, rollup)
                if remedies and not missing and outcome is not Outcome.approval
                else [],
            )
        )
    return sorted(decisions, key=Decision.sort_key)


def _remedies(
    index: StateIndex, as_of: date, pack: Pack, rule: Rule, subject: Node, rollup: RollUp | None
) -> list[Remedy]:
    finder = RemedyFinder(index, as_of, list(pack.rules), rollup)
    return [Remedy(**found) for found in finder.remedies(rule, subject)]


def _blockers(rule: Rule, subject: Node, rollup: RollUp | None) -> list[Blocker]:
    """For a roll-up rule, the blocking decisions below its subject that it counted."""
    if rollup is None or not rule.rolls_up:
        return []
    paths = [
        e.path
        for expr in rule.expressions()
        for e in ast.walk(expr)
        if isinstance(e, ast.Aggregate) and e.func == "blockers"
    ]
    found = {(d.subject, d.rule_id): d.outcome for path in paths for d in rollup.below(subject.id, path)}
    return [Blocker(subject=s, rule_id=r, outcome=o) for (s, r), o in sorted(found.items())]


def withhold_blocked_approvals(decisions: list[Decision]) -> list[Decision]:
    """A request is approved only when nothing unwaived blocks it and nothing about it is
    unknown; otherwise the blocking or insufficient-evidence decisions stand in its place."""
    held = {
        d.subject
        for d in decisions
        if d.waiver is None and (d.outcome in BLOCKING or d.outcome is Outcome.insufficient_evidence)
    }
    return sorted(
        (d for d in decisions if not (d.outcome is Outcome.approval and d.subject in held)), key=Decision.sort_key
    )
