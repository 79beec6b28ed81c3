"""Safe YAML reading that remembers where every value came from (for file:line:col errors)."""

from __future__ import annotations

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


def _to_python(node: yaml.Node, path: Path_, marks: dict[Path_, tuple[int, int]], loader) -> Any:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | bool) and key is not None:
                raise yaml.MarkedYAMLError(None, None, "mapping keys must be plain scalars", key_node.start_mark)
            if key in result:
                raise yaml.MarkedYAMLError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = _to_python(value_node, (*path, key), marks, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), marks, loader) for i, child in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


class MarkedDocument:
    """A YAML document's data and the line/column of each value, by path of keys/indexes."""

    def __init__(self, data: Any, marks: dict[Path_, tuple[int, int]], file: str) -> None:
        self.data, self.marks, self.file = data, marks, file

    def locate(self, path: Path_) -> Location:
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        line, column = self.marks.get(path, (None, None))
        return Location(file=self.file, line=line, column=column)


def load_marked_yaml(text: str, file: str, error: type[GovernanceError]) -> MarkedDocument:
    loader = _NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise error("the file is empty", Location(file=file, line=1, column=1))
        marks: dict[Path_, tuple[int, int]] = {}
        data = _to_python(root, (), marks, loader)
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
    return MarkedDocument(data, marks, file)
