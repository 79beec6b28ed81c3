"""Packs: a manifest, the shared rule modules it includes, its own rules, parameter values and
outcome overrides, layered on a parent pack. Layering only tightens (issue #10): a child may
make a parameter stricter or an outcome stronger, never the reverse, unless the parent marks
it relaxable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import Location, RulesetError
from ..outcomes import PMO_ORDER, Outcome, PmoType, strength
from ..yaml_source import MarkedDocument, load_marked_yaml
from .model import PackSpec, ParameterSpec, RulesetSpec, RuleSpec
from .rules import (
    Rule,
    SourceRule,
    TextLocator,
    attributes_read,
    bind_rule,
    outcome_map,
    parse_rule,
    stratify,
)

MAX_RULE_FILE_BYTES = 2_000_000
FAMILY = ("supportive", "controlling", "directive")


def shipped_root() -> Path:
    """Where the shipped packs and shared rulesets live: inside the installed package, or
    beside it in a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_data"
    return installed if (installed / "rulesets").is_dir() else package.parent


def shared_rulesets_dir() -> Path:
    return shipped_root() / "rulesets"


@dataclass(frozen=True)
class Pack:
    """A pack ready to evaluate: rules bound to its parameters, stratified."""

    name: str
    version: str
    pmo_type: PmoType | None
    description: str
    rules: tuple[Rule, ...]
    parameters: dict[str, Any]
    parameter_specs: dict[str, ParameterSpec]
    lineage: tuple[str, ...]
    digest: str
    custom_attributes: dict[str, frozenset[str]] = field(default_factory=dict)
    custom_edge_attributes: dict[str, frozenset[str]] = field(default_factory=dict)

    def rules_in_force(self, as_of: date) -> list[Rule]:
        return [r for r in self.rules if r.in_force(as_of)]


@dataclass
class _Layer:
    name: str
    version: str
    pmo_type: PmoType | None
    description: str
    modules: dict[str, tuple[RulesetSpec, MarkedDocument]]
    values: dict[str, Any]
    outcome_overrides: dict[tuple[str, int], dict[PmoType, Outcome | None]]  # by rule id and version
    override_places: dict[tuple[str, int], Location]  # where each override was set
    disabled: set[str]
    files: dict[str, bytes]
    lineage: tuple[str, ...]


def read_yaml_file(path: Path, what: str) -> tuple[MarkedDocument, bytes]:
    """A governance YAML file (rules, packs, rule tests, waivers): size-capped, UTF-8, no aliases."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise RulesetError(f"cannot read {what}: {e.strerror}", Location(file=str(path))) from None
    if len(raw) > MAX_RULE_FILE_BYTES:
        raise RulesetError(f"{what} larger than {MAX_RULE_FILE_BYTES} bytes", Location(file=str(path)))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RulesetError(f"{what} is not UTF-8 text (byte {e.start})", Location(file=str(path))) from None
    return load_marked_yaml(text, str(path), RulesetError), raw


def _validate(model, doc: MarkedDocument):
    try:
        return model.model_validate(doc.data)
    except ValidationError as e:
        first = e.errors()[0]
        path = tuple(p for p in first["loc"] if isinstance(p, str | int))
        field_name = ".".join(str(p) for p in path) or "document"
        raise RulesetError(f"{field_name}: {first['msg']}", doc.locate(path)) from None


def read_ruleset(path: Path) -> tuple[RulesetSpec, MarkedDocument, bytes]:
    doc, raw = read_yaml_file(path, "ruleset")
    if not isinstance(doc.data, dict) or "ruleset" not in doc.data:
        raise RulesetError("not a ruleset: the top level needs a 'ruleset' name", doc.locate(()))
    return _validate(RulesetSpec, doc), doc, raw


def _shared_module(name: str, manifest: MarkedDocument, index: int) -> Path:
    path = shared_rulesets_dir() / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in shared_rulesets_dir().glob("*.yaml"))) or "none"
        raise RulesetError(f"unknown shared ruleset {name!r} (known: {known})", manifest.locate(("include", index)))
    return path


def _resolve_extends(ref: str, pack_dir: Path, manifest: MarkedDocument) -> Path:
    """A parent is a shipped pack's name or a sibling directory; never a path out of there."""
    shipped = shipped_root() / ref
    if ref in FAMILY and (shipped / "pack.yaml").is_file():
        return shipped
    candidate = (pack_dir.parent / ref).resolve()
    if candidate.parent != pack_dir.resolve().parent or not (candidate / "pack.yaml").is_file():
        raise RulesetError(
            f"extends {ref!r}: not a shipped pack ({', '.join(FAMILY)}) nor a sibling pack directory",
            manifest.locate(("extends",)),
        )
    return candidate


def _stricter_or_equal(spec: ParameterSpec, old: Any, new: Any) -> bool:
    try:
        if spec.stricter == "none":
            return True
        if spec.stricter == "higher":
            return new >= old
        if spec.stricter == "lower":
            return new <= old
        wider, narrower = (new, old) if spec.stricter == "superset" else (old, new)
        if isinstance(wider, dict) and isinstance(narrower, dict):
            return all(k in wider and set(wider[k]) >= set(v) for k, v in narrower.items())
        return set(wider) >= set(narrower)
    except TypeError:
        return False


def _same_kind(a: Any, b: Any) -> bool:
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, number) and isinstance(b, number):
        return True
    return type(a) is type(b)


def _outcome_not_weaker(old: Outcome | None, new: Outcome | None) -> bool:
    if old is Outcome.approval:
        return new in (Outcome.approval, None)
    if new is Outcome.approval:
        return False
    return strength(new) >= strength(old)


def _load_layer(pack_dir: Path, chain: tuple[Path, ...]) -> _Layer:
    pack_dir = pack_dir.resolve()
    if pack_dir in chain:
        raise RulesetError("packs extend each other in a cycle", Location(file=str(pack_dir / "pack.yaml")))
    manifest_doc, manifest_raw = read_yaml_file(pack_dir / "pack.yaml", "pack manifest")
    manifest: PackSpec = _validate(PackSpec, manifest_doc)
    parent = (
        _load_layer(_resolve_extends(manifest.extends, pack_dir, manifest_doc), (*chain, pack_dir))
        if manifest.extends
        else None
    )
    files = dict(parent.files) if parent else {}
    files[f"{manifest.pack}/pack.yaml"] = manifest_raw
    modules = dict(parent.modules) if parent else {}
    sources = [_shared_module(n, manifest_doc, i) for i, n in enumerate(manifest.include)]
    sources += sorted((pack_dir / "rules").glob("*.yaml")) if (pack_dir / "rules").is_dir() else []
    for path in sources:
        spec, doc, raw = read_ruleset(path)
        if spec.ruleset in modules and modules[spec.ruleset][1].file != doc.file:
            raise RulesetError(f"two rule modules are named {spec.ruleset!r}", doc.locate(("ruleset",)))
        modules[spec.ruleset] = (spec, doc)
        files[f"modules/{spec.ruleset}.yaml"] = raw

    specs = _parameter_specs(modules)
    values = dict(parent.values) if parent else {}
    for name, param in specs.items():
        values.setdefault(name, param.default)
    for name, value in manifest.parameters.items():
        where = manifest_doc.locate(("parameters", name))
        if name not in specs:
            raise RulesetError(f"pack {manifest.pack}: unknown parameter {name!r}", where)
        param, before = specs[name], values[name]
        if not _same_kind(param.default, value):
            raise RulesetError(
                f"pack {manifest.pack}: parameter {name!r} must be like {param.default!r}, got {value!r}", where
            )
        if parent and not param.relaxable and not _stricter_or_equal(param, before, value):
            raise RulesetError(
                f"pack {manifest.pack} relaxes parameter {name!r} ({param.stricter} is stricter): "
                f"{parent.name} has {before!r}, {manifest.pack} sets {value!r}",
                where,
            )
        values[name] = value

    # every version of each rule id: an override or a disable applies to all of them, so each
    # one must allow it (a child never loosens any version its parent has)
    versions: dict[str, list[RuleSpec]] = {}
    for spec, _ in modules.values():
        for rule_spec in spec.rules:
            versions.setdefault(rule_spec.id, []).append(rule_spec)
    overrides = dict(parent.outcome_overrides) if parent else {}
    override_places = dict(parent.override_places) if parent else {}
    for rule_id, outcome_spec in manifest.outcomes.items():
        where = manifest_doc.locate(("outcomes", rule_id))
        if rule_id not in versions:
            raise RulesetError(f"pack {manifest.pack}: outcome for unknown rule {rule_id!r}", where)
        change = (
            outcome_map(outcome_spec)
            if not isinstance(outcome_spec, dict)
            else {PmoType(t): (None if o == "none" else Outcome(o)) for t, o in outcome_spec.items()}
        )
        several = len(versions[rule_id]) > 1
        for version in versions[rule_id]:
            key = (rule_id, version.version)
            before = overrides.get(key) or outcome_map(version.outcome)
            after = before | change
            if parent and not version.relaxable:
                for pmo_type in PMO_ORDER:
                    if not _outcome_not_weaker(before[pmo_type], after[pmo_type]):
                        raise RulesetError(
                            f"pack {manifest.pack} relaxes rule {rule_id}"
                            + (f" (version {version.version})" if several else "")
                            + f" under {pmo_type}: {parent.name} has {before[pmo_type] or 'none'}, "
                            f"{manifest.pack} sets {after[pmo_type] or 'none'}",
                            where,
                        )
            overrides[key] = after
            override_places[key] = where

    disabled = set(parent.disabled) if parent else set()
    for i, rule_id in enumerate(manifest.disable):
        where = manifest_doc.locate(("disable", i))
        if rule_id not in versions:
            raise RulesetError(f"pack {manifest.pack}: cannot disable unknown rule {rule_id!r}", where)
        fixed = [v.version for v in versions[rule_id] if not v.relaxable]
        if fixed:
            which = "" if len(versions[rule_id]) == 1 else f" (version {fixed[0]})"
            raise RulesetError(
                f"pack {manifest.pack} disables rule {rule_id}{which}, which its module does not mark relaxable", where
            )
        disabled.add(rule_id)

    return _Layer(
        name=manifest.pack,
        version=manifest.version,
        pmo_type=manifest.pmo_type,
        description=manifest.description,
        modules=modules,
        values=values,
        outcome_overrides=overrides,
        override_places=override_places,
        disabled=disabled,
        files=files,
        lineage=((*parent.lineage, manifest.pack) if parent else (manifest.pack,)),
    )


def _parameter_specs(modules: dict[str, tuple[RulesetSpec, MarkedDocument]]) -> dict[str, ParameterSpec]:
    specs: dict[str, ParameterSpec] = {}
    for spec, doc in modules.values():
        for name, parameter in spec.parameters.items():
            if name in specs and specs[name] != parameter:
                raise RulesetError(
                    f"parameter {name!r} is declared differently in two modules", doc.locate(("parameters", name))
                )
            specs[name] = parameter
    return specs


def _check_versions(sources: list[SourceRule]) -> None:
    """Versions of one rule id must have distinct numbers and ranges that do not overlap."""
    by_id: dict[str, list[SourceRule]] = {}
    for source in sources:
        by_id.setdefault(source.spec.id, []).append(source)
    for rule_id, versions in by_id.items():
        modules = {v.module for v in versions}
        if len(modules) > 1:
            raise RulesetError(
                f"rule id {rule_id} is defined in several modules: {', '.join(sorted(modules))}", versions[1].location
            )
        versions.sort(key=lambda v: (v.spec.effective_from or date.min, v.spec.version))
        seen: set[int] = set()
        for earlier, later in zip(versions, versions[1:], strict=False):
            if (
                earlier.spec.effective_until is None
                or (later.spec.effective_from is not None and later.spec.effective_from <= earlier.spec.effective_until)
                or later.spec.effective_from is None
            ):
                raise RulesetError(
                    f"rule {rule_id}: versions {earlier.spec.version} and {later.spec.version} are in force on the same days",
                    later.location,
                )
        for v in versions:
            if v.spec.version in seen:
                raise RulesetError(f"rule {rule_id}: version {v.spec.version} defined twice", v.location)
            seen.add(v.spec.version)


def _outcomes_escalate(rule: Rule, override: Location | None = None) -> None:
    """Escalation order: a stronger PMO type never issues a weaker outcome for the same rule
    (reported where a pack's override set the outcomes, if one did, else at the rule)."""
    if rule.relaxable or rule.derive:
        return
    ranks = [rule.outcomes[t] for t in PMO_ORDER]
    if Outcome.approval in ranks:
        return
    for weaker, stronger, a, b in zip(PMO_ORDER, PMO_ORDER[1:], ranks, ranks[1:], strict=False):
        if strength(b) < strength(a):
            raise RulesetError(
                f"rule {rule.id}: {stronger} outcome {b or 'none'} is weaker than {weaker} outcome {a or 'none'}",
                override or rule.location,
            )


def _rule_text_locator(doc: MarkedDocument, index: int) -> Callable[[tuple], TextLocator]:
    """Where the text of a field of the index-th rule of a module lies in its file."""
    return lambda path: doc.text_locator(("rules", index, *path))


def _build(layer: _Layer) -> Pack:
    sources: list[SourceRule] = []
    for module, (spec, doc) in sorted(layer.modules.items()):
        for i, rule_spec in enumerate(spec.rules):
            if rule_spec.id in layer.disabled:
                continue
            sources.append(
                parse_rule(
                    rule_spec,
                    module,
                    doc.locate(("rules", i)),
                    _rule_text_locator(doc, i),
                )
            )
    _check_versions(sources)
    derived = {s.spec.derive for s in sources if s.spec.derive}
    writers: dict[str, str] = {}
    for s in sources:
        if s.spec.derive and writers.setdefault(s.spec.derive, s.spec.id) != s.spec.id:
            raise RulesetError(f"derived fact {s.spec.derive!r} is set by two rules", s.location)
    rules = []
    for source in sources:
        key = (source.spec.id, source.spec.version)
        outcomes = layer.outcome_overrides.get(key) or outcome_map(source.spec.outcome)
        rule = bind_rule(source, layer.values, outcomes, derived)
        _outcomes_escalate(rule, layer.override_places.get(key))
        if rule.rolls_up and (rule.derive or attributes_read(rule) & derived):
            raise RulesetError(
                f"rule {rule.id}: a roll-up rule (blockers()) runs after the others are decided; "
                "it can neither derive facts nor read them",
                rule.location,
            )
        rules.append(rule)
    digest = hashlib.sha256()
    for name, raw in sorted(layer.files.items()):
        digest.update(name.encode() + b"\0" + hashlib.sha256(raw).digest())
    custom: dict[str, set[str]] = {}
    custom_edges: dict[str, set[str]] = {}
    for spec, _ in layer.modules.values():
        for node_type, names in spec.attributes.items():
            custom.setdefault(node_type, set()).update(names)
        for relation, names in spec.edge_attributes.items():
            custom_edges.setdefault(relation, set()).update(names)
    return Pack(
        name=layer.name,
        version=layer.version,
        pmo_type=layer.pmo_type,
        description=layer.description,
        rules=tuple(stratify(rules)),
        parameters=dict(sorted(layer.values.items())),
        parameter_specs=_parameter_specs(layer.modules),
        lineage=layer.lineage,
        digest="sha256:" + digest.hexdigest(),
        custom_attributes={k: frozenset(v) for k, v in custom.items()},
        custom_edge_attributes={k: frozenset(v) for k, v in custom_edges.items()},
    )


def load_pack(ref: str | Path) -> Pack:
    """A shipped pack by name, a pack directory, its pack.yaml, or a single ruleset file
    (an anonymous pack that serves every PMO type)."""
    path = Path(ref)
    if isinstance(ref, str) and ref in FAMILY and not path.exists():
        path = shipped_root() / ref
    if path.is_dir():
        if not (path / "pack.yaml").is_file():
            raise RulesetError("not a pack: the directory has no pack.yaml", Location(file=str(path)))
        return _build(_load_layer(path, ()))
    if path.name == "pack.yaml":
        return _build(_load_layer(path.parent, ()))
    if not path.is_file():
        raise RulesetError(f"no such pack or ruleset (shipped packs: {', '.join(FAMILY)})", Location(file=str(ref)))
    return load_modules([path])


def load_modules(paths: list[Path], name: str | None = None) -> Pack:
    """Ruleset files as one anonymous pack that serves every PMO type, with their defaults."""
    modules: dict[str, tuple[RulesetSpec, MarkedDocument]] = {}
    files: dict[str, bytes] = {}
    for path in paths:
        spec, doc, raw = read_ruleset(path)
        if spec.ruleset in modules:
            raise RulesetError(f"two rule modules are named {spec.ruleset!r}", doc.locate(("ruleset",)))
        modules[spec.ruleset] = (spec, doc)
        files[f"modules/{spec.ruleset}.yaml"] = raw
    if not modules:
        raise RulesetError("no rulesets here", Location(file=str(paths[0].parent) if paths else None))
    first = next(iter(modules.values()))[0]
    layer = _Layer(
        name=name or first.ruleset,
        version=first.version if len(modules) == 1 else "+".join(s.version for s, _ in modules.values()),
        pmo_type=None,
        description=first.description if len(modules) == 1 else "",
        modules=modules,
        values={n: p.default for n, p in _parameter_specs(modules).items()},
        outcome_overrides={},
        override_places={},
        disabled=set(),
        files=files,
        lineage=(name or first.ruleset,),
    )
    return _build(layer)
