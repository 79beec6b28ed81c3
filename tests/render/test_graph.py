"""`govern graph`: the DOT text names every node and relation, colours each node by its
strongest decision, boxes projects, restricts to one project, and renders through `dot`."""

from __future__ import annotations

import json
import random
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine import Engine
from governance_engine.cli.main import main
from governance_engine.generate import generate_portfolio
from governance_engine.outcomes import Outcome, PmoType
from governance_engine.render.graph import NEUTRAL, PALETTE, build, picture, strongest
from governance_engine.report.model import Decision, Waiver

from ..conftest import ROOT

PORTFOLIO = ROOT / "examples" / "portfolio.yaml"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

STATE = {
    "graph": {"as_of": "2026-11-20", "pmo_type": "controlling"},
    "nodes": [
        {"id": "p", "type": "project", "name": "Alpha", "phase": "planning", "status": "on_hold"},
        {"id": "s", "type": "person", "name": "Sam", "role": "sponsor"},
        {
            "id": "r",
            "type": "risk",
            "title": "Vendor <late>",
            "probability": 4,
            "impact": 4,
            "status": "open",
            "review_due": "2026-11-01",
        },
        {"id": "t1", "type": "task", "name": "Design", "status": "completed", "finish": "2026-10-01"},
        {"id": "t2", "type": "task", "name": "Build", "status": "in_progress"},
        {"id": 'o"bj\\1', "type": "objective", "name": "<b>Grow</b> \\l"},  # text that DOT would read as markup
    ],
    "edges": [
        {"source": "s", "target": "p", "relation": "sponsors"},
        {"source": "p", "target": "r", "relation": "contains"},
        {"source": "p", "target": "t1", "relation": "contains"},
        {"source": "p", "target": "t2", "relation": "contains"},
        {"source": "t2", "target": "t1", "relation": "depends_on", "kind": "SS", "lag_days": 2},
        {"source": "s", "target": "t2", "relation": "assigned_to", "allocation": 40},
        {"source": "p", "target": 'o"bj\\1', "relation": "aligns_with"},
    ],
}


ENGINE: list[Engine] = []


def dot_of(state, project: str | None = None) -> tuple[str, dict[str, list[Decision]]]:
    """The DOT text of a state and the decisions drawn, from one Engine (compiled once)."""
    if not ENGINE:
        ENGINE.append(Engine())
    engine = ENGINE[0]
    index, _ = engine.load(state)
    drawn = picture(index, engine.evaluate(index), project)
    return build(drawn).source, drawn.decisions


def node_attrs(source: str, node_id: str) -> dict[str, str]:
    """The attributes of one node statement in the DOT text."""
    match = re.search(rf'^\t+"?{re.escape(node_id)}"? \[(.*?)\]$', source, re.M | re.S)
    assert match, f"no node {node_id} in the DOT text"
    return dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|[^ \]]+)', match.group(1)))


def edge_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if " -> " in line]


def test_nodes_edges_and_colours_of_a_small_state():
    source, decisions = dot_of(STATE)
    # the risk has two required actions and a warning: it takes the required action's colour
    assert {d.outcome for d in decisions["r"]} == {Outcome.required_action, Outcome.warning}
    risk = node_attrs(source, "r")
    assert risk["fillcolor"] == f'"{PALETTE[Outcome.required_action][0]}"'
    assert risk["shape"] == "octagon"
    assert risk["label"] == r'"r\nVendor <late>\nrequired_action: R1, R2"'
    person = node_attrs(source, "s")
    assert person["fillcolor"] == f'"{NEUTRAL[0]}"' and person["shape"] == "ellipse"
    assert "s" not in decisions
    # containment is the project's box, held in order by invisible edges, not lines
    assert re.search(r'subgraph cluster_0 \{\n\t\t.*label="project Alpha"', source)
    edges = edge_lines(source)
    assert "p -> r [minlen=1 style=invis]" in edges
    assert not [e for e in edges if re.match(r"p -> (r|t1|t2) ", e) and "invis" not in e]
    [aligned] = [e for e in edges if e.startswith('p -> "o\\"bj')]  # quoted, as DOT wants
    assert "label=aligns_with" in aligned
    # a dependency runs from the predecessor, arrow pointing back at it, with kind and lag
    [dependency] = [e for e in edges if e.startswith("t1 -> t2")]
    assert 'label="SS +2d"' in dependency and "dir=back" in dependency
    [sponsor] = [e for e in edges if e.startswith("s -> p ")]
    assert "label=sponsors" in sponsor
    [assignment] = [e for e in edges if e.startswith("s -> t2 ")]
    assert 'label="40%"' in assignment and "constraint=false" in assignment


def test_every_node_has_the_colour_of_its_strongest_decision():
    source, decisions = dot_of(PORTFOLIO)
    assert len(decisions) > 20
    mixed = 0
    for node_id, mine in decisions.items():
        top = strongest(mine)
        assert top is not None
        assert top.outcome is max((d.outcome for d in mine if d.waiver is None), key=lambda o: PALETTE_ORDER[o])
        assert node_attrs(source, node_id)["fillcolor"] == f'"{PALETTE[top.outcome][0]}"', node_id
        mixed += len({d.outcome for d in mine}) > 1
    assert mixed, "the example should have nodes with decisions of different outcomes"


PALETTE_ORDER = {o: i for i, o in enumerate(PALETTE)}


def decision(outcome: Outcome, rule: str = "X1", waived: bool = False) -> Decision:
    return Decision(
        rule_id=rule,
        rule_version=1,
        title="t",
        outcome=outcome,
        subject="n",
        subject_type="task",
        project="p",
        pmo_type=PmoType.directive,
        pack="directive",
        message="m",
        waiver=Waiver(justification="j", approved_by="a", expires=date(2027, 1, 1)) if waived else None,
    )


def test_strongest_ranks_unwaived_first_then_the_escalation_scale():
    assert strongest([]) is None
    assert strongest([decision(Outcome.warning), decision(Outcome.rejection)]).outcome is Outcome.rejection
    assert strongest([decision(Outcome.approval), decision(Outcome.info)]).outcome is Outcome.info
    undecided = [decision(Outcome.insufficient_evidence), decision(Outcome.info)]
    assert strongest(undecided).outcome is Outcome.insufficient_evidence
    waived = [decision(Outcome.escalation, waived=True), decision(Outcome.warning)]
    assert strongest(waived).outcome is Outcome.warning
    assert strongest([decision(Outcome.escalation, waived=True)]).waiver is not None


def test_the_dot_text_does_not_depend_on_the_order_of_the_file():
    shuffled = dict(STATE, nodes=list(STATE["nodes"]), edges=list(STATE["edges"]))
    random.Random(4).shuffle(shuffled["nodes"])
    random.Random(4).shuffle(shuffled["edges"])
    assert dot_of(shuffled)[0] == dot_of(STATE)[0]


def test_project_draws_one_project_and_its_neighbourhood(tmp_path: Path):
    out = tmp_path / "mobile.dot"
    result = CliRunner().invoke(main, ["graph", str(PORTFOLIO), "--project", "prj-mobile-app", "--out", str(out)])
    assert result.exit_code == 0, result.output
    source = out.read_text()
    whole, _ = dot_of(PORTFOLIO)
    assert len(source) < len(whole) / 3
    node_attrs(source, "prj-mobile-app")
    node_attrs(source, "g-ma-3")  # contained
    node_attrs(source, "p-david")  # its sponsor, one edge away
    node_attrs(source, "prg-customer")  # the program containing it
    for elsewhere in ("prj-api-gateway", "g-api-3", "prj-brand-refresh"):
        assert not re.search(rf'^\t+"?{elsewhere}"? \[', source, re.M), elsewhere


def test_bad_suffix_and_unknown_project_are_usage_errors(tmp_path: Path):
    result = CliRunner().invoke(main, ["graph", str(PORTFOLIO), "--out", str(tmp_path / "graph.jpg")])
    assert result.exit_code == 2
    assert "unknown format '.jpg'; use one of .dot, .svg, .png, .html" in result.output
    result = CliRunner().invoke(main, ["graph", str(PORTFOLIO), "--project", "prj-nope", "--pack", "controlling"])
    assert result.exit_code == 2 and "--project prj-nope: no such node" in result.output
    result = CliRunner().invoke(main, ["graph", str(PORTFOLIO), "--project", "g-ma-3", "--pack", "controlling"])
    assert result.exit_code == 2 and "a gate, not a project" in result.output


def test_a_missing_dot_program_is_a_usage_error_but_dot_text_still_works(tmp_path: Path, monkeypatch):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(STATE))
    monkeypatch.setenv("PATH", str(tmp_path))
    command = ["graph", str(state), "--pack", "controlling", "--out"]
    result = CliRunner().invoke(main, [*command, str(tmp_path / "g.svg")])
    assert result.exit_code == 2
    assert "needs Graphviz's `dot` program" in result.output and not (tmp_path / "g.svg").exists()
    result = CliRunner().invoke(main, [*command, str(tmp_path / "g.dot")])
    assert result.exit_code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph state {")
    result = CliRunner().invoke(main, command[:-1])  # no --out: the DOT text on stdout
    assert result.exit_code == 0 and result.output == (tmp_path / "g.dot").read_text()


def test_a_200_node_project_folds_its_assignments_into_the_task_labels():
    [document] = generate_portfolio(1, seed=0, tasks=140, breaking_share=1.0)
    assert 180 <= len(document["nodes"]) <= 220
    source, _ = dot_of(document)
    assert not [e for e in edge_lines(source) if "assigned_to" in e]
    assert "written in the targets&#x27; labels" in source or "written in the targets' labels" in source
    task = next(e["target"] for e in document["edges"] if e["relation"] == "assigned_to")
    person = next(e["source"] for e in document["edges"] if e["relation"] == "assigned_to" and e["target"] == task)
    assert f"<- {person} " in node_attrs(source, task)["label"]


@needs_dot
def test_svg_png_and_html_render(tmp_path: Path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps(STATE))
    for suffix in (".svg", ".png", ".html"):
        out = tmp_path / f"graph{suffix}"
        result = CliRunner().invoke(main, ["graph", str(state), "--pack", "controlling", "--out", str(out)])
        assert result.exit_code == 0, result.output
    svg = (tmp_path / "graph.svg").read_text()
    assert (
        "<svg" in svg
        and "<title>r</title>" in svg
        and "&lt;b&gt;Grow&lt;/b&gt; \\l" in svg
        and PALETTE[Outcome.required_action][0].lower() in svg.lower()
    )
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "graph.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<?xml" not in page
    assert 'id="node-r"' in page and "R2 v1" in page
    # names from the state are escaped in the page, never markup
    assert "Vendor &lt;late&gt;" in page and "Vendor <late>" not in page.split("<svg", 1)[0] + page.split("</svg>")[1]


@needs_dot
def test_ids_that_look_like_markup_or_end_in_a_backslash_are_drawn_as_text(tmp_path: Path):
    """graphviz would leave <b>R & D</b> unquoted (Graphviz HTML) and write risk\\ as broken
    DOT; page anchors of a.b and a_2e_b would meet."""
    odd = ["<b>R & D</b>", "risk\\", "<i>risk</i>", "a.b", "a_2e_b"]
    state = {
        "graph": {"as_of": "2026-11-20", "pmo_type": "controlling"},
        "nodes": [{"id": "p", "type": "project", "name": "P", "status": "active"}]
        + [{"id": i, "type": "risk", "probability": 5, "impact": 5, "status": "open"} for i in odd],
        "edges": [{"source": "p", "target": i, "relation": "contains"} for i in odd],
    }
    (tmp_path / "odd.json").write_text(json.dumps(state))
    for suffix in ("dot", "svg", "html"):
        result = CliRunner().invoke(
            main, ["graph", str(tmp_path / "odd.json"), "--out", str(tmp_path / f"odd.{suffix}")]
        )
        assert result.exit_code == 0, (suffix, result.output)
    svg = (tmp_path / "odd.svg").read_text()
    assert "&lt;b&gt;R &amp; D&lt;/b&gt;" in svg and "&lt;i&gt;risk&lt;/i&gt;" in svg
    anchors = re.findall(r'id="(node-[^"]*)"', (tmp_path / "odd.html").read_text())
    assert len(anchors) == len(set(anchors)) >= len(odd)
