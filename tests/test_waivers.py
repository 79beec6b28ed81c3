"""Waivers: applied ones mark a decision and stop it blocking, never remove it; expired
ones are warnings; unmatched ones are reported; malformed files are located."""

from __future__ import annotations

import csv
import json
import random
from datetime import date
from functools import cache
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from governance_engine import Engine, Outcome
from governance_engine.cli.main import main
from governance_engine.decide.waivers import WaiverSpec
from governance_engine.generate import generate_portfolio

from .conftest import ROOT

PORTFOLIO = ROOT / "examples" / "portfolio.yaml"
STATE = {
    "graph": {"as_of": "2026-11-20", "pmo_type": "controlling"},
    "nodes": [
        {"id": "p", "type": "project", "name": "P", "phase": "planning", "status": "on_hold"},
        {"id": "s", "type": "person", "name": "Sam", "role": "sponsor"},
        {"id": "m", "type": "person", "name": "Kim", "role": "project_manager"},
        {"id": "o", "type": "objective", "name": "Grow"},
        {
            "id": "r",
            "type": "risk",
            "title": "Vendor",
            "probability": 2,
            "impact": 2,
            "status": "open",
            "review_due": "2026-12-01",
        },
        {"id": "t", "type": "task", "name": "Mitigate", "status": "in_progress", "finish": "2026-12-10"},
    ],
    "edges": [
        {"source": "s", "target": "p", "relation": "sponsors"},
        {"source": "m", "target": "p", "relation": "manages"},
        {"source": "p", "target": "o", "relation": "aligns_with"},
        {"source": "p", "target": "r", "relation": "contains"},
        {"source": "p", "target": "t", "relation": "contains"},
        {"source": "t", "target": "r", "relation": "mitigates"},
    ],
}


def waiver(**fields) -> WaiverSpec:
    base = {
        "rule": "R1",
        "subject": "r",
        "justification": "accepted by the board",
        "approved_by": "s",
        "expires": date(2026, 12, 31),
    }
    return WaiverSpec(**(base | fields))


def test_an_applied_waiver_keeps_the_decision_and_stops_it_blocking(tmp_path: Path):
    engine = Engine()
    plain = engine.evaluate(STATE)
    assert [(d.rule_id, d.outcome) for d in plain.decisions] == [("R1", Outcome.required_action)] and plain.blocking
    waived = engine.evaluate(STATE, waivers=[waiver()])
    [decision] = waived.decisions
    assert (decision.rule_id, decision.outcome) == ("R1", Outcome.required_action)
    assert decision.waiver.justification == "accepted by the board" and decision.waiver.expires == date(2026, 12, 31)
    assert not waived.blocking and waived.summary["waived"] == 1
    assert [(w.status, w.matched) for w in waived.waivers] == [("applied", 1)]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(STATE))
    (tmp_path / "w.yaml").write_text(
        "waivers:\n  - {rule: R1, subject: r, justification: accepted, approved_by: s, expires: 2026-12-31}\n"
    )
    assert CliRunner().invoke(main, ["evaluate", str(path)]).exit_code == 1
    result = CliRunner().invoke(main, ["evaluate", str(path), "--waivers", str(tmp_path / "w.yaml")])
    assert result.exit_code == 0 and "waived until 2026-12-31 by s: accepted" in result.output


def test_an_expired_waiver_is_a_warning_and_waives_nothing():
    report = Engine().evaluate(STATE, waivers=[waiver(expires=date(2026, 11, 1))])
    assert {(d.rule_id, d.outcome, d.waiver is None) for d in report.decisions} == {
        ("R1", Outcome.required_action, True),
        ("WAIVER", Outcome.warning, True),
    }
    warning = next(d for d in report.decisions if d.rule_id == "WAIVER")
    assert "expired on 2026-11-01; R1 applies again" in warning.message
    assert report.waivers[0].status == "expired" and report.blocking


def test_an_unmatched_waiver_is_reported():
    report = Engine().evaluate(STATE, waivers=[waiver(rule="R2"), waiver(subject=None, project="p", rule="R1")])
    assert [(w.rule, w.target, w.status) for w in report.waivers] == [("R2", "r", "unmatched"), ("R1", "p", "applied")]


def test_a_waived_blocker_no_longer_holds_a_program_gate():
    report = Engine().evaluate(PORTFOLIO)
    g6 = next(d for d in report.decisions if d.rule_id == "G6")
    waivers = [waiver(rule=b.rule_id, subject=b.subject) for b in g6.blocked_by]
    waived = Engine().evaluate(PORTFOLIO, waivers=waivers)
    assert not [d for d in waived.decisions if d.rule_id == "G6"]
    assert len([d for d in waived.decisions if d.waiver]) == len(g6.blocked_by)


def test_a_malformed_waivers_file_exits_2_with_its_place(tmp_path: Path):
    (tmp_path / "w.yaml").write_text(
        "waivers:\n  - {rule: R1, justification: x, approved_by: y, expires: 2026-12-31}\n"
    )
    result = CliRunner().invoke(main, ["evaluate", str(PORTFOLIO), "--waivers", str(tmp_path / "w.yaml")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'w.yaml'}:2:5" in result.output and "exactly one of 'subject'" in result.output


@cache
def shared_engine() -> Engine:
    return Engine()


@settings(max_examples=40)
@given(seed=st.integers(0, 2**31 - 1), picks=st.randoms(use_true_random=False))
def test_waivers_never_remove_a_decision(seed, picks: random.Random):
    engine = shared_engine()
    state = generate_portfolio(1, seed=seed, tasks=20, breaking_share=0.9)[0]
    plain = engine.evaluate(state)
    chosen = [d for d in plain.decisions if picks.random() < 0.5]
    expiry = picks.choice([date(2026, 1, 1), date(2027, 1, 1)])
    waived = engine.evaluate(state, waivers=[waiver(rule=d.rule_id, subject=d.subject, expires=expiry) for d in chosen])
    before = {(d.rule_id, d.subject, d.outcome) for d in plain.decisions if d.outcome is not Outcome.approval}
    after = {(d.rule_id, d.subject, d.outcome) for d in waived.decisions if d.rule_id != "WAIVER"}
    assert before <= after  # approvals may only appear where a waived blocker held them


def test_an_audit_shows_waivers_in_its_table_and_summary(tmp_path: Path):
    """The CSV says who waived a decision and until when; the Markdown summary counts waived
    decisions and leaves them out of the projects with most blocking decisions."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "state.json").write_text(json.dumps(STATE))
    (tmp_path / "w.yaml").write_text(
        "waivers:\n  - {rule: R1, subject: r, justification: accepted, approved_by: s, expires: 2026-12-31}\n"
    )
    out = tmp_path / "out"
    args = ["audit", str(tmp_path / "in"), "--out", str(out), "--quiet", "--format", "csv", "--format", "md"]
    assert CliRunner().invoke(main, args).exit_code == 1
    assert "## Projects with the most blocking decisions (not waived)" in (out / "report.md").read_text()
    assert CliRunner().invoke(main, [*args, "--waivers", str(tmp_path / "w.yaml")]).exit_code == 0
    rows = list(csv.DictReader((out / "decisions.csv").open(encoding="utf-8")))
    assert [(r["rule_id"], r["waiver_approved_by"], r["waiver_expires"]) for r in rows] == [("R1", "s", "2026-12-31")]
    summary = (out / "report.md").read_text()
    assert "1 of these decisions are waived" in summary and "most blocking decisions" not in summary
