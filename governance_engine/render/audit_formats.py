"""Audit outputs written after the run from its JSONL files, streaming, so memory stays flat:
JUnit XML (a test case per file and rule, for CI dashboards) and a Markdown summary (for a
pull request or an e-mail)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr as _quoteattr

from ..atomic import write_text
from ..outcomes import BLOCKING, Outcome

BLOCKING_VALUES = {o.value for o in BLOCKING}
# Characters XML 1.0 cannot carry even escaped (control characters from a state file's text).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def escape(text: str) -> str:
    return _escape(_NOT_XML.sub("\ufffd", text))


def quoteattr(text: str) -> str:
    return _quoteattr(_NOT_XML.sub("\ufffd", text))


def _by_file(out: Path) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each input's entry with its decisions; both files are in input order."""
    pending: dict[str, Any] | None = None
    with (
        open(out / "decisions.jsonl", encoding="utf-8") as decisions,
        open(out / "files.jsonl", encoding="utf-8") as files,
    ):
        for line in files:
            entry = json.loads(line)
            mine = []
            while True:
                if pending is None:
                    text = decisions.readline()
                    pending = json.loads(text) if text else None
                if pending is None or pending["file"] != entry["file"]:
                    break
                mine.append(pending)
                pending = None
            yield entry, mine


def write_junit(out: Path) -> Path:
    path = out / "report.junit.xml"
    tests = failures = errors = 0
    body: list[str] = []
    for entry, decisions in _by_file(out):
        cases = []
        if entry["status"] == "error":
            cases.append(
                f'    <testcase classname={quoteattr(entry["file"])} name="evaluate"><error message={quoteattr(entry["error"])}/></testcase>'
            )
        by_rule: dict[str, list[dict[str, Any]]] = {}
        for decision in decisions:
            by_rule.setdefault(decision["rule_id"], []).append(decision)
        for rule_id, found in sorted(by_rule.items()):
            blocking = [d for d in found if d["outcome"] in BLOCKING_VALUES and not d.get("waiver")]
            case = f"    <testcase classname={quoteattr(entry['file'])} name={quoteattr(rule_id)}>"
            if blocking:
                text = "\n".join(f"{d['subject']}: {d['outcome']}: {d['message']}" for d in blocking)
                case += f"<failure message={quoteattr(blocking[0]['message'])} type={quoteattr(blocking[0]['outcome'])}>{escape(text)}</failure>"
            cases.append(case + "</testcase>")
        tests += len(cases)
        failures += sum("<failure" in c for c in cases)
        errors += sum("<error" in c for c in cases)
        body.append(
            f'  <testsuite name={quoteattr(entry["file"])} tests="{len(cases)}" failures="{sum("<failure" in c for c in cases)}" errors="{sum("<error" in c for c in cases)}">'
        )
        body.extend(cases)
        body.append("  </testsuite>")
    header = f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="govern audit" tests="{tests}" failures="{failures}" errors="{errors}">'
    write_text(path, "\n".join([header, *body, "</testsuites>"]) + "\n")
    return path


def write_markdown(out: Path) -> Path:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    by_type: Counter[tuple[str, str]] = Counter()
    by_rule: Counter[tuple[str, str]] = Counter()
    projects: Counter[str] = Counter()
    for _, decisions in _by_file(out):
        for d in decisions:
            by_type[(d["pmo_type"], d["outcome"])] += 1
            by_rule[(d["rule_id"], d["outcome"])] += 1
            if d["outcome"] in BLOCKING_VALUES and d.get("project") and not d.get("waiver"):
                projects[d["project"]] += 1
    outcomes = [o.value for o in Outcome]
    lines = [
        "# Governance audit",
        "",
        f"{report['evaluated']} of {report['inputs']} inputs evaluated"
        + (f", {len(report['failed'])} failed" if report["failed"] else "")
        + ("" if report["complete"] else f", **partial: {report['pending']} pending**")
        + f"; packs {', '.join(p['name'] + ' ' + p['version'] for p in report['packs'])}; as of {report['as_of']}.",
        "",
        "| PMO type | " + " | ".join(outcomes) + " |",
        "|---|" + "---|" * len(outcomes),
    ]
    for pmo_type in sorted({t for t, _ in by_type}):
        lines.append(f"| {pmo_type} | " + " | ".join(str(by_type[(pmo_type, o)]) for o in outcomes) + " |")
    lines.append("| **all** | " + " | ".join(str(report["summary"].get(o, 0)) for o in outcomes) + " |")
    if report["summary"].get("waived"):
        lines += ["", f"{report['summary']['waived']} of these decisions are waived: counted above, blocking nothing."]
    lines += [
        "",
        "## Decisions per rule",
        "",
        "| rule | " + " | ".join(outcomes) + " |",
        "|---|" + "---|" * len(outcomes),
    ]
    for rule_id in sorted({r for r, _ in by_rule}):
        lines.append(f"| {rule_id} | " + " | ".join(str(by_rule[(rule_id, o)]) for o in outcomes) + " |")
    if projects:
        lines += [
            "",
            "## Projects with the most blocking decisions (not waived)",
            "",
            "| project | blocking |",
            "|---|---|",
        ]
        lines += [
            f"| {project} | {count} |" for project, count in sorted(projects.items(), key=lambda x: (-x[1], x[0]))[:20]
        ]
    if report["failed"]:
        lines += ["", "## Inputs that could not be evaluated", ""] + [
            f"- `{f['file']}`: {f['error']}" for f in report["failed"]
        ]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
