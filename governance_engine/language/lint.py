"""`govern lint`: mistakes in rulesets and packs found before an audit meets them. Load
errors (schema, parameters, relaxing packs, overlapping versions, derived-fact cycles) come
from the loader; this module adds the checks against the pmo-state/1 vocabulary, kinds of
values, paths, messages, authority caps and tests. Modelled on `opa check` and Cedar's
validator."""

from __future__ import annotations

import contextlib
import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..errors import Location, RulesetError
from ..outcomes import CAP, PMO_ORDER, Outcome, capped
from ..yaml_source import load_marked_yaml
from . import ast
from .packs import Pack, load_modules, load_pack, shipped_root
from .rules import Rule
from .vocabulary import (
    BOOL,
    DATE,
    EDGE_ATTRIBUTES,
    LIST,
    NUMBER,
    RELATIONS,
    TEXT,
    AttributeKind,
    node_attributes,
    relation_targets,
)

PLACEHOLDER = re.compile(r"\{(\$?[A-Za-z_][A-Za-z0-9_]*)\}")
UNREADABLE = ("invalid YAML", "cannot read", "is not UTF-8", "the file is empty", "no such pack or ruleset")


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int
    column: int
    level: str  # error | warning | info
    message: str
    code: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.level}: {self.message} [{self.code}]"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("file", "line", "column", "level", "message", "code")}


def _diagnostic(where: Location, level: str, message: str, code: str) -> Diagnostic:
    file = where.file or "<input>"
    with contextlib.suppress(ValueError):
        file = str(Path(file).resolve().relative_to(Path.cwd()))
    return Diagnostic(file, where.line or 1, where.column or 1, level, message, code)


def _suggest(name: str, known: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _RuleChecker:
    def __init__(self, pack: Pack, rule: Rule, found: list[Diagnostic]) -> None:
        self.pack, self.rule, self.found = pack, rule, found
        self.vocabulary = node_attributes()
        self.field = "condition"
        self.derived = {r.derive for r in pack.rules if r.derive and r.applies_to == rule.applies_to}

    def where(self, expr: ast.Expr | None) -> Location:
        locate = self.rule.fields.get(self.field)
        if locate is None or expr is None or expr.span is None:
            return self.rule.location
        return locate(expr.span.line, expr.span.column)

    def report(self, expr: ast.Expr | None, level: str, message: str, code: str) -> None:
        self.found.append(_diagnostic(self.where(expr), level, f"rule {self.rule.id}: {message}", code))

    def attributes(self, node_type: str | None) -> dict[str, AttributeKind | None] | None:
        """Known attributes of a node type; custom ones declared in a ruleset have no known kind."""
        if node_type is None:
            return None
        custom: dict[str, AttributeKind | None] = dict.fromkeys(self.pack.custom_attributes.get(node_type, ()))
        known = self.vocabulary.get(node_type)
        if known is None and not custom:
            return None
        return {**(known or {}), **custom}

    def check(self) -> None:
        rule = self.rule
        if rule.applies_to not in self.vocabulary and rule.applies_to not in self.pack.custom_attributes:
            self.report(
                None,
                "warning",
                f"unknown node type {rule.applies_to!r}{_suggest(rule.applies_to, set(self.vocabulary))}",
                "unknown-node-type",
            )
        for name, expr in rule.named_expressions():
            self.field = name
            self.kind(expr, rule.applies_to, None)
        self.messages()
        self.caps()

    def kind(self, expr: ast.Expr, scope: str | None, relation: str | None) -> AttributeKind | None:
        """Checks an expression read on a node of type `scope`; returns its kind where known."""
        match expr:
            case ast.Literal(value=value):
                return _literal_kind(value)
            case ast.AsOf():
                return DATE
            case ast.LetRef():
                return None
            case ast.Attr(name=name) if scope == self.rule.applies_to and name in self.derived:
                return BOOL
            case ast.Attr(name=name):
                return self.attribute(expr, scope, name)
            case ast.SubjectAttr(name=name):
                return self.attribute(expr, self.rule.applies_to, name)
            case ast.EdgeAttr(name=name):
                custom = dict.fromkeys(self.pack.custom_edge_attributes.get(relation or "", ()))
                known = {**custom, **EDGE_ATTRIBUTES.get(relation or "", {})}  # a declaration never retypes a built-in
                if relation in RELATIONS and name not in known:
                    self.report(
                        expr,
                        "warning",
                        f"edges of {relation!r} have no attribute {name!r}{_suggest(name, set(known))} "
                        "(declare custom edge attributes under 'edge_attributes:' in the ruleset)",
                        "unknown-attribute",
                    )
                return known.get(name)
            case ast.Aggregate(func=func, path=path, where=where, value=value):
                target, last = self.path(expr, scope, path)
                if where is not None:
                    self.kind(where, target, last)
                if value is not None:
                    self.kind(value, target, last)
                return {
                    "count": NUMBER,
                    "sum": NUMBER,
                    "min": None,
                    "max": None,
                    "exists": BOOL,
                    "all": BOOL,
                    "values": LIST,
                    "blockers": NUMBER,
                }.get(func)
            case ast.Compare(op=op, left=left, right=right):
                a, b = self.kind(left, scope, relation), self.kind(right, scope, relation)
                if op in ("in", "notin"):
                    self.values(left, a, right)
                elif a and b and a.kind != b.kind and not ({a.kind, b.kind} <= {"text", "date"}):
                    self.report(expr, "error", f"compares a {a.kind} with a {b.kind}", "type-mismatch")
                elif op in ("==", "!="):
                    self.values(left, a, right)
                    self.values(right, b, left)
                return BOOL
            case ast.Arith(op=op, left=left, right=right):
                a, b = self.kind(left, scope, relation), self.kind(right, scope, relation)
                for side, found in ((left, a), (right, b)):
                    if found and found.kind not in ("number", "date"):
                        self.report(side, "error", f"arithmetic on a {found.kind}", "type-mismatch")
                if a == DATE and b == DATE:
                    return NUMBER
                return DATE if DATE in (a, b) and op in "+-" else NUMBER
            case ast.Call(name=name, args=args):
                kinds = [self.kind(a, scope, relation) for a in args]
                if name.endswith(("_since", "_until")) and kinds[0] and kinds[0].kind not in ("date", "text"):
                    self.report(args[0], "error", f"{name}() of a {kinds[0].kind}", "type-mismatch")
                return {"difference": LIST, "coalesce": kinds[0] if kinds else None}.get(name, NUMBER)
            case ast.And() | ast.Or() | ast.Not() | ast.IsNull():
                for child in ast.children(expr):
                    self.kind(child, scope, relation)
                return BOOL
        for child in ast.children(expr):
            self.kind(child, scope, relation)
        return None

    def attribute(self, expr: ast.Expr, scope: str | None, name: str) -> AttributeKind | None:
        known = self.attributes(scope)
        if known is None:
            return None
        if name not in known:
            self.report(
                expr,
                "warning",
                f"{scope} has no attribute {name!r} in pmo-state/1{_suggest(name, set(known))} "
                "(declare custom attributes under 'attributes:' in the ruleset)",
                "unknown-attribute",
            )
            return None
        return known[name]

    def values(self, side: ast.Expr, kind: AttributeKind | None, other: ast.Expr) -> None:
        """A text compared with an enumeration must be one of its values."""
        if kind is None or not kind.values:
            return
        texts = [other.value] if isinstance(other, ast.Literal) and isinstance(other.value, str) else []
        if isinstance(other, ast.ListExpr):
            texts = [i.value for i in other.items if isinstance(i, ast.Literal) and isinstance(i.value, str)]
        if isinstance(other, ast.Literal) and isinstance(other.value, list):
            texts = [x for x in other.value if isinstance(x, str)]
        for text in texts:
            if text not in kind.values:
                self.report(
                    other,
                    "warning",
                    f"{text!r} is not one of {sorted(kind.values)}{_suggest(text, set(kind.values))}",
                    "unknown-value",
                )

    def path(self, expr: ast.Expr, scope: str | None, path: tuple[ast.Step, ...]) -> tuple[str | None, str | None]:
        current = scope
        for step in path:
            arrow = "->" if step.direction == "out" else "<-"
            shown = f"{arrow}{step.relation}{arrow}{step.node_type or '*'}"
            if step.relation not in RELATIONS:
                self.report(
                    expr,
                    "warning",
                    f"unknown relation {step.relation!r} in {shown}{_suggest(step.relation, set(RELATIONS))}",
                    "unknown-relation",
                )
                current = step.node_type
                continue
            reachable = relation_targets(step.relation, current, step.direction)
            if step.node_type is not None and reachable is not None and step.node_type not in reachable:
                self.report(
                    expr,
                    "warning",
                    f"{shown}: {step.relation!r} never leads {'from' if step.direction == 'out' else 'to'} {current} "
                    f"{'to' if step.direction == 'out' else 'from'} {step.node_type} (it reaches: {', '.join(sorted(reachable)) or 'nothing'})",
                    "unreachable-path",
                )
            current = step.node_type
        return current, path[-1].relation if path else None

    def messages(self) -> None:
        known = (
            set(self.attributes(self.rule.applies_to) or {})
            | {n for n, _ in self.rule.lets}
            | self.derived
            | {"id", "type", "as_of"}
        )
        for text in (self.rule.message, self.rule.action.text if self.rule.action else ""):
            for name in PLACEHOLDER.findall(text):
                if name.startswith("$"):
                    continue  # unknown parameters are load errors
                if self.attributes(self.rule.applies_to) is not None and name not in known:
                    self.report(
                        None,
                        "warning",
                        f"message names {{{name}}}, a value the rule never has{_suggest(name, known)}",
                        "unknown-placeholder",
                    )

    def caps(self) -> None:
        for pmo_type in PMO_ORDER:
            wanted = self.rule.outcomes.get(pmo_type)
            if wanted is None or wanted is Outcome.approval:
                continue
            if capped(wanted, pmo_type) is not wanted:
                self.report(
                    None,
                    "info",
                    f"a {pmo_type} PMO may issue at most {CAP[pmo_type].value}: {wanted.value} is always lowered to {capped(wanted, pmo_type).value}",
                    "capped-outcome",
                )


def _literal_kind(value: Any) -> AttributeKind | None:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int | float):
        return NUMBER
    if isinstance(value, date):
        return DATE
    if isinstance(value, str):
        return TEXT
    if isinstance(value, list):
        return LIST
    return None


def _version_gaps(pack: Pack) -> list[Diagnostic]:
    """Days on which no version of a rule is in force, between two of its versions (overlaps
    are load errors)."""
    by_id: dict[str, list[Rule]] = {}
    for rule in pack.rules:
        by_id.setdefault(rule.id, []).append(rule)
    found = []
    for rule_id, versions in by_id.items():
        versions.sort(key=lambda r: r.effective_from or date.min)
        for earlier, later in zip(versions, versions[1:], strict=False):
            if (
                earlier.effective_until
                and later.effective_from
                and (later.effective_from - earlier.effective_until).days > 1
            ):
                found.append(
                    _diagnostic(
                        later.location,
                        "warning",
                        f"rule {rule_id}: no version is in force from {earlier.effective_until + timedelta(days=1)} "
                        f"to {later.effective_from - timedelta(days=1)} (between versions {earlier.version} and {later.version})",
                        "version-gap",
                    )
                )
    return found


def _tested_rule_ids(directories: set[Path]) -> set[str]:
    ids: set[str] = set()
    for directory in directories:
        for path in sorted(directory.glob("tests/*.yaml")):
            try:
                data = load_marked_yaml(path.read_text(encoding="utf-8"), str(path), RulesetError).data
            except (OSError, UnicodeDecodeError, RulesetError):
                continue  # `govern test` reports the file; here it only leaves its rules untested
            cases = data.get("tests") if isinstance(data, dict) else None
            for case in cases if isinstance(cases, list) else []:
                if not isinstance(case, dict):
                    continue
                for key in ("expect", "absent"):
                    entries = case.get(key)
                    for entry in entries if isinstance(entries, list) else []:
                        if isinstance(entry, dict) and "rule" in entry:
                            ids.add(str(entry["rule"]))
    return ids


def _load(target: Path) -> Pack:
    """A pack directory or ruleset file; a plain directory is all its rulesets as one pack,
    so that modules reading each other's derived facts are checked together."""
    if target.is_dir() and not (target / "pack.yaml").is_file():
        modules = sorted(target.glob("*.yaml"))
        if not modules:
            raise RulesetError(
                "cannot read a pack here: no pack.yaml and no ruleset (*.yaml)", Location(file=str(target))
            )
        return load_modules(modules, name=target.name)
    return load_pack(target)


def lint_waivers(path: Path, known_rules: set[str], today: date) -> list[Diagnostic]:
    """A waiver for a rule no linted pack has can never match; an expired one is dead weight."""
    from ..decide.waivers import load_waivers

    found = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        raise RulesetError(f"cannot read the waivers file: {reason}", Location(file=str(path))) from None
    doc = load_marked_yaml(text, str(path), RulesetError)
    for number, waiver in enumerate(load_waivers(path)):
        where = doc.locate(("waivers", number))
        if waiver.rule not in known_rules:
            found.append(
                _diagnostic(
                    where,
                    "warning",
                    f"waiver for unknown rule {waiver.rule!r}: it matches nothing{_suggest(waiver.rule, known_rules)}",
                    "unmatched-waiver",
                )
            )
        if waiver.expires < today:
            found.append(
                _diagnostic(
                    where,
                    "warning",
                    f"waiver of {waiver.rule} expired on {waiver.expires.isoformat()}",
                    "expired-waiver",
                )
            )
    return found


def lint(paths: list[Path], waivers: Path | None = None, today: date | None = None) -> tuple[list[Diagnostic], bool]:
    """All diagnostics, sorted, and whether some input could not be read at all."""
    found: list[Diagnostic] = []
    unreadable = False
    known_rules: set[str] = set()
    for target in paths:
        try:
            pack = _load(target)
        except RulesetError as error:
            unreadable |= error.message.startswith(UNREADABLE)
            found.append(_diagnostic(error.location, "error", error.message, "load"))
            continue
        known_rules |= {rule.id for rule in pack.rules}
        for rule in pack.rules:
            _RuleChecker(pack, rule, found).check()
        found.extend(_version_gaps(pack))
        homes = {Path(r.location.file).parent for r in pack.rules if r.location.file} | {shipped_root() / "rulesets"}
        if target.is_dir():
            homes.add(target)
        tested = _tested_rule_ids(homes)
        for rule in pack.rules:
            if rule.id not in tested and not rule.derive:
                found.append(
                    _diagnostic(
                        rule.location,
                        "warning",
                        f"rule {rule.id} has no test case (add one under tests/)",
                        "untested-rule",
                    )
                )
    if waivers is not None:
        try:
            found.extend(lint_waivers(waivers, known_rules, today or date.today()))
        except (OSError, RulesetError) as error:
            unreadable = True
            location = error.location if isinstance(error, RulesetError) else Location(file=str(waivers))
            found.append(_diagnostic(location, "error", str(getattr(error, "message", error)), "load"))
    return sorted(set(found)), unreadable
