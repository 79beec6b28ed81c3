"""Every bad input is one StateError that names the place: node, edge, line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from governance_engine.errors import StateError
from governance_engine.state import load_state, load_state_bytes, state_from_dict

Change = Callable[[dict[str, Any]], None]


def _node(doc: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(node for node in doc["nodes"] if node["id"] == node_id)


def _error(doc: dict[str, Any]) -> StateError:
    with pytest.raises(StateError) as caught:
        load_state_bytes(json.dumps(doc, indent=1).encode(), "bad.json")
    return caught.value


CASES: list[tuple[str, Change, list[str]]] = [
    (
        "probability out of range",
        lambda d: _node(d, "R1").update(probability=7),
        ["node 'R1'", "probability", "less than or equal to 5", "got 7"],
    ),
    (
        "impact not an integer",
        lambda d: _node(d, "R1").update(impact=2.5),
        ["node 'R1'", "impact"],
    ),
    (
        "percent_complete over 100",
        lambda d: _node(d, "T1").update(percent_complete=150),
        ["node 'T1'", "percent_complete", "from 0 to 100"],
    ),
    (
        "phase not in the enum",
        lambda d: _node(d, "P1").update(phase="building"),
        ["node 'P1'", "phase", "'building'"],
    ),
    (
        "project status not in the enum",
        lambda d: _node(d, "P1").update(status="paused"),
        ["node 'P1'", "status"],
    ),
    (
        "pmo_type not in the enum",
        lambda d: _node(d, "pmo-ent").update(pmo_type="advisory"),
        ["node 'pmo-ent'", "pmo_type"],
    ),
    (
        "pmo without a type",
        lambda d: _node(d, "pmo-ent").pop("pmo_type"),
        ["node 'pmo-ent'", "missing required attribute 'pmo_type'"],
    ),
    (
        "date that is not ISO",
        lambda d: _node(d, "T1").update(due="next week"),
        ["node 'T1'", "due", "YYYY-MM-DD", "next week"],
    ),
    (
        "date with a time",
        lambda d: _node(d, "P1").update(start="2024-01-01T10:00:00"),
        ["node 'P1'", "start"],
    ),
    (
        "money given as text",
        lambda d: _node(d, "P1").update(budget="1000"),
        ["node 'P1'", "budget", "finite number"],
    ),
    (
        "money given as a boolean",
        lambda d: _node(d, "P1").update(actual_cost=True),
        ["node 'P1'", "actual_cost"],
    ),
    (
        "money not finite",
        lambda d: _node(d, "P1").update(earned_value=float("inf")),
        ["node 'P1'", "earned_value", "finite number"],
    ),
    (
        "money NaN",
        lambda d: _node(d, "P1").update(budget=float("nan")),
        ["node 'P1'", "budget", "finite number"],
    ),
    (
        "node without id",
        lambda d: _node(d, "T2").pop("id"),
        ["nodes[4]", "missing required attribute 'id'"],
    ),
    (
        "node that is not a mapping",
        lambda d: d["nodes"].append(["T9"]),
        ["nodes[7]", "mapping"],
    ),
    (
        "duplicate node id",
        lambda d: d["nodes"].append({"id": "T1", "type": "task"}),
        ["node 'T1'", "duplicate node id 'T1'"],
    ),
    (
        "edge to a missing node",
        lambda d: d["edges"].append({"source": "P1", "target": "T9", "relation": "contains"}),
        ["edge P1 -> T9 (contains)", "target 'T9' is not a node"],
    ),
    (
        "edge from a missing node",
        lambda d: d["edges"].append({"source": "X", "target": "T1", "relation": "mitigates"}),
        ["edge X -> T1 (mitigates)", "source 'X' is not a node"],
    ),
    (
        "dependency kind unknown",
        lambda d: d["edges"][5].update(kind="XX"),
        ["edge T2 -> T1 (depends_on)", "kind", "'FS', 'SS', 'FF' or 'SF'"],
    ),
    (
        "lag not a number",
        lambda d: d["edges"][5].update(lag_days="one"),
        ["edge T2 -> T1 (depends_on)", "lag_days"],
    ),
    (
        "allocation over 1000",
        lambda d: d["edges"].append({"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 2000}),
        ["edge P1 -> T1 (assigned_to)", "allocation", "from 0 to 1000"],
    ),
    (
        "allocation over 1000 on a custom relation",
        lambda d: d["edges"].append({"source": "P1", "target": "T1", "relation": "coaches", "allocation": 2000}),
        ["edge P1 -> T1 (coaches)", "allocation", "from 0 to 1000"],
    ),
    (
        "edge without relation",
        lambda d: d["edges"][0].pop("relation"),
        ["edges[0]", "missing required attribute 'relation'"],
    ),
    (
        "task dependency cycle",
        lambda d: d["edges"].append({"source": "T1", "target": "T2", "relation": "depends_on", "kind": "SS"}),
        ["depends_on edges form a cycle: T1 -> T2 -> T1"],
    ),
    (
        "task depends on itself",
        lambda d: d["edges"].append({"source": "T1", "target": "T1", "relation": "depends_on"}),
        ["cycle: T1 -> T1", "edge T1 -> T1 (depends_on)"],
    ),
    (
        "bad as_of",
        lambda d: d["graph"].update(as_of="01/03/2024"),
        ["graph.as_of", "YYYY-MM-DD"],
    ),
    (
        "other schema",
        lambda d: d["graph"].update(schema="pmo-state/2"),
        ["graph.schema", "pmo-state/1"],
    ),
    (
        "undirected graph",
        lambda d: d.update(directed=False),
        ["directed"],
    ),
    (
        "missing nodes",
        lambda d: d.pop("nodes"),
        ["missing 'nodes' list"],
    ),
    (
        "nodes not a list",
        lambda d: d.update(nodes={"id": "x"}),
        ["'nodes' must be a list"],
    ),
    (
        "edges and links both",
        lambda d: d.update(links=[]),
        ["not both"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_place(doc: dict[str, Any], change: Change, expected: list[str]) -> None:
    change(doc)
    error = _error(doc)
    text = str(error)
    assert text.startswith("bad.json:")
    for part in expected:
        assert part in text


def test_project_dependency_cycle(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "P2", "type": "project"})
    doc["edges"] += [
        {"source": "P1", "target": "P2", "relation": "depends_on"},
        {"source": "P2", "target": "P1", "relation": "depends_on"},
    ]
    assert "cycle: P1 -> P2 -> P1" in str(_error(doc))


def test_longer_cycle_lists_every_node(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "T3", "type": "milestone"})
    doc["edges"] += [
        {"source": "T1", "target": "T3", "relation": "depends_on"},
        {"source": "T3", "target": "T2", "relation": "depends_on"},
    ]
    assert "cycle: T1 -> T3 -> T2 -> T1" in str(_error(doc))


def test_json_node_error_gives_the_line_of_the_field() -> None:
    text = '{"nodes": [\n  {"id": "P1", "type": "project"},\n  {"id": "R1", "type": "risk",\n   "probability": 9}\n]}\n'
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.json")
    assert caught.value.location.line == 4
    assert caught.value.location.column == 19
    assert caught.value.location.node == "R1"


def test_json_structural_error_gives_the_line_of_the_item() -> None:
    text = (
        '{"nodes": [{"id": "a", "type": "task"}],\n'
        ' "edges": [\n'
        '  {"source": "a", "target": "a", "relation": "contains"},\n'
        '  {"source": "a", "target": "b", "relation": "contains"}\n'
        "]}\n"
    )
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.json")
    assert (caught.value.location.line, caught.value.location.edge) == (4, "a -> b (contains)")


def test_json_syntax_error_gives_line_and_column() -> None:
    with pytest.raises(StateError) as caught:
        load_state_bytes(b'{"nodes": [\n  {"id": "a",, "type": "task"}]}', "s.json")
    assert str(caught.value).startswith("s.json:2:14: state error: not valid JSON")


YAML_DOC = """\
graph:
  as_of: 2024-03-01
nodes:
  - id: P1
    type: project
  - id: R1
    type: risk
    probability: 3
    impact: 6
edges:
  - source: P1
    target: R1
    relation: contains
"""


def test_yaml_node_error_gives_the_line_of_the_field() -> None:
    with pytest.raises(StateError) as caught:
        load_state_bytes(YAML_DOC.encode(), "s.yaml")
    location = caught.value.location
    assert (location.file, location.line, location.column, location.node) == ("s.yaml", 9, 13, "R1")


def test_yaml_edge_error_gives_the_line_of_the_edge() -> None:
    text = YAML_DOC.replace("impact: 6", "impact: 2").replace("target: R1", "target: R9")
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.yaml")
    assert caught.value.location.line == 12
    assert caught.value.location.edge == "P1 -> R9 (contains)"


def test_yaml_duplicate_node_gives_its_line() -> None:
    text = YAML_DOC.replace("impact: 6", "impact: 2").replace("id: R1", "id: P1")
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.yaml")
    assert caught.value.location.line == 6
    assert "duplicate node id 'P1'" in str(caught.value)


def test_yaml_bad_date_is_an_error_not_a_string() -> None:
    text = YAML_DOC.replace("impact: 6", "impact: 2").replace("2024-03-01", "2024-3-1")
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.yaml")
    assert caught.value.location.line == 2
    assert "graph.as_of" in str(caught.value)


def test_yaml_syntax_error_gives_the_line() -> None:
    with pytest.raises(StateError) as caught:
        load_state_bytes(b"nodes:\n  - id: a\n    type: [task\n", "s.yaml")
    assert "not valid YAML" in str(caught.value)
    assert caught.value.location.line == 4


@pytest.mark.parametrize(
    "text",
    [
        "nodes:\n  - &n {id: a, type: task}\n  - *n\n",
        "nodes: []\nextra: &x [1]\n",
        'a: &a ["lol","lol"]\nb: &b [*a,*a,*a]\nc: [*b,*b,*b]\nnodes: []\n',
    ],
    ids=["alias", "anchor", "billion-laughs"],
)
def test_yaml_anchors_and_aliases_are_refused(text: str) -> None:
    with pytest.raises(StateError) as caught:
        load_state_bytes(text.encode(), "s.yaml")
    assert "anchors and aliases are not allowed" in str(caught.value)
    assert caught.value.location.line is not None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[1, 2]", "top level must be a mapping"),
        (b"just words", "top level must be a mapping"),
        (b"", "top level must be a mapping"),
        (b"\xff\xfe{", "not UTF-8"),
    ],
)
def test_not_a_state_document(data: bytes, message: str) -> None:
    with pytest.raises(StateError, match=message):
        load_state_bytes(data, "s.yaml")


def test_size_limit_is_named(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b'{"nodes": []}' + b" " * 100)
    with pytest.raises(StateError, match="over the limit of 50 bytes") as caught:
        load_state(path, max_bytes=50)
    assert caught.value.location.file == str(path)
    with pytest.raises(StateError, match="limit of 10 bytes"):
        load_state_bytes(b'{"nodes": []}', max_bytes=10)


def test_missing_file_is_a_state_error(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="cannot read state file"):
        load_state(tmp_path / "absent.json")


def test_dict_with_nan_or_objects_is_refused(doc: dict[str, Any]) -> None:
    _node(doc, "P1")["budget"] = float("nan")
    with pytest.raises(StateError, match="budget"):
        state_from_dict(doc, "caller")
    _node(doc, "P1")["budget"] = {1, 2}
    with pytest.raises(StateError, match="not a JSON-like document"):
        state_from_dict(doc, "caller")


def test_yaml_nan_is_refused() -> None:
    text = "nodes:\n  - id: P\n    type: project\n    budget: .nan\n"
    with pytest.raises(StateError, match="budget") as caught:
        load_state_bytes(yaml.safe_dump(yaml.safe_load(text)).encode(), "s.yaml")
    assert caught.value.location.node == "P"


def test_pmo_types_clash_at_the_same_distance(doc: dict[str, Any]) -> None:
    doc["nodes"].append({"id": "pmo-dept", "type": "pmo", "pmo_type": "supportive"})
    doc["edges"].append({"source": "pmo-dept", "target": "prog", "relation": "governs"})
    index = state_from_dict(doc)
    with pytest.raises(StateError, match="different types") as caught:
        index.pmo_type_of("P1")
    assert caught.value.location.node == "P1"


def test_yaml_reads_booleans_and_numbers_as_json_does() -> None:
    """YAML 1.1 would read 010 as 8 and 1:30 as 90 without a word, `no` as false, and refuse
    2e6; a state file means the same in either format."""
    from governance_engine.state.yaml_safe import read_yaml

    text = "a: 010\nb: 1:30\nc: 2e6\nd: 1_000\ne: no\nf: true\ng: -.5\nh: 0x1F\n"
    assert read_yaml(text)[1] == {
        "a": 10,
        "b": "1:30",
        "c": 2e6,
        "d": "1_000",
        "e": "no",
        "f": True,
        "g": -0.5,
        "h": "0x1F",
    }
    same = "graph: {as_of: 2026-01-01}\nnodes:\n  - {id: P, type: project, budget: 2e6, percent_complete: 010}\nedges: []\n"
    attrs = load_state_bytes(same.encode(), "p.yaml").nodes["P"].attrs
    assert (attrs["budget"], attrs["percent_complete"]) == (2e6, 10)


def test_a_repeated_key_is_located_at_the_value_that_is_read(tmp_path: Path) -> None:
    """Both formats keep a repeated key's last value: the error points there, not at the first."""
    (tmp_path / "dup.yaml").write_text("nodes:\n- id: r\n  type: risk\n  probability: 3\n  probability: 7\n")
    (tmp_path / "dup.json").write_text('{"nodes":[{"id":"r","type":"risk",\n"probability":3,\n"probability":7}]}')
    (tmp_path / "cr.json").write_text('{"nodes":[\r{"id":"r","type":"risk",\r"probability":9}]}')
    for name, line in (("dup.yaml", 5), ("dup.json", 3), ("cr.json", 3)):
        with pytest.raises(StateError) as caught:
            load_state(tmp_path / name)
        assert caught.value.location.line == line, name


def test_an_unpaired_surrogate_is_named_at_its_place(tmp_path: Path) -> None:
    """YAML's \\udc00 escape makes text that is not Unicode; it was reported at 1:1 as a
    document that is not a mapping."""
    (tmp_path / "sur.yaml").write_text('nodes:\n- {id: a, type: task}\n- {id: b, type: task, name: "x\\udc00y"}\n')
    with pytest.raises(StateError, match="unpaired surrogate") as caught:
        load_state(tmp_path / "sur.yaml")
    assert (caught.value.location.line, caught.value.location.node) == (3, "b")
    with pytest.raises(StateError, match="unpaired surrogate"):
        state_from_dict({"nodes": [{"id": "a", "type": "task", "x\udc00": 1}]})
