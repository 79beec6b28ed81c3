"""`govern diff OLD NEW`: what changed between two audits (last month against this month):
decisions that appeared, disappeared or changed outcome, per project and in total."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from .errors import Location, UsageError

Key = tuple[str, str, str]  # project (or file), subject, rule


def _decisions(audit: Path) -> dict[Key, str]:
    path = audit / "decisions.jsonl"
    if not path.is_file():
        raise UsageError(f"{audit} is not an audit output directory (no decisions.jsonl)", Location(file=str(audit)))
    found: dict[Key, str] = {}
    source: dict[Key, str] = {}  # the file each decision came from
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                decision = json.loads(line)
                file = decision["file"]
                key = (decision.get("project") or file, decision["subject"], decision["rule_id"])
                outcome = decision["outcome"]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise UsageError("not a decision line", Location(file=str(path), line=number)) from None
            if source.setdefault(key, file) != file:
                raise UsageError(
                    f"project {key[0]!r} is in two inputs of this audit ({source[key]} and {file}): a diff "
                    "compares audits that hold one snapshot of each project",
                    Location(file=str(path), line=number),
                )
            found[key] = outcome
    return found


def _failed(audit: Path) -> list[str]:
    """Inputs the audit could not evaluate (files.jsonl): their decisions are missing from it."""
    path = audit / "files.jsonl"
    if not path.is_file():
        return []
    failed = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            with contextlib.suppress(ValueError, AttributeError):
                entry = json.loads(line)
                if entry.get("status") == "error":
                    failed.append(str(entry.get("file")))
    return sorted(failed)


def diff_audits(old: Path, new: Path) -> dict[str, Any]:
    before, after = _decisions(old), _decisions(new)
    changes = [
        {"project": key[0], "subject": key[1], "rule_id": key[2], "before": before.get(key), "after": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if before.get(key) != after.get(key)
    ]
    per_project = Counter(change["project"] for change in changes)
    return {
        "summary": {
            "appeared": sum(c["before"] is None for c in changes),
            "disappeared": sum(c["after"] is None for c in changes),
            "changed": sum(c["before"] is not None and c["after"] is not None for c in changes),
            "projects_changed": len(per_project),
        },
        "projects": [{"project": p, "changes": n} for p, n in sorted(per_project.items())],
        "changes": changes,
        "failed": {"before": _failed(old), "after": _failed(new)},
    }


def render_diff(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(result, indent=2) + "\n"
    s = result["summary"]
    head = (
        f"{s['appeared']} decisions appeared, {s['disappeared']} disappeared, {s['changed']} changed outcome, "
        f"in {s['projects_changed']} projects"
    )
    for when, audit in (("before", "the old"), ("after", "the new")):
        failed = result["failed"][when]
        if failed:  # their decisions are missing, not gone
            head += f"; {len(failed)} inputs could not be evaluated in {audit} audit ({', '.join(failed[:5])})"
    if fmt == "md":
        rows = ["| project | subject | rule | before | after |", "|---|---|---|---|---|"]
        rows += [
            f"| {c['project']} | {c['subject']} | {c['rule_id']} | {c['before'] or '–'} | {c['after'] or '–'} |"
            for c in result["changes"]
        ]
        return "\n".join([f"**{head}**", "", *rows]) + "\n"
    rows = [
        f"{c['project']:<24} {c['subject']:<24} {c['rule_id']:<6} {c['before'] or '-':>21} -> {c['after'] or '-'}"
        for c in result["changes"]
    ]
    return "\n".join([head, "", *rows]) + "\n"
