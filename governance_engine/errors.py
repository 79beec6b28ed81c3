"""Error types raised at the boundary where input is read; the CLI renders them once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    """Where in an input a problem lies: a file, and a line/column or a node/edge."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    node: str | None = None
    edge: str | None = None

    def __str__(self) -> str:
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        text = ":".join(parts)
        if self.node is not None:
            text += f" (node {self.node!r})"
        if self.edge is not None:
            text += f" (edge {self.edge})"
        return text


class GovernanceError(Exception):
    """Base of every error the engine reports to a user; carries a location."""

    kind = "error"

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location or Location()

    def __str__(self) -> str:
        return f"{self.location}: {self.kind}: {self.message}"


class StateError(GovernanceError):
    """A project-state file that cannot be read or is not valid pmo-state/1."""

    kind = "state error"


class RulesetError(GovernanceError):
    """A ruleset, pack or expression that cannot be parsed, checked or layered."""

    kind = "ruleset error"


class UsageError(GovernanceError):
    """A call or command line that asks for something impossible."""

    kind = "usage error"
