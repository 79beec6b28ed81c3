"""Find the line and column of a value in the source text, for error messages only.

Called after a problem is found, never on the fast path: JSON is re-scanned with the
stdlib decoder to skip values, YAML is read from the composed node tree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

import yaml

DocPath = Sequence[str | int]
Locator = Callable[[DocPath], tuple[int, int] | None]

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def no_locator(path: DocPath) -> None:
    """For documents that never were text (state_from_dict)."""


def json_locator(text: str) -> Locator:
    """Locate paths in JSON text: the deepest value of the path that exists."""

    def locate(path: DocPath) -> tuple[int, int] | None:
        try:
            offset = _json_offset(text, path)
        except (ValueError, IndexError, RecursionError):
            return None
        return _line_column(text, offset)

    return locate


def yaml_locator(root: yaml.Node | None) -> Locator:
    """Locate paths in a composed YAML document by its node marks."""

    def locate(path: DocPath) -> tuple[int, int] | None:
        node = root
        if node is None:
            return None
        for step in path:
            child = _yaml_child(node, step)
            if child is None:
                break
            node = child
        return node.start_mark.line + 1, node.start_mark.column + 1

    return locate


def _yaml_child(node: yaml.Node, step: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(step, str):
        for key, value in reversed(node.value):  # a repeated key: its last value is the one read
            if isinstance(key, yaml.ScalarNode) and key.value == step:
                return value
    if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        return node.value[step]
    return None


def _json_offset(text: str, path: DocPath) -> int:
    """Character offset of the deepest existing value along path."""
    offset = _skip_space(text, 0)
    for step in path:
        found = _json_child(text, offset, step)
        if found is None:
            break
        offset = found
    return offset


def _json_child(text: str, offset: int, step: str | int) -> int | None:
    opener = text[offset]
    if (opener, isinstance(step, str)) not in {("{", True), ("[", False)}:
        return None
    position = _skip_space(text, offset + 1)
    index = 0
    found = None  # a repeated key: its last value is the one read
    while text[position] not in "}]":
        if opener == "{":
            # scanstring is public in json.decoder but missing from typeshed's stub
            key, position = json.decoder.scanstring(text, position + 1)  # type: ignore[attr-defined]
            position = _skip_space(text, position) + 1  # the colon
            position = _skip_space(text, position)
            if key == step:
                found = position
        elif index == step:
            return position
        _, position = _DECODER.raw_decode(text, position)
        position = _skip_space(text, position)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
        index += 1
    return found


def _skip_space(text: str, position: int) -> int:
    """The offset of the first non-whitespace character at or after position."""
    match = _SPACE.match(text, position)
    assert match is not None  # the pattern matches the empty string at any position
    return match.end()


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """Lines end at LF, CRLF or a bare CR, as YAML counts them."""
    before = text[:offset].replace("\r\n", "\n").replace("\r", "\n")
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1
