"""The JSON Schemas generated from the models accept every shipped document and refuse a
broken one; the packs' catalogues are current."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from governance_engine import Engine
from governance_engine.cli.main import main

from .conftest import ROOT


def schema(document: str) -> Draft202012Validator:
    result = CliRunner().invoke(main, ["schema", document])
    assert result.exit_code == 0
    return Draft202012Validator(json.loads(result.output))


def as_json(path) -> object:
    """YAML read the way a language server sees it: dates are text."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))


@pytest.mark.parametrize(
    "document, paths",
    [
        ("ruleset", sorted((ROOT / "rulesets").glob("*.yaml"))),
        ("pack", [ROOT / p / "pack.yaml" for p in ("supportive", "controlling", "directive")]),
        ("tests", sorted((ROOT / "rulesets" / "tests").glob("*.yaml"))),
        ("state", [ROOT / "examples" / "portfolio.yaml", ROOT / "examples" / "portfolio.json"]),
    ],
)
def test_every_shipped_document_is_valid(document, paths):
    validator = schema(document)
    assert paths
    for path in paths:
        errors = list(validator.iter_errors(as_json(path)))
        assert not errors, f"{path}: {errors[0].message}"


def test_a_report_is_valid_and_broken_documents_are_refused():
    report = json.loads(Engine().evaluate(ROOT / "examples" / "portfolio.yaml", remedies=True).to_json())
    schema("report").validate(report)
    broken_rule = as_json(ROOT / "rulesets" / "risk.yaml")
    broken_rule["rules"][0]["on_missing"] = "ignore"
    assert list(schema("ruleset").iter_errors(broken_rule))
    broken_state = as_json(ROOT / "examples" / "portfolio.yaml")
    next(n for n in broken_state["nodes"] if n["type"] == "risk")["probability"] = 7
    assert list(schema("state").iter_errors(broken_state))
    broken_report = dict(report, decisions=[dict(report["decisions"][0], outcome="maybe")])
    assert list(schema("report").iter_errors(broken_report))


def test_the_pack_catalogues_are_current():
    result = CliRunner().invoke(main, ["catalogue", "supportive", "controlling", "directive", "--check"])
    assert result.exit_code == 0, result.output
