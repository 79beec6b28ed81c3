"""Hostile input: any bytes give a StateIndex or a StateError; a ruleset can never run code,
read files or leave its pack; reports do not depend on the process's hash seed."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine import Engine, RulesetError, StateError
from governance_engine.language.packs import load_pack
from governance_engine.state.load import load_state_bytes

from ..conftest import ROOT

EXAMPLES = 300

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)
near_valid_nodes = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=6), st.integers()),
        "type": st.sampled_from(["project", "risk", "task", "gate", "widget", 3]),
    },
    optional={
        "probability": json_values,
        "status": json_values,
        "start": st.one_of(st.text(max_size=12), st.dates().map(str)),
        "budget": st.one_of(st.floats(), st.integers(-(10**30), 10**30)),
    },
)
near_valid = st.fixed_dictionaries(
    {
        "nodes": st.lists(near_valid_nodes, max_size=6),
        "edges": st.lists(
            st.fixed_dictionaries(
                {
                    "source": st.text(max_size=3),
                    "target": st.text(max_size=3),
                    "relation": st.sampled_from(["contains", "depends_on", "x"]),
                },
                optional={"kind": json_values, "lag_days": json_values},
            ),
            max_size=6,
        ),
    },
    optional={"graph": json_values, "directed": json_values},
)


@settings(max_examples=EXAMPLES)
@given(document=st.one_of(json_values, near_valid))
def test_any_json_document_loads_or_fails_with_a_state_error(document):
    data = json.dumps(document, allow_nan=True).encode()
    try:
        load_state_bytes(data, "fuzz.json")
    except StateError as error:
        assert error.location.file == "fuzz.json"


@settings(max_examples=EXAMPLES)
@given(data=st.binary(max_size=200))
def test_any_bytes_load_or_fail_with_a_state_error(data):
    for name in ("fuzz.json", "fuzz.yaml"):
        with contextlib.suppress(StateError):
            load_state_bytes(data, name)


@settings(max_examples=EXAMPLES // 3)
@given(document=near_valid)
def test_near_valid_states_evaluate_or_fail_with_a_state_error(document):
    with contextlib.suppress(StateError):
        Engine(["directive"]).evaluate(json.dumps(document).encode(), pmo_type="directive")


def test_size_limit_and_yaml_bombs_are_refused():
    with pytest.raises(StateError, match="larger than|limit"):
        load_state_bytes(b"{" + b" " * 2000 + b"}", "big.json", max_bytes=1000)
    bomb = b'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nnodes: [*c]\n'
    with pytest.raises(StateError, match="alias"):
        load_state_bytes(bomb, "bomb.yaml")
    with pytest.raises(StateError):
        load_state_bytes(b"!!python/object/apply:os.system ['true']\n", "tag.yaml")


RULE = """\
ruleset: hostile
version: '1'
rules:
  - id: H1
    title: hostile
    applies_to: project
    condition: {condition}
    outcome: warning
    message: "{message}"
"""


@pytest.mark.parametrize(
    "condition",
    [
        '__import__("os").system("true")',
        "name.__class__ == 1",
        "eval(name)",
        'open("/etc/passwd") == 1',
        "name.__globals__",
    ],
)
def test_conditions_cannot_reach_python(tmp_path: Path, condition):
    path = tmp_path / "hostile.yaml"
    path.write_text(RULE.format(condition=json.dumps(condition), message="x"))
    with pytest.raises(RulesetError) as error:
        load_pack(path)
    assert error.value.location.file == str(path) and error.value.location.line == 7


@pytest.mark.parametrize(
    "template", ["{__class__}", "{0.__class__.__mro__}", "{name!r:>{width}}", "{name.__dict__}", "%(name)s"]
)
def test_message_templates_are_substituted_not_formatted(tmp_path: Path, template):
    path = tmp_path / "hostile.yaml"
    path.write_text(RULE.format(condition=json.dumps('name == "P"'), message=template))
    report = Engine([path]).evaluate(
        {"graph": {"pmo_type": "supportive"}, "nodes": [{"id": "p", "type": "project", "name": "P"}], "edges": []}
    )
    [decision] = report.decisions
    assert "class '" not in decision.message and "<" not in decision.message
    expected = {
        "{__class__}": "unknown",  # read as a (missing) attribute of the node, never Python's
        "{name!r:>{width}}": "{name!r:>unknown}",  # only {width} is a placeholder; no format spec runs
    }
    assert decision.message == expected.get(template, template)  # anything else is left as written


def test_includes_and_parents_stay_inside_the_packs(tmp_path: Path):
    pack = tmp_path / "p"
    pack.mkdir()
    (pack / "pack.yaml").write_text("pack: p\nversion: '1'\ninclude: ['../../etc/passwd']\n")
    with pytest.raises(RulesetError, match="include"):
        load_pack(pack)
    (pack / "pack.yaml").write_text("pack: p\nversion: '1'\nextends: ../../../etc\n")
    with pytest.raises(RulesetError, match="not a shipped pack"):
        load_pack(pack)


def test_reports_do_not_depend_on_the_hash_seed():
    outputs = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "governance_engine",
                "evaluate",
                str(ROOT / "examples" / "portfolio.yaml"),
                "--format",
                "json",
            ],
            capture_output=True,
            env=env,
            check=False,
        )
        assert result.returncode == 1, result.stderr
        outputs.add(result.stdout)
    assert len(outputs) == 1
