"""What a benchmark records about where it ran: package versions and the checkout measured."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def package_versions(names: Iterable[str]) -> dict[str, str | None]:
    """Each installed package's version, None for one that is not installed."""
    found: dict[str, str | None] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git(*args: str) -> str | None:
    """A git command's output in this repository, None where git or the repository is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=REPOSITORY, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
