"""SARIF 2.1.0 (`audit.sarif`) from an audit output directory, for code-scanning dashboards
and SARIF viewers: every rule of the packs used in `tool.driver.rules`, a result per
decision pointing at its input file (and the node's line) and at the node itself, inputs
that failed as tool execution notifications.

Written from the JSONL files one decision at a time, so memory stays flat with the size of
the audit; the output is deterministic for a given output directory and working directory
(relative input paths are resolved against the `SRCROOT` base, the working directory)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..atomic import replacing
from ..errors import Location, UsageError
from ..language.packs import Pack, load_pack
from ..language.unparse import unparse
from ..outcomes import PMO_ORDER, Outcome, PmoType, strength
from .audit_formats import _by_file

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/governance-engine/"
ROOT = "SRCROOT"

# Blocking outcomes fail a build (error); a warning stays a warning; what only informs or
# asks for evidence is a note. An approval is a check that passed: kind "pass", level "none".
LEVEL = {
    Outcome.rejection: "error",
    Outcome.escalation: "error",
    Outcome.required_action: "error",
    Outcome.warning: "warning",
    Outcome.info: "note",
    Outcome.insufficient_evidence: "note",
    Outcome.approval: "none",
}

# `id: value` / `"id": "value"` in JSON or YAML text: where a node is defined.
_NODE_ID = re.compile(r"""(?<![\w-])["']?id["']?\s*:\s*(?:"((?:[^"\\\n]|\\.)*)"|'([^'\n]*)'|([^\s,{}\[\]"'#]+))""")
_ERROR_POSITION = re.compile(r"(\d+)(?::(\d+))?:")


def load_packs(out: Path, refs: Sequence[str | Path] | None = None) -> list[Pack]:
    """The packs the audit in `out` used: `refs` as given to the audit, else the names its
    report.json records (shipped packs). Refused when they are not the packs of the audit
    (a digest differs), since the rule metadata would then describe other rules."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    packs = [load_pack(r) for r in (refs or [p["name"] for p in report["packs"]])]
    recorded = {p["name"]: p["digest"] for p in report["packs"]}
    loaded = {p.name: p.digest for p in packs}
    changed = sorted(name for name, digest in recorded.items() if loaded.get(name) != digest)
    if changed:
        raise UsageError(
            "the packs differ from those of the audit (name or digest): " + ", ".join(changed),
            Location(file=str(out / "report.json")),
        )
    return packs


def _level(outcomes: list[Outcome]) -> str:
    """The default level of a rule: that of the strongest outcome it can issue."""
    if not outcomes:
        return "none"
    return LEVEL[max(outcomes, key=lambda o: (strength(o), o is not Outcome.approval))]


def rule_descriptors(packs: Sequence[Pack]) -> list[dict[str, Any]]:
    """One reportingDescriptor per rule id across the packs, sorted by id; metadata from the
    newest version, outcomes per PMO type from the pack that serves that type."""
    newest: dict[str, Any] = {}
    versions: dict[str, set[int]] = {}
    outcomes: dict[str, dict[str, str | None]] = {}
    for pack in packs:
        types = [pack.pmo_type] if pack.pmo_type else list(PMO_ORDER)
        for rule in pack.rules:
            versions.setdefault(rule.id, set()).add(rule.version)
            if rule.id not in newest or rule.version > newest[rule.id].version:
                newest[rule.id] = rule
            for pmo_type in types:
                outcome = rule.outcomes.get(pmo_type)
                if rule.version >= max(versions[rule.id]):
                    outcomes.setdefault(rule.id, {})[pmo_type.value] = outcome.value if outcome else None
    descriptors = []
    for rule_id in sorted(newest):
        rule = newest[rule_id]
        issued = [Outcome(o) for o in outcomes.get(rule_id, {}).values() if o]
        when = f" when {unparse(rule.scope)}" if rule.scope else ""
        full = f"Applies to each {rule.applies_to}{when}; fires if {unparse(rule.body)}."
        if rule.derive:
            full += f" Derives `{rule.derive}` for other rules; issues no decision itself."
        help_lines = [rule.guidance or "", *(f"Reference: {r}" for r in rule.references)]
        descriptor: dict[str, Any] = {
            "id": rule_id,
            "name": rule.title,
            "shortDescription": {"text": rule.title},
            "fullDescription": {"text": full},
            "defaultConfiguration": {"level": _level(issued)},
            "properties": {
                "tags": list(rule.tags),
                "versions": sorted(versions[rule_id]),
                "outcomes": {t.value: outcomes.get(rule_id, {}).get(t.value) for t in PmoType},
                "appliesTo": rule.applies_to,
                "references": list(rule.references),
            },
        }
        if any(help_lines):
            descriptor["help"] = {"text": "\n".join(line for line in help_lines if line)}
        urls = [r for r in rule.references if r.startswith(("https://", "http://"))]
        if urls:
            descriptor["helpUri"] = urls[0]
        descriptors.append(descriptor)
    return descriptors


def node_lines(path: str, wanted: set[str] | None = None) -> dict[str, int]:
    """Line of each node id's definition (of those `wanted`, default all) in a JSON or YAML
    state file, by a text scan (the decisions do not carry lines); empty when the file cannot
    be read any more."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    offsets: dict[str, int] = {}
    for match in _NODE_ID.finditer(text):
        quoted, single, bare = match.groups()
        if quoted is not None and "\\" in quoted:
            try:
                value = json.loads(f'"{quoted}"')
            except ValueError:
                value = quoted
        else:
            value = quoted if quoted is not None else single if single is not None else bare
        if wanted is None or value in wanted:
            offsets.setdefault(value, match.start())
    return {node: text.count("\n", 0, offset) + 1 for node, offset in offsets.items()}


def artifact(path: str) -> dict[str, str]:
    """An artifactLocation: relative paths against SRCROOT, absolute ones as file URIs."""
    given = Path(path)
    if given.is_absolute():
        return {"uri": given.as_uri()}
    return {"uri": quote(given.as_posix()), "uriBaseId": ROOT}


def fingerprint(decision: dict[str, Any], uri: str) -> str:
    """Stable across runs: the same rule on the same node of the same input, whatever the
    message's figures say this month."""
    key = "\0".join([decision["rule_id"], decision.get("project") or "", decision["subject"], uri])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def result(decision: dict[str, Any], rule_index: dict[str, int], lines: dict[str, int]) -> dict[str, Any]:
    outcome = Outcome(decision["outcome"])
    where = artifact(decision["file"])
    physical: dict[str, Any] = {"artifactLocation": where}
    if decision["subject"] in lines:
        physical["region"] = {"startLine": lines[decision["subject"]]}
    project = decision.get("project")
    logical = {
        "name": decision["subject"],
        "kind": decision["subject_type"],
        "fullyQualifiedName": f"{project}/{decision['subject']}"
        if project and project != decision["subject"]
        else decision["subject"],
    }
    entry: dict[str, Any] = {"ruleId": decision["rule_id"]}
    if decision["rule_id"] in rule_index:
        entry["ruleIndex"] = rule_index[decision["rule_id"]]
    if outcome is Outcome.approval:
        entry["kind"] = "pass"
    entry |= {
        "level": LEVEL[outcome],
        "message": {"text": decision["message"]},
        "locations": [{"physicalLocation": physical, "logicalLocations": [logical]}],
        "partialFingerprints": {"governanceSubject/v1": fingerprint(decision, where["uri"])},
        "properties": {
            "outcome": outcome.value,
            "pmo_type": decision["pmo_type"],
            "pack": decision["pack"],
            "rule_version": decision["rule_version"],
            "project": project,
            "action": decision.get("action"),
            "waiver": decision.get("waiver"),
        },
    }
    waiver = decision.get("waiver")
    if waiver:
        entry["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": f"{waiver['justification']} (approved by {waiver['approved_by']}, expires {waiver['expires']})",
            }
        ]
    return entry


def failure_notification(failed: dict[str, str]) -> dict[str, Any]:
    """A failed input as a tool execution notification, with the line and column its error
    names (`file:line:col: …`) where it names one."""
    physical: dict[str, Any] = {"artifactLocation": artifact(failed["file"])}
    error = failed["error"]
    if error.startswith(failed["file"] + ":"):
        position = _ERROR_POSITION.match(error, len(failed["file"]) + 1)
        if position:
            physical["region"] = {"startLine": int(position[1])}
            if position[2]:
                physical["region"]["startColumn"] = int(position[2])
    return {"level": "error", "message": {"text": error}, "locations": [{"physicalLocation": physical}]}


def write_sarif(out: Path, packs: Sequence[str | Path] | None = None) -> Path:
    """Write `audit.sarif` into the audit output directory `out`; `packs` as given to the
    audit (default: the packs named in its report.json)."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    rules = rule_descriptors(load_packs(out, packs))
    rule_index = {r["id"]: i for i, r in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "govern",
                "fullName": "governance-engine (govern audit)",
                "version": report.get("engine_version", __version__),
                "semanticVersion": report.get("engine_version", __version__),
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {ROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "properties": {
            "schema": report["schema"],
            "as_of": report["as_of"],
            "evaluator": report["evaluator"],
            "packs": report["packs"],
            "complete": report["complete"],
            "inputs": report["inputs"],
            "evaluated": report["evaluated"],
            "pending": report["pending"],
            "summary": report["summary"],
        },
        "results": "\0results",
        "invocations": "\0invocations",
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    head, rest = json.dumps(log, indent=2).split('"\\u0000results"')
    middle, tail = rest.split('"\\u0000invocations"')
    failed: list[dict[str, str]] = []
    path = out / "audit.sarif"
    with replacing(path) as sarif:
        sarif.write(head + "[")
        first = True
        for entry, decisions in _by_file(out):
            if entry["status"] == "error":
                failed.append({"file": entry["file"], "error": entry["error"]})
            lines = node_lines(entry["file"], {d["subject"] for d in decisions}) if decisions else {}
            for decision in decisions:
                sarif.write(("\n" if first else ",\n") + json.dumps(result(decision, rule_index, lines)))
                first = False
        notifications = [failure_notification(f) for f in failed]
        if not report["complete"]:
            notifications.append(
                {"level": "warning", "message": {"text": f"partial audit: {report['pending']} inputs not evaluated"}}
            )
        invocation = {
            "executionSuccessful": not failed and report["complete"],
            "toolExecutionNotifications": notifications,
        }
        sarif.write(("" if first else "\n") + "]" + middle + json.dumps([invocation]) + tail + "\n")
    return path
