"""The reproducibility manifest of every audit and `govern audit --verify`: an untouched run
reproduces; a changed input file and a changed rule are named; an unreadable manifest is a
usage error."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine import __version__
from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio
from governance_engine.language.packs import shipped_root


def govern(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def audited(tmp_path, monkeypatch) -> Path:
    """A small audit with a pack copied beside the inputs, paths relative to the working
    directory (as `--verify` re-runs them)."""
    monkeypatch.chdir(tmp_path)
    write_portfolio(tmp_path / "portfolio", 6, seed=3, tasks=8, breaking_share=0.6)
    shutil.copytree(shipped_root() / "controlling", tmp_path / "pack")
    (tmp_path / "waivers.yaml").write_text("waivers: []\n")
    result = govern(
        "audit", "portfolio", "--pack", "pack", "--pmo-type", "controlling", "--as-of", "2026-11-20",
        "--waivers", "waivers.yaml", "--out", "out", "--jobs", "1", "--quiet",
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    return tmp_path / "out" / "manifest.json"


def test_the_manifest_records_what_the_report_depends_on(audited):
    manifest = json.loads(audited.read_text())
    assert manifest["engine_version"] == __version__
    assert manifest["as_of"] == "2026-11-20" and manifest["pmo_type"] == "controlling"
    assert manifest["evaluator"] == "snapshot" and manifest["complete"] is True
    assert manifest["argv"][:3] == ["govern", "audit", "portfolio"] and "--pack" in manifest["argv"]
    [pack] = manifest["packs"]
    assert pack["name"] == "controlling" and pack["digest"].startswith("sha256:") and "G4@1" in pack["rules"]
    waivers = Path("waivers.yaml").read_bytes()
    assert manifest["waivers"] == {"file": "waivers.yaml", "digest": "sha256:" + hashlib.sha256(waivers).hexdigest()}
    assert [i["file"] for i in manifest["inputs"]] == [f"portfolio/project-{n:05d}.json" for n in range(6)]
    for entry in manifest["inputs"]:
        assert entry["digest"] == "sha256:" + hashlib.sha256(Path(entry["file"]).read_bytes()).hexdigest()
    document = hashlib.sha256()
    govern("audit", "portfolio", "--pack", "pack", "--pmo-type", "controlling", "--as-of", "2026-11-20",
           "--waivers", "waivers.yaml", "--out", "again", "--jobs", "1", "--quiet", "--format", "json")  # fmt: skip
    document.update(Path("again/audit.json").read_bytes())
    assert manifest["report_digest"] == "sha256:" + document.hexdigest()


def test_verify_passes_on_an_untouched_run(audited):
    result = govern("audit", "--verify", str(audited), "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "reproduced: 6 inputs" in result.output


def test_verify_detects_a_changed_input_file(audited):
    victim = Path("portfolio/project-00002.json")
    document = json.loads(victim.read_text())
    document["nodes"][0]["name"] = "renamed"
    victim.write_text(json.dumps(document))
    result = govern("audit", "--verify", str(audited), "--jobs", "1")
    assert result.exit_code == 1
    assert "input changed: portfolio/project-00002.json" in result.output
    assert "input changed: portfolio/project-00001.json" not in result.output
    assert "report digest differs" in result.output and "rule changed" not in result.output


def test_verify_detects_a_missing_and_an_added_input(audited):
    Path("portfolio/project-00004.json").unlink()
    shutil.copy("portfolio/project-00000.json", "portfolio/project-00099.json")
    result = govern("audit", "--verify", str(audited), "--jobs", "1")
    assert result.exit_code == 1
    assert "input missing: portfolio/project-00004.json" in result.output
    assert "input added: portfolio/project-00099.json" in result.output


def test_verify_detects_a_changed_rule(audited):
    manifest = Path("pack/pack.yaml")
    text = manifest.read_text()
    assert "gate_decision_working_days: 10" in text
    manifest.write_text(text.replace("gate_decision_working_days: 10", "gate_decision_working_days: 7"))
    result = govern("audit", "--verify", str(audited), "--jobs", "1")
    assert result.exit_code == 1
    assert "pack changed: controlling" in result.output
    assert "rule changed: controlling G4@1" in result.output
    assert "input changed" not in result.output
    changed = [line for line in result.output.splitlines() if "rule changed" in line]
    assert changed == ["  rule changed: controlling G4@1"]  # only the rule that reads the threshold


def test_an_unreadable_manifest_is_exit_2(tmp_path):
    (tmp_path / "junk.json").write_text("{")
    assert govern("audit", "--verify", str(tmp_path / "junk.json")).exit_code == 2
    (tmp_path / "other.json").write_text('{"schema": "something/1"}')
    other = govern("audit", "--verify", str(tmp_path / "other.json"))
    assert other.exit_code == 2 and "not an audit manifest" in other.output
    missing = govern("audit", "--verify", str(tmp_path / "absent.json"))
    assert missing.exit_code == 2 and "cannot read the manifest" in missing.output


def test_a_manifest_with_malformed_fields_is_exit_2(audited, tmp_path):
    manifest = json.loads(audited.read_text())
    for field, value in (("inputs", [{"path": "x.json"}]), ("evaluator", "fast"), ("as_of", 20260601)):
        broken = tmp_path / f"{field}.json"
        broken.write_text(json.dumps(manifest | {field: value}))
        result = govern("audit", "--verify", str(broken))
        assert result.exit_code == 2, (field, result.output)
        assert f"the manifest's {field}" in result.output
