"""The reproducibility manifest of an audit (`manifest.json`) and `govern audit --verify`.

An auditor must be able to defend a figure months later: the manifest records everything the
report depends on (engine version, each pack with its digest and a digest per rule, a digest
per input file, `as_of`, PMO type, evaluator, waivers and their digest, the command that
reproduces the run) and the digest of the report itself: the sha256 of `audit.json`'s bytes
(computed whether or not `--format json` writes the file; the document has no timings, pids
or output paths, so a re-run of the same audit gives the same bytes). `verify` re-runs the
audit into a temporary directory and says what differs.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from . import __version__
from .errors import GovernanceError, Location, UsageError
from .language.packs import Pack
from .language.rules import Rule
from .language.unparse import unparse

if TYPE_CHECKING:
    from .audit import AuditSettings, Executor
    from .engine import Engine

SCHEMA = "pmo-governance-audit-manifest/1"


def file_digest(path: str | Path) -> str | None:
    """sha256 of a file's bytes; None when it cannot be read."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return "sha256:" + digest.hexdigest()


def rule_digest(rule: Rule) -> str:
    """A digest of what a rule decides with: its expressions as bound to the pack's
    parameters, outcomes, message, action and dates; not where its file lies."""
    text = {
        "id": rule.id,
        "version": rule.version,
        "title": rule.title,
        "applies_to": rule.applies_to,
        "scope": unparse(rule.scope) if rule.scope is not None else None,
        "lets": [[name, unparse(expr)] for name, expr in rule.lets],
        "condition": unparse(rule.condition),
        "unless": unparse(rule.unless) if rule.unless is not None else None,
        "on_missing": rule.on_missing,
        "outcomes": {str(t): str(o) if o else None for t, o in rule.outcomes.items()},
        "derive": rule.derive,
        "message": rule.message,
        "action": rule.action.model_dump(mode="json") if rule.action else None,
        "guidance": rule.guidance,
        "references": list(rule.references),
        "tags": list(rule.tags),
        "effective_from": rule.effective_from,
        "effective_until": rule.effective_until,
        "relaxable": rule.relaxable,
        "parameters": rule.parameters,
    }
    canonical = json.dumps(text, sort_keys=True, default=str, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pack_entry(pack: Pack) -> dict[str, Any]:
    """A pack's name, version, digest (over its manifest and rule module files, stable) and
    a digest per rule version, to say which rules changed."""
    return {
        "name": pack.name,
        "version": pack.version,
        "pmo_type": pack.pmo_type.value if pack.pmo_type else None,
        "digest": pack.digest,
        "rules": {rule.key: rule_digest(rule) for rule in sorted(pack.rules, key=lambda r: (r.id, r.version))},
    }


def command_line(paths: list[str], settings: AuditSettings) -> list[str]:
    """The command that reproduces the report (output options left out: they do not change it)."""
    argv = ["govern", "audit", *paths]
    for pack in settings.packs or ():
        argv += ["--pack", pack]
    if settings.pmo_type:
        argv += ["--pmo-type", str(settings.pmo_type)]
    if settings.as_of:
        argv += ["--as-of", settings.as_of.isoformat()]
    argv += ["--engine", settings.evaluator]
    if settings.waivers:
        argv += ["--waivers", settings.waivers]
    return argv


def build_manifest(
    out: Path, paths: list[str], settings: AuditSettings, engine: Engine, report_digest: str, complete: bool
) -> dict[str, Any]:
    """The manifest of the run whose files are in `out` (inputs as recorded in files.jsonl)."""
    inputs = []
    if (out / "files.jsonl").exists():
        with open(out / "files.jsonl", encoding="utf-8") as log:
            for line in log:
                if not line.endswith("\n"):
                    break  # a torn last line: the run stopped while writing it
                entry = json.loads(line)
                inputs.append({"file": entry["file"], "digest": entry.get("digest")})
    return {
        "schema": SCHEMA,
        "engine_version": __version__,
        "argv": command_line(paths, settings),
        "paths": list(paths),
        "pack_refs": list(settings.packs) if settings.packs else None,
        "packs": [pack_entry(pack) for pack in engine.packs],
        "as_of": settings.as_of.isoformat() if settings.as_of else None,
        "pmo_type": str(settings.pmo_type) if settings.pmo_type else None,
        "evaluator": settings.evaluator,
        "waivers": ({"file": settings.waivers, "digest": file_digest(settings.waivers)} if settings.waivers else None),
        "inputs": inputs,
        "complete": complete,
        "report_digest": report_digest,
        "report_digest_of": "sha256 of the bytes of audit.json (written with --format json)",
    }


def load_manifest(path: Path) -> dict[str, Any]:
    """A manifest written by `govern audit`, or a UsageError saying why it cannot be used."""
    where = Location(file=str(path))
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read the manifest: {error.strerror}", where) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"the manifest is not valid JSON: {error}", where) from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise UsageError(f"not an audit manifest (schema {SCHEMA})", where)
    try:
        _ManifestDocument.model_validate(manifest)
    except ValidationError as error:
        problem = error.errors()[0]
        place = ".".join(str(part) for part in problem["loc"])
        raise UsageError(f"the manifest's {place}: {problem['msg']}", where) from None
    try:
        date.fromisoformat(manifest["as_of"]) if manifest.get("as_of") is not None else None
    except ValueError:
        raise UsageError(f"the manifest's as_of {manifest['as_of']!r} is not a date", where) from None
    return manifest


class _Input(BaseModel):
    file: str
    digest: str | None


class _PackEntry(BaseModel):
    name: str
    version: str
    digest: str
    rules: dict[str, str]


class _Waivers(BaseModel):
    file: str
    digest: str | None


class _ManifestDocument(BaseModel):
    """What `verify` reads of a manifest, checked before it is used (other fields pass)."""

    model_config = ConfigDict(extra="allow", strict=True)

    engine_version: str | None = None
    paths: list[str]
    pack_refs: list[str] | None = None
    packs: list[_PackEntry]
    as_of: str | None = None
    pmo_type: Literal["supportive", "controlling", "directive"] | None = None
    evaluator: Literal["snapshot", "rete", "reference"]
    waivers: _Waivers | None = None
    inputs: list[_Input]
    complete: bool = True
    report_digest: str


@dataclass
class Verification:
    """What differs between an audit's manifest and a re-run of it; empty when it reproduces."""

    manifest: Path
    inputs: int
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.differences

    def render(self) -> str:
        if self.identical:
            return (
                f"{self.manifest}: reproduced: {self.inputs} inputs, the same packs and rules, the same report digest\n"
            )
        lines = [f"{self.manifest}: the audit does not reproduce:"]
        lines += [f"  {difference}" for difference in self.differences]
        return "\n".join(lines) + "\n"


def verify(path: Path, *, jobs: int | None = None, executor: Executor | None = None) -> Verification:
    """Re-run the audit a manifest describes (paths as recorded, relative to the current
    directory) into a temporary directory and compare inputs, packs, rules and report."""
    from .audit import AuditSettings, run_audit

    old = load_manifest(path)
    found = Verification(path, len(old["inputs"]))
    differences = found.differences
    if old.get("engine_version") != __version__:
        differences.append(f"engine version: {old.get('engine_version')} -> {__version__}")
    if not old.get("complete", True):
        differences.append("the manifest describes a partial run (interrupted or stopped)")
    for entry in old["inputs"]:
        now = file_digest(entry["file"])
        if now is None and not Path(entry["file"]).exists():
            differences.append(f"input missing: {entry['file']}")
        elif now != entry["digest"]:
            differences.append(f"input changed: {entry['file']} ({entry['digest']} -> {now or 'unreadable'})")
    waivers = old.get("waivers")
    if waivers and file_digest(waivers["file"]) != waivers["digest"]:
        differences.append(f"waivers changed: {waivers['file']}")
    settings = AuditSettings(
        tuple(old["pack_refs"]) if old.get("pack_refs") else None,
        old["evaluator"],
        old.get("pmo_type"),
        date.fromisoformat(old["as_of"]) if old.get("as_of") else None,
        waivers["file"] if waivers else None,
    )
    with tempfile.TemporaryDirectory(prefix="govern-verify-") as temporary:
        try:
            run_audit(list(old["paths"]), Path(temporary), settings, jobs=jobs, executor=executor)
        except GovernanceError as error:
            differences.append(f"the audit cannot be re-run: {error}")
            return found
        new = json.loads((Path(temporary) / "manifest.json").read_text(encoding="utf-8"))
    recorded = {entry["file"] for entry in old["inputs"]}
    differences += [f"input added: {e['file']}" for e in new["inputs"] if e["file"] not in recorded]
    differences += _pack_differences(old["packs"], new["packs"])
    if new["report_digest"] != old["report_digest"]:
        differences.append(f"report digest differs: {old['report_digest']} -> {new['report_digest']}")
    return found


def _pack_differences(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before, after = {p["name"]: p for p in old}, {p["name"]: p for p in new}
    differences = [f"pack removed: {name}" for name in sorted(before.keys() - after.keys())]
    differences += [f"pack added: {name}" for name in sorted(after.keys() - before.keys())]
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if was["digest"] == now["digest"] and was["rules"] == now["rules"]:
            continue
        differences.append(f"pack changed: {name} {was['version']} {was['digest']} -> {now['version']} {now['digest']}")
        rules_before, rules_after = was["rules"], now["rules"]
        for key in sorted(rules_before.keys() | rules_after.keys()):
            if key not in rules_after:
                differences.append(f"rule removed: {name} {key}")
            elif key not in rules_before:
                differences.append(f"rule added: {name} {key}")
            elif rules_before[key] != rules_after[key]:
                differences.append(f"rule changed: {name} {key}")
    return differences
