"""`govern explain`: for each candidate subject of one rule, whether it fired and why, part by
part, with the values each part saw and, for graph functions, the related nodes counted."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import UsageError
from ..evaluate import values as v
from ..evaluate.common import walk_path
from ..evaluate.reference import Context, evaluate_expr, evaluate_rule
from ..language import ast
from ..language.unparse import unparse
from ..state.index import Node
from .decisions import decide
from .evidence import Explainer, json_value
from .remedies import RemedyFinder
from .rollup import RollUp


@dataclass
class Trace:
    """One part of a condition: its text, its value, the values it read, its parts."""

    text: str
    value: Any
    reads: dict[str, Any] = field(default_factory=dict)
    related: list[str] = field(default_factory=list)
    parts: list[Trace] = field(default_factory=list)


@dataclass
class SubjectTrace:
    rule_id: str
    rule_version: int
    subject: str
    pmo_type: str
    pack: str
    verdict: str  # fired | quiet | insufficient_evidence | not_applicable
    scope: Trace | None
    body: Trace | None
    lets: dict[str, Any] = field(default_factory=dict)
    remedies: list[str] = field(default_factory=list)


def _shown(value: Any) -> Any:
    return "unknown" if value is v.UNKNOWN else json_value(value)


def trace(expr: ast.Expr, ctx: Context, node: Node) -> Trace:
    value = evaluate_expr(expr, ctx, node, None)
    result = Trace(unparse(expr), _shown(value))
    if isinstance(expr, ast.And | ast.Or | ast.Not):
        result.parts = [trace(part, ctx, node) for part in ast.children(expr)]
        return result
    for inner in ast.walk(expr):
        if isinstance(inner, ast.Attr | ast.LetRef):
            result.reads[inner.name] = _shown(evaluate_expr(inner, ctx, node, None))
        if isinstance(inner, ast.Aggregate):
            reached = walk_path(ctx.index, node.id, inner.path)
            result.related = [
                other.id
                for other, via in reached
                if inner.where is None or v.truth(evaluate_expr(inner.where, ctx, other, via)) is True
            ]
            break  # the function's own filter reads related nodes, not the subject
    return result


def explain(
    engine, state, rule_id: str, subject: str | None = None, pmo_type=None, as_of: date | None = None
) -> list[SubjectTrace]:
    index, _ = engine.load(state)
    when = as_of or index.as_of or date.today()
    known = sorted({r.id for p in engine.packs for r in p.rules})
    if rule_id not in known:
        raise UsageError(f"no rule {rule_id!r} in the packs ({', '.join(p.name for p in engine.packs)})")
    findings, assignments = engine.findings(index, when, pmo_type)
    rollup = None
    if any(r.rolls_up and r.id == rule_id for p in engine.packs for r in p.rules):
        # a roll-up reads the decisions below its subject, as `evaluate` decides them first
        rollup = RollUp(index, decide(index, when, findings, assignments, compiled_lets=engine.compiled_lets))
    traces = []
    for pack in engine.packs:
        explainer = Explainer(index, when, list(pack.rules), rollup)
        for rule in pack.rules_in_force(when):
            if rule.id != rule_id:
                continue
            for node in index.of_type(rule.applies_to):
                where = assignments.get(node.id)
                if where is None or where.pack is not pack or (subject is not None and node.id != subject):
                    continue
                ctx = explainer.context(rule, node)
                verdict = evaluate_rule(rule, ctx)
                remedies = (
                    [
                        _in_words(r, node)
                        for r in RemedyFinder(index, when, list(pack.rules), rollup).remedies(rule, node)
                    ]
                    if verdict is True
                    else []
                )
                traces.append(
                    SubjectTrace(
                        rule_id=rule.id,
                        rule_version=rule.version,
                        subject=node.id,
                        pmo_type=where.pmo_type.value,
                        pack=pack.name,
                        verdict={True: "fired", False: "quiet", None: "not_applicable"}.get(
                            verdict, "insufficient_evidence"
                        )
                        if verdict is not v.UNKNOWN
                        else "insufficient_evidence",
                        scope=None if rule.scope is None else trace(rule.scope, ctx, node),
                        body=None if verdict is None else trace(rule.body, ctx, node),
                        lets={name: _shown(value) for name, value in ctx.lets.items()},
                        remedies=remedies,
                    )
                )
    return traces


def _in_words(remedy: dict[str, Any], subject: Node) -> str:
    """'actual_cost at most 444,444' or 'add an edge (person) -owns-> r-1'."""
    if "add_edge" in remedy:
        edge = remedy["add_edge"]
        if "source_type" in edge:
            return f"add an edge ({edge['source_type']}) -{edge['relation']}-> {subject.id}"
        return f"add an edge {subject.id} -{edge['relation']}-> ({edge['target_type']})"
    current = subject.attrs.get(remedy["attribute"])
    bound = "at least" if current is not None and remedy["value"] > current else "at most"
    return f"{remedy['attribute']} {bound} {remedy['value']:,}"


def _literal(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool | type(None)) else repr(value)


def render_trace(traces: list[SubjectTrace]) -> str:
    lines: list[str] = []

    def show(part: Trace, depth: int) -> None:
        extras = ""
        if part.reads:
            extras += "  [" + ", ".join(f"{k}={_literal(val)}" for k, val in part.reads.items()) + "]"
        if part.related or (
            part.text.startswith(("count(", "exists(", "sum(", "all(", "values(", "min(", "max(")) and not part.parts
        ):
            extras += f"  related: {', '.join(part.related) or 'none'}"
        shown = (
            {True: "true", False: "false"}.get(part.value, part.value) if isinstance(part.value, bool) else part.value
        )
        lines.append(f"{'  ' * depth}{shown!s:<8} {part.text}{extras}")
        for child in part.parts:
            show(child, depth + 1)

    for item in traces:
        lines.append(
            f"{item.rule_id} v{item.rule_version} on {item.subject} ({item.pmo_type}, pack {item.pack}): {item.verdict}"
        )
        for name, value in item.lets.items():
            lines.append(f"  let {name} = {value!r}")
        if item.scope is not None:
            lines.append("  scope:")
            show(item.scope, 2)
        if item.body is not None:
            lines.append("  condition:")
            show(item.body, 2)
        if item.remedies:
            lines.append("  cleared by any one of: " + "; or ".join(item.remedies))
        lines.append("")
    return "\n".join(lines) or "no candidate subjects\n"
