"""`govern dcma` and the DCMA ruleset on hand-built schedules (examples/schedules/) and, when
the importers and ../shared are there, on the sample MSPDI and XER files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main
from governance_engine.dcma import assess
from governance_engine.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
SCHEDULES = ROOT / "examples" / "schedules"
SAMPLES = ROOT / ".." / "shared" / "data" / "schedules"
CLEAN = SCHEDULES / "dcma-clean.yaml"
VIOLATIONS = sorted(SCHEDULES.glob("dcma-[0-9][0-9]-*.yaml"))


def test_there_is_one_violating_schedule_per_metric() -> None:
    assert [int(p.name[5:7]) for p in VIOLATIONS] == list(range(1, 15))


@pytest.fixture(scope="module")
def family() -> Engine:
    """The shipped packs, loaded once (loading them is most of the cost)."""
    return Engine()


def _dcma_rules_decided(family: Engine, path: Path) -> set[str]:
    """DCMA rule ids with a decision on the project under the shipped controlling pack."""
    report = family.evaluate(path, pmo_type="controlling")
    return {d.rule_id for d in report.decisions if d.rule_id.startswith("DCMA-")}


def test_the_clean_schedule_passes_all_14(family: Engine) -> None:
    assert _dcma_rules_decided(family, CLEAN) == set()
    report = assess(CLEAN)
    assert [m.status for m in report.projects[0].metrics] == ["pass"] * 9 + ["info"] + ["pass"] * 4
    assert report.passed


@pytest.mark.parametrize("path", VIOLATIONS, ids=lambda p: p.stem)
def test_each_violating_schedule_fails_exactly_its_metric(family: Engine, path: Path) -> None:
    """BEI (14) cannot fail alone: BEI < 0.95 means fewer than 95 % of the tasks due by the
    baseline are complete, so more than 5 % of them are missed tasks (11) too."""
    number = int(path.name[5:7])
    expected = {f"DCMA-{number:02d}"} | ({"DCMA-11"} if number == 14 else set())
    assert _dcma_rules_decided(family, path) == expected


def test_decisions_carry_value_numerator_denominator_and_offending_tasks(family: Engine) -> None:
    report = family.evaluate(SCHEDULES / "dcma-01-logic.yaml", pmo_type="controlling")
    (decision,) = [d for d in report.decisions if d.rule_id == "DCMA-01"]
    assert decision.evidence["numerator"] == 2
    assert decision.evidence["denominator"] == 21
    assert decision.evidence["value"] == pytest.approx(100 * 2 / 21, abs=1e-6)
    assert decision.evidence["offending"] == ["T02", "T03"]
    assert decision.outcome.value == "required_action"


def test_table_output_and_exit_codes() -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["dcma", str(CLEAN)])
    assert clean.exit_code == 0, clean.output
    assert "all 13 scored metrics pass" in clean.output
    failing = runner.invoke(main, ["dcma", str(SCHEDULES / "dcma-07-negative-float.yaml")])
    assert failing.exit_code == 1
    line = next(row for row in failing.output.splitlines() if row.startswith("7 "))
    assert "FAIL" in line and "B, T05" in line


def test_json_output() -> None:
    result = CliRunner().invoke(main, ["dcma", str(SCHEDULES / "dcma-13-cpli.yaml"), "--format", "json"])
    assert result.exit_code == 1
    metrics = {m["number"]: m for m in json.loads(result.output)["projects"][0]["metrics"]}
    assert len(metrics) == 14
    cpli = metrics[13]
    assert (cpli["numerator"], cpli["denominator"], cpli["status"]) == (11, 13, "fail")
    assert cpli["value"] == pytest.approx(11 / 13, abs=1e-6)
    assert metrics[4]["value"] == 100 and metrics[4]["passed"] is True


def test_markdown_output_and_as_of() -> None:
    """At a status date of 2026-10-15 the survey A (baselined for 10-16) is not yet due."""
    result = CliRunner().invoke(
        main, ["dcma", str(SCHEDULES / "dcma-11-missed-tasks.yaml"), "--format", "md", "--as-of", "2026-10-14"]
    )
    assert "| 11 | Missed tasks |" in result.output
    assert "status date 2026-10-14" in result.output


def test_bad_input_exits_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes: [{id: P, type: project, schedule_source: nowhere}]\n")
    result = CliRunner().invoke(main, ["dcma", str(broken)])
    assert result.exit_code == 2
    assert "broken.yaml" in result.output
    unassessed = CliRunner().invoke(main, ["dcma", str(ROOT / "examples" / "portfolio.yaml")])
    assert unassessed.exit_code == 2
    assert "schedule_source" in unassessed.output


SAMPLE_FILES = sorted([*SAMPLES.glob("*.xml"), *SAMPLES.glob("*.xer")]) if SAMPLES.is_dir() else []


@pytest.mark.skipif(not SAMPLE_FILES, reason="../shared/data/schedules is absent")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_the_report_runs_on_each_sample(path: Path) -> None:
    pytest.importorskip("governance_engine.importers")
    result = CliRunner().invoke(main, ["dcma", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.output)
    for project in report["projects"]:
        assert [m["number"] for m in project["metrics"]] == list(range(1, 15))


def test_an_incremental_session_sees_project_figures_move(family: Engine) -> None:
    """Lengthening E by 3 days moves the CPM finish past the baseline: CPLI (16 - 3) / 16
    drops below 0.95 although no project attribute was edited."""
    from governance_engine.state.parse import parse_bytes

    document, _ = parse_bytes(CLEAN.read_bytes(), str(CLEAN), fmt=None, max_bytes=10_000_000)
    session = family.session(document, pmo_type="controlling")
    assert not [d for d in session.decisions() if d.rule_id.startswith("DCMA-")]
    delta = session.apply({"op": "update_node", "node": {"id": "E", "duration_days": 5}})
    assert "DCMA-13" in {d.rule_id for d in delta.appeared}
    session.close()


@pytest.mark.skipif(not (SAMPLES / "j301_1.sm").is_file(), reason="../shared/data/schedules is absent")
def test_a_metric_that_cannot_be_scored_is_not_counted_as_passing() -> None:
    """PSPLIB instances carry no baseline finish: CPLI cannot be scored, and the verdict says so."""
    result = CliRunner().invoke(main, ["dcma", str(SAMPLES / "j301_1.sm")])
    assert result.exit_code == 0
    assert "insufficient_evidence" in result.output
    assert result.output.rstrip().endswith("12 of 13 pass; 1 cannot be scored (insufficient evidence)")
