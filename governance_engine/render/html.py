"""A self-contained HTML report (`audit.html`) of an audit output directory: summary by
outcome and PMO type, charts of decisions per rule and per project, a filterable table of
every decision, a page per project with its decisions and required actions, and the inputs
that failed.

Jinja2 renders it with autoescaping on (decision messages carry text from the state files,
which is untrusted); the page loads nothing from the network, and its Content-Security-Policy
lets only its own inline script (pinned by hash) and styles run. The charts are stacked SVG
bars laid out here and drawn by the template: a chart library would add random element ids
or external scripts, and the output must be byte-identical for the same output directory.

The decisions are embedded once, as compact JSON rows in a `<script type="application/json">`
block (escaped so that no text can close it), and the page's script draws the decision table
and the projects table a page of rows at a time, filters and searches the data rather than the
DOM, and builds each project's page when it is opened: tens of thousands of decisions stay a
page that opens in seconds. The decisions are read from the JSONL files in two streaming passes
(figures, data) and the page is streamed to disk, so memory stays flat with the audit's size.
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

from ..atomic import replacing
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
# Rows per page of the decision table and of the projects table.
PAGE_SIZE = 100

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


_UNSAFE_IN_SCRIPT = re.compile("[<>&\u2028\u2029\ud800-\udfff]")


def _json(value: Any) -> str:
    """Compact JSON that is safe inside `<script type="application/json">`: no `<`, `>` or `&`
    (so neither `</script>` nor `<!--` can appear), no line or paragraph separators, and lone
    surrogates from escaped input text written as escapes (valid UTF-8 on disk). These
    characters only occur inside JSON strings, where a `\\uXXXX` escape means the same."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _UNSAFE_IN_SCRIPT.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


class _Interned:
    """A table of distinct values in first-seen order; rows refer to them by index."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.index)
        return found

    def values(self) -> list[Any]:
        return [list(v) if isinstance(v, tuple) else v for v in self.index]


def data(out: Path, figures: Figures, pmo_types: Sequence[str]) -> Iterator[Markup]:
    """The page's data, streamed as one JSON object in chunks: every decision once, as a
    compact row, in input order, then the tables the rows point into. The script builds the
    decision table, the projects table and the project pages from it, a page of rows at a time.

    A decision row is `[outcome, rule, project, pmo_type, subject, subject_type, message]`
    (indexes into `outcomes`, `rules`, `projects`, `pmo_types` and `subject_types`), followed
    by `[text, due, owner, owner_name]` of its action (or 0) when it has an action or a
    waiver, followed by its waiver's index into `waivers` when it is waived."""
    outcome_index = {o.value: i for i, o in enumerate(OUTCOMES)}
    pmo_index = {t: i for i, t in enumerate(pmo_types)}
    project_index = {key: i for i, key in enumerate(figures.projects)}
    rules, subject_types, waivers = _Interned(), _Interned(), _Interned()
    yield Markup('{"decisions":[')
    first = True
    for _, decisions in _by_file(out):
        batch = []
        for d in decisions:
            row: list[Any] = [
                outcome_index[d["outcome"]],
                rules((d["rule_id"], d["rule_version"], d["title"])),
                project_index[(d["file"], d.get("project"))],
                pmo_index[d["pmo_type"]],
                d["subject"],
                subject_types(d["subject_type"]),
                d["message"],
            ]
            action, waiver = d.get("action"), d.get("waiver")
            if action or waiver:
                row.append(
                    [action.get("text"), action.get("due"), action.get("owner"), action.get("owner_name")]
                    if action
                    else 0
                )
            if waiver:
                row.append(waivers((waiver.get("justification"), waiver.get("approved_by"), waiver.get("expires"))))
            batch.append(_json(row))
        if batch:
            yield Markup(("" if first else ",") + ",".join(batch))
            first = False
    projects = [
        [
            p.anchor,
            p.label,
            p.project,
            p.file,
            ", ".join(sorted(p.pmo_types)),
            [p.counts[o.value] for o in OUTCOMES],
            p.actions,
        ]
        for p in figures.projects.values()
    ]
    tables = {
        "outcomes": [[o.value, LABELS[o]] for o in OUTCOMES],
        "pmo_types": list(pmo_types),
        "rules": rules.values(),
        "subject_types": subject_types.values(),
        "waivers": waivers.values(),
        "projects": projects,
    }
    yield Markup("]," + _json(tables)[1:])


def _asset(name: str) -> str:
    return files("governance_engine.render").joinpath("templates", name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def write_html(out: Path, *, page_size: int = PAGE_SIZE) -> Path:
    """Write `audit.html` into the audit output directory `out`; its tables show `page_size`
    rows a page."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    figures = collect(out)
    pmo_types = [t.value for t in PmoType if t.value in figures.by_type]
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
        pmo_types=pmo_types,
        rules=sorted(figures.by_rule),
        projects=len(figures.projects),
        page_size=page_size,
        charts=charts(figures),
        data=data(out, figures, pmo_types),
        policy=policy,
        script=Markup(script),
        style=Markup(style),
    )
    with replacing(path, newline="\n") as page:
        batch: list[str] = []
        for chunk in chunks:
            batch.append(chunk)
            if len(batch) >= 8192:
                page.write("".join(batch))
                batch.clear()
        page.write("".join(batch))
    return path
