"""Schedule importers: MS Project XML (MSPDI), Primavera P6 XER and PSPLIB `.sm` files
in, a pmo-state/1 document out (a plain dict, validated by the engine's own loader).

Every problem with the input is a StateError naming the file and the place: the XML
parser's line and column, the XER or `.sm` line number, or the record's node id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance_engine.errors import Location, StateError, UsageError
from governance_engine.importers.common import read_source
from governance_engine.importers.mspdi import read_mspdi
from governance_engine.importers.psplib import read_psplib
from governance_engine.importers.xer import read_xer
from governance_engine.state.load import state_from_dict

FORMATS = ("mspdi", "xer", "psplib")
_SUFFIXES = {".xml": "mspdi", ".xer": "xer", ".sm": "psplib"}
_READERS = {"mspdi": read_mspdi, "xer": read_xer, "psplib": read_psplib}
_PMO_TYPES = ("supportive", "controlling", "directive")


def load_schedule(path: str | Path, fmt: str | None = None, *, pmo_type: str | None = None) -> dict[str, Any]:
    """Read a schedule file into a pmo-state/1 document; fmt is guessed when None."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"unknown schedule format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if pmo_type is not None and pmo_type not in _PMO_TYPES:
        raise UsageError(f"unknown PMO type {pmo_type!r}; expected one of {', '.join(_PMO_TYPES)}")
    source = str(path)
    data = read_source(path)
    fmt = fmt or detect_format(source, data)
    doc = _READERS[fmt](data, source, pmo_type=pmo_type)
    state_from_dict(doc, source)  # the engine's own validation: a bad value names its node
    return doc


def detect_format(source: str, data: bytes) -> str:
    """By suffix (.xml, .xer, .sm), else by the first bytes."""
    suffix = Path(source).suffix.lower()
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"ERMHDR"):
        return "xer"
    if head.startswith(b"<"):
        return "mspdi"
    if b"PRECEDENCE RELATIONS" in data[:65536] or head.startswith(b"*****"):
        return "psplib"
    raise StateError(
        f"cannot tell the schedule format; name it with --format ({', '.join(FORMATS)})",
        Location(file=source),
    )


__all__ = ["FORMATS", "detect_format", "load_schedule"]
