"""Bytes or a dict in, a schema-validated document out; every failure is a StateError.

JSON bytes are parsed and validated in one pass by pydantic. YAML and dicts are first
turned into JSON text so that exactly the same strict rules apply to every format.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, cast

import yaml
from pydantic import ValidationError

from governance_engine.errors import Location, StateError, UsageError
from governance_engine.state.locate import (
    Locator,
    json_locator,
    no_locator,
    yaml_locator,
)
from governance_engine.state.model import DOCUMENT
from governance_engine.state.problems import state_error, validation_problem
from governance_engine.state.yaml_safe import read_yaml

FORMATS = ("json", "yaml")
_BOM = b"\xef\xbb\xbf"


def parse_bytes(data: bytes, source: str, *, fmt: str | None, max_bytes: int) -> tuple[dict[str, Any], Locator]:
    """Validate a state document given as bytes; returns it and a way to find lines."""
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes, source)
    data = data.removeprefix(_BOM)
    fmt = fmt or guess_format(data, source)
    if fmt == "json":
        return _parse_json(data, source)
    if fmt == "yaml":
        return _parse_yaml(data, source)
    raise UsageError(f"unknown state format {fmt!r}; expected one of {', '.join(FORMATS)}")


def too_large(size: int, max_bytes: int, source: str) -> StateError:
    """The one wording of the size limit, for files and for bytes."""
    return StateError(
        f"state file is {size:,} bytes, over the limit of {max_bytes:,} bytes",
        Location(file=source),
    )


def parse_object(doc: Any, source: str) -> tuple[dict[str, Any], Locator]:
    """Validate a document already in memory (from a caller or from YAML)."""
    return _validate_text(_to_json(doc, source), source, lambda: doc, no_locator)


def guess_format(data: bytes, source: str) -> str:
    """By the file suffix; else JSON when the text starts with "{", else YAML."""
    suffix = source.lower().rpartition(".")[2] if "." in source else ""
    if suffix == "json":
        return "json"
    if suffix in ("yaml", "yml"):
        return "yaml"
    return "json" if data.lstrip()[:1] == b"{" else "yaml"


def _parse_json(data: bytes, source: str) -> tuple[dict[str, Any], Locator]:
    try:
        return _validate_json(data), _lazy_json_locator(data)
    except ValidationError as err:
        if err.errors()[0]["type"] == "json_invalid":
            raise _json_syntax_problem(data, source, err) from None
        raise validation_problem(
            err,
            source=source,
            raw=lambda: json.loads(data),
            locator=_lazy_json_locator(data),
        ) from None


def _lazy_json_locator(data: bytes) -> Locator:
    """Decode the text only when a line is actually asked for."""

    def locate(path: Any) -> tuple[int, int] | None:
        return json_locator(data.decode("utf-8", errors="replace"))(path)

    return locate


def _json_syntax_problem(data: bytes, source: str, err: ValidationError) -> StateError:
    """Line and column of a syntax error, from the stdlib parser which reports them."""
    text = _decode(data, source)
    try:
        json.loads(text)
    except json.JSONDecodeError as bad:
        return StateError(
            f"not valid JSON: {bad.msg}",
            Location(file=source, line=bad.lineno, column=bad.colno),
        )
    except RecursionError:
        return StateError("not valid JSON: nested too deeply", Location(file=source))
    return StateError(f"not valid JSON: {err.errors()[0]['msg']}", Location(file=source))


def _parse_yaml(data: bytes, source: str) -> tuple[dict[str, Any], Locator]:
    text = _decode(data, source)
    try:
        root, doc = read_yaml(text)
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark or bad.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = bad.problem or bad.context or "unreadable"
        raise StateError(
            f"not valid YAML: {problem}",
            Location(file=source, line=line, column=column),
        ) from None
    except (yaml.YAMLError, RecursionError) as bad:
        raise StateError(f"not valid YAML: {bad}", Location(file=source)) from None
    return _validate_text(_to_json(doc, source), source, lambda: doc, yaml_locator(root))


def _validate_text(text: str, source: str, raw: Any, locator: Locator) -> tuple[dict[str, Any], Locator]:
    try:
        return _validate_json(text), locator
    except ValidationError as err:
        if err.errors()[0]["type"] == "json_invalid":  # JSON we wrote: only a lone surrogate breaks it
            path = _unpaired_surrogate(raw())
            if path is not None:
                node = raw()["nodes"][path[1]].get("id") if path[:1] == ("nodes",) and len(path) > 2 else None
                raise state_error(
                    "text with an unpaired surrogate (such as \\udc00): not valid Unicode",
                    source=source,
                    locator=locator,
                    path=path,
                    node=node if isinstance(node, str) else None,
                ) from None
        raise validation_problem(err, source=source, raw=raw, locator=locator) from None


def _unpaired_surrogate(value: Any, path: tuple[str | int, ...] = ()) -> tuple[str | int, ...] | None:
    """The path of the first text (a key or a value) holding half of a surrogate pair."""
    if isinstance(value, str):
        return path if any("\ud800" <= c <= "\udfff" for c in value) else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _unpaired_surrogate(key) is not None:
            return (*path, key)
        found = _unpaired_surrogate(item, (*path, key))
        if found is not None:
            return found
    return None


def _validate_json(data: str | bytes) -> dict[str, Any]:
    """The validated document as the plain dict it is at runtime (StateDocument is a
    TypedDict); callers treat it as an open dict."""
    return cast(dict[str, Any], DOCUMENT.validate_json(data))


def _to_json(doc: Any, source: str) -> str:
    """JSON text of an in-memory document; NaN is kept so validation can refuse it."""
    try:
        return json.dumps(doc, default=_plain, allow_nan=True)
    except (TypeError, ValueError, RecursionError) as bad:
        raise StateError(f"not a JSON-like document: {bad}", Location(file=source)) from None


def _plain(value: Any) -> str:
    """Dates as ISO text (a datetime keeps its time and so is not a valid date)."""
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"unsupported value {value!r} of type {type(value).__name__}")


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as bad:
        raise StateError(
            f"not UTF-8 text (invalid byte at offset {bad.start})",
            Location(file=source),
        ) from None
