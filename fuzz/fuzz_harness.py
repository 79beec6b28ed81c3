"""What the fuzz targets share: atheris when it is installed (plain Python when it is not, so
the seed corpus replays in the test suite), and the small fixed state rules are run against.

Nothing here imports the engine or its libraries at module level: `instrumented()` must see
them imported for the first time to add coverage instrumentation to them."""

from __future__ import annotations

import atexit
import contextlib
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import atheris
except ImportError:  # the replay tests run the targets without it
    atheris = None


INSTRUMENTED = ["governance_engine", "lark", "yaml"]  # pydantic validates in Rust: no Python to instrument


def instrumented(enabled: bool) -> contextlib.AbstractContextManager:
    """Coverage instrumentation for the engine, lark and PyYAML's Python parts imported inside
    the block, when the target runs as a fuzzer (`enabled`) and atheris is there."""
    if enabled and atheris is not None:
        return atheris.instrument_imports(include=INSTRUMENTED)
    return contextlib.nullcontext()


def fuzz(test_one_input: Callable[[bytes], None]) -> None:
    """Hand the target to libFuzzer with the command line's options."""
    if atheris is None:
        sys.exit("atheris is not installed: pip install atheris (see fuzz/README.md)")
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def scratch_file(name: str) -> Path:
    """A file in a folder of this process's own, removed at exit: the loaders read paths."""
    folder = Path(tempfile.mkdtemp(prefix="governance-fuzz-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / name


def fixed_state() -> dict[str, Any]:
    """One generated project (tasks with dependencies, risks, gates, documents, people, a
    PMO): small enough to evaluate thousands of times, rich enough for every path step."""
    from governance_engine.generate import generate_portfolio

    return generate_portfolio(1, seed=11, tasks=8, breaking_share=0.8)[0]
