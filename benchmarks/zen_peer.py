"""Snapshot evaluation beside GoRules Zen (issue #12): the same rules, the same files, one process.

Generates N one-project state files, evaluates a subset of the shipped catalogue with the
engine (snapshot, Rete and reference evaluators), with hand-written Python and with a Zen
JDM decision that reads the raw state text, checks that every peer fires the same
(rule, subject) pairs file by file, and prints files/s of each with their ratios.

    python benchmarks/zen_peer.py [--files N] [--quick] [--out benchmarks/results/zen_peer.json]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from environment import git, package_versions

from governance_engine import Engine
from governance_engine.decide.decisions import decide
from governance_engine.generate import write_portfolio
from governance_engine.language.packs import shared_rulesets_dir
from governance_engine.outcomes import PmoType

try:
    from orjson import loads
except ImportError:  # pragma: no cover - orjson is in benchmarks/requirements.txt
    from json import loads

HERE = Path(__file__).resolve().parent
SEED = 12
TASKS = 12
BREAKING_SHARE = 0.5
DIRECTIVE = PmoType("directive")

# Shared ruleset module -> the catalogue rows taken from it. E2 (version 2, in force on the
# files' as_of 2026-11-20) reads the fact evm_red that EVM-RED derives; version 1 rides along
# and is out of force.
MODULE_RULES: dict[str, tuple[str, ...]] = {
    "risk": ("R1", "R2"),
    "stage-gates": ("G1",),
    "resources": ("P2",),
    "earned-value": ("EVM-RED", "E2"),
    "budget": ("B1", "B3"),
    "change-control": ("C1", "C3"),
    "schedule": ("M1", "M2"),
    "governance": ("T3", "T5"),
    "reporting": ("S1",),
}
RULE_IDS: tuple[str, ...] = tuple(r for rules in MODULE_RULES.values() for r in rules if r != "EVM-RED")

Firings = frozenset[tuple[str, str]]
Peer = Callable[[str, bytes], Firings]
StateFile = tuple[str, bytes]


# --- inputs ---------------------------------------------------------------------------------


def generate_files(root: Path, count: int) -> tuple[list[StateFile], float, float]:
    """N generated files read once into memory, with the mean node and edge counts."""
    paths = write_portfolio(root / "states", count, seed=SEED, tasks=TASKS, breaking_share=BREAKING_SHARE)
    files = [(p.name, p.read_bytes()) for p in paths]
    docs = [json.loads(raw) for _, raw in files]
    return files, statistics.mean(len(d["nodes"]) for d in docs), statistics.mean(len(d["edges"]) for d in docs)


def write_bench_pack(root: Path) -> Path:
    """A directive pack holding copies of the shared modules, cut down to the chosen rules
    (their parameters kept whole)."""
    pack = root / "bench"
    (pack / "rules").mkdir(parents=True)
    (pack / "pack.yaml").write_text('pack: bench\nversion: "1"\npmo_type: directive\n', encoding="utf-8")
    for module, ids in MODULE_RULES.items():
        spec = yaml.safe_load((shared_rulesets_dir() / f"{module}.yaml").read_text(encoding="utf-8"))
        spec["rules"] = [r for r in spec["rules"] if r["id"] in ids]
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=10_000)
        (pack / "rules" / f"{module}.yaml").write_text(text, encoding="utf-8")
    return pack


# --- the engine as a peer -------------------------------------------------------------------


def engine_evaluate_peer(engine: Engine) -> Peer:
    """Load + evaluate + decide + report; the firings are the decisions other than
    insufficient_evidence."""

    def run(name: str, raw: bytes) -> Firings:
        report = engine.evaluate(raw, pmo_type=DIRECTIVE, source=name)
        return frozenset((d.rule_id, d.subject) for d in report.decisions if d.outcome.value != "insufficient_evidence")

    return run


def engine_findings_peer(engine: Engine) -> Peer:
    """Load + findings only: what the decisions need, without the decide and report stages."""

    def run(name: str, raw: bytes) -> Firings:
        index, _ = engine.load(raw, source=name)
        findings, _ = engine.findings(index, index.as_of, DIRECTIVE)
        return frozenset((f.rule.id, f.subject) for f in findings if f.verdict is True)

    return run


# --- hand-written Python --------------------------------------------------------------------

GATE_DOCUMENTS: dict[str, tuple[str, ...]] = {
    "planning": ("charter",),
    "execution": ("charter", "business_case", "project_plan", "schedule_baseline", "risk_register"),
    "closing": ("project_plan", "status_report"),
    "closed": ("closure_report", "lessons_learned"),
}
WORK_PHASES = ("execution", "closing")


def python_peer(name: str, raw: bytes) -> Firings:
    """The same rules over orjson + dict indexes; a rule fires only where the data decide it."""
    doc = loads(raw)
    as_of: str = doc["graph"]["as_of"]
    report_cutoff = (date.fromisoformat(as_of) - timedelta(days=31)).isoformat()
    by_id: dict[str, dict[str, Any]] = {}
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    into: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for node in doc["nodes"]:
        by_id[node["id"]] = node
        by_type[node["type"]].append(node)
    for edge in doc["edges"]:
        out[edge["source"], edge["relation"]].append(edge)
        into[edge["target"], edge["relation"]].append(edge)

    def sources(node_id: str, relation: str, node_type: str | None = None) -> list[dict[str, Any]]:
        found = [by_id[e["source"]] for e in into.get((node_id, relation), ())]
        return found if node_type is None else [n for n in found if n["type"] == node_type]

    def targets(node_id: str, relation: str, node_type: str) -> list[dict[str, Any]]:
        return [n for e in out.get((node_id, relation), ()) if (n := by_id[e["target"]])["type"] == node_type]

    fired: list[tuple[str, str]] = []
    for p in by_type["project"]:
        pid, status = p["id"], p.get("status")
        if status in ("active", "on_hold"):
            if not sources(pid, "sponsors", "person") or not sources(pid, "manages", "person"):
                fired.append(("T3", pid))
            if not targets(pid, "aligns_with", "objective"):
                fired.append(("T5", pid))
        if status != "active" or p.get("phase") not in WORK_PHASES:
            continue
        budget, pv, ev, ac = p.get("budget"), p.get("planned_value"), p.get("earned_value"), p.get("actual_cost")
        cpi = ev / ac if ev is not None and ac else None
        spi = ev / pv if ev is not None and pv else None
        if (cpi is not None and cpi < 0.90) or (spi is not None and spi < 0.90):
            fired.append(("E2", pid))
        if cpi and budget is not None and budget / cpi > budget * (1 + 0.10):
            fired.append(("B1", pid))
        if ac is not None and budget is not None and ac > budget:
            fired.append(("B3", pid))
        if not any(
            d.get("kind") == "status_report"
            and d.get("status") == "approved"
            and d.get("approved_on", "") >= report_cutoff
            for d in targets(pid, "contains", "document")
        ):
            fired.append(("S1", pid))
    for r in by_type["risk"]:
        if r.get("status") != "open":
            continue
        if r.get("owner") is None and not sources(r["id"], "owns", "person"):
            fired.append(("R1", r["id"]))
        probability, impact = r.get("probability"), r.get("impact")
        if (
            probability is not None
            and impact is not None
            and probability * impact >= 5
            and not sources(r["id"], "mitigates")
        ):
            fired.append(("R2", r["id"]))
    for g in by_type["gate"]:
        if g.get("status") != "requested":
            continue
        projects = sources(g["id"], "contains", "project")
        approved = {
            d.get("kind")
            for p in projects
            for d in targets(p["id"], "contains", "document")
            if d.get("status") == "approved"
        }
        unaccepted = sum(
            1
            for p in projects
            for d in targets(p["id"], "contains", "deliverable")
            if d.get("status") not in (None, "accepted")
        )
        phase = g.get("target_phase")
        if any(k not in approved for k in GATE_DOCUMENTS.get(phase, ())) or (phase == "closing" and unaccepted > 0):
            fired.append(("G1", g["id"]))
    for u in by_type["person"]:
        edges = out.get((u["id"], "assigned_to"), ())
        if sum(e["allocation"] for e in edges if by_id[e["target"]].get("status") != "completed") > 110:
            fired.append(("P2", u["id"]))
    for c in by_type["change_request"]:
        if c.get("status") != "submitted":
            continue
        cost, days = c.get("cost_impact"), c.get("schedule_impact_days")
        if cost == 0 and days == 0:
            fired.append(("C1", c["id"]))
        projects = sources(c["id"], "contains", "project")
        spent = sum(
            o["cost_impact"]
            for p in projects
            for o in targets(p["id"], "contains", "change_request")
            if o.get("status") in ("approved", "implemented")
        )
        remaining = sum(p["contingency"] for p in projects) - spent
        if cost > remaining or cost > 0.10 * sum(p["budget"] for p in projects) or days > 20:
            fired.append(("C3", c["id"]))
    for m in by_type["milestone"]:
        when = m.get("baseline_finish") or m.get("due")
        if m.get("status") not in (None, "completed") and when is not None and when < as_of:
            fired.append(("M1", m["id"]))
    for t in by_type["task"]:
        status, completed_on = t.get("status"), t.get("completed_on")
        if (t.get("finish", as_of) < as_of and status not in (None, "completed")) or (
            completed_on is not None and completed_on > as_of
        ):
            fired.append(("M2", t["id"]))
    return frozenset(fired)


# --- GoRules Zen ----------------------------------------------------------------------------

DAY = 86400
# One expression node over the raw state document. Keys starting with "_" are helpers that
# later expressions read as `$._name`; the others are the rules, each the list of subject ids
# it fires on. Graph navigation (contains, owns, mitigates, ...) is done over `edges` here.
ZEN_EXPRESSIONS: tuple[tuple[str, str], ...] = (
    ("_asOf", "date(graph.as_of)"),
    ("_gateDocs", json.dumps(GATE_DOCUMENTS)),
    ("_projects", "filter(nodes, #.type == 'project')"),
    ("_projectIds", "map($._projects, #.id)"),
    ("_personIds", "map(filter(nodes, #.type == 'person'), #.id)"),
    ("_objectiveIds", "map(filter(nodes, #.type == 'objective'), #.id)"),
    ("_openTaskIds", "map(filter(nodes, #.type == 'task' and #.status != null and #.status != 'completed'), #.id)"),
    ("_contains", "filter(edges, #.relation == 'contains')"),
    ("_approvedDocs", "filter(nodes, #.type == 'document' and #.status == 'approved')"),
    ("_deliverables", "filter(nodes, #.type == 'deliverable')"),
    ("_crs", "filter(nodes, #.type == 'change_request')"),
    (
        "_evm",
        "map(filter($._projects, #.status == 'active' and (#.phase == 'execution' or #.phase == 'closing')) as p, {"
        " id: p.id, budget: p.budget, ac: p.actual_cost,"
        " cpi: p.earned_value != null and p.actual_cost != null and p.actual_cost != 0"
        " ? p.earned_value / p.actual_cost : null,"
        " spi: p.earned_value != null and p.planned_value != null and p.planned_value != 0"
        " ? p.earned_value / p.planned_value : null,"
        " eac: p.budget != null and p.earned_value != null and p.earned_value != 0"
        " and p.actual_cost != null and p.actual_cost != 0 ? p.budget / (p.earned_value / p.actual_cost) : null })",
    ),
    ("_evmRed", "map(filter($._evm, (#.cpi != null and #.cpi < 0.90) or (#.spi != null and #.spi < 0.90)), #.id)"),
    (
        "_gates",
        "map(filter(nodes, #.type == 'gate' and #.status == 'requested') as g, {"
        " id: g.id, phase: g.target_phase,"
        " projects: map(filter($._contains, #.target == g.id and #.source in $._projectIds), #.source) })",
    ),
    (
        "_changes",
        "map(filter($._crs, #.status == 'submitted') as c, {"
        " id: c.id, cost: c.cost_impact, days: c.schedule_impact_days,"
        " projects: map(filter($._contains, #.target == c.id and #.source in $._projectIds), #.source) })",
    ),
    ("E2", "$._evmRed"),
    ("B1", "map(filter($._evm, #.eac != null and #.eac > #.budget * (1 + 0.10)), #.id)"),
    ("B3", "map(filter($._evm, #.ac != null and #.budget != null and #.ac > #.budget), #.id)"),
    (
        "S1",
        "map(filter($._evm as p, not some($._approvedDocs as d, d.kind == 'status_report'"
        f" and d.approved_on != null and date(d.approved_on) >= $._asOf - 31 * {DAY}"
        " and some($._contains, #.source == p.id and #.target == d.id))), #.id)",
    ),
    (
        "T3",
        "map(filter($._projects as p, (p.status == 'active' or p.status == 'on_hold')"
        " and (not some(edges as e, e.relation == 'sponsors' and e.target == p.id and e.source in $._personIds)"
        " or not some(edges as e, e.relation == 'manages' and e.target == p.id and e.source in $._personIds))), #.id)",
    ),
    (
        "T5",
        "map(filter($._projects as p, (p.status == 'active' or p.status == 'on_hold')"
        " and not some(edges as e, e.relation == 'aligns_with' and e.source == p.id"
        " and e.target in $._objectiveIds)), #.id)",
    ),
    (
        "R1",
        "map(filter(nodes as r, r.type == 'risk' and r.status == 'open' and r.owner == null"
        " and not some(edges as e, e.relation == 'owns' and e.target == r.id and e.source in $._personIds)), #.id)",
    ),
    (
        "R2",
        "map(filter(nodes as r, r.type == 'risk' and r.status == 'open' and r.probability != null"
        " and r.impact != null and r.probability * r.impact >= 5"
        " and not some(edges as e, e.relation == 'mitigates' and e.target == r.id)), #.id)",
    ),
    (
        "G1",
        "map(filter($._gates as g, some($._gateDocs[g.phase] ?? [] as k,"
        " not some($._approvedDocs as d, d.kind == k and some($._contains, #.target == d.id and #.source in g.projects)))"
        " or (g.phase == 'closing' and some($._deliverables as d, d.status != null and d.status != 'accepted'"
        " and some($._contains, #.target == d.id and #.source in g.projects)))), #.id)",
    ),
    (
        "P2",
        "map(filter(nodes as u, u.type == 'person' and sum(map(filter(edges as e, e.relation == 'assigned_to'"
        " and e.source == u.id and e.target in $._openTaskIds), #.allocation)) > 110), #.id)",
    ),
    (
        "C1",
        "map(filter($._crs, #.status == 'submitted' and #.cost_impact == 0 and #.schedule_impact_days == 0), #.id)",
    ),
    (
        "C3",
        "map(filter($._changes as c, c.cost > sum(map(filter($._projects as p, p.id in c.projects), #.contingency))"
        " - sum(map(filter($._crs as o, (o.status == 'approved' or o.status == 'implemented')"
        " and some($._contains, #.target == o.id and #.source in c.projects)), #.cost_impact))"
        " or c.cost > 0.10 * sum(map(filter($._projects as p, p.id in c.projects), #.budget))"
        " or c.days > 20), #.id)",
    ),
    (
        "M1",
        "map(filter(nodes, #.type == 'milestone' and #.status != null and #.status != 'completed'"
        " and (#.baseline_finish ?? #.due) != null and date(#.baseline_finish ?? #.due) < $._asOf), #.id)",
    ),
    (
        "M2",
        "map(filter(nodes, #.type == 'task' and ((#.finish != null and date(#.finish) < $._asOf"
        " and #.status != null and #.status != 'completed')"
        " or (#.completed_on != null and date(#.completed_on) > $._asOf))), #.id)",
    ),
)


def zen_decision() -> dict[str, Any]:
    """The rules as a JDM graph: input -> one expression node -> output."""
    expressions = [{"id": f"e{i}", "key": key, "value": value} for i, (key, value) in enumerate(ZEN_EXPRESSIONS)]
    return {
        "nodes": [
            {"id": "request", "type": "inputNode", "name": "state", "position": {"x": 0, "y": 0}},
            {
                "id": "rules",
                "type": "expressionNode",
                "name": "governance rules",
                "position": {"x": 250, "y": 0},
                "content": {"expressions": expressions, "passThrough": False},
            },
            {"id": "response", "type": "outputNode", "name": "firings", "position": {"x": 500, "y": 0}},
        ],
        "edges": [
            {"id": "in", "sourceId": "request", "targetId": "rules", "type": "edge"},
            {"id": "out", "sourceId": "rules", "targetId": "response", "type": "edge"},
        ],
    }


def zen_peer() -> Peer:
    """The decision loaded once (static loader); each call hands Zen the file's raw bytes."""
    try:
        import zen
    except ImportError:
        raise SystemExit("zen-engine is missing: pip install -r benchmarks/requirements.txt") from None

    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"governance": zen_decision()}}})

    def run(name: str, raw: bytes) -> Firings:
        result = engine.evaluate("governance", raw)["result"]
        return frozenset((rule, subject) for rule in RULE_IDS for subject in result[rule])

    return run


# --- checking and timing --------------------------------------------------------------------


def collect(peer: Peer, files: list[StateFile]) -> list[Firings]:
    return [peer(name, raw) for name, raw in files]


def time_pass(peer: Peer, files: list[StateFile]) -> float:
    """CPU seconds of this process for one pass over every file. CPU time, not wall time:
    the machines this runs on are shared, and time spent descheduled is not the peer's.
    Every peer works on the calling thread (zen-engine's evaluate included), so the
    process's CPU time is the peer's."""
    gc.collect()
    start = time.process_time()
    for name, raw in files:
        peer(name, raw)
    return time.process_time() - start


def snapshot_stages(engine: Engine, files: list[StateFile], reps: int) -> dict[str, float]:
    """µs per file of `evaluate` and of its stages, timed file by file in the same passes
    (the pass with the fastest `evaluate` is kept): load, findings, decide, and report =
    evaluate minus the three."""
    best: dict[str, float] | None = None
    for _ in range(reps):
        spent = dict.fromkeys(("evaluate", "load", "findings", "decide"), 0.0)
        gc.collect()
        for name, raw in files:
            t0 = time.perf_counter()
            engine.evaluate(raw, pmo_type=DIRECTIVE, source=name)
            t1 = time.perf_counter()
            index, _ = engine.load(raw, source=name)
            t2 = time.perf_counter()
            findings, assignments = engine.findings(index, index.as_of, DIRECTIVE)
            t3 = time.perf_counter()
            decide(index, index.as_of, findings, assignments, compiled_lets=engine.compiled_lets)
            t4 = time.perf_counter()
            spent["evaluate"] += t1 - t0
            spent["load"] += t2 - t1
            spent["findings"] += t3 - t2
            spent["decide"] += t4 - t3
        if best is None or spent["evaluate"] < best["evaluate"]:
            best = spent
    assert best is not None
    best["report"] = best["evaluate"] - best["load"] - best["findings"] - best["decide"]
    return {k: 1e6 * s / len(files) for k, s in best.items()}


def profile_snapshot(engine: Engine, files: list[StateFile], top: int = 15) -> tuple[str, dict[str, list]]:
    """cProfile of one `evaluate` pass: the printed tables (by cumulative and by own time)
    and their rows, in µs per file (profiled, so inflated; compare rows, not peers)."""
    run = engine_evaluate_peer(engine)
    profiler = cProfile.Profile()
    profiler.enable()
    for name, raw in files:
        run(name, raw)
    profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(10)
    entries = stats.stats.items()  # type: ignore[attr-defined]

    def rows(column: int, limit: int) -> list[dict[str, Any]]:
        ranked = sorted(entries, key=lambda item: item[1][column], reverse=True)[:limit]
        return [
            {
                "function": f"{filename}:{line}({func})",
                "calls": calls,
                "tottime_us_per_file": 1e6 * tottime / len(files),
                "cumtime_us_per_file": 1e6 * cumtime / len(files),
            }
            for (filename, line, func), (_, calls, tottime, cumtime, _) in ranked
        ]

    return stream.getvalue(), {"by_cumulative": rows(3, top), "by_own_time": rows(2, 10)}


@contextlib.contextmanager
def timed_methods(cls: type, names: tuple[str, ...], spent: dict[str, float]) -> Iterator[None]:
    """Temporarily wrap methods of `cls` so that their wall time adds up in `spent`."""
    originals = {name: getattr(cls, name) for name in names}

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return timed

    for name, method in originals.items():
        setattr(cls, name, wrap(name, method))
    try:
        yield
    finally:
        for name, method in originals.items():
            setattr(cls, name, method)


def rete_split(engine: Engine, files: list[StateFile]) -> dict[str, float]:
    """µs per file of one Rete load+findings pass: the Python pre-pass (`_fact`), the
    durable-rules asserts (`_assert`, actions included), and the rest (load, session,
    retracts in `_settle`, negation as failure, collecting findings)."""
    from governance_engine.evaluate.rete import ReteEvaluator

    run = engine_findings_peer(engine)
    spent = {"_fact": 0.0, "_assert": 0.0}
    gc.collect()
    with timed_methods(ReteEvaluator, ("_fact", "_assert"), spent):
        start = time.perf_counter()
        for name, raw in files:
            run(name, raw)
        total = time.perf_counter() - start
    load = 0.0
    for name, raw in files:
        t0 = time.perf_counter()
        engine.load(raw, source=name)
        load += time.perf_counter() - t0
    per = 1e6 / len(files)
    return {
        "total": total * per,
        "load": load * per,
        "pre_pass_fact": spent["_fact"] * per,
        "durable_assert": spent["_assert"] * per,
        "rest": (total - load - spent["_fact"] - spent["_assert"]) * per,
    }


def source_revision() -> dict[str, Any]:
    """The checkout measured: commit, and whether the engine or rulesets had local edits."""
    status = git("status", "--porcelain", "--", "governance_engine", "rulesets")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def machine() -> dict[str, Any]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "cpus_usable": affinity,
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": package_versions(
            ("governance-engine", "zen-engine", "durable_rules", "pydantic", "pydantic_core", "orjson")
        ),
    }


# --- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="number of generated state files (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed passes per peer, interleaved (default 5)")
    parser.add_argument("--quick", action="store_true", help="50 files, one round (CI smoke test)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "zen_peer.json", help="where the JSON goes")
    args = parser.parse_args(argv)
    count, reps = (50, 1) if args.quick else (args.files, args.rounds)
    source = source_revision()  # before anything runs: the code imported is the code measured

    root = Path(tempfile.mkdtemp(prefix="zen-peer-"))
    try:
        files, mean_nodes, mean_edges = generate_files(root, count)
        pack = write_bench_pack(root)
        engines = {name: Engine([pack], evaluator=name) for name in ("snapshot", "rete", "reference")}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    (args.out.parent / "zen_peer.jdm.json").write_text(json.dumps(zen_decision(), indent=1) + "\n", encoding="utf-8")
    print(f"{count} files, {mean_nodes:.1f} nodes and {mean_edges:.1f} edges on average; rules {' '.join(RULE_IDS)}")

    peers: dict[str, Peer] = {}
    for name, engine in engines.items():
        peers[f"{name} evaluate"] = engine_evaluate_peer(engine)
        peers[f"{name} load+findings"] = engine_findings_peer(engine)
    peers["hand-written Python"] = python_peer
    peers["GoRules Zen"] = zen_peer()

    # Correctness (also the warm-up pass): every peer against the snapshot evaluator's decisions.
    results = {name: collect(peer, files) for name, peer in peers.items()}
    expected = results["snapshot evaluate"]
    mismatches: list[dict[str, Any]] = []
    for name, got in results.items():
        for (file_name, _), want, have in zip(files, expected, got, strict=True):
            if want != have:
                mismatches.append(
                    {"peer": name, "file": file_name, "missing": sorted(want - have), "extra": sorted(have - want)}
                )
    for m in mismatches[:20]:
        print(f"MISMATCH {m['peer']} {m['file']}: missing {m['missing']} extra {m['extra']}")
    per_rule = {r: sum(1 for fired in expected for rule, _ in fired if rule == r) for r in RULE_IDS}
    insufficient = sum(
        1
        for name, raw in files
        for d in engines["snapshot"].evaluate(raw, pmo_type=DIRECTIVE, source=name).decisions
        if d.outcome.value == "insufficient_evidence"
    )
    print(
        f"firings {sum(per_rule.values())} ({', '.join(f'{r} {n}' for r, n in per_rule.items())}); "
        f"insufficient_evidence decisions {insufficient} (not firings, in every peer); mismatches {len(mismatches)}"
    )

    # Rounds: every peer timed once per round, in turn, so that a slow spell of the machine
    # touches all of them; each round also gives its own snapshot / Zen ratios.
    passes: dict[str, list[float]] = {name: [] for name in peers}
    for _ in range(reps):
        for name, peer in peers.items():
            passes[name].append(time_pass(peer, files))
    best = {name: min(seconds) for name, seconds in passes.items()}

    baseline = count / best["hand-written Python"]
    rows = []
    for name, seconds in best.items():
        throughput = count / seconds
        rows.append(
            {
                "peer": name,
                "us_per_file": 1e6 * seconds / count,
                "files_per_s": throughput,
                "vs_python": throughput / baseline,
            }
        )
    zen_rate = count / best["GoRules Zen"]
    evaluate_ratio = (count / best["snapshot evaluate"]) / zen_rate
    findings_ratio = (count / best["snapshot load+findings"]) / zen_rate
    per_round = {
        peer: [zen / mine for zen, mine in zip(passes["GoRules Zen"], passes[peer], strict=True)]
        for peer in ("snapshot evaluate", "snapshot load+findings")
    }

    info = machine()
    print()
    print(
        f"{info['platform']}, {info['cpu_count']} CPUs ({info['cpus_usable']} usable), Python {info['python']}, "
        f"zen-engine {info['packages']['zen-engine']}, durable_rules {info['packages']['durable_rules']}"
    )
    print(f"best of {reps} rounds over {count} files, CPU time, one process, one thread")
    print(f"{'peer':<28}{'µs/file':>10}{'files/s':>10}{'× Python':>10}")
    for row in rows:
        print(f"{row['peer']:<28}{row['us_per_file']:>10.0f}{row['files_per_s']:>10.0f}{row['vs_python']:>10.2f}")
    print(
        f"headline: snapshot evaluator, load + findings (Zen's job: bytes in, firings out) / Zen = "
        f"{findings_ratio:.2f}  (target >= 1.0)"
    )
    print(f"          whole evaluate (also decide + report, which Zen does not do) / Zen = {evaluate_ratio:.2f}")
    for peer, ratios in per_round.items():
        print(
            f"  {peer} / Zen by round: median {statistics.median(ratios):.2f}, "
            f"range {min(ratios):.2f}-{max(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)})"
        )

    stages = snapshot_stages(engines["snapshot"], files, reps)
    print("\nsnapshot evaluate, µs per file by stage: " + ", ".join(f"{k} {v:.0f}" for k, v in stages.items()))
    profile_text, profile_rows = profile_snapshot(engines["snapshot"], files)
    print("\ncProfile of one snapshot `evaluate` pass: top 15 by cumulative time, then top 10 by own time")
    print(profile_text.strip())
    split = rete_split(engines["rete"], files)
    print("\nRete load+findings, µs per file: " + ", ".join(f"{k} {v:.0f}" for k, v in split.items()))

    document = {
        "benchmark": "zen_peer",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": info,
        "source": source,
        "files": count,
        "repetitions": reps,
        "seed": SEED,
        "tasks_per_project": TASKS,
        "breaking_share": BREAKING_SHARE,
        "mean_nodes": mean_nodes,
        "mean_edges": mean_edges,
        "rule_ids": list(RULE_IDS),
        "derived_rules": ["EVM-RED"],
        "firings": per_rule,
        "insufficient_evidence_decisions": insufficient,
        "mismatch_count": len(mismatches),
        "mismatches": mismatches[:100],
        "peers": rows,
        "headline": "snapshot_findings_over_zen",
        "target": {"ratio": "snapshot_findings_over_zen", "at_least": 1.0, "met": findings_ratio >= 1.0},
        "snapshot_findings_over_zen": findings_ratio,
        "snapshot_evaluate_over_zen": evaluate_ratio,
        "over_zen_by_round": per_round,
        "snapshot_stages_us_per_file": stages,
        "snapshot_profile": profile_rows,
        "rete_split_us_per_file": split,
    }
    text = json.dumps(document, indent=2) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    if not args.quick:
        (HERE / "zen_peer.latest.json").write_text(text, encoding="utf-8")
    print(f"\nwrote {args.out}" + ("" if args.quick else f" and {HERE / 'zen_peer.latest.json'}"))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
