"""Incremental re-evaluation for systems that call the engine on every change to a project:
a session keeps the Rete state, takes changes (node added, updated, removed; edge added,
removed) and returns the decisions that appeared, changed or disappeared."""

from __future__ import annotations

import contextlib
import copy
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from .decide.decisions import Assignment, decide
from .engine import SCHEDULE_ATTRIBUTES, finalize
from .errors import Location, StateError, UsageError
from .evaluate.rete import ReteSession
from .outcomes import PmoType
from .report.model import Decision
from .state.build import build_index
from .state.index import StateIndex
from .state.load import MAX_BYTES
from .state.locate import no_locator
from .state.parse import parse_bytes, parse_object


class Change(BaseModel):
    """One change to a project's state. `node` carries the node (add) or its id and the
    attributes to set (update); `unset` names attributes to remove; `edge` carries source,
    target and relation (and attributes, when added)."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["add_node", "update_node", "remove_node", "add_edge", "remove_edge"]
    node: dict[str, Any] | None = None
    unset: list[str] = []
    edge: dict[str, Any] | None = None


class DecisionDelta(BaseModel):
    appeared: list[Decision]
    changed: list[Decision]
    disappeared: list[Decision]

    @property
    def empty(self) -> bool:
        return not (self.appeared or self.changed or self.disappeared)


def _key(decision: Decision) -> tuple[str, int, str]:
    return decision.rule_id, decision.rule_version, decision.subject


class Session:
    """Created by `Engine.session(state)`; not shared between threads. `document` is the
    state as changed so far: read it, and change it only through `apply`."""

    def __init__(
        self, engine, state: dict[str, Any] | str | Path, pmo_type: PmoType | None, as_of: date | None
    ) -> None:
        self.engine = engine
        if isinstance(state, str | Path):
            state, _ = parse_bytes(Path(state).read_bytes(), str(state), fmt=None, max_bytes=MAX_BYTES)
        self.document: dict[str, Any] = copy.deepcopy(state)
        self.document.setdefault("edges", self.document.pop("links", []))
        self.pmo_type = pmo_type
        parsed, _ = parse_object(self.document, "<session>")
        self._graph: dict[str, Any] = parsed.get("graph", {})
        # each item of the document with its validated form, by identity: changes replace an
        # item's dict and never change it, so only the items a change brings are validated
        self._checked: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {
            id(raw): (raw, valid)
            for section in ("nodes", "edges")
            for raw, valid in zip(self.document[section], parsed.get(section, []), strict=True)
        }
        self.index = self._index(self.document)
        self.as_of = as_of or self.index.as_of or date.today()
        self.sessions: dict[str, ReteSession] = {}
        self.assignments: dict[str, Assignment] = {}
        self._decisions: list[Decision] = []
        self._rule_decisions: list[Decision] = []  # before roll-ups, which are redone on every change
        if engine.needs_schedule:
            self.index.enrich_schedule()
        self._start()

    def decisions(self) -> list[Decision]:
        return list(self._decisions)

    def apply(self, *changes: Change | dict[str, Any]) -> DecisionDelta:
        touched: set[str] = set()
        # changes replace node and edge dicts, never mutate them: shallow copies suffice
        document = dict(self.document, nodes=list(self.document["nodes"]), edges=list(self.document["edges"]))
        for number, change in enumerate(changes, start=1):
            touched |= _apply(document, _change(change, number))
        checked = self._checked
        index = self._index(document)
        try:
            assignments = self._assign(index)  # raises on a state that cannot be judged, before any change
            if self.engine.needs_schedule:  # a change to one task can move the float of many
                index.enrich_schedule()
                touched |= {
                    node.id
                    for kind in ("task", "milestone", "project")
                    for node in index.of_type(kind)
                    if node.id not in self.index.nodes or _schedule_of(node) != _schedule_of(self.index.nodes[node.id])
                }
        except BaseException:
            self._checked = checked
            raise
        before = {_key(d): d for d in self._decisions}
        kept = (self.index, self.document, checked, self.assignments, self._decisions, self._rule_decisions)
        previous = self.index
        self.index, self.document = index, document
        try:
            affected = touched | {s for session in self.sessions.values() for s in session.readers(touched)}
            self._refresh(assignments, affected, full=False, touched=touched, previous=previous)
        except BaseException:  # the Rete sessions may hold part of the change: start them again
            self.index, self.document, self._checked, self.assignments, self._decisions, self._rule_decisions = kept
            self._restart()
            raise
        after = {_key(d): d for d in self._decisions}
        return DecisionDelta(
            appeared=[after[k] for k in sorted(after.keys() - before.keys())],
            changed=[after[k] for k in sorted(after.keys() & before.keys()) if after[k] != before[k]],
            disappeared=[before[k] for k in sorted(before.keys() - after.keys())],
        )

    def close(self) -> None:
        for session in self.sessions.values():
            session.close()

    def _start(self) -> None:
        """Rete sessions for the current state, every subject asserted, decisions decided."""
        self.sessions = {p.name: self.engine.rete_evaluator(p).session(self.as_of) for p in self.engine.packs}
        self.assignments, self._decisions, self._rule_decisions = {}, [], []
        self._refresh(self._assign(self.index), set(), full=True, touched=set(), previous=self.index)

    def _restart(self) -> None:
        """After a change that failed half-way: the state as it was before it."""
        with contextlib.suppress(Exception):
            self.close()
        self._start()

    def _index(self, document: dict[str, Any]) -> StateIndex:
        """The document as a StateIndex, validating only the items not seen before; the
        checks across items (ids, edge ends, cycles) run on the whole, as at load."""
        checked: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        valid: dict[str, list[dict[str, Any]]] = {}
        for section in ("nodes", "edges"):
            items = valid[section] = []
            for raw in document[section]:
                entry = self._checked.get(id(raw))
                if entry is None or entry[0] is not raw:
                    parsed, _ = parse_object({"nodes": [], section: [raw]}, "<session>")
                    entry = (raw, parsed[section][0])
                checked[id(raw)] = entry
                items.append(dict(entry[1]))  # build_index takes the dicts apart
        index = build_index(
            {"graph": dict(self._graph), "nodes": valid["nodes"], "edges": valid["edges"]}, "<session>", no_locator
        )
        self._checked = checked
        return index

    def _assign(self, index: StateIndex) -> dict[str, Assignment]:
        return self.engine.assign(index, self.pmo_type)

    def _refresh(
        self,
        assignments: dict[str, Assignment],
        affected: set[str],
        *,
        full: bool,
        touched: set[str],
        previous: StateIndex,
    ) -> None:
        """`previous`: the state before the change (where a touched node was)."""
        index = self.index
        moved = {
            s
            for s in assignments.keys() | self.assignments.keys()
            if _pack(assignments.get(s)) != _pack(self.assignments.get(s))
        }
        candidates = set(assignments) | set(self.assignments)
        if not full:
            candidates &= affected | moved
        findings = []
        for pack in self.engine.packs:
            mine = {s for s, a in assignments.items() if a.pack is pack}
            had = {s for s, a in self.assignments.items() if a.pack is pack}
            session = self.sessions[pack.name]
            session.update(index, candidates & (mine | had), present=mine)
            findings.extend(session.findings())
        if full:
            redo = set(assignments)
        else:  # decisions also show owners and names: redo those in a touched project or owned by a touched person
            projects = {
                p
                for t in touched
                if (p := index.project_of(t) or (previous.project_of(t) if t in previous.nodes else None))
            }
            redo = candidates | {s for s in assignments if index.project_of(s) in projects}
            redo |= {d.subject for d in self._decisions if d.action is not None and d.action.owner in touched}
            if any(_may_own(graph, t) for t in touched for graph in (index, previous)):
                # an owner can be found far from the subject (a PMO lead anywhere, the person an
                # `owner` attribute names, a program's manager): redo every decision with one
                redo |= {d.subject for d in self._rule_decisions if d.action is not None}
        kept = [d for d in self._rule_decisions if d.subject not in redo and d.subject in assignments]
        fresh = decide(
            index,
            self.as_of,
            [f for f in findings if f.subject in redo],
            assignments,
            compiled_lets=self.engine.compiled_lets,
        )
        self.assignments = assignments
        self._rule_decisions = sorted(kept + fresh, key=Decision.sort_key)
        self._decisions = finalize(
            self.engine.roll_up(index, self.as_of, self._rule_decisions, assignments), [], self.as_of
        )[0]


def _schedule_of(node) -> tuple:
    return tuple(node.attrs.get(name) for name in SCHEDULE_ATTRIBUTES)


def _pack(assignment: Assignment | None) -> tuple[str, str, str | None] | None:
    """What a subject's decisions depend on in its assignment: the pack, the PMO type and
    the project (which each decision names)."""
    return None if assignment is None else (assignment.pack.name, assignment.pmo_type.value, assignment.project)


OWNER_SOURCES = frozenset({"person", "program", "portfolio"})


def _may_own(index: StateIndex, node_id: str) -> bool:
    """Whether a node can be where an action's owner is found: a person, or a program or
    portfolio whose manager or sponsor owns what lies outside projects."""
    node = index.nodes.get(node_id)
    return node is not None and node.type in OWNER_SOURCES


def _change(change: Change | dict[str, Any], number: int) -> Change:
    """A change as given, checked: a malformed one is a UsageError naming it."""
    if isinstance(change, Change):
        return change
    try:
        return Change.model_validate(change)
    except ValidationError as error:
        problem = error.errors()[0]
        place = ".".join(str(part) for part in problem["loc"]) or "the change"
        raise UsageError(f"change {number}: {place}: {problem['msg']}", Location(file="<session>")) from None


def _apply(document: dict[str, Any], change: Change) -> set[str]:
    """Apply one change to the document; the ids whose neighbourhood it touches."""
    nodes: list[dict[str, Any]] = document["nodes"]
    edges: list[dict[str, Any]] = document["edges"]
    where = Location(file="<session>")
    if change.op in ("add_node", "update_node", "remove_node"):
        if not change.node or not isinstance(change.node.get("id"), str):
            raise StateError(f"{change.op} needs a node with an id (a text)", where)
        node_id = change.node["id"]
        position = next((i for i, n in enumerate(nodes) if n.get("id") == node_id), None)
        if change.op == "add_node":
            if position is not None:
                raise StateError(f"add_node: node {node_id!r} exists already", Location(file="<session>", node=node_id))
            nodes.append(dict(change.node))
            return {node_id}
        if position is None:
            raise StateError(f"{change.op}: no node {node_id!r}", Location(file="<session>", node=node_id))
        linked = {e["source"] for e in edges if e["target"] == node_id} | {
            e["target"] for e in edges if e["source"] == node_id
        }
        if change.op == "update_node":
            updated = {**nodes[position], **change.node}
            for name in change.unset:
                updated.pop(name, None)
            retyped = updated.get("type") != nodes[position].get("type")
            nodes[position] = updated
            return {node_id} | (linked if retyped else set())  # a new type changes which paths reach it
        del nodes[position]
        document["edges"] = [e for e in edges if node_id not in (e["source"], e["target"])]
        return {node_id} | linked
    if not change.edge or not all(isinstance(change.edge.get(k), str) for k in ("source", "target", "relation")):
        raise StateError(f"{change.op} needs an edge with source, target and relation (each a text)", where)
    ends = {change.edge["source"], change.edge["target"]}
    if change.op == "add_edge":
        edges.append(dict(change.edge))
        return ends
    same = [
        i
        for i, e in enumerate(edges)
        if (e["source"], e["target"], e["relation"])
        == (change.edge["source"], change.edge["target"], change.edge["relation"])
    ]
    if not same:
        raise StateError(
            f"remove_edge: no edge {change.edge['source']} -> {change.edge['target']} ({change.edge['relation']})",
            where,
        )
    del edges[same[0]]
    return ends
