"""Every public sample schedule imports into a document the engine loads; figures checked
against what the files say (read by hand), and cut or corrupted copies fail cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance_engine.errors import StateError
from governance_engine.importers import FORMATS, load_schedule
from governance_engine.state import state_from_dict

from .conftest import SAMPLE_FILES


def by_id(doc: dict) -> dict[str, dict]:
    return {node["id"]: node for node in doc["nodes"]}


def items(doc: dict) -> list[dict]:
    return [n for n in doc["nodes"] if n["type"] in ("task", "milestone") and not n.get("summary")]


def links(doc: dict) -> list[tuple[str, str, str, float]]:
    return [(e["source"], e["target"], e["kind"], e["lag_days"]) for e in doc["edges"] if e["relation"] == "depends_on"]


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_every_sample_imports_and_loads(samples: Path, name: str) -> None:
    doc = load_schedule(samples / name)
    index = state_from_dict(doc, name)
    projects = [n for n in doc["nodes"] if n["type"] == "project"]
    assert len(projects) == 1
    project = projects[0]
    assert project["schedule_source"] == {".xml": "mspdi", ".xer": "xer", ".sm": "psplib"}[Path(name).suffix]
    contained = {e["target"] for e in doc["edges"] if e["relation"] == "contains" and e["source"] == project["id"]}
    work = {n["id"] for n in doc["nodes"] if n["type"] in ("task", "milestone")}
    assert contained == work  # flat: the project contains every item
    assert len(index.nodes) == len(doc["nodes"])
    # deterministic: the same file gives the same document
    assert json.dumps(load_schedule(samples / name), sort_keys=True) == json.dumps(doc, sort_keys=True)


def test_sample_xml(samples: Path) -> None:
    doc = load_schedule(samples / "sample.xml")
    nodes = by_id(doc)
    assert "as_of" not in doc["graph"]  # the file has no StatusDate
    assert len([n for n in doc["nodes"] if n["type"] in ("task", "milestone")]) == 19  # 20 tasks less UID 0
    assert nodes["T-2"]["duration_days"] == 100  # PT800H0M0S at 480 minutes a day
    assert nodes["T-3"]["type"] == "milestone" and nodes["T-3"]["source_total_float_days"] == 50  # 240000 tenths
    assert nodes["T-1"]["summary"] is True and nodes["T-1"]["wbs"] == "1"
    assert ("T-1", "T-2", "decomposes_into") in {(e["source"], e["target"], e["relation"]) for e in doc["edges"]}
    assert nodes["T-7"]["constraint_type"] == "start_no_earlier_than"
    assert nodes["T-7"]["constraint_date"] == "2003-02-01"
    assert sorted(links(doc)) == [
        ("T-10", "T-9", "FS", 0),
        ("T-12", "T-11", "FS", 1),  # LinkLag 4800 tenths of a minute = 1 day
        ("T-14", "T-13", "FS", -1),
        ("T-16", "T-15", "SS", 0),
        ("T-18", "T-17", "FF", 0),
        ("T-21", "T-20", "SF", 0),
    ]
    assert nodes["C-1"]["working_weekdays"] == [1, 2, 3, 4, 5] and nodes["C-1"]["hours_per_day"] == 8
    assert nodes["R-1"] == {"id": "R-1", "type": "person", "name": "First Resource", "capacity": 40}
    assigned = {(e["source"], e["target"]): e["allocation"] for e in doc["edges"] if e["relation"] == "assigned_to"}
    assert assigned == {("R-1", "T-2"): 50, ("R-2", "T-2"): 75}
    assert nodes["P-0"]["start"] == "2003-01-07" and nodes["P-0"]["finish"] == "2003-03-18"


def test_baselines_xml_uses_its_own_day_length(samples: Path) -> None:
    nodes = by_id(load_schedule(samples / "baselines.xml"))
    assert nodes["T-1"]["duration_days"] == 1  # PT7H30M0S at MinutesPerDay 450
    assert "baseline_finish" not in nodes["T-1"]  # only baselines 1-10, not baseline 0


def test_predecessor_calendar_xer(samples: Path) -> None:
    doc = load_schedule(samples / "PredecessorCalendar.xer")
    nodes = by_id(doc)
    assert doc["graph"]["as_of"] == "2019-10-02"  # last_recalc_date
    task = nodes["T-1338401"]
    assert task["duration_days"] == 3  # target_drtn_hr_cnt 24 / day_hr_cnt 8
    assert task["status"] == "completed" and task["percent_complete"] == 100
    assert task["actual_start"] == "2019-06-10" and task["completed_on"] == "2019-06-12"
    assert task["constraint_type"] == "start_no_earlier_than" and task["constraint_date"] == "2019-06-10"
    calendar = nodes["C-44739"]
    assert calendar["working_weekdays"] == [1, 2, 3, 4, 5]
    assert "2019-07-04" in calendar["holidays"]  # day 43650 from 1899-12-30
    assert ("P-34738", "C-44739", "uses_calendar") in {(e["source"], e["target"], e["relation"]) for e in doc["edges"]}


def test_sample_xer(samples: Path) -> None:
    doc = load_schedule(samples / "sample.xer")
    nodes = by_id(doc)
    assert doc["graph"] == {"schema": "pmo-state/1", "as_of": "2021-07-19", "currency": "USD"}
    assert len(items(doc)) == 6
    assert nodes["T-35853"]["name"] == "Approval" and nodes["T-35853"]["duration_days"] == 14  # 112 h / 8
    assert nodes["T-35852"]["source_total_float_days"] == -100  # -800 h
    assert nodes["T-35852"]["baseline_finish"] == "2021-07-30"
    assert len(links(doc)) == 7
    # two relationships between the same pair (FS and FF) are both kept
    assert sorted(k for s, t, k, _ in links(doc) if (s, t) == ("T-35857", "T-35855")) == ["FF", "FS"]
    summaries = [n for n in doc["nodes"] if n.get("summary")]
    assert [n["name"] for n in summaries] == ["design", "Procurement", "construction", "Testing"]
    assert nodes["W-3688"]["wbs"] == "sh.sh.1" and nodes["T-35852"]["wbs"] == "sh.sh.1"
    assert nodes["W-3688"]["start"] == "2021-07-19" and nodes["W-3688"]["finish"] == "2021-08-19"  # rolled up
    assert nodes["P-371"]["name"] == "school" and nodes["P-371"]["finish"] == "2021-12-17"


def test_percent_complete_follows_the_percent_type(samples: Path) -> None:
    nodes = {n["name"]: n for n in items(load_schedule(samples / "percent-complete-8.4.xer"))}
    assert len(nodes) == 12
    for kind in ("Duration", "Physical", "Units"):
        for percent in (0, 25, 75, 100):
            assert nodes[f"{kind} {percent}%"]["percent_complete"] == percent, (kind, percent)
    assert nodes["Duration 25%"]["remaining_duration_days"] == 75  # 600 h / 8
    assert nodes["Physical 25%"]["status"] == "in_progress"
    assert nodes["Duration 0%"]["status"] == "not_started"


def test_resource_assignments_xer(samples: Path) -> None:
    doc = load_schedule(samples / "resource-rates-test.xer")
    nodes = by_id(doc)
    assert nodes["R-1316"]["type"] == "person" and nodes["R-1316"]["name"] == "Resource 1"
    assigned = [e for e in doc["edges"] if e["relation"] == "assigned_to"]
    assert len(assigned) == 5  # five TASKRSRC rows, all on activity 35845
    assert {(e["source"], e["target"], e["allocation"]) for e in assigned} == {("R-1316", "T-35845", 100)}


def test_psplib_instance(samples: Path) -> None:
    doc = load_schedule(samples / "j301_1.sm")
    nodes = by_id(doc)
    assert "as_of" not in doc["graph"]
    assert len(items(doc)) == 32
    assert nodes["J-1"]["type"] == "milestone" and nodes["J-32"]["type"] == "milestone"
    assert nodes["J-2"]["duration_days"] == 8 and "start" not in nodes["J-2"]
    assert len(links(doc)) == 48
    assert ("J-6", "J-2", "FS", 0) in links(doc)  # job 2's successors are 6, 11 and 15
    assert nodes["R1"]["capacity"] == 12 and nodes["R4"]["capacity"] == 12
    requests = {(e["source"], e["target"]): e["units"] for e in doc["edges"] if e["relation"] == "assigned_to"}
    assert requests[("R1", "J-2")] == 4 and requests[("R4", "J-6")] == 8
    assert nodes["P-1"]["due_day"] == 38


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_truncated_copies_fail_naming_file_and_line(samples: Path, tmp_path: Path, name: str) -> None:
    data = (samples / name).read_bytes()
    for cut in (len(data) // 2, len(data) // 3, 10):
        copy = tmp_path / name
        copy.write_bytes(data[:cut])
        with pytest.raises(StateError) as raised:
            load_schedule(copy)
        assert raised.value.location.file == str(copy)
        assert raised.value.location.line is not None


def test_broken_xml_tag_names_the_line_and_column(samples: Path, tmp_path: Path) -> None:
    text = (samples / "sample.xml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace("<Name>First Task</Name>", "<Name>First Task</Nme>", 1), encoding="utf-8")
    with pytest.raises(StateError) as raised:
        load_schedule(broken)
    where = raised.value.location
    assert (where.file, where.line) == (str(broken), 2)
    line = broken.read_text(encoding="utf-8").splitlines()[1]
    assert line[where.column - 1 :].startswith("Nme>")  # 1-based column of the bad tag's name
    assert "mismatched tag" in raised.value.message


def test_xer_row_with_too_many_fields(samples: Path, tmp_path: Path) -> None:
    lines = (samples / "sample.xer").read_bytes().split(b"\r\n")
    row = next(i for i, line in enumerate(lines) if line.startswith(b"%R\t1237\t"))
    lines[row] += b"\textra"
    broken = tmp_path / "broken.xer"
    broken.write_bytes(b"\r\n".join(lines))
    with pytest.raises(StateError, match="TASKPRED row has 12 fields, but the table declares 11") as raised:
        load_schedule(broken)
    assert (raised.value.location.file, raised.value.location.line) == (str(broken), row + 1)


def test_xer_bad_number_names_the_line(samples: Path, tmp_path: Path) -> None:
    text = (samples / "sample.xer").read_bytes().decode("cp1252")
    broken = tmp_path / "bad.xer"
    broken.write_bytes(text.replace("\tPR_FS\t0\t", "\tPR_FS\tabc\t", 1).encode("cp1252"))
    with pytest.raises(StateError, match="lag_hr_cnt: not a number") as raised:
        load_schedule(broken)
    assert raised.value.location.line == 62  # the first TASKPRED row


def test_psplib_non_number_duration(samples: Path, tmp_path: Path) -> None:
    lines = (samples / "j301_1.sm").read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.split()[:3] == ["2", "1", "8"] and len(line.split()) == 7)
    lines[row] = lines[row].replace(" 8 ", " x ", 1)
    broken = tmp_path / "broken.sm"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(StateError, match="'x' is not a whole number") as raised:
        load_schedule(broken)
    assert (raised.value.location.file, raised.value.location.line) == (str(broken), row + 1)


def test_formats_and_detection(samples: Path, tmp_path: Path) -> None:
    assert FORMATS == ("mspdi", "xer", "psplib")
    renamed = tmp_path / "schedule.data"
    renamed.write_bytes((samples / "sample.xer").read_bytes())
    assert len(items(load_schedule(renamed))) == 6  # told by its ERMHDR line
    with pytest.raises(StateError, match="not a Primavera XER file"):
        load_schedule(samples / "sample.xml", "xer")
    assert load_schedule(samples / "sample.xer", pmo_type="controlling")["graph"]["pmo_type"] == "controlling"
