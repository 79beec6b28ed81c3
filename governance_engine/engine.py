"""The library API: build an Engine once from packs, then evaluate state after state."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .decide.decisions import Assignment, decide, withhold_blocked_approvals
from .decide.rollup import RollUp
from .decide.waivers import WaiverSpec, apply_waivers, covering
from .errors import Location, StateError, UsageError
from .evaluate.common import EVERYTHING, Evaluator, Finding, Scope
from .evaluate.reference import ReferenceEvaluator
from .evaluate.snapshot import SnapshotEvaluator
from .language import ast
from .language.packs import FAMILY, Pack, load_pack
from .outcomes import BLOCKING, PMO_ORDER, Outcome, PmoType, strength
from .report.model import Decision, InputRef, PackRef, ProjectSummary, Report
from .state.index import PROJECT_SCHEDULE_ATTRIBUTES, StateIndex
from .state.load import load_state_bytes, state_from_dict
from .subjects import assign_subjects

SCHEDULE_ATTRIBUTES = frozenset({"total_float", "critical", *PROJECT_SCHEDULE_ATTRIBUTES})


def _evaluator_class(name: str) -> type:
    if name == "snapshot":
        return SnapshotEvaluator
    if name == "reference":
        return ReferenceEvaluator
    if name == "rete":
        from .evaluate.rete import ReteEvaluator

        return ReteEvaluator
    raise UsageError(f"unknown evaluator {name!r}: use snapshot, rete or reference")


def pack_ref(pack: Pack) -> PackRef:
    return PackRef(
        name=pack.name, version=pack.version, digest=pack.digest, pmo_type=pack.pmo_type, lineage=list(pack.lineage)
    )


def _combined_ref(packs: list[Pack]) -> PackRef:
    if len(packs) == 1:
        return pack_ref(packs[0])
    digest = hashlib.sha256("".join(p.digest for p in packs).encode()).hexdigest()
    return PackRef(
        name="+".join(p.name for p in packs),
        version="+".join(p.version for p in packs),
        digest=f"sha256:{digest}",
    )


class Engine:
    """Packs loaded and compiled once; `evaluate` is safe to call from several threads."""

    def __init__(self, packs: Sequence[str | Path | Pack] | None = None, *, evaluator: str = "snapshot") -> None:
        loaded = [p if isinstance(p, Pack) else load_pack(p) for p in (packs or FAMILY)]
        self.packs_by_type: dict[PmoType, Pack] = {}
        untyped = [p for p in loaded if p.pmo_type is None]
        for pack in loaded:
            if pack.pmo_type is None:
                continue
            if pack.pmo_type in self.packs_by_type:
                raise UsageError(
                    f"two packs serve {pack.pmo_type}: {self.packs_by_type[pack.pmo_type].name} and {pack.name}"
                )
            self.packs_by_type[pack.pmo_type] = pack
        if len(untyped) > 1:
            raise UsageError("more than one pack without a pmo_type: " + ", ".join(p.name for p in untyped))
        self.fallback = untyped[0] if untyped else (loaded[0] if len(loaded) == 1 else None)
        self.packs = sorted(loaded, key=lambda p: (PMO_ORDER.index(p.pmo_type) if p.pmo_type else 3, p.name))
        self.evaluator_name = evaluator
        cls = _evaluator_class(evaluator)
        self._evaluators: dict[str, Evaluator] = {p.name: cls(p) for p in loaded}
        self._rete: dict[str, Evaluator] = {
            name: evaluator for name, evaluator in self._evaluators.items() if evaluator.name == "rete"
        }
        self._snapshots: dict[str, SnapshotEvaluator] = {}
        self._refs: dict[tuple[str, ...], tuple[PackRef, tuple[PackRef, ...]]] = {}
        self._subject_types = sorted({rule.applies_to for pack in loaded for rule in pack.rules})
        # the evidence's lets from the compiled rules, when the snapshot evaluator is the one
        self.compiled_lets = {
            key: lets
            for evaluator in self._evaluators.values()
            if isinstance(evaluator, SnapshotEvaluator)
            for key, lets in evaluator.lets.items()
        }
        self.needs_schedule = any(
            isinstance(e, ast.Attr) and e.name in SCHEDULE_ATTRIBUTES
            for p in loaded
            for r in p.rules
            for expr in r.expressions()
            for e in ast.walk(expr)
        )
        self._lock = threading.Lock()

    def rete_evaluator(self, pack: Pack):
        """The pack's Rete evaluator, built on first use when the engine runs another one."""
        with self._lock:
            if pack.name not in self._rete:
                self._rete[pack.name] = _evaluator_class("rete")(pack)
            return self._rete[pack.name]

    def session(
        self, state: dict[str, Any] | str | Path, pmo_type: PmoType | str | None = None, as_of: date | None = None
    ):
        """An incremental session on the Rete evaluator: apply changes, get decision deltas."""
        from .session import Session

        return Session(self, state, _pmo_type(pmo_type), _as_of(as_of))

    def load(
        self, state: StateIndex | str | Path | bytes | dict[str, Any], source: str | None = None
    ) -> tuple[StateIndex, str]:
        """A state and the digest of its input (the file's bytes where there is a file)."""
        if isinstance(state, StateIndex):
            return state, _index_digest(state)
        if isinstance(state, dict):
            index = state_from_dict(state, source or "<memory>")
            return index, _index_digest(index)
        if isinstance(state, bytes):
            name = source or "<memory>"
        elif not isinstance(state, str | Path):
            raise UsageError(
                f"a state is a path, bytes, a dict or a StateIndex, not {type(state).__name__}",
                Location(file=source),
            )
        else:
            name = str(state)
            try:
                state = Path(state).read_bytes()
            except OSError as e:
                raise StateError(f"cannot read state file: {e.strerror}", Location(file=name)) from None
        return load_state_bytes(state, name), "sha256:" + hashlib.sha256(state).hexdigest()

    def findings(
        self, index: StateIndex, as_of: date, pmo_type: PmoType | None = None
    ) -> tuple[list[Finding], dict[str, Assignment]]:
        """Evaluation without the decide stage: what fired and what could not be decided."""
        assignments = self.assign(index, pmo_type)
        if self.needs_schedule:
            index.enrich_schedule()
        return self.match(index, as_of, assignments), assignments

    def assign(self, index: StateIndex, pmo_type: PmoType | None = None) -> dict[str, Assignment]:
        """Under which PMO type and pack each subject is judged."""
        return assign_subjects(index, self.packs_by_type, self.fallback, pmo_type, self._subject_types)

    def match(self, index: StateIndex, as_of: date, assignments: dict[str, Assignment]) -> list[Finding]:
        """Each pack's evaluator over the subjects it judges."""
        scopes = _scopes(assignments)
        findings: list[Finding] = []
        for pack in self.packs:
            if pack.name in scopes:
                findings.extend(self._evaluators[pack.name].evaluate(index, as_of, scopes[pack.name]))
        return findings

    def roll_up(
        self,
        index: StateIndex,
        as_of: date,
        decisions: list[Decision],
        assignments: dict[str, Assignment],
        *,
        remedies: bool = False,
        waivers: list[WaiverSpec] | None = None,
    ) -> list[Decision]:
        """Roll-up rules (gates held by blocking decisions below them) read the decisions of
        the other rules, so they run after those are decided, on the compiled form."""
        packs = [p for p in self.packs if any(r.rolls_up and r.in_force(as_of) for r in p.rules)]
        if not packs:
            return decisions
        rollup = RollUp(index, decisions, covering(waivers or [], as_of))
        scopes = _scopes(assignments)
        findings: list[Finding] = []
        for pack in packs:
            if pack.name not in scopes:
                continue
            evaluator = self._evaluators[pack.name]
            if not isinstance(evaluator, SnapshotEvaluator | ReferenceEvaluator):
                evaluator = self._snapshot_for(pack)
            findings.extend(evaluator.evaluate(index, as_of, scopes[pack.name], rollup))
        return decisions + decide(
            index, as_of, findings, assignments, rollup, remedies=remedies, compiled_lets=self.compiled_lets
        )

    def _pack_refs(self, used: tuple[str, ...]) -> tuple[PackRef, tuple[PackRef, ...]]:
        """The report's pack references for the packs a state used (frozen, so shared)."""
        refs = self._refs.get(used)
        if refs is None:
            used_packs = [p for p in self.packs if p.name in used]
            refs = self._refs[used] = (_combined_ref(used_packs), tuple(pack_ref(p) for p in used_packs))
        return refs

    def _snapshot_for(self, pack: Pack) -> SnapshotEvaluator:
        with self._lock:
            if pack.name not in self._snapshots:
                self._snapshots[pack.name] = SnapshotEvaluator(pack)
            return self._snapshots[pack.name]

    def evaluate(
        self,
        state: StateIndex | str | Path | bytes | dict[str, Any],
        pmo_type: PmoType | str | None = None,
        as_of: date | None = None,
        *,
        source: str | None = None,
        remedies: bool = False,
        waivers: list[WaiverSpec] | None = None,
    ) -> Report:
        """One state in, its report out. With `remedies`, each decision that fired also says
        what single change would clear it."""
        index, digest = self.load(state, source)
        forced = _pmo_type(pmo_type)
        when = _as_of(as_of) or index.as_of or date.today()
        findings, assignments = self.findings(index, when, forced)
        decided = decide(index, when, findings, assignments, remedies=remedies, compiled_lets=self.compiled_lets)
        decided = self.roll_up(index, when, decided, assignments, remedies=remedies, waivers=waivers)
        decisions, waiver_statuses = finalize(decided, waivers or [], when)
        used = tuple(sorted({a.pack.name for a in assignments.values()}) or [p.name for p in self.packs])
        combined_ref, pack_refs = self._pack_refs(used)
        summary = {o.value: 0 for o in Outcome} | {"waived": 0}
        for d in decisions:
            summary[d.outcome.value] += 1
            summary["waived"] += d.waiver is not None
        projects = []
        for project in index.of_type("project"):
            where = assignments.get(project.id)
            if where is None:
                continue
            mine = [d for d in decisions if d.project == project.id]
            ranked = [d.outcome for d in mine if d.outcome in BLOCKING or strength(d.outcome) >= 0]
            projects.append(
                ProjectSummary(
                    id=project.id,
                    name=project.attrs.get("name"),
                    pmo_type=where.pmo_type,
                    pack=where.pack.name,
                    strongest=max(ranked, key=strength) if ranked else None,
                    decisions=len(mine),
                )
            )
        return Report(
            engine_version=__version__,
            evaluator=self.evaluator_name,
            as_of=when,
            pmo_type=forced,
            pack=combined_ref,
            packs=list(pack_refs),
            input=InputRef(source=index.source, digest=digest),
            summary=summary,
            projects=projects,
            decisions=decisions,
            waivers=waiver_statuses,
        )


def _pmo_type(value: PmoType | str | None) -> PmoType | None:
    """A PMO type given by a caller, checked at the boundary."""
    if not value:
        return None
    try:
        return PmoType(value)
    except ValueError:
        known = ", ".join(t.value for t in PmoType)
        raise UsageError(f"unknown PMO type {value!r}; expected one of {known}") from None


def _as_of(value: date | None) -> date | None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise UsageError(f"as_of is a date (datetime.date), not {type(value).__name__} {value!r}")
    return value


def _scopes(assignments: dict[str, Assignment]) -> dict[str, Scope]:
    """The subjects each pack judges, by pack name (packs that judge none are left out); a
    pack judging every subject (the usual file) sees all nodes of its types unfiltered."""
    by_pack: dict[str, list[str]] = {}
    for subject, assignment in assignments.items():
        by_pack.setdefault(assignment.pack.name, []).append(subject)
    return {
        name: EVERYTHING if len(ids) == len(assignments) else Scope(frozenset(ids)) for name, ids in by_pack.items()
    }


def finalize(decisions: list[Decision], waivers: list[WaiverSpec], as_of: date) -> tuple[list[Decision], list]:
    """Waivers marked (never removing a decision), then approvals withheld where something
    unwaived blocks them."""
    marked, statuses = apply_waivers(decisions, waivers, as_of)
    return withhold_blocked_approvals(marked), statuses


def _index_digest(index: StateIndex) -> str:
    """For a state given in memory: a digest of its content, independent of order."""
    digest = hashlib.sha256()
    for node_id in sorted(index.nodes):
        node = index.nodes[node_id]
        digest.update(json.dumps([node.id, node.type, node.attrs], sort_keys=True, default=str).encode())
    for edge in index.edges():
        digest.update(
            json.dumps([edge.source, edge.target, edge.relation, edge.attrs], sort_keys=True, default=str).encode()
        )
    return "sha256:" + digest.hexdigest()
