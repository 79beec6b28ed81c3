"""A picture of the project-state graph: every node coloured by its strongest decision.

The layout is Graphviz's `dot` (through the `graphviz` Python bindings, which only write DOT
text and call the `dot` program to render it). Containment is drawn as nested boxes
(subgraph clusters), not as edges, so a project with a hundred tasks stays readable; every
other relation is an edge labelled with its name. Colours come from the Okabe-Ito palette
(distinguishable with every common colour-vision deficiency) and each label also names the
outcome, so the picture never rests on colour alone. Nodes and edges are emitted in sorted
order: the same state and report give the same DOT text, byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
from jinja2 import Environment

from ..errors import Location, UsageError
from ..outcomes import Outcome
from ..report.model import Decision, Report
from ..state.index import Edge, Node, StateIndex

FORMATS = (".dot", ".svg", ".png", ".html")

# Weakest to strongest for the picture: an approval is good news, an undecidable rule is
# worth a look but blocks nothing, then the escalation scale.
DISPLAY_ORDER = (
    Outcome.approval,
    Outcome.info,
    Outcome.insufficient_evidence,
    Outcome.warning,
    Outcome.required_action,
    Outcome.escalation,
    Outcome.rejection,
)
DISPLAY_RANK = {outcome: rank for rank, outcome in enumerate(DISPLAY_ORDER)}

# Okabe & Ito (2008), "Color Universal Design": (fill, font) per outcome.
PALETTE: dict[Outcome, tuple[str, str]] = {
    Outcome.approval: ("#009E73", "#FFFFFF"),
    Outcome.info: ("#56B4E9", "#000000"),
    Outcome.insufficient_evidence: ("#CC79A7", "#000000"),
    Outcome.warning: ("#F0E442", "#000000"),
    Outcome.required_action: ("#E69F00", "#000000"),
    Outcome.escalation: ("#D55E00", "#FFFFFF"),
    Outcome.rejection: ("#000000", "#FFFFFF"),
}
NEUTRAL = ("#FFFFFF", "#555555")
NEUTRAL_LINE = "#999999"

SHAPES = {
    "pmo": "hexagon",
    "portfolio": "folder",
    "program": "folder",
    "project": "box3d",
    "gate": "house",
    "task": "box",
    "milestone": "box",
    "deliverable": "component",
    "risk": "octagon",
    "issue": "doubleoctagon",
    "change_request": "parallelogram",
    "document": "note",
    "person": "ellipse",
    "objective": "invhouse",
}
ROUNDED = frozenset({"task"})

# Edge styles, with how the legend names them: greys and blues, so that the node colours
# carry the decisions.
EDGE_STYLES: dict[str, tuple[dict[str, str], str]] = {
    "depends_on": (
        {"color": "#333333", "penwidth": "1.2"},
        "solid black, arrow to the predecessor, labelled unless FS without lag",
    ),
    "contains": ({"color": "#777777", "style": "bold"}, "bold grey (the enclosing box where it has one)"),
    "governs": ({"color": "#0072B2", "style": "bold"}, "bold blue"),
    "mitigates": ({"color": "#0072B2", "style": "dashed"}, "dashed blue"),
    "affects": ({"color": "#555555", "style": "dashed"}, "dashed grey"),
    "assigned_to": ({"color": "#C8C8C8", "style": "dotted", "arrowsize": "0.4"}, "dotted light grey"),
    "sponsors": ({"color": "#777777", "style": "dotted"}, "dotted grey"),
    "manages": ({"color": "#777777", "style": "dotted"}, "dotted grey"),
    "owns": ({"color": "#777777", "style": "dotted"}, "dotted grey"),
    "approves": ({"color": "#777777", "style": "dotted"}, "dotted grey"),
    "aligns_with": ({"color": "#AAAAAA", "style": "dashed"}, "dashed light grey"),
}
OTHER_EDGE = ({"color": "#555555"}, "solid grey")
# A relation with more edges than this in one picture is told by its style and the legend
# alone: a hundred "assigned_to" labels hide the graph they label.
LABEL_LIMIT = 24
# Relations that do not place nodes: people work on tasks all over a project, and letting
# those edges pull ranks tears the schedule apart.
FREE_RELATIONS = frozenset({"assigned_to"})
# Past FOLD_LIMIT edges in one picture these relations are written into their targets'
# labels ("<- person 40%") instead of drawn: four engineers on 140 tasks are 140 lines
# across the whole schedule, and Graphviz lays out such a graph as a column metres long.
FOLDABLE = frozenset({"assigned_to"})
FOLD_LIMIT = 40
# Labelled however many there are: only a dependency that is not plain finish-to-start
# gets a label (its kind and lag), and those are what a scheduler looks for.
ALWAYS_LABELLED = frozenset({"depends_on"})

GRAPH_ATTRS = {
    "rankdir": "LR",
    "newrank": "true",
    "splines": "true",
    "concentrate": "false",
    "nodesep": "0.12",
    "ranksep": "0.45",
    "fontname": "Helvetica",
    "fontsize": "11",
    "labelloc": "t",
    "labeljust": "l",
    "outputorder": "edgesfirst",
    "pad": "0.2",
}
NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "9", "margin": "0.06,0.03", "height": "0.3", "penwidth": "1"}
EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "7", "fontcolor": "#555555", "arrowsize": "0.6"}

NAME_WIDTH = 28
STAGGER = 3


@dataclass
class Picture:
    """What is drawn: the nodes, the edges between them and each node's decisions."""

    index: StateIndex
    report: Report
    nodes: list[str]
    edges: list[Edge]
    decisions: dict[str, list[Decision]] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    folded: frozenset[str] = frozenset()


def strongest(decisions: Iterable[Decision]) -> Decision | None:
    """The decision that colours a node: unwaived before waived (a waived decision no longer
    blocks), then the strongest outcome, then the rule id for a stable choice."""
    ranked = sorted(decisions, key=lambda d: (d.waiver is None, DISPLAY_RANK[d.outcome], d.rule_id), reverse=True)
    return ranked[0] if ranked else None


def picture(index: StateIndex, report: Report, project: str | None = None) -> Picture:
    """Select what to draw: the whole state, or one project (with everything it contains)
    and its neighbourhood, the nodes one edge away."""
    chosen = set(index.nodes)
    if project is not None:
        check_project(index, project)
        inside = _contained(index, project)
        chosen = set(inside)
        for edge in index.edges():
            if edge.source in inside or edge.target in inside:
                chosen.update((edge.source, edge.target))
    edges = [e for e in index.edges() if e.source in chosen and e.target in chosen]
    decisions: dict[str, list[Decision]] = {}
    for decision in report.decisions:
        if decision.subject in chosen:
            decisions.setdefault(decision.subject, []).append(decision)
    folded = frozenset(r for r in FOLDABLE if sum(e.relation == r for e in edges) > FOLD_LIMIT)
    return Picture(index, report, sorted(chosen), edges, decisions, _parents(index, chosen, edges), folded)


def check_project(index: StateIndex, project: str) -> None:
    """A UsageError unless `project` names a project, program or portfolio of the state."""
    node = index.nodes.get(project)
    if node is None:
        raise UsageError(f"--project {project}: no such node", Location(file=index.source))
    if node.type not in ("project", "program", "portfolio"):
        raise UsageError(
            f"--project {project}: a {node.type}, not a project, program or portfolio",
            Location(file=index.source, node=project),
        )


def _contained(index: StateIndex, root: str) -> set[str]:
    inside = {root}
    level = [root]
    while level:
        level = [e.target for n in level for e in index.out_edges(n, "contains") if e.target not in inside]
        inside.update(level)
    return inside


def _parents(index: StateIndex, chosen: set[str], edges: list[Edge]) -> dict[str, str]:
    """Each node's enclosing box: its first container (by id) among the drawn nodes. A
    `contains` cycle is broken where it closes, so the boxes always nest."""
    parent: dict[str, str] = {}
    for edge in edges:
        if edge.relation == "contains" and edge.source != edge.target and edge.target not in parent:
            parent[edge.target] = edge.source
    for node in sorted(parent):
        seen = {node}
        up = parent.get(node)
        while up is not None:
            if up in seen:
                del parent[node]
                break
            seen.add(up)
            up = parent.get(up)
    return parent


def _name(node: Node) -> str:
    for key in ("name", "title"):
        value = node.attrs.get(key)
        if isinstance(value, str) and value and value != node.id:
            return value
    kind = node.attrs.get("kind")
    return str(kind) if isinstance(kind, str) else ""


def _short(text: str, width: int = NAME_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _outcome_line(decisions: list[Decision]) -> str:
    top = strongest(decisions)
    if top is None:
        return ""
    rules = sorted(
        {d.rule_id for d in decisions if d.outcome is top.outcome and (d.waiver is None) == (top.waiver is None)}
    )
    shown = ", ".join(rules[:3]) + (f" +{len(rules) - 3}" if len(rules) > 3 else "")
    waived = " waived" if top.waiver is not None else ""
    return f"{top.outcome.value}{waived}: {shown}"


def _tooltip(node: Node, decisions: list[Decision]) -> str:
    lines = [f"{node.id} ({node.type})"]
    lines += [f"{d.outcome.value} {d.rule_id}: {d.message}" + (" [waived]" if d.waiver else "") for d in decisions]
    return "\n".join(lines)


def _anchor(node_id: str) -> str:
    """A page anchor per id, one to one: every character but letters, digits and '-' is
    written as _hex_ (the underscore too, or a.b and a_2e_b would meet)."""
    return "node-" + re.sub(r"[^A-Za-z0-9-]", lambda m: f"_{ord(m.group()):x}_", node_id)


def _dot_id(node_id: str) -> str:
    """A node id as DOT reads it back: quoted text with its backslashes kept, never an
    HTML-like string (an id such as <b>R & D</b> is an id, not markup)."""
    return graphviz.nohtml(graphviz.escape(node_id))


def _node_attrs(node: Node, decisions: list[Decision], folded: list[Edge]) -> dict[str, str]:
    top = strongest(decisions)
    fill, font = PALETTE[top.outcome] if top else NEUTRAL
    lines = [graphviz.escape(node.id)]
    name = _name(node)
    if name:
        lines.append(graphviz.escape(_short(name)))
    if folded:
        lines.append(graphviz.escape(_short(", ".join(f"<- {e.source} {_edge_label(e)}" for e in folded), 40)))
    outcome = _outcome_line(decisions)
    if outcome:
        lines.append(graphviz.escape(outcome))
    styles = ["filled"]
    if node.type in ROUNDED or node.type not in SHAPES:
        styles.append("rounded")
    if node.type == "milestone":
        styles.append("diagonals")
    outline = {"color": "#000000" if top else NEUTRAL_LINE}
    if top is not None and top.waiver is not None:
        styles.append("dashed")
        outline = {"color": "#888888", "penwidth": "2.5"}  # grey, so it shows on a black fill too
    return {
        "label": graphviz.nohtml(r"\n".join(lines)),  # text, never Graphviz's HTML-like labels
        "shape": SHAPES.get(node.type, "box"),
        "style": ",".join(styles),
        "fillcolor": fill,
        "fontcolor": font,
        "tooltip": graphviz.escape(_tooltip(node, decisions)),
        "URL": "#" + _anchor(node.id),
        **outline,
    }


def _edge_label(edge: Edge) -> str:
    """The relation's name; for a dependency its kind and lag, where not plain finish-to-start."""
    if edge.relation == "depends_on":
        kind = str(edge.attrs.get("kind", "FS"))
        lag = edge.attrs.get("lag_days") or 0
        if isinstance(lag, int | float) and lag:
            return f"{kind} {lag:+g}d"
        return "" if kind == "FS" else kind
    if edge.relation == "assigned_to" and isinstance(edge.attrs.get("allocation"), int | float):
        return f"{edge.attrs['allocation']:g}%"
    return edge.relation


def _boxed(picture: Picture, edge: Edge) -> bool:
    """Whether the edge is shown by the box its target sits in."""
    return edge.relation == "contains" and picture.parent.get(edge.target) == edge.source


def _drawn_edges(picture: Picture) -> list[Edge]:
    """The edges drawn as lines: all but those the boxes show and those folded into labels."""
    return [e for e in picture.edges if not _boxed(picture, e) and e.relation not in picture.folded]


def _relation_counts(picture: Picture) -> dict[str, int]:
    """Edges per relation, boxed containment aside (the legend tells how each is shown)."""
    counts: dict[str, int] = {}
    for edge in picture.edges:
        if not _boxed(picture, edge):
            counts[edge.relation] = counts.get(edge.relation, 0) + 1
    return dict(sorted(counts.items()))


def _legend(picture: Picture) -> str:
    """The graph's title and legend, as a Graphviz HTML-like label (placed above the layout)."""
    counts = {o: 0 for o in DISPLAY_ORDER}
    coloured = {o: 0 for o in DISPLAY_ORDER}
    for decisions in picture.decisions.values():
        for decision in decisions:
            counts[decision.outcome] += 1
        top = strongest(decisions)
        if top is not None:
            coloured[top.outcome] += 1
    report = picture.report
    neutral = len(picture.nodes) - sum(coloured.values())
    outcomes = []
    for outcome in reversed(DISPLAY_ORDER):
        fill, font = PALETTE[outcome]
        outcomes.append(
            f'<td bgcolor="{fill}" align="left"><font color="{font}">{outcome.value}</font></td>'
            f'<td align="right">{_many(coloured[outcome], "node")}</td>'
            f'<td align="right">{_many(counts[outcome], "decision")}</td>'
        )
    outcomes.append(
        f'<td bgcolor="{NEUTRAL[0]}" align="left"><font color="{NEUTRAL[1]}">no decision</font></td>'
        f'<td align="right">{_many(neutral, "node")}</td><td></td>'
    )
    relations = []
    for relation, count in _relation_counts(picture).items():
        description = EDGE_STYLES.get(relation, OTHER_EDGE)[1]
        if relation in picture.folded:
            description = "written in the targets' labels (<- source): too many to draw"
        elif count > LABEL_LIMIT and relation not in ALWAYS_LABELLED:
            description += ", unlabelled"
        relations.append(
            f'<td align="left">{_html(relation)}</td><td align="right">{_many(count, "edge")}</td>'
            f'<td align="left">{_html(description)}</td>'
        )
    relations.append('<td align="left">contains</td><td></td><td align="left">the boxes</td>')
    table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="2">{}</table>'
    title = _html(
        f"{report.input.source}, as of {report.as_of.isoformat()}, pack {report.pack.name} {report.pack.version}: "
        f"{_many(len(picture.nodes), 'node')}, {_many(len(picture.edges), 'edge')}; "
        "colour: strongest decision (dashed: waived)"
    )
    return (
        '<<table border="0" cellspacing="0" cellpadding="0">'
        f'<tr><td colspan="3" align="left"><b>{title}</b></td></tr>'
        f'<tr><td valign="top">{table.format("".join(f"<tr>{row}</tr>" for row in outcomes))}</td>'
        f'<td width="12"></td><td valign="top">{table.format("".join(f"<tr>{row}</tr>" for row in relations))}</td></tr>'
        "</table>>"
    )


def _many(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def build(picture: Picture) -> graphviz.Digraph:
    """The Graphviz graph of a picture: nested clusters by containment, edges by relation."""
    index = picture.index
    dot = graphviz.Digraph("state", graph_attr=GRAPH_ATTRS | {"label": _legend(picture)})
    dot.node_attr.update(NODE_ATTRS)
    dot.edge_attr.update(EDGE_ATTRS)
    children: dict[str | None, list[str]] = {}
    for node_id in picture.nodes:
        children.setdefault(picture.parent.get(node_id), []).append(node_id)
    counter = iter(range(len(picture.nodes) + 1))
    folded: dict[str, list[Edge]] = {}
    for edge in picture.edges:
        if edge.relation in picture.folded:
            folded.setdefault(edge.target, []).append(edge)

    def add(graph: graphviz.Digraph, node_id: str) -> None:
        node = index.nodes[node_id]
        attrs = _node_attrs(node, picture.decisions.get(node_id, []), folded.get(node_id, []))
        if node_id not in children:
            graph.node(_dot_id(node_id), **attrs)
            return
        with graph.subgraph(name=f"cluster_{next(counter)}") as box:
            title = _name(node) or node.id
            box.attr(
                label=graphviz.escape(f"{node.type} {_short(title, 60)}"),
                style="rounded",
                color="#999999",
                fontcolor="#333333",
                fontsize="11",
                labeljust="l",
            )
            box.node(_dot_id(node_id), **attrs)
            for child in children[node_id]:
                add(box, child)

    for node_id in children.get(None, []):
        add(dot, node_id)
    # Contents are spread over STAGGER ranks (what Graphviz's `unflatten -l` does), so that a
    # project's hundred tasks and risks form a block rather than one long column.
    stagger = {child: 1 + i % STAGGER for members in children.values() for i, child in enumerate(members)}
    for edge in picture.edges:
        if _boxed(picture, edge):
            # Drawn as the enclosing box; an invisible edge keeps the container's node ahead
            # of its contents, so what has no other edge does not pile up in one column.
            dot.edge(_dot_id(edge.source), _dot_id(edge.target), style="invis", minlen=str(stagger[edge.target]))
    counts = _relation_counts(picture)
    for edge in _drawn_edges(picture):
        style = dict(EDGE_STYLES.get(edge.relation, OTHER_EDGE)[0])
        if counts[edge.relation] <= LABEL_LIMIT or edge.relation in ALWAYS_LABELLED:
            style["label"] = graphviz.escape(_edge_label(edge))
        if edge.relation in FREE_RELATIONS:
            style["constraint"] = "false"
        detail = _edge_label(edge)
        detail = f" ({detail})" if detail and detail != edge.relation else ""
        style["tooltip"] = graphviz.escape(f"{edge.source} {edge.relation} {edge.target}{detail}")
        if edge.relation == "depends_on":
            # Drawn from the predecessor to its successor so that time runs left to right;
            # the arrowhead still points at what the task depends on.
            dot.edge(_dot_id(edge.target), _dot_id(edge.source), dir="back", **style)
        else:
            dot.edge(_dot_id(edge.source), _dot_id(edge.target), **style)
    return dot


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
.picture { overflow: auto; border: 1px solid #ccc; max-height: 80vh; }
.swatch { display: inline-block; padding: 0.1em 0.5em; border: 1px solid #000; margin-right: 0.3em; }
table { border-collapse: collapse; margin-top: 0.5em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
h3 { margin-bottom: 0.2em; }
section:target { background: #fff8d0; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>{{ subtitle }}</p>
<p>{% for item in legend %}<span class="swatch" style="background: {{ item.fill }}; color: {{ item.font }}">{{ item.name }}</span>{{ item.nodes }}&nbsp;&nbsp;{% endfor %}</p>
<div class="picture">{{ svg }}</div>
<h2>Decisions by node</h2>
{% for node in nodes %}
<section id="{{ node.anchor }}">
<h3><span class="swatch" style="background: {{ node.fill }}; color: {{ node.font }}">{{ node.outcome }}</span>{{ node.id }} <small>{{ node.type }}{% if node.name %} · {{ node.name }}{% endif %}</small></h3>
<table>
<tr><th>outcome</th><th>rule</th><th>message</th><th>action</th><th>waiver</th></tr>
{% for d in node.decisions %}
<tr><td>{{ d.outcome.value }}</td><td>{{ d.rule_id }} v{{ d.rule_version }}</td><td>{{ d.message }}</td>
<td>{% if d.action %}{{ d.action.text }} ({{ d.action.owner_name or d.action.owner or "no owner" }}, due {{ d.action.due }}){% endif %}</td>
<td>{% if d.waiver %}{{ d.waiver.justification }} ({{ d.waiver.approved_by }}, until {{ d.waiver.expires }}){% endif %}</td></tr>
{% endfor %}
</table>
</section>
{% endfor %}
</body>
</html>
"""


def html_page(picture: Picture, svg: str) -> str:
    """A self-contained page: the inline SVG, the legend and every node's decisions."""
    from markupsafe import Markup

    inline = svg[svg.index("<svg") :]  # drop the XML prolog and doctype
    legend = [
        {"name": o.value, "fill": PALETTE[o][0], "font": PALETTE[o][1], "nodes": _count(picture, o)}
        for o in reversed(DISPLAY_ORDER)
    ]
    nodes = []
    for node_id in picture.nodes:
        decisions = picture.decisions.get(node_id, [])
        top = strongest(decisions)
        if top is None:
            continue
        node = picture.index.nodes[node_id]
        fill, font = PALETTE[top.outcome]
        nodes.append(
            {
                "id": node_id,
                "anchor": _anchor(node_id),
                "type": node.type,
                "name": _name(node),
                "outcome": top.outcome.value,
                "fill": fill,
                "font": font,
                "decisions": sorted(decisions, key=lambda d: (-DISPLAY_RANK[d.outcome], d.rule_id, d.rule_version)),
            }
        )
    report = picture.report
    environment = Environment(autoescape=True, keep_trailing_newline=True)
    return environment.from_string(PAGE).render(
        title=f"State graph of {report.input.source}",
        subtitle=f"as of {report.as_of.isoformat()}, pack {report.pack.name} {report.pack.version}, "
        f"{len(picture.nodes)} nodes, {len(picture.edges)} edges; each node is coloured by its strongest decision",
        legend=legend,
        svg=Markup(inline),
        nodes=nodes,
    )


def _count(picture: Picture, outcome: Outcome) -> int:
    return sum(1 for ds in picture.decisions.values() if (top := strongest(ds)) and top.outcome is outcome)


def _render(dot: graphviz.Digraph, fmt: str) -> bytes:
    try:
        return dot.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise UsageError(
            f"drawing .{fmt} needs Graphviz's `dot` program on the PATH (Debian: apt-get install graphviz); "
            "--out FILE.dot writes the graph without it"
        ) from None
    except graphviz.CalledProcessError as error:
        stderr = (error.stderr or b"").decode("utf-8", "replace").strip()
        raise UsageError(f"Graphviz's dot failed to draw .{fmt}: {stderr or error}") from None


def check_format(out: Path) -> str:
    """The output format a file name asks for, or a UsageError naming those there are."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(
            f"--out {out}: unknown format {suffix or '(no suffix)'!r}; use one of {', '.join(FORMATS)}",
            Location(file=str(out)),
        )
    return suffix


def write(picture: Picture, out: Path) -> None:
    """Write the picture in the format its suffix names (.dot, .svg, .png or .html)."""
    suffix = check_format(out)
    dot = build(picture)
    if suffix == ".dot":
        data = dot.source.encode("utf-8")
    elif suffix == ".html":
        data = html_page(picture, _render(dot, "svg").decode("utf-8")).encode("utf-8")
    else:
        data = _render(dot, suffix[1:])
    try:
        out.write_bytes(data)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror}", Location(file=str(out))) from None
