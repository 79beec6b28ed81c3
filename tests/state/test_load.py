"""Loading valid state documents: JSON, YAML and dicts give the same index."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from governance_engine.language.vocabulary import RELATIONS
from governance_engine.state import (
    Edge,
    StateIndex,
    load_state,
    load_state_bytes,
    state_from_dict,
)
from governance_engine.state.model import GENERIC_RELATIONS


def _snapshot(index: StateIndex) -> tuple[Any, ...]:
    """Everything a rule can read, in query order."""
    nodes = {node_id: (node.type, node.attrs) for node_id, node in index.nodes.items()}
    by_type = {kind: [n.id for n in index.of_type(kind)] for kind in ("task", "vendor", "risk")}
    edges = {
        (node_id, relation): (
            [(e.target, e.key, e.attrs) for e in index.out_edges(node_id, relation)],
            [(e.source, e.key, e.attrs) for e in index.in_edges(node_id, relation)],
        )
        for node_id in index.nodes
        for relation in ("contains", "depends_on", "governs", "supplies", "assigned_to")
    }
    return index.graph, nodes, by_type, edges


def test_json_loads_nodes_edges_and_graph(doc: dict[str, Any]) -> None:
    index = load_state_bytes(json.dumps(doc).encode(), "state.json")
    assert index.source == "state.json"
    assert index.as_of == date(2024, 3, 1)
    assert index.graph["currency"] == "EUR"
    project = index.nodes["P1"]
    assert project.type == "project"
    assert project.attrs["start"] == date(2024, 1, 1)
    assert project.attrs["budget"] == 1000
    assert "id" not in project.attrs and "type" not in project.attrs
    assert [n.id for n in index.of_type("task")] == ["T1", "T2"]
    assert index.of_type("nothing") == []
    (dependency,) = index.out_edges("T2", "depends_on")
    assert dependency == Edge("T2", "T1", "depends_on", {"kind": "FS", "lag_days": 1}, 0)
    assert index.in_edges("T1", "depends_on") == [dependency]
    assert index.out_edges("T1", "depends_on") == []
    assert index.out_edges("missing", "contains") == []


def test_custom_types_and_unknown_attributes_are_kept(doc: dict[str, Any]) -> None:
    index = state_from_dict(doc)
    vendor = index.nodes["V1"]
    assert vendor.type == "vendor"
    # a date-like text in an attribute the schema does not know stays text
    assert vendor.attrs == {"rating": "A", "since": "2020-05-01"}
    assert index.nodes["P1"].attrs["sponsor_mood"] == "calm"
    (supply,) = index.out_edges("V1", "supplies")
    assert supply.attrs == {"share": 0.5}


def test_yaml_and_dict_give_the_same_index_as_json(doc: dict[str, Any]) -> None:
    from_json = load_state_bytes(json.dumps(doc).encode(), fmt="json")
    from_yaml = load_state_bytes(yaml.safe_dump(doc).encode(), fmt="yaml")
    from_dict = state_from_dict(doc)
    assert _snapshot(from_yaml) == _snapshot(from_json) == _snapshot(from_dict)


def test_dict_may_hold_date_objects(doc: dict[str, Any]) -> None:
    doc["graph"]["as_of"] = date(2024, 4, 2)
    doc["nodes"][2]["start"] = date(2023, 12, 31)
    index = state_from_dict(doc)
    assert index.as_of == date(2024, 4, 2)
    assert index.nodes["P1"].attrs["start"] == date(2023, 12, 31)


def test_links_key_is_accepted(doc: dict[str, Any]) -> None:
    doc["links"] = doc.pop("edges")
    index = state_from_dict(doc)
    assert [e.target for e in index.out_edges("P1", "contains")] == ["R1", "T1", "T2"]


def test_format_from_suffix_or_content(tmp_path: Path, doc: dict[str, Any]) -> None:
    as_yaml = tmp_path / "state.yml"
    as_yaml.write_text(yaml.safe_dump(doc))
    as_json = tmp_path / "state.json"
    as_json.write_text(json.dumps(doc))
    unnamed_json = tmp_path / "state-json"
    unnamed_json.write_text("  " + json.dumps(doc))
    unnamed_yaml = tmp_path / "state-yaml"
    unnamed_yaml.write_text(yaml.safe_dump(doc))
    expected = _snapshot(load_state(as_json))
    for path in (as_yaml, unnamed_json, unnamed_yaml):
        assert _snapshot(load_state(path)) == expected
    assert load_state(as_yaml).source == str(as_yaml)


def test_order_in_the_file_does_not_change_results(doc: dict[str, Any]) -> None:
    doc["edges"] += [
        {"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 50},
        {"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 20},
        {"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 70},
    ]
    expected = _snapshot(state_from_dict(doc))
    shuffler = random.Random(7)
    for _ in range(10):
        shuffled = json.loads(json.dumps(doc))
        shuffler.shuffle(shuffled["nodes"])
        shuffler.shuffle(shuffled["edges"])
        assert _snapshot(state_from_dict(shuffled)) == expected


def test_parallel_edges_are_keyed_by_their_attributes(doc: dict[str, Any]) -> None:
    doc["edges"] += [
        {"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 50, "key": 0},
        {"source": "P1", "target": "T1", "relation": "assigned_to", "allocation": 20, "key": 1},
    ]
    assigned = state_from_dict(doc).out_edges("P1", "assigned_to")
    # the file's own networkx keys are replaced; {"allocation": 20} sorts first
    assert [(e.key, e.attrs) for e in assigned] == [(0, {"allocation": 20}), (1, {"allocation": 50})]


def test_to_networkx_is_built_once_with_keys_and_attributes(doc: dict[str, Any]) -> None:
    index = state_from_dict(doc)
    graph = index.to_networkx()
    assert graph is index.to_networkx()
    assert graph.graph["as_of"] == date(2024, 3, 1)
    assert graph.nodes["P1"]["type"] == "project"
    assert graph.nodes["P1"]["cpi"] == 0.8
    assert graph.edges["T2", "T1", 0] == {"relation": "depends_on", "kind": "FS", "lag_days": 1}
    assert graph.number_of_edges() == len(doc["edges"])


def test_null_attributes_and_missing_edges_are_allowed() -> None:
    index = load_state_bytes(b'{"nodes": [{"id": "P", "type": "project", "finish": null}]}')
    assert index.nodes["P"].attrs == {"finish": None}
    assert index.as_of is None
    assert index.graph == {}


def test_dependency_attributes_are_free_on_other_relations(doc: dict[str, Any]) -> None:
    doc["edges"].append({"source": "P1", "target": "T1", "relation": "coaches", "kind": 7, "lag_days": "x"})
    assert state_from_dict(doc).out_edges("P1", "coaches")[0].attrs == {"kind": 7, "lag_days": "x"}


def test_every_relation_of_the_vocabulary_is_dispatched_by_its_tag() -> None:
    assert {"depends_on", *GENERIC_RELATIONS} == set(RELATIONS)
