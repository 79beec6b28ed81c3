"""A report as a terminal table: one line per decision, grouped by project, then the summary."""

from __future__ import annotations

import json

from ..report.model import Remedy, Report

SYMBOL = {
    "info": "i",
    "warning": "!",
    "required_action": "R",
    "escalation": "E",
    "rejection": "X",
    "approval": "A",
    "insufficient_evidence": "?",
}


def _remedy(remedy: Remedy) -> str:
    """'cr-1.cost_impact = 50001', or 'an edge (person) -owns-> r-1' (a node of that type)."""
    if remedy.add_edge:
        edge = remedy.add_edge
        source = edge.get("source") or f"({edge.get('source_type', '*')})"
        target = edge.get("target") or f"({edge.get('target_type', '*')})"
        return f"an edge {source} -{edge.get('relation')}-> {target}"
    return f"{remedy.node}.{remedy.attribute} = {json.dumps(remedy.value, default=str)}"


def render_table(report: Report) -> str:
    lines = [
        f"as of {report.as_of.isoformat()}  pack {report.pack.name} {report.pack.version}  "
        f"evaluator {report.evaluator}  input {report.input.source}",
        "",
    ]
    by_project: dict[str, list] = {}
    for decision in report.decisions:
        by_project.setdefault(decision.project or "(no project)", []).append(decision)
    types = {p.id: p.pmo_type.value for p in report.projects}
    for project, decisions in by_project.items():
        lines.append(f"{project} [{types.get(project, decisions[0].pmo_type.value)}]")
        for d in decisions:
            lines.append(
                f"  {SYMBOL[d.outcome.value]} {d.outcome.value:<21} {d.rule_id:<6} {d.subject:<18} {d.message}"
            )
            if d.waiver:
                lines.append(
                    f"      waived until {d.waiver.expires.isoformat()} by {d.waiver.approved_by}: {d.waiver.justification}"
                )
            if d.blocked_by:
                held = ", ".join(f"{b.rule_id} on {b.subject} ({b.outcome.value})" for b in d.blocked_by)
                lines.append(f"      blocked by: {held}")
            if d.action:
                owner = d.action.owner_name or d.action.owner or "unassigned"
                lines.append(f"      action: {d.action.text} (owner {owner}, due {d.action.due.isoformat()})")
            if d.remedies:
                lines.append("      cleared by any one of: " + "; ".join(_remedy(r) for r in d.remedies))
        lines.append("")
    for status in report.waivers:
        if status.status != "applied":
            lines.append(f"waiver {status.number + 1} ({status.rule} for {status.target}): {status.status}")
    counts = ", ".join(f"{n} {k}" for k, n in report.summary.items() if n)
    lines.append(f"{len(report.decisions)} decisions: {counts or 'none'}")
    return "\n".join(lines) + "\n"
