"""Fuzz target: the state loader. Any bytes, read as JSON and as YAML, give a StateIndex or a
StateError; a state that loads is evaluated under the directive pack and its report rendered as
JSON, which may fail only with the engine's own errors. Any other exception is a crash.

Run: python fuzz/fuzz_state.py CORPUS_DIR fuzz/corpus/state -max_total_time=60 (or fuzz/run.py)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_harness import fuzz, instrumented  # noqa: E402

with instrumented(__name__ == "__main__"):
    from governance_engine import Engine, GovernanceError, StateError
    from governance_engine.state.load import load_state_bytes

MAX_BYTES = 1_000_000  # far above what libFuzzer generates; the limit's own path is covered too
ENGINE = Engine(["directive"])


def test_one_input(data: bytes) -> None:
    for source in ("fuzz.json", "fuzz.yaml"):
        try:
            index = load_state_bytes(data, source, max_bytes=MAX_BYTES)
        except StateError as error:
            if error.location.file != source:
                raise AssertionError(f"state error names {error.location.file!r}, not {source!r}") from error
            continue
        with contextlib.suppress(GovernanceError):
            ENGINE.evaluate(index, pmo_type="directive").to_json()  # what the CLI prints


if __name__ == "__main__":
    fuzz(test_one_input)
