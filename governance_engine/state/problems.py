"""Turn pydantic validation errors into one StateError that names the node, edge or line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from governance_engine.errors import Location, StateError
from governance_engine.state.locate import DocPath, Locator
from governance_engine.state.model import KNOWN_TAG_ERROR

_ITEM_LISTS = ("nodes", "edges", "links")
_MAX_SHOWN = 60


def state_error(
    message: str,
    *,
    source: str,
    locator: Locator,
    path: DocPath = (),
    node: str | None = None,
    edge: str | None = None,
) -> StateError:
    """A StateError at path in the document, with its line and column when known."""
    line, column = locator(path) or (None, None)
    return StateError(message, Location(file=source, line=line, column=column, node=node, edge=edge))


def edge_name(source: Any, target: Any, relation: Any) -> str:
    """How errors name an edge: "source -> target (relation)"."""
    return f"{source} -> {target} ({relation})"


def validation_problem(err: ValidationError, *, source: str, raw: Callable[[], Any], locator: Locator) -> StateError:
    """Report the first validation problem, naming where it is; count the others."""
    problems = _plain_problems(err)
    first = problems[0]
    loc = first["loc"]
    others = len(problems) - 1
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    if not loc:
        return state_error(
            "the top level must be a mapping with 'nodes' and 'edges'" + more,
            source=source,
            locator=locator,
        )
    section = loc[0]
    if section in _ITEM_LISTS and len(loc) > 1:
        return _item_problem(first, loc, more, source=source, raw=raw, locator=locator)
    if section in _ITEM_LISTS and first["type"] == "missing":
        message = f"missing {section!r} list"
    elif section in _ITEM_LISTS:
        message = f"{section!r} must be a list"
    else:
        message = _describe(first, loc)
    return state_error(message + more, source=source, locator=locator, path=loc)


def _item_problem(
    problem: Any,
    loc: tuple[str | int, ...],
    more: str,
    *,
    source: str,
    raw: Callable[[], Any],
    locator: Locator,
) -> StateError:
    """A problem inside nodes[i] or edges[i]."""
    section, index = loc[0], loc[1]
    item = _raw_item(raw, section, index)
    field = loc[2:]
    if section == "nodes":
        node_id = item.get("id")
        node = node_id if isinstance(node_id, str) else f"nodes[{index}]"
        message = "a node must be a mapping with 'id' and 'type'" if len(loc) == 2 else _describe(problem, field)
        return state_error(message + more, source=source, locator=locator, path=loc, node=node)
    ends = (item.get("source"), item.get("target"), item.get("relation"))
    edge = edge_name(*ends) if all(isinstance(end, str) for end in ends) else f"{section}[{index}]"
    if len(loc) == 2:
        message = "an edge must be a mapping with 'source', 'target' and 'relation'"
    else:
        message = _describe(problem, field)
    return state_error(message + more, source=source, locator=locator, path=loc, edge=edge)


_BRANCH_NOISE = frozenset({KNOWN_TAG_ERROR, "union_tag_invalid", "union_tag_not_found"})


def _plain_problems(err: ValidationError) -> list[Any]:
    """Errors with the open-union branches taken out of loc, each told once.

    An item is tried against its own model ("known", tag) and then the fallback
    ("other"); only the branch that applies to it says something useful.
    """
    raw_problems = err.errors(include_url=False)
    seen: set[tuple[Any, ...]] = set()
    problems = []
    for problem in raw_problems:
        if problem["type"] in _BRANCH_NOISE:
            continue
        loc = tuple(problem["loc"])
        if loc[:1] in {("nodes",), ("edges",), ("links",)} and len(loc) > 2:
            skip = 2 if loc[2] == "known" else 1
            loc = loc[:2] + loc[2 + skip :]
        if (loc, problem["msg"]) not in seen:
            seen.add((loc, problem["msg"]))
            problems.append({**problem, "loc": loc})
    return problems or [{**raw_problems[0], "loc": tuple(raw_problems[0]["loc"])}]


def _raw_item(raw: Callable[[], Any], section: str | int, index: str | int) -> dict[str, Any]:
    """The item as written, to name it; {} when it is not a mapping."""
    try:
        item = raw()[section][index]
    except (LookupError, TypeError, ValueError, RecursionError):
        return {}
    return item if isinstance(item, dict) else {}


def _describe(problem: Any, field: tuple[str | int, ...]) -> str:
    name = ".".join(str(part) for part in field)
    if problem["type"] == "missing":
        return f"missing required attribute {name!r}"
    shown = repr(problem["input"])
    if len(shown) > _MAX_SHOWN:
        shown = shown[: _MAX_SHOWN - 3] + "..."
    return f"{name}: {problem['msg']} (got {shown})"
