"""`govern dcma`: the DCMA 14-point schedule assessment of a schedule file, as a typed result.

The metrics are not computed here: the shipped `rulesets/dcma.yaml` is evaluated by the
normal Engine. A metric that fails is a decision, whose evidence carries its value,
numerator, denominator and offending tasks; a metric that passes makes no decision, so
its figures are read from the same rule's `let` bindings through `explain` (the engine's
own tracing of a rule that stayed quiet).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .decide.explain import explain
from .engine import Engine
from .errors import Location, StateError
from .language.packs import load_modules, shared_rulesets_dir
from .outcomes import PmoType
from .report.model import Decision
from .state.index import StateIndex
from .state.load import state_from_dict

SCHEDULE_SUFFIXES = (".xml", ".xer", ".sm")
RULE_PREFIX = "DCMA-"
# How each metric's threshold reads: (comparison, parameter, unit); None: informational/pass.
THRESHOLDS: dict[int, tuple[str, str, str] | str] = {
    1: ("<=", "dcma_logic_max_percent", "%"),
    2: ("<=", "dcma_leads_max", ""),
    3: ("<=", "dcma_lags_max_percent", "%"),
    4: (">=", "dcma_fs_min_percent", "%"),
    5: ("<=", "dcma_hard_constraints_max_percent", "%"),
    6: ("<=", "dcma_high_float_max_percent", "%"),
    7: ("<=", "dcma_negative_float_max", ""),
    8: ("<=", "dcma_high_duration_max_percent", "%"),
    9: ("<=", "dcma_invalid_dates_max", ""),
    10: "informational",
    11: ("<=", "dcma_missed_tasks_max_percent", "%"),
    12: "pass",
    13: (">=", "dcma_cpli_min", ""),
    14: (">=", "dcma_bei_min", ""),
}

Status = Literal["pass", "fail", "info", "insufficient_evidence"]


class Metric(BaseModel):
    """One DCMA metric of one project."""

    number: int
    id: str
    name: str
    value: float | bool | None
    numerator: float | None
    denominator: float | None
    threshold: str
    status: Status
    passed: bool | None  # None: informational, or not decidable from the file
    offending: list[str]
    message: str


class ProjectAssessment(BaseModel):
    project: str
    name: str | None
    metrics: list[Metric]

    @property
    def failed(self) -> list[Metric]:
        return [m for m in self.metrics if m.status == "fail"]


class DcmaReport(BaseModel):
    source: str
    as_of: date
    projects: list[ProjectAssessment]

    @property
    def passed(self) -> bool:
        """Every metric of every project passes (informational ones do not count)."""
        return all(not p.failed for p in self.projects)


def dcma_ruleset() -> Path:
    return shared_rulesets_dir() / "dcma.yaml"


def load_state_file(path: str | Path) -> StateIndex | Path:
    """An MSPDI/XER/PSPLIB file through the importers; a pmo-state/1 file as it is."""
    path = Path(path)
    if path.suffix.lower() in SCHEDULE_SUFFIXES:
        from .importers import load_schedule

        return state_from_dict(load_schedule(path, pmo_type="controlling"), str(path))
    return path


def assess(path: str | Path, as_of: date | None = None, engine: Engine | None = None) -> DcmaReport:
    """The 14 metrics of every project in the file that carries `schedule_source`."""
    engine = engine or Engine([load_modules([dcma_ruleset()], name="dcma")])
    index, _ = engine.load(load_state_file(path))
    report = engine.evaluate(index, pmo_type=PmoType.controlling, as_of=as_of)
    when = report.as_of
    rules = {r.id: r for pack in engine.packs for r in pack.rules_in_force(when) if r.id.startswith(RULE_PREFIX)}
    decided = {(d.project, d.rule_id): d for d in report.decisions if d.rule_id in rules}
    assessed = [p for p in index.of_type("project") if p.attrs.get("schedule_source") is not None]
    if not assessed:
        raise StateError("no project in the file carries schedule_source: nothing to assess", Location(file=str(path)))
    projects = []
    for project in assessed:
        metrics = []
        for rule_id in sorted(rules):
            rule = rules[rule_id]
            decision = decided.get((project.id, rule_id))
            if decision is not None:
                figures, status, message = decision.evidence, _status(decision), decision.message
            else:
                traces = explain(engine, index, rule_id, subject=project.id, pmo_type=PmoType.controlling, as_of=when)
                figures = {k: (None if v == "unknown" else v) for k, v in traces[0].lets.items()} if traces else {}
                status, message = "pass", rule.title
            number = int(rule_id.removeprefix(RULE_PREFIX))
            if THRESHOLDS[number] == "informational" and status == "pass":
                status = "info"
            metrics.append(
                Metric(
                    number=number,
                    id=rule_id,
                    name=rule.title.split(": ")[0].removeprefix(f"DCMA {number} ").strip(),
                    value=_number(figures.get("value")),
                    numerator=_number(figures.get("numerator")),
                    denominator=_number(figures.get("denominator")),
                    threshold=_threshold(number, rule.parameters),
                    status=status,
                    passed={"pass": True, "fail": False}.get(status),
                    offending=list(figures.get("offending") or []),
                    message=message,
                )
            )
        projects.append(ProjectAssessment(project=project.id, name=project.attrs.get("name"), metrics=metrics))
    return DcmaReport(source=str(path), as_of=when, projects=projects)


def _status(decision: Decision) -> Status:
    if decision.outcome.value == "insufficient_evidence":
        return "insufficient_evidence"
    if decision.outcome.value == "info":
        return "info"
    return "fail"


def _number(value: Any) -> float | bool | None:
    if isinstance(value, bool) or value is None:
        return value
    return float(value) if isinstance(value, int | float) else None


def _threshold(number: int, parameters: dict[str, Any]) -> str:
    spec = THRESHOLDS[number]
    if isinstance(spec, str):
        return spec
    comparison, name, unit = spec
    return f"{comparison} {parameters[name]:g}{unit}"


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "pass" if value else "fail"
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


COLUMNS = ("#", "metric", "value", "num", "den", "threshold", "result", "offending tasks")


def _rows(project: ProjectAssessment) -> list[tuple[str, ...]]:
    return [
        (
            str(m.number),
            m.name,
            _shown(m.value),
            _shown(m.numerator),
            _shown(m.denominator),
            m.threshold,
            m.status.upper() if m.status in ("pass", "fail") else m.status,
            ", ".join(m.offending) or "-",
        )
        for m in project.metrics
    ]


def _verdict(project: ProjectAssessment) -> str:
    """The line under a project's table: failures first, and metrics the data cannot score
    are said, never counted as passing."""
    unscored = [m for m in project.metrics if m.status == "insufficient_evidence"]
    if project.failed:
        verdict = f"{len(project.failed)} of 13 scored metrics fail"
    elif unscored:
        verdict = f"no scored metric fails, {13 - len(unscored)} of 13 pass"
    else:
        return "all 13 scored metrics pass"
    return verdict + (f"; {len(unscored)} cannot be scored (insufficient evidence)" if unscored else "")


def render(report: DcmaReport, fmt: str) -> str:
    """The report as a text table, JSON or Markdown."""
    if fmt == "json":
        return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"
    lines: list[str] = []
    for project in report.projects:
        title = f"DCMA 14-point assessment of {project.name or project.project} ({report.source}, status date {report.as_of})"
        rows = _rows(project)
        verdict = _verdict(project)
        if fmt == "md":
            lines += [f"### {title}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
            lines += ["", f"**{verdict}**", ""]
        else:
            widths = [max(len(c), *(len(r[i][:60]) for r in rows)) for i, c in enumerate(COLUMNS)]
            lines.append(title)
            lines.append("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip())
            for row in rows:
                cells = [cell if len(cell) <= 60 else cell[:57] + "..." for cell in row]
                lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
            lines += [verdict, ""]
    return "\n".join(lines)
