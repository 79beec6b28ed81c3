"""`govern impact`: before a ruleset change is published, evaluate every snapshot under the
current and the proposed pack and report what would change, per subject and in total.
Runs on the audit's executor, so it scales the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from .audit import discover, parallel_map
from .engine import Engine
from .errors import GovernanceError

_engines: tuple[Engine, Engine] | None = None
_options: dict[str, Any] = {}
# The impact run's (settings, engines) while its workers start: a worker forked from it (see
# audit._pool_context) takes them as they are instead of loading both packs again.
_inherited: tuple[ImpactSettings, tuple[Engine, Engine]] | None = None


@dataclass(frozen=True)
class ImpactSettings:
    before: tuple[str, ...]
    after: tuple[str, ...]
    pmo_type: str | None
    as_of: date | None


def _start(settings: ImpactSettings) -> None:
    global _engines
    if _inherited is not None and _inherited[0] == settings:
        _engines = _inherited[1]
    else:
        _engines = (Engine(list(settings.before)), Engine(list(settings.after)))
    _options.update(pmo_type=settings.pmo_type, as_of=settings.as_of)


def compare_file(path: str) -> dict[str, Any]:
    assert _engines is not None
    try:
        before, after = (engine.evaluate(path, **_options) for engine in _engines)
    except GovernanceError as error:
        return {"file": path, "error": str(error)}
    old = {(d.subject, d.rule_id): d for d in before.decisions}
    new = {(d.subject, d.rule_id): d for d in after.decisions}
    changes = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a is None or b is None or a.outcome != b.outcome:
            changes.append(
                {
                    "file": path,
                    "subject": key[0],
                    "project": (b or a).project,  # type: ignore[union-attr]
                    "rule_id": key[1],
                    "before": a.outcome.value if a else None,
                    "after": b.outcome.value if b else None,
                }
            )
    return {"file": path, "changes": changes}


def run_impact(paths: list[str], settings: ImpactSettings, jobs: int | None = None) -> dict[str, Any]:
    global _inherited
    files = [str(p) for p in discover(paths)]
    engines = Engine(list(settings.before)), Engine(list(settings.after))  # bad packs refused before forking
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files) or 1))
    changes: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    crashed = lambda path, reason: {"file": path, "error": f"{path}: {reason}"}  # noqa: E731
    _inherited = (settings, engines)
    try:
        for result in parallel_map(compare_file, _start, (settings,), files, jobs, crashed):
            if "error" in result:
                failed.append({"file": result["file"], "error": result["error"]})
            changes.extend(result.get("changes", []))
    finally:
        _inherited = None
    summary = {
        "files": len(files),
        "projects_changed": len({(c["file"], c["project"] or c["subject"]) for c in changes}),
        "decisions_added": sum(c["before"] is None for c in changes),
        "decisions_removed": sum(c["after"] is None for c in changes),
        "outcomes_changed": sum(c["before"] is not None and c["after"] is not None for c in changes),
    }
    return {"summary": summary, "changes": changes, "failed": failed}


def describe(result: dict[str, Any]) -> str:
    """One sentence a PMO board can read: what publishing the new pack would change."""
    s = result["summary"]
    added: dict[str, int] = {}
    for change in result["changes"]:
        if change["after"] and change["before"] != change["after"]:
            added[change["after"]] = added.get(change["after"], 0) + 1
    lost_approvals = sum(c["before"] == "approval" and c["after"] != "approval" for c in result["changes"])
    projects = sum(1 for _ in {c["file"] for c in result["changes"]})
    parts = [f"{n} new {outcome.replace('_', ' ')}{'s' if n != 1 else ''}" for outcome, n in sorted(added.items())]
    if lost_approvals:
        parts.append(f"{lost_approvals} approval{'s' if lost_approvals != 1 else ''} lost")
    return f"the new pack changes {projects} of {s['files']} files ({s['projects_changed']} projects): " + (
        ", ".join(parts) if parts else "no decision changes"
    )
