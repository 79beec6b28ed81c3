"""Fuzz target: the ruleset loader. Any bytes, as a ruleset file, give a pack or a
RulesetError; a pack that loads is evaluated on a fixed state and its report rendered as JSON,
which may fail only with the engine's own errors. Anything else is a crash.

Run: python fuzz/fuzz_ruleset.py CORPUS_DIR fuzz/corpus/ruleset -max_total_time=60."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_harness import fixed_state, fuzz, instrumented, scratch_file  # noqa: E402

with instrumented(__name__ == "__main__"):
    from governance_engine import Engine, GovernanceError, RulesetError
    from governance_engine.language.packs import load_pack
    from governance_engine.state.load import state_from_dict

STATE = fixed_state()
RULES = scratch_file("fuzzed.yaml")


def test_one_input(data: bytes) -> None:
    RULES.write_bytes(data)
    try:
        pack = load_pack(RULES)
    except RulesetError as error:
        if error.location.file not in (str(RULES), str(RULES.parent)):
            raise AssertionError(f"ruleset error names {error.location.file!r}, not the file read") from error
        return
    with contextlib.suppress(GovernanceError):
        Engine([pack]).evaluate(state_from_dict(STATE), pmo_type="directive").to_json()


if __name__ == "__main__":
    fuzz(test_one_input)
