"""govern diff: what changed between two audits."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.generate import write_portfolio


def audit(folder: Path, out: Path) -> None:
    CliRunner().invoke(
        main, ["audit", str(folder), "--out", str(out), "--jobs", "1", "--quiet"], catch_exceptions=False
    )


def test_a_month_later_one_risk_lost_its_owner(tmp_path: Path):
    write_portfolio(tmp_path / "states", 6, seed=9, tasks=20, breaking_share=0.0)
    audit(tmp_path / "states", tmp_path / "october")
    path = tmp_path / "states" / "project-00002.json"
    state = json.loads(path.read_text())
    risk = next(n["id"] for n in state["nodes"] if n["type"] == "risk" and n["status"] == "open")
    state["edges"] = [e for e in state["edges"] if not (e["relation"] == "owns" and e["target"] == risk)]
    path.write_text(json.dumps(state))
    audit(tmp_path / "states", tmp_path / "november")
    result = CliRunner().invoke(
        main, ["diff", str(tmp_path / "october"), str(tmp_path / "november"), "--format", "json"]
    )
    assert result.exit_code == 0
    diff = json.loads(result.output)
    assert [(c["subject"], c["rule_id"], c["before"]) for c in diff["changes"]] == [(risk, "R1", None)]
    assert diff["summary"] == {"appeared": 1, "disappeared": 0, "changed": 0, "projects_changed": 1}
    table = CliRunner().invoke(main, ["diff", str(tmp_path / "november"), str(tmp_path / "october")])
    assert table.output.startswith("0 decisions appeared, 1 disappeared, 0 changed outcome, in 1 projects")
    markdown = CliRunner().invoke(
        main, ["diff", str(tmp_path / "october"), str(tmp_path / "november"), "--format", "md"]
    )
    assert f"| {risk} | R1 | – |" in markdown.output


def test_not_an_audit_directory_exits_2(tmp_path: Path):
    result = CliRunner().invoke(main, ["diff", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2 and "not an audit output directory" in result.output


def test_an_audit_holding_two_snapshots_of_one_project_is_refused(tmp_path: Path):
    """Keys are by project: two files with the same project would hide each other's changes."""
    write_portfolio(tmp_path / "snap" / "2024-01", 1, seed=4, tasks=8, breaking_share=1.0)
    write_portfolio(tmp_path / "snap" / "2024-02", 1, seed=4, tasks=8, breaking_share=1.0)
    audit(tmp_path / "snap", tmp_path / "both")
    audit(tmp_path / "snap" / "2024-02", tmp_path / "one")
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "both"), str(tmp_path / "one")])
    assert result.exit_code == 2
    assert "is in two inputs of this audit" in result.output and "decisions.jsonl:" in result.output


def test_an_input_that_failed_is_named_beside_its_missing_decisions(tmp_path: Path):
    write_portfolio(tmp_path / "states", 3, seed=5, tasks=8, breaking_share=1.0)
    audit(tmp_path / "states", tmp_path / "before")
    (tmp_path / "states" / "project-00001.json").write_text('{"nodes": [')
    audit(tmp_path / "states", tmp_path / "after")
    result = CliRunner().invoke(main, ["diff", str(tmp_path / "before"), str(tmp_path / "after")])
    assert result.exit_code == 0
    first = result.output.splitlines()[0]
    assert "disappeared" in first and "1 inputs could not be evaluated in the new audit" in first
    assert "project-00001.json" in first
    data = json.loads(
        CliRunner().invoke(main, ["diff", str(tmp_path / "before"), str(tmp_path / "after"), "--format", "json"]).output
    )
    assert data["failed"] == {"before": [], "after": [str(tmp_path / "states" / "project-00001.json")]}
