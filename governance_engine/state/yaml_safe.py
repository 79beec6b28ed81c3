"""A YAML reader for state files: safe types only, no anchors or aliases, dates kept as text.

Aliases are refused so a small file cannot expand into a huge one (billion laughs); dates
stay strings so the schema checks them exactly as it checks JSON.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
# Booleans and numbers as JSON writes them (YAML 1.2's core schema, without octal or hex): YAML 1.1 would
# read 010 as 8, 1:30 as 90, 1_000 as 1000 and `no` (Norway's code) as false, and refuse 2e6,
# which JSON reads as 2000000.0.
_TRUTH = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_DECIMAL = re.compile(r"^[-+]?[0-9]+$")
_REAL = re.compile(
    r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
)


class NoAliasLoader(yaml.SafeLoader):
    """SafeLoader without anchors, aliases or implicit timestamps, reading booleans and
    numbers as JSON does."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_TIMESTAMP, _INT, _FLOAT, _BOOL)]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        """Refuse an alias, or an anchor that an alias could later repeat."""
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None,
                None,
                "anchors and aliases are not allowed in state files",
                event.start_mark,
            )
        return super().compose_node(parent, index)


def _decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    return int(loader.construct_scalar(node))


def _real(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = str(loader.construct_scalar(node))
    return (
        loader.construct_yaml_float(node) if text.lstrip("+-").startswith(".") and text[-1] in "fFnN" else float(text)
    )


NoAliasLoader.add_implicit_resolver(_BOOL, _TRUTH, list("tTfF"))
NoAliasLoader.add_implicit_resolver(_INT, _DECIMAL, list("-+0123456789"))
NoAliasLoader.add_implicit_resolver(_FLOAT, _REAL, list("-+0123456789."))
NoAliasLoader.add_constructor(_INT, _decimal)
NoAliasLoader.add_constructor(_FLOAT, _real)


def read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose one document (kept for line numbers) and construct its Python value."""
    loader = NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        value = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, value
