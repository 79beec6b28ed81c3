"""audit.sarif: valid against the official SARIF 2.1.0 schema (vendored), a result per
decision pointing at its file, line and node, rule metadata from the packs, failed inputs as
notifications, fingerprints stable across runs."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import jsonschema
import pytest

from governance_engine.errors import UsageError
from governance_engine.language.packs import load_pack
from governance_engine.render.sarif import node_lines, write_sarif

from .conftest import SCHEMAS, run_audit

EXPECTED_LEVEL = {
    "rejection": "error",
    "escalation": "error",
    "required_action": "error",
    "warning": "warning",
    "info": "note",
    "insufficient_evidence": "note",
    "approval": "none",
}


@pytest.fixture(scope="module")
def sarif(audit_out) -> dict:
    return json.loads((audit_out / "audit.sarif").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_log_is_valid_against_the_sarif_schema(sarif, validator):
    errors = sorted(validator.iter_errors(sarif), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1


def test_the_schema_rejects_what_sarif_forbids(sarif, validator):
    """The vendored schema is the real one: a level outside the spec's enum is refused."""
    broken = copy.deepcopy(sarif)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not validator.is_valid(broken)


def test_driver_lists_every_rule_of_the_packs_with_its_metadata(sarif):
    driver = sarif["runs"][0]["tool"]["driver"]
    assert driver["name"] == "govern" and driver["version"] and driver["informationUri"].startswith("https://")
    rules = {r["id"]: r for r in driver["rules"]}
    packs = [load_pack(name) for name in ("supportive", "controlling", "directive")]
    assert set(rules) == {rule.id for pack in packs for rule in pack.rules}
    b1 = rules["B1"]
    assert b1["shortDescription"]["text"] == "EAC exceeds BAC beyond the project tolerance"
    assert b1["properties"]["outcomes"] == {
        "supportive": "warning",
        "controlling": "required_action",
        "directive": "escalation",
    }
    assert b1["properties"]["tags"] == ["budget"] and b1["properties"]["versions"] == [1]
    assert b1["defaultConfiguration"]["level"] == "error"
    assert rules["P1"]["defaultConfiguration"]["level"] == "warning"  # a warning under every PMO type
    assert rules["E2"]["properties"]["versions"] == [1, 2]
    assert "Derives" in rules["EVM-RED"]["fullDescription"]["text"]


def test_a_result_per_decision_with_rule_level_and_properties(sarif, decisions):
    run = sarif["runs"][0]
    results = run["results"]
    assert len(results) == len(decisions) == 100
    rules = run["tool"]["driver"]["rules"]
    for result, decision in zip(results, decisions, strict=True):
        assert result["ruleId"] == decision["rule_id"] == rules[result["ruleIndex"]]["id"]
        assert result["level"] == EXPECTED_LEVEL[decision["outcome"]]
        assert result["message"]["text"] == decision["message"]
        assert result["properties"]["outcome"] == decision["outcome"]
        assert result["properties"]["pmo_type"] == decision["pmo_type"]
        assert result["properties"]["pack"] == decision["pack"]
        assert (result.get("kind") == "pass") == (decision["outcome"] == "approval")
    waived = [r for r in results if r["properties"]["waiver"]]
    assert len(waived) == 1 and waived[0]["suppressions"][0]["kind"] == "external"
    assert "accepted by the board" in waived[0]["suppressions"][0]["justification"]
    assert not any("suppressions" in r for r in results if not r["properties"]["waiver"])


def test_locations_point_at_the_input_file_line_and_node(sarif, decisions, audit_root):
    run = sarif["runs"][0]
    root = Path(unquote(urlparse(run["originalUriBaseIds"]["SRCROOT"]["uri"]).path))
    assert root == audit_root.resolve()
    for result, decision in zip(run["results"], decisions, strict=True):
        (location,) = result["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "SRCROOT" and unquote(artifact["uri"]) == decision["file"]
        text = (root / unquote(artifact["uri"])).read_text(encoding="utf-8").splitlines()
        line = text[location["physicalLocation"]["region"]["startLine"] - 1]
        assert re.search(r'"id":\s*' + re.escape(json.dumps(decision["subject"])), line), line
        (logical,) = location["logicalLocations"]
        assert logical["name"] == decision["subject"] and logical["kind"] == decision["subject_type"]


def test_failed_inputs_are_tool_execution_notifications(sarif):
    (invocation,) = sarif["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "not valid JSON" in note["message"]["text"]
    physical = note["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "in/zz-corrupt.json"
    assert physical["region"] == {"startLine": 3, "startColumn": 1}


def test_fingerprints_and_the_whole_log_are_stable_across_runs(sarif, audit_root, tmp_path):
    previous = os.getcwd()
    os.chdir(audit_root)
    try:
        again = audit_root / "again"
        run_audit(Path("in"), Path("again"), "sarif", waivers=Path("waivers.yaml"))
    finally:
        os.chdir(previous)
    second = json.loads((again / "audit.sarif").read_text(encoding="utf-8"))
    assert [r["partialFingerprints"] for r in second["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in sarif["runs"][0]["results"]
    ]
    prints = [r["partialFingerprints"]["governanceSubject/v1"] for r in sarif["runs"][0]["results"]]
    keys = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"])
        for r in sarif["runs"][0]["results"]
    }
    assert len(set(prints)) == len(keys)


def test_packs_other_than_the_audits_are_refused(audit_out):
    with pytest.raises(UsageError, match="differ from those of the audit"):
        write_sarif(audit_out, ["supportive"])


def test_node_lines_in_yaml_and_json(tmp_path):
    yaml_file = tmp_path / "state.yaml"
    yaml_file.write_text("nodes:\n  - {id: p1, type: project}\n  - id: \"t 2\"\n    type: task\n  - id: 'r3'\n")
    assert node_lines(str(yaml_file)) == {"p1": 2, "t 2": 3, "r3": 5}
    json_file = tmp_path / "state.json"
    json_file.write_text('{"nodes": [\n {"type": "x", "pmo_id": "no", "id": "a\\"b"},\n {"id": "c"}]}')
    assert node_lines(str(json_file)) == {'a"b': 2, "c": 3}
    assert node_lines(str(tmp_path / "gone.json")) == {}
