"""`govern schema waivers`: the JSON Schema of a waivers file, generated from the model that
loads it, accepts the documented example and refuses what the loader refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from governance_engine.cli.main import main
from governance_engine.decide.waivers import load_waivers
from governance_engine.errors import RulesetError

from .conftest import ROOT


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    result = CliRunner().invoke(main, ["schema", "waivers"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def readme_example() -> str:
    """The waivers file shown in the README's Waivers section."""
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("### Waivers", 1)[1]
    match = re.search(r"```yaml\n(waivers:.*?)```", section, re.S)
    assert match, "the README's Waivers section shows a waivers file"
    return match.group(1)


def as_json(text: str) -> object:
    """YAML read the way a language server sees it: dates are text."""
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


GOOD = "waivers:\n  - {rule: R1, subject: r-1, justification: accepted, approved_by: p-anna, expires: 2026-12-31}\n"
BROKEN = {
    "no justification": "waivers:\n  - {rule: R1, subject: r-1, approved_by: p-anna, expires: 2026-12-31}\n",
    "empty justification": 'waivers:\n  - {rule: R1, subject: r-1, justification: "", approved_by: a, expires: 2026-12-31}\n',
    "unknown key": "waivers:\n  - {rule: R1, subject: r-1, justification: j, approved_by: a, expires: 2026-12-31, why: x}\n",
    "not a date": "waivers:\n  - {rule: R1, subject: r-1, justification: j, approved_by: a, expires: next year}\n",
    "no target": "waivers:\n  - {rule: R1, justification: j, approved_by: a, expires: 2026-12-31}\n",
    "two targets": "waivers:\n  - {rule: R1, subject: r, project: p, justification: j, approved_by: a, expires: 2026-12-31}\n",
    "not a list": "waivers: {rule: R1}\n",
    "top-level key": GOOD + "approved: true\n",
}


def test_the_documented_example_is_valid_and_loads(validator, tmp_path: Path):
    text = readme_example()
    errors = list(validator.iter_errors(as_json(text)))
    assert not errors, errors[0].message
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    assert [w.rule for w in load_waivers(path)] == ["R1", "T5"]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_schema_refuses_what_the_loader_refuses(validator, tmp_path: Path, case: str):
    assert not list(validator.iter_errors(as_json(GOOD)))
    path = tmp_path / "waivers.yaml"
    path.write_text(BROKEN[case])
    with pytest.raises(RulesetError):
        load_waivers(path)
    assert list(validator.iter_errors(as_json(BROKEN[case]))), f"the schema accepts a waiver with {case}"
