"""govern explain: why a rule fired or not, part by part, with values and related nodes."""

from __future__ import annotations

from click.testing import CliRunner

from governance_engine import Engine
from governance_engine.cli.main import main
from governance_engine.decide.explain import explain
from governance_engine.errors import Location
from governance_engine.language.parser import parse_expression
from governance_engine.language.unparse import unparse

from .conftest import ROOT

PORTFOLIO = ROOT / "examples" / "portfolio.yaml"


def test_a_fired_rule_shows_the_values_that_made_it_fire():
    [trace] = explain(Engine(), PORTFOLIO, "G1", subject="g-ma-3")
    assert (trace.verdict, trace.pmo_type, trace.pack) == ("fired", "directive", "directive")
    assert trace.lets["missing_documents"] == ["status_report"]
    assert trace.body.value is True
    first = trace.body.parts[0]
    assert first.text == "len(missing_documents) > 0" and first.value is True
    assert first.reads == {"missing_documents": ["status_report"]}


def test_a_quiet_rule_shows_which_part_was_false_and_what_was_counted():
    traces = {t.subject: t for t in explain(Engine(), PORTFOLIO, "R4")}
    quiet = traces["prj-api-gateway"]
    assert quiet.verdict == "quiet"
    assert quiet.body.text == "red_risks >= 3" and quiet.body.value is False
    fired = traces["prj-network-refresh"]
    assert fired.verdict == "fired" and fired.lets["red_risks"] == 3


def test_graph_functions_list_the_related_nodes_they_counted():
    [trace] = explain(Engine(), PORTFOLIO, "R2", subject="r-dl-extracts")
    mitigations = trace.body.parts[1].parts[0]
    assert mitigations.text == "exists(<-mitigates<-*)" and mitigations.value is False
    assert mitigations.related == []


def test_insufficient_evidence_is_explained_as_unknown():
    [trace] = explain(Engine(), PORTFOLIO, "E3", subject="prj-data-lake")
    assert trace.verdict == "insufficient_evidence"
    assert trace.body.value == "unknown"


def test_cli_renders_the_trace():
    result = CliRunner().invoke(main, ["explain", str(PORTFOLIO), "--rule", "G1", "--subject", "g-ma-3"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "G1 v1 on g-ma-3 (directive, pack directive): fired"
    assert "true     len(missing_documents) > 0  [missing_documents=['status_report']]" in result.output


def test_unparse_gives_back_text_that_parses_to_the_same_tree():
    where = Location(file="x")
    for text in [
        'cpi < 0.9 or spi < 0.9 and not (phase in ["execution", "closing"])',
        'count(->contains->risk where status == "open" and score >= 15) >= 3',
        "sum(<-assigned_to<-person, edge.allocation) - 2 * (a + b) > -1",
        'days_since(approved_on) <= 31 and owner is not null and x not in ["a"]',
    ]:
        tree = parse_expression(text, where)
        assert parse_expression(unparse(tree), where) == tree
