"""A self-contained HTML report (`audit.html`) of an audit output directory: summary by
outcome and PMO type, charts of decisions per rule and per project, a filterable table of
every decision, a page per project with its decisions and required actions, and the inputs
that failed.

Jinja2 renders it with autoescaping on (decision messages carry text from the state files,
which is untrusted); the page loads nothing from the network, and its Content-Security-Policy
lets only its own inline script (pinned by hash) and styles run. The charts are stacked SVG
bars laid out here and drawn by the template: a chart library would add random element ids
or external scripts, and the output must be byte-identical for the same output directory.
The decisions are read from the JSONL files in three streaming passes (figures, table,
project pages), and the page is streamed to disk, so memory stays flat with the audit's size.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..outcomes import BLOCKING, Outcome, PmoType
from .audit_formats import _by_file

# Most severe first: the order of the summary cards, the stacks and the legend.
OUTCOMES = (
    Outcome.rejection,
    Outcome.escalation,
    Outcome.required_action,
    Outcome.warning,
    Outcome.info,
    Outcome.insufficient_evidence,
    Outcome.approval,
)
LABELS = {o: o.value.replace("_", " ") for o in OUTCOMES}
BLOCKING_VALUES = {o.value for o in BLOCKING}
MAX_PROJECT_BARS = 25

# Chart geometry (SVG user units).
CHART_WIDTH = 600
LABEL_WIDTH = 200
COUNT_WIDTH = 40
BAR_HEIGHT = 16
ROW_GAP = 6
LABEL_CHARS = 25


@dataclass
class ProjectFigures:
    """One project of one input file (or the portfolio-level subjects of a file)."""

    file: str
    project: str | None
    anchor: str = ""
    pmo_types: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    actions: int = 0

    @property
    def label(self) -> str:
        """The project's id; subjects outside any project (portfolio, programs, people) go
        by their file's name."""
        return self.project or f"{Path(self.file).name} (outside projects)"

    @property
    def blocking(self) -> int:
        return sum(self.counts[o] for o in BLOCKING_VALUES)

    @property
    def strongest(self) -> str | None:
        return next((o.value for o in OUTCOMES if self.counts[o.value]), None)


@dataclass
class Figures:
    """Everything the summary and the charts need, from one pass over the decisions."""

    by_outcome: Counter[str] = field(default_factory=Counter)
    by_type: dict[str, Counter[str]] = field(default_factory=dict)
    by_rule: dict[str, Counter[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    projects: dict[tuple[str, str | None], ProjectFigures] = field(default_factory=dict)
    failed: list[dict[str, str]] = field(default_factory=list)
    waived: int = 0
    total: int = 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "x"


def collect(out: Path) -> Figures:
    figures = Figures()
    for entry, decisions in _by_file(out):
        if entry["status"] == "error":
            figures.failed.append({"file": entry["file"], "error": entry["error"]})
        for d in decisions:
            figures.total += 1
            figures.by_outcome[d["outcome"]] += 1
            figures.by_type.setdefault(d["pmo_type"], Counter())[d["outcome"]] += 1
            figures.by_rule.setdefault(d["rule_id"], Counter())[d["outcome"]] += 1
            figures.titles.setdefault(d["rule_id"], d["title"])
            figures.waived += d.get("waiver") is not None
            key = (d["file"], d.get("project"))
            project = figures.projects.get(key)
            if project is None:
                project = figures.projects[key] = ProjectFigures(d["file"], d.get("project"))
            project.pmo_types.add(d["pmo_type"])
            project.counts[d["outcome"]] += 1
            project.actions += d.get("action") is not None
    used: set[str] = set()
    for project in figures.projects.values():
        base = "project-" + _slug(project.project) if project.project else "portfolio-" + _slug(project.file)
        anchor, n = base, 1
        while anchor in used:
            n += 1
            anchor = f"{base}-{n}"
        used.add(anchor)
        project.anchor = anchor
    return figures


def _bars(rows: Sequence[tuple[str, str, str | None, Counter[str]]]) -> dict[str, Any]:
    """Stacked horizontal bars: (label, tooltip, link, counts per outcome) per row."""
    largest = max((sum(c.values()) for *_, c in rows), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - COUNT_WIDTH
    bars = []
    for i, (label, title, link, counts) in enumerate(rows):
        y = i * (BAR_HEIGHT + ROW_GAP)
        x = float(LABEL_WIDTH)
        segments = []
        for outcome in OUTCOMES:
            n = counts[outcome.value]
            if not n:
                continue
            width = n * span / largest
            segments.append(
                {
                    "outcome": outcome.value,
                    "label": LABELS[outcome],
                    "count": n,
                    "x": f"{x:.1f}",
                    "width": f"{width:.1f}",
                }
            )
            x += width
        bars.append(
            {
                "label": label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
                "title": title,
                "link": link,
                "y": y,
                "text_y": y + BAR_HEIGHT - 4,
                "total": sum(counts.values()),
                "end": f"{x + 6:.1f}",
                "segments": segments,
            }
        )
    return {
        "bars": bars,
        "height": max(1, len(rows)) * (BAR_HEIGHT + ROW_GAP),
        "width": CHART_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "bar_height": BAR_HEIGHT,
    }


def charts(figures: Figures) -> dict[str, Any]:
    rules = [
        (f"{rule_id} {figures.titles[rule_id]}", f"{rule_id}: {figures.titles[rule_id]}", None, counts)
        for rule_id, counts in sorted(figures.by_rule.items())
    ]
    ranked = sorted(figures.projects.values(), key=lambda p: (-p.blocking, -sum(p.counts.values()), p.label, p.file))
    projects = [(p.label, f"{p.label} ({p.file})", p.anchor, p.counts) for p in ranked[:MAX_PROJECT_BARS]]
    return {"rules": _bars(rules), "projects": _bars(projects), "projects_cut": len(ranked) > MAX_PROJECT_BARS}


def _row(d: dict[str, Any], anchors: dict[tuple[str, str | None], str]) -> dict[str, Any]:
    action = d.get("action") or {}
    return d | {
        "anchor": anchors[(d["file"], d.get("project"))],
        "label": LABELS[Outcome(d["outcome"])],
        "owner": action.get("owner_name") or action.get("owner") or "",
        "due": action.get("due") or "",
    }


def rows(out: Path, anchors: dict[tuple[str, str | None], str]) -> Iterator[dict[str, Any]]:
    """Every decision, for the table, in input order."""
    for _, decisions in _by_file(out):
        for d in decisions:
            yield _row(d, anchors)


def pages(out: Path, figures: Figures) -> Iterator[dict[str, Any]]:
    """A page per project, one input file in memory at a time."""
    for _, decisions in _by_file(out):
        grouped: dict[str | None, list[dict[str, Any]]] = {}
        for d in decisions:
            grouped.setdefault(d.get("project"), []).append(d)
        for project, mine in grouped.items():
            figures_of = figures.projects[(mine[0]["file"], project)]
            decided = [_row(d, {(d["file"], project): figures_of.anchor}) for d in mine]
            yield {
                "figures": figures_of,
                "decisions": decided,
                "actions": sorted(
                    (d for d in decided if d.get("action")), key=lambda d: (d["due"], d["rule_id"], d["subject"])
                ),
            }


def _asset(name: str) -> str:
    return files("governance_engine.render").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def write_html(out: Path) -> Path:
    """Write `audit.html` into the audit output directory `out`."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    figures = collect(out)
    anchors = {key: p.anchor for key, p in figures.projects.items()}
    environment = Environment(
        loader=PackageLoader("governance_engine.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["thousands"] = lambda n: f"{n:,}"
    script, style = _asset("audit.js"), _asset("audit.css")
    policy = (
        f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    path = out / "audit.html"
    chunks = environment.get_template("audit.html.j2").generate(
        report=report,
        figures=figures,
        outcomes=[(o.value, LABELS[o]) for o in OUTCOMES],
        pmo_types=[t.value for t in PmoType if t.value in figures.by_type],
        rules=sorted(figures.by_rule),
        projects=list(figures.projects.values()),
        charts=charts(figures),
        rows=rows(out, anchors),
        pages=pages(out, figures),
        policy=policy,
        script=Markup(script),
        style=Markup(style),
    )
    with open(path, "w", encoding="utf-8", newline="\n") as page:
        batch: list[str] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= 8192:
                page.write("".join(batch))
                batch.clear()
        page.write("".join(batch))
    return path
