"""A YAML reader for state files: safe types only, no anchors or aliases, dates kept as text.

Aliases are refused so a small file cannot expand into a huge one (billion laughs); dates
stay strings so the schema checks them exactly as it checks JSON.
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class NoAliasLoader(yaml.SafeLoader):
    """SafeLoader without anchors, aliases or implicit timestamps."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
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


def read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose one document (kept for line numbers) and construct its Python value."""
    loader = NoAliasLoader(text)
    try:
        root = loader.get_single_node()
        value = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, value
