"""Safe YAML reading that remembers where every value came from (for file:line:col errors)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import yaml

from .errors import GovernanceError, Location

Path_ = tuple[str | int, ...]


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases: no billion-laughs expansion, no shared nodes."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "YAML aliases (*name) are not allowed in governance files", event.start_mark
            )
        return super().compose_node(parent, index)


def _to_python(
    node: yaml.Node, path: Path_, marks: dict[Path_, tuple[int, int]], loader, styles: dict, ends: dict
) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.ScalarNode):
        if node.style:
            styles[path] = node.style
        if node.end_mark.line > node.start_mark.line and node.style not in ("|", ">"):
            # a flow scalar over several lines: where it ends, to map its folded text back
            ends[path] = (node.end_mark.line + 1, node.end_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key is None:
                raise yaml.MarkedYAMLError(None, None, "a mapping key is null (`~` or empty)", key_node.start_mark)
            if not isinstance(key, str | int | bool):
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain scalars", key_node.start_mark)
            if key in result:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = _to_python(value_node, (*path, key), marks, loader, styles, ends)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), marks, loader, styles, ends) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


class MarkedDocument:
    """A YAML document's data and the line/column of each value, by path of keys/indexes."""

    def __init__(
        self,
        data: Any,
        marks: dict[Path_, tuple[int, int]],
        file: str,
        styles: dict | None = None,
        text: str = "",
        ends: dict[Path_, tuple[int, int]] | None = None,
    ) -> None:
        """`ends`: where each flow scalar written over several lines ends."""
        self.data, self.marks, self.file = data, marks, file
        self.styles = styles or {}
        self.ends = ends or {}
        self.lines = text.splitlines()

    def text_locator(self, path: Path_) -> Callable[[int, int], Location]:
        """Maps (line, column) inside a scalar's text to the file: past the opening quote of a
        quoted scalar, and onto the indented content lines of a block scalar (`|`, `>`)."""
        start = self.locate(path)
        style = self.styles.get(tuple(path))
        if style in ('"', "'"):
            start = Location(file=self.file, line=start.line, column=(start.column or 1) + 1)
        end = self.ends.get(tuple(path))
        if end is not None and start.line is not None and start.column is not None:
            return self._folded(start, end, quoted=style in ('"', "'"))
        if style not in ("|", ">") or start.line is None:
            return lambda line, column: _shift(start, line, column)
        content: list[tuple[int, int, str]] = []  # (line number, indent, stripped text)
        for number in range(start.line, len(self.lines)):  # the lines after the indicator
            text = self.lines[number]
            if text.strip() and content and len(text) - len(text.lstrip()) < content[0][1]:
                break
            content.append((number + 1, len(text) - len(text.lstrip()) if text.strip() else 10**6, text.strip()))
        indent = min((c[1] for c in content), default=0)
        scalar = self.data_at(path)
        text_lines = scalar.split("\n") if isinstance(scalar, str) else [""]

        def locate(line: int, column: int) -> Location:
            offset = sum(len(t) + 1 for t in text_lines[: line - 1]) + column - 1
            consumed = 0
            for number, _, stripped in content:
                if offset <= consumed + len(stripped):
                    return Location(file=self.file, line=number, column=indent + 1 + offset - consumed)
                consumed += len(stripped) + 1
            return Location(file=self.file, line=start.line, column=start.column)

        return locate

    def _folded(self, start: Location, end: tuple[int, int], *, quoted: bool) -> Callable[[int, int], Location]:
        """A plain or quoted scalar written over several lines reads as one line, each line
        break a space: a column of that line is found on the line it came from."""
        assert start.line is not None and start.column is not None
        pieces: list[tuple[int, int, int]] = []  # (line number, first column, length) of each piece
        for number in range(start.line, end[0] + 1):
            text = self.lines[number - 1] if number - 1 < len(self.lines) else ""
            first = start.column if number == start.line else len(text) - len(text.lstrip()) + 1
            last = (end[1] - (2 if quoted else 1)) if number == end[0] else len(text.rstrip())
            pieces.append((number, first, max(0, last - first + 1)))

        def locate(line: int, column: int) -> Location:
            offset = column - 1  # the folded text is one line
            for number, first, length in pieces:
                if offset <= length:
                    return Location(file=self.file, line=number, column=first + offset)
                offset -= length + 1
            return Location(file=self.file, line=end[0], column=end[1])

        return locate

    def data_at(self, path: Path_) -> Any:
        value = self.data
        for step in path:
            value = value[step]
        return value

    def locate(self, path: Path_) -> Location:
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        line, column = self.marks.get(path, (None, None))
        return Location(file=self.file, line=line, column=column)


def load_marked_yaml(text: str, file: str, error: type[GovernanceError]) -> MarkedDocument:
    """The document with the line/column of every value. Packs layered on one another read
    the same rule modules again (three times for the shipped family): a file parsed before
    in this process is copied, not parsed again (pure-Python YAML is ten times slower)."""
    key = (text, file)
    if key not in _DOCUMENTS:
        if len(_DOCUMENTS) >= MAX_DOCUMENTS:
            _DOCUMENTS.clear()
        _DOCUMENTS[key] = _load_marked_yaml(text, file, error)
    return copy.deepcopy(_DOCUMENTS[key])


_DOCUMENTS: dict[tuple[str, str], MarkedDocument] = {}  # only parsed ones: errors are raised anew
MAX_DOCUMENTS = 256


def _load_marked_yaml(text: str, file: str, error: type[GovernanceError]) -> MarkedDocument:
    try:
        loader = _NoAliasLoader(text)  # its reader refuses non-printable characters here
    except yaml.reader.ReaderError as e:
        before = text[: e.position]
        where = Location(file=file, line=before.count("\n") + 1, column=e.position - before.rfind("\n"))
        raise error(f"invalid YAML: the non-printable character #x{e.character:04x} is not allowed", where) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise error("the file is empty", Location(file=file, line=1, column=1))
        marks: dict[Path_, tuple[int, int]] = {}
        styles: dict[Path_, str] = {}
        ends: dict[Path_, tuple[int, int]] = {}
        data = _to_python(root, (), marks, loader, styles, ends)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = Location(file=file, line=mark.line + 1, column=mark.column + 1) if mark else Location(file=file)
        raise error(f"invalid YAML: {e.problem or e.context}", where) from None
    except yaml.YAMLError as e:
        raise error(f"invalid YAML: {e}", Location(file=file)) from None
    except RecursionError:
        raise error("YAML nested too deeply", Location(file=file)) from None
    finally:
        loader.dispose()
    return MarkedDocument(data, marks, file, styles, text, ends)


def _shift(start: Location, line: int, column: int) -> Location:
    return Location(
        file=start.file,
        line=(start.line or 1) + line - 1,
        column=((start.column or 1) + column - 1) if line == 1 else column,
    )
