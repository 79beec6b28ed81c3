"""Which PMO type and pack judge each subject (DESIGN.md, "Which rules apply to a project").

A project takes the type of its nearest governing PMO, else the graph's default; nodes inside
a project take the project's. A person belongs to no project, so the strongest type among the
projects they work on, manage or sponsor judges them (a person linked to none: the strongest
among the file's projects). No type at all is an input error."""

from __future__ import annotations

from collections.abc import Iterable

from .decide.decisions import Assignment
from .errors import Location, StateError, UsageError
from .language.packs import Pack
from .outcomes import PMO_ORDER, PmoType
from .state.index import Node, StateIndex

PERSON_LINKS = ("manages", "sponsors", "assigned_to", "owns")
_PMO_TYPES = {pmo_type.value: pmo_type for pmo_type in PmoType}  # a lookup, not an enum call per node


def _type_of(index: StateIndex, node: Node, project: str | None) -> PmoType | None:
    if project is not None:
        found = index.pmo_type_of(project)
        return _PMO_TYPES[found] if found else None
    if node.type == "person":
        types: set[str] = set()
        for relation in PERSON_LINKS:
            for edge in index.out_edges(node.id, relation):
                linked = index.project_of(edge.target)
                if linked is not None and (found := index.pmo_type_of(linked)):
                    types.add(found)
        if not types:
            types = {t for p in index.of_type("project") if (t := index.pmo_type_of(p.id))}
        if types:
            return max((_PMO_TYPES[t] for t in types), key=PMO_ORDER.index)
    found = index.pmo_type_of(node.id)
    return _PMO_TYPES[found] if found else None


def assign_subjects(
    index: StateIndex,
    packs: dict[PmoType, Pack],
    fallback: Pack | None,
    forced: PmoType | None,
    subject_types: Iterable[str] | None = None,
) -> dict[str, Assignment]:
    """`subject_types`: the node types the packs' rules apply to, when the caller keeps them."""
    if subject_types is None:
        subject_types = sorted({rule.applies_to for pack in [*packs.values(), fallback] if pack for rule in pack.rules})
    assigned: dict[str, Assignment] = {}
    # Subjects of one project share one Assignment (there are few distinct ones per file).
    shared: dict[tuple[PmoType, str | None], Assignment] = {}
    for node_type in subject_types:
        for node in index.of_type(node_type):
            project = index.project_of(node.id)
            pmo_type = forced or _type_of(index, node, project)
            if pmo_type is None:
                raise StateError(
                    f"no PMO type for {node.type} {node.id!r}: no PMO governs it or its program/portfolio, "
                    "and the graph has no pmo_type (give one with --pmo-type)",
                    Location(file=index.source, node=node.id),
                )
            assignment = shared.get((pmo_type, project))
            if assignment is None:
                pack = packs.get(pmo_type, fallback)
                if pack is None:
                    served = ", ".join(sorted(packs))
                    raise UsageError(f"{node.type} {node.id!r} is {pmo_type}, but the packs given serve only {served}")
                assignment = shared[(pmo_type, project)] = Assignment(pmo_type, pack, project)
            assigned[node.id] = assignment
    return assigned
