"""Small hand-written MSPDI, XER and PSPLIB files for what the public samples lack:
status dates, baselines, calendar exceptions and inheritance, elapsed and percent lags,
level-of-effort and milestone activities, material resources, and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance_engine.errors import StateError, UsageError
from governance_engine.importers import load_schedule
from governance_engine.state import state_from_dict

MSPDI = """<?xml version="1.0"?>
<Project xmlns="http://schemas.microsoft.com/project">
  <Title>Depot</Title>
  <GUID>ABC-123</GUID>
  <StatusDate>2024-03-08T17:00:00</StatusDate>
  <CurrencyCode>EUR</CurrencyCode>
  <MinutesPerDay>480</MinutesPerDay>
  <CalendarUID>1</CalendarUID>
  <Calendars>
    <Calendar><UID>1</UID><Name>Standard</Name><IsBaseCalendar>1</IsBaseCalendar><BaseCalendarUID>-1</BaseCalendarUID>
      <WeekDays>
        <WeekDay><DayType>1</DayType><DayWorking>0</DayWorking></WeekDay>
        <WeekDay><DayType>2</DayType><DayWorking>1</DayWorking></WeekDay>
        <WeekDay><DayType>3</DayType><DayWorking>1</DayWorking></WeekDay>
        <WeekDay><DayType>4</DayType><DayWorking>1</DayWorking></WeekDay>
        <WeekDay><DayType>5</DayType><DayWorking>1</DayWorking></WeekDay>
        <WeekDay><DayType>6</DayType><DayWorking>1</DayWorking></WeekDay>
        <WeekDay><DayType>7</DayType><DayWorking>0</DayWorking></WeekDay>
      </WeekDays>
      <Exceptions>
        <Exception><TimePeriod><FromDate>2024-03-28T00:00:00</FromDate><ToDate>2024-03-29T23:59:00</ToDate></TimePeriod><DayWorking>0</DayWorking></Exception>
        <Exception><TimePeriod><FromDate>2024-03-16T00:00:00</FromDate><ToDate>2024-03-16T23:59:00</ToDate></TimePeriod><DayWorking>1</DayWorking></Exception>
        <Exception><TimePeriod><FromDate>2019-01-01T00:00:00</FromDate><ToDate>2019-01-01T23:59:00</ToDate></TimePeriod><DayWorking>0</DayWorking></Exception>
      </Exceptions>
    </Calendar>
    <Calendar><UID>2</UID><Name>Six day</Name><IsBaseCalendar>0</IsBaseCalendar><BaseCalendarUID>1</BaseCalendarUID>
      <WeekDays><WeekDay><DayType>7</DayType><DayWorking>1</DayWorking></WeekDay></WeekDays>
    </Calendar>
  </Calendars>
  <Tasks>
    <Task><UID>0</UID><Name>Depot</Name><OutlineLevel>0</OutlineLevel><Summary>1</Summary>
      <Baseline><Number>0</Number><Start>2024-03-01T08:00:00</Start><Finish>2024-04-10T17:00:00</Finish></Baseline></Task>
    <Task><UID>1</UID><Name>Build</Name><WBS>1</WBS><OutlineLevel>1</OutlineLevel><Summary>1</Summary><Milestone>0</Milestone></Task>
    <Task><UID>2</UID><Name>Foundations</Name><WBS>1.1</WBS><OutlineLevel>2</OutlineLevel><Summary>0</Summary>
      <Start>2024-03-01T08:00:00</Start><Finish>2024-03-14T17:00:00</Finish><Duration>PT80H0M0S</Duration>
      <RemainingDuration>PT40H0M0S</RemainingDuration><PercentComplete>50</PercentComplete>
      <ActualStart>2024-03-01T08:00:00</ActualStart><ConstraintType>2</ConstraintType>
      <ConstraintDate>2024-03-01T08:00:00</ConstraintDate><TotalSlack>-48000</TotalSlack><CalendarUID>2</CalendarUID>
      <Baseline><Number>0</Number><Start>2024-02-26T08:00:00</Start><Finish>2024-03-08T17:00:00</Finish></Baseline>
      <Baseline><Number>1</Number><Start>2024-01-01T08:00:00</Start><Finish>2024-01-02T17:00:00</Finish></Baseline></Task>
    <Task><UID>3</UID><Name>Frame</Name><WBS>1.2</WBS><OutlineLevel>2</OutlineLevel>
      <Start>2024-03-15T08:00:00</Start><Finish>2024-03-21T17:00:00</Finish><Duration>PT40H0M0S</Duration>
      <PercentComplete>0</PercentComplete><CalendarUID>-1</CalendarUID>
      <PredecessorLink><PredecessorUID>2</PredecessorUID><Type>1</Type><LinkLag>100800</LinkLag><LagFormat>8</LagFormat></PredecessorLink>
      <PredecessorLink><PredecessorUID>4</PredecessorUID><Type>3</Type><LinkLag>50</LinkLag><LagFormat>19</LagFormat></PredecessorLink>
      <PredecessorLink><PredecessorUID>77</PredecessorUID><Type>1</Type><CrossProject>1</CrossProject></PredecessorLink></Task>
    <Task><UID>4</UID><Name>Permit</Name><WBS>2</WBS><OutlineLevel>1</OutlineLevel><Duration>PT16H0M0S</Duration>
      <PercentComplete>100</PercentComplete><ActualStart>2024-02-20T08:00:00</ActualStart><ActualFinish>2024-02-21T17:00:00</ActualFinish></Task>
    <Task><UID>5</UID><Name>Handover</Name><WBS>3</WBS><OutlineLevel>1</OutlineLevel><Milestone>1</Milestone><Duration>PT0H0M0S</Duration>
      <ConstraintType>7</ConstraintType><ConstraintDate>2024-04-10T17:00:00</ConstraintDate></Task>
  </Tasks>
  <Resources>
    <Resource><UID>0</UID><Type>1</Type></Resource>
    <Resource><UID>1</UID><Name>Mason</Name><Type>1</Type><MaxUnits>0.5</MaxUnits></Resource>
    <Resource><UID>2</UID><Name>Concrete</Name><Type>0</Type></Resource>
  </Resources>
  <Assignments>
    <Assignment><UID>1</UID><TaskUID>2</TaskUID><ResourceUID>1</ResourceUID><Units>0.5</Units></Assignment>
    <Assignment><UID>2</UID><TaskUID>2</TaskUID><ResourceUID>2</ResourceUID><Units>40</Units></Assignment>
    <Assignment><UID>3</UID><TaskUID>3</TaskUID><ResourceUID>-65535</ResourceUID><Units>1</Units></Assignment>
  </Assignments>
</Project>
"""

XER_ROWS = [
    "ERMHDR\t19.12\t2024-03-01\tProject\tadmin\tadmin\tdb\tProject Management\tGBP",
    "%T\tPROJECT",
    "%F\tproj_id\tproj_short_name\tclndr_id\tlast_recalc_date\tplan_start_date\tscd_end_date",
    "%R\t7\tDEP\t10\t2024-03-08 00:00\t2024-03-01 00:00\t2024-04-12 17:00",
    "%T\tCALENDAR",
    "%F\tclndr_id\tdefault_flag\tclndr_name\tbase_clndr_id\tday_hr_cnt\tweek_hr_cnt\tclndr_data",
    "%R\t10\tY\tTen hour\t\t10\t50\t(0||CalendarData()((0||DaysOfWeek()((0||1()())(0||2()((0||0(s|07:00|f|17:00)())))"
    "(0||3()((0||0(s|07:00|f|17:00)())))(0||4()((0||0(s|07:00|f|17:00)())))(0||5()((0||0(s|07:00|f|17:00)())))"
    "(0||6()((0||0(s|07:00|f|17:00)())))(0||7()())))(0||Exceptions()((0||0(d|45379)())"
    "(0||1(d|45367)((0||0(s|07:00|f|17:00)())))))))",
    "%R\t11\tN\tResource copy\t10\t8\t40\t",
    "%T\tPROJWBS",
    "%F\twbs_id\tproj_id\tseq_num\tproj_node_flag\twbs_short_name\twbs_name\tparent_wbs_id",
    "%R\t100\t7\t0\tY\tDEP\tDepot\t",
    "%R\t101\t7\t1\tN\tB\tBuild\t100",
    "%R\t102\t7\t1\tN\tF\tFrame\t101",
    "%T\tRSRC",
    "%F\trsrc_id\trsrc_name\trsrc_type\tclndr_id",
    "%R\t50\tCrane\tRT_Equip\t10",
    "%R\t51\tFitter\tRT_Labor\t10",
    "%T\tRSRCRATE",
    "%F\trsrc_rate_id\trsrc_id\tmax_qty_per_hr",
    "%R\t1\t51\t2",
    "%T\tTASK",
    "%F\ttask_id\tproj_id\twbs_id\tclndr_id\ttask_type\tstatus_code\ttask_code\ttask_name\tcomplete_pct_type"
    "\tphys_complete_pct\ttarget_drtn_hr_cnt\tremain_drtn_hr_cnt\ttotal_float_hr_cnt\tcstr_type\tcstr_date"
    "\tact_start_date\tact_end_date\trestart_date\treend_date\ttarget_start_date\ttarget_end_date",
    "%R\t1\t7\t101\t10\tTT_Mile\tTK_NotStart\tM1\tStart\tCP_Drtn\t0\t0\t0\t0\tCS_MSO\t2024-03-01 07:00"
    "\t\t\t2024-03-01 07:00\t2024-03-01 07:00\t2024-03-01 07:00\t2024-03-01 07:00",
    "%R\t2\t7\t102\t10\tTT_Task\tTK_Active\tA1\tErect\tCP_Phys\t40\t100\t60\t-20\tCS_MEOB\t2024-03-20 17:00"
    "\t2024-03-04 07:00\t\t2024-03-11 07:00\t2024-03-18 17:00\t2024-03-04 07:00\t2024-03-15 17:00",
    "%R\t3\t7\t102\t11\tTT_LOE\tTK_NotStart\tL1\tSupervise\tCP_Drtn\t0\t80\t80\t\t\t"
    "\t\t\t2024-03-04 08:00\t2024-03-15 17:00\t2024-03-04 08:00\t2024-03-15 17:00",
    "%T\tTASKPRED",
    "%F\ttask_pred_id\ttask_id\tpred_task_id\tproj_id\tpred_proj_id\tpred_type\tlag_hr_cnt",
    "%R\t1\t2\t1\t7\t7\tPR_SS\t20",
    "%R\t2\t3\t2\t7\t7\tPR_FF\t-10",
    "%T\tTASKRSRC",
    "%F\ttaskrsrc_id\ttask_id\tproj_id\trsrc_id\ttarget_qty_per_hr\ttarget_qty",
    "%R\t1\t2\t7\t51\t0.5\t50",
    "%R\t2\t2\t7\t50\t1\t100",
    "%E",
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def by_id(doc: dict) -> dict[str, dict]:
    return {node["id"]: node for node in doc["nodes"]}


def edges(doc: dict, relation: str) -> list[dict]:
    return [e for e in doc["edges"] if e["relation"] == relation]


def test_mspdi_features(tmp_path: Path) -> None:
    doc = load_schedule(write(tmp_path, "depot.xml", MSPDI))
    state_from_dict(doc)
    nodes = by_id(doc)
    assert doc["graph"] == {"schema": "pmo-state/1", "as_of": "2024-03-08", "currency": "EUR"}
    project = nodes["P-ABC-123"]
    assert project["name"] == "Depot" and project["baseline_finish"] == "2024-04-10"
    assert project["start"] == "2024-03-01" and project["forecast_finish"] == project["finish"]
    foundations = nodes["T-2"]
    assert foundations["duration_days"] == 10 and foundations["remaining_duration_days"] == 5
    assert foundations["status"] == "in_progress" and foundations["percent_complete"] == 50
    assert foundations["constraint_type"] == "must_start_on" and foundations["constraint_date"] == "2024-03-01"
    assert foundations["source_total_float_days"] == -10  # -48000 tenths of a minute
    assert (foundations["baseline_start"], foundations["baseline_finish"]) == ("2024-02-26", "2024-03-08")
    assert nodes["T-4"]["status"] == "completed" and nodes["T-4"]["completed_on"] == "2024-02-21"
    assert nodes["T-5"]["type"] == "milestone" and nodes["T-5"]["constraint_type"] == "finish_no_later_than"
    assert nodes["T-1"]["summary"] is True
    assert (nodes["T-1"]["start"], nodes["T-1"]["finish"]) == ("2024-03-01", "2024-03-21")  # rolled up
    lags = {(e["source"], e["target"]): (e["kind"], e["lag_days"]) for e in edges(doc, "depends_on")}
    assert lags[("T-3", "T-2")] == ("FS", 5)  # 7 elapsed days on a 5-day calendar
    assert lags[("T-3", "T-4")] == ("SS", 1)  # 50 % of Permit's 2 days
    assert len(lags) == 2  # the link into another project is left out
    standard, six_day = nodes["C-1"], nodes["C-2"]
    assert standard["working_weekdays"] == [1, 2, 3, 4, 5]
    assert standard["holidays"] == ["2024-03-28", "2024-03-29"]  # the 2019 one is outside the span
    assert standard["working_exceptions"] == ["2024-03-16"]
    assert six_day["working_weekdays"] == [1, 2, 3, 4, 5, 6]  # Saturday added to its base's week
    assert six_day["holidays"] == ["2024-03-28", "2024-03-29"]  # inherited from its base
    calendars = {(e["source"], e["target"]) for e in edges(doc, "uses_calendar")}
    assert calendars == {("P-ABC-123", "C-1"), ("T-2", "C-2")}
    assert nodes["R-1"] == {"id": "R-1", "type": "person", "name": "Mason", "capacity": 20}
    assert nodes["R-2"] == {"id": "R-2", "type": "resource", "name": "Concrete", "kind": "material"}
    assert "R-0" not in nodes
    assigned = {(e["source"], e["target"]): e for e in edges(doc, "assigned_to")}
    assert assigned[("R-1", "T-2")]["allocation"] == 50 and assigned[("R-2", "T-2")]["units"] == 40
    assert len(assigned) == 2


def test_xer_features(tmp_path: Path) -> None:
    doc = load_schedule(write(tmp_path, "depot.xer", "\n".join(XER_ROWS) + "\n"))
    state_from_dict(doc)
    nodes = by_id(doc)
    assert doc["graph"] == {"schema": "pmo-state/1", "as_of": "2024-03-08", "currency": "GBP"}
    start, erect, supervise = nodes["T-1"], nodes["T-2"], nodes["T-3"]
    assert start["type"] == "milestone" and start["constraint_type"] == "must_start_on"
    assert erect["duration_days"] == 10 and erect["remaining_duration_days"] == 6  # 100 h, 60 h / 10 h days
    assert erect["percent_complete"] == 40 and erect["status"] == "in_progress"
    assert erect["source_total_float_days"] == -2
    assert erect["constraint_type"] == "finish_no_later_than" and erect["constraint_date"] == "2024-03-20"
    assert erect["start"] == "2024-03-04" and erect["finish"] == "2024-03-18"  # actual start, remaining finish
    assert erect["baseline_finish"] == "2024-03-15" and erect["wbs"] == "DEP.B.F"
    assert supervise["level_of_effort"] is True and supervise["duration_days"] == 10  # 80 h / 8 h days
    lags = {(e["source"], e["target"]): (e["kind"], e["lag_days"]) for e in edges(doc, "depends_on")}
    assert lags == {("T-2", "T-1"): ("SS", 2), ("T-3", "T-2"): ("FF", -1.25)}
    assert {(e["source"], e["target"]) for e in edges(doc, "decomposes_into")} == {
        ("W-101", "W-102"),
        ("W-102", "T-2"),
        ("W-102", "T-3"),
        ("W-101", "T-1"),
    }
    ten_hour = nodes["C-10"]
    assert ten_hour["working_weekdays"] == [1, 2, 3, 4, 5] and ten_hour["hours_per_day"] == 10
    # day numbers count from 1899-12-30: 45379 is Thursday 2024-03-28, 45367 Saturday 2024-03-16
    assert ten_hour["holidays"] == ["2024-03-28"] and ten_hour["working_exceptions"] == ["2024-03-16"]
    assert nodes["C-11"]["working_weekdays"] == [1, 2, 3, 4, 5]  # from its base calendar
    assert ("T-3", "C-11") in {(e["source"], e["target"]) for e in edges(doc, "uses_calendar")}
    assert nodes["R-50"] == {"id": "R-50", "type": "resource", "name": "Crane", "kind": "nonlabor"}
    assert nodes["R-51"]["type"] == "person" and nodes["R-51"]["capacity"] == 100  # 2 per hour x 50 h
    assigned = {(e["source"], e["target"]): e for e in edges(doc, "assigned_to")}
    assert assigned[("R-51", "T-2")]["allocation"] == 50 and assigned[("R-50", "T-2")]["units"] == 100


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("<ConstraintType>7</ConstraintType>", "<ConstraintType>9</ConstraintType>", "ConstraintType: unknown code 9"),
        ("<PredecessorUID>4</PredecessorUID>", "<PredecessorUID>44</PredecessorUID>", "names task UID '44'"),
        ("<PercentComplete>50</PercentComplete>", "<PercentComplete>half</PercentComplete>", "not a number"),
        ("<PercentComplete>50</PercentComplete>", "<PercentComplete>150</PercentComplete>", "percent_complete"),
        ("<Duration>PT80H0M0S</Duration>", "<Duration>80 hours</Duration>", "not an ISO-8601 duration"),
        ("<StatusDate>2024-03-08T17:00:00", "<StatusDate>2024-13-08T17:00:00", "StatusDate: not a date"),
    ],
)
def test_mspdi_bad_values_name_the_file_and_task(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MSPDI
    path = write(tmp_path, "bad.xml", MSPDI.replace(old, new, 1))
    with pytest.raises(StateError, match=message) as raised:
        load_schedule(path)
    assert raised.value.location.file == str(path)


def test_mspdi_entity_expansion_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Project>&b;</Project>'
    )
    with pytest.raises(StateError, match="refused MS Project XML"):
        load_schedule(write(tmp_path, "bomb.xml", bomb))


def test_mspdi_wrong_root(tmp_path: Path) -> None:
    with pytest.raises(StateError, match=r"root element is <html>"):
        load_schedule(write(tmp_path, "page.xml", "<html><body/></html>"))


@pytest.mark.parametrize(
    ("row", "replacement", "message"),
    [
        ("%R\t1\t2\t1\t7\t7\tPR_SS\t20", "%R\t1\t2\t1\t7\t7\tPR_XX\t20", "unknown relationship type 'PR_XX'"),
        ("%R\t1\t2\t1\t7\t7\tPR_SS\t20", "%R\t1\t2\t9\t7\t7\tPR_SS\t20", "names activity '9'"),
        ("%R\t1\t51\t2", "%R\t1\t51\t2\t3", "RSRCRATE row has 4 fields, but the table declares 3"),
        ("%E", "%X", "unexpected line"),
    ],
)
def test_xer_bad_rows_name_the_line(tmp_path: Path, row: str, replacement: str, message: str) -> None:
    rows = [replacement if r == row else r for r in XER_ROWS]
    assert rows != XER_ROWS
    path = write(tmp_path, "bad.xer", "\n".join(rows) + "\n")
    with pytest.raises(StateError, match=message) as raised:
        load_schedule(path)
    assert raised.value.location == raised.value.location.__class__(file=str(path), line=rows.index(replacement) + 1)


def test_xer_bad_calendar_data(tmp_path: Path) -> None:
    rows = [r.replace("(0||Exceptions()(", "(0||Exceptions(((") for r in XER_ROWS]
    path = write(tmp_path, "cal.xer", "\n".join(rows) + "\n")
    with pytest.raises(StateError, match="clndr_data") as raised:
        load_schedule(path)
    assert raised.value.location.line == 7


def test_xer_bad_task_status_and_date(tmp_path: Path) -> None:
    rows = [r.replace("TK_Active", "TK_Busy") for r in XER_ROWS]
    with pytest.raises(StateError, match="unknown activity status 'TK_Busy'"):
        load_schedule(write(tmp_path, "status.xer", "\n".join(rows) + "\n"))
    rows = [r.replace("2024-03-20 17:00", "20/03/2024") for r in XER_ROWS]
    with pytest.raises(StateError, match="cstr_date: not a date: '20/03/2024'"):
        load_schedule(write(tmp_path, "date.xer", "\n".join(rows) + "\n"))


PSPLIB = """************************************************************************
jobs (incl. supersource/sink ):  4
horizon                       :  10
RESOURCES
  - renewable                 :  1   R
************************************************************************
PROJECT INFORMATION:
pronr.  #jobs rel.date duedate tardcost  MPM-Time
    1      2      0        6        1        5
************************************************************************
PRECEDENCE RELATIONS:
jobnr.    #modes  #successors   successors
   1        1          2           2   3
   2        1          1           4
   3        1          1           4
   4        1          0
************************************************************************
REQUESTS/DURATIONS:
jobnr. mode duration  R 1
------------------------------------------------------------------------
  1      1     0       0
  2      1     3       2
  3      1     5       1
  4      1     0       0
************************************************************************
RESOURCEAVAILABILITIES:
  R 1
    2
************************************************************************
"""


def test_psplib_handmade(tmp_path: Path) -> None:
    doc = load_schedule(write(tmp_path, "tiny.sm", PSPLIB))
    nodes = by_id(doc)
    assert [n["id"] for n in doc["nodes"] if n["type"] in ("task", "milestone")] == ["J-1", "J-2", "J-3", "J-4"]
    assert nodes["J-3"]["duration_days"] == 5 and nodes["R1"]["capacity"] == 2
    assert {(e["source"], e["target"]) for e in edges(doc, "depends_on")} == {
        ("J-2", "J-1"),
        ("J-3", "J-1"),
        ("J-4", "J-2"),
        ("J-4", "J-3"),
    }
    assert nodes["C-periods"]["working_weekdays"] == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        ("   2        1          1           4", "   2        2          1           4", "2 modes", 14),
        ("   3        1          1           4", "   3        1          1           7", "successor 7", 15),
        ("  3      1     5       1", "  3      1     5", "1 resource requests", 23),
        ("  R 1\n    2\n", "  R 1\n    2    3\n", "expected 1 resource availabilities", 28),
    ],
)
def test_psplib_bad_rows(tmp_path: Path, old: str, new: str, message: str, line: int) -> None:
    assert old in PSPLIB
    path = write(tmp_path, "bad.sm", PSPLIB.replace(old, new, 1))
    with pytest.raises(StateError, match=message) as raised:
        load_schedule(path)
    assert (raised.value.location.file, raised.value.location.line) == (str(path), line)


def test_unknown_format_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown schedule format 'mpp'"):
        load_schedule(write(tmp_path, "x.xml", MSPDI), "mpp")
    with pytest.raises(StateError, match="cannot tell the schedule format"):
        load_schedule(write(tmp_path, "notes.txt", "hello"))
    with pytest.raises(StateError, match="cannot read schedule file") as raised:
        load_schedule(tmp_path / "missing.xer")
    assert raised.value.location.file == str(tmp_path / "missing.xer")
