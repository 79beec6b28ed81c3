"""Public entry points: a state file, bytes or a dict in, a validated StateIndex out.

Every problem with the input surfaces as a StateError naming the file and the place.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from governance_engine.errors import Location, StateError
from governance_engine.state.build import build_index
from governance_engine.state.index import StateIndex
from governance_engine.state.parse import parse_bytes, parse_object, too_large

MAX_BYTES = 50_000_000


def load_state(path: str | Path, *, max_bytes: int = MAX_BYTES) -> StateIndex:
    """Read and validate a state file (JSON or YAML, told apart by suffix or content)."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise too_large(size, max_bytes, source)
            data = handle.read(max_bytes + 1)  # the file may grow while read
    except OSError as err:
        raise StateError(f"cannot read state file: {err.strerror or err}", Location(file=source)) from None
    return load_state_bytes(data, source, max_bytes=max_bytes)


def load_state_bytes(
    data: bytes,
    source: str = "<memory>",
    *,
    fmt: str | None = None,
    max_bytes: int = MAX_BYTES,
) -> StateIndex:
    """Validate a state document from bytes; fmt is "json" or "yaml", else guessed."""
    doc, locator = parse_bytes(data, source, fmt=fmt, max_bytes=max_bytes)
    return build_index(doc, source, locator)


def state_from_dict(doc: dict[str, Any], source: str = "<memory>") -> StateIndex:
    """Validate a document already in memory (dates may be date objects or ISO text)."""
    parsed, locator = parse_object(doc, source)
    return build_index(parsed, source, locator)
