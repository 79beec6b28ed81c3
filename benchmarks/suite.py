"""The benchmark suite of issue #6 (items 2 and 3): the full directive pack on generated
150-node projects, with the speed targets printed beside each figure.

Sections: single-project latency through the library with a warm Engine, split by stage;
audit throughput and parallel efficiency for two portfolio sizes with 1 and 2 jobs; peak
memory of those audits; how time grows with rule count and project size (log-log exponent);
the same decisions from the snapshot and Rete evaluators against the reference interpreter,
timed in the same run (Rete / reference is the headline); a profile of the single-project
path. Prints the tables and writes JSON.

    python benchmarks/suite.py [--quick] [--out benchmarks/results/suite.json]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import hashlib
import json
import math
import os
import platform
import pstats
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from environment import git, package_versions

from governance_engine import Engine
from governance_engine import generate as generator
from governance_engine.audit import AuditSettings, run_audit
from governance_engine.language.packs import load_pack, shared_rulesets_dir, shipped_root
from governance_engine.outcomes import PmoType
from governance_engine.report.model import Decision
from governance_engine.state.index import StateIndex

HERE = Path(__file__).resolve().parent
DIRECTIVE_PACK = shipped_root() / "directive"
DIRECTIVE = PmoType("directive")
AS_OF = date(2026, 11, 20)  # what generate_portfolio writes into every file
SEED = 6
TASKS = 100  # about 144 nodes and 360 edges: the standard "150-node" workload
BREAKING_SHARE = 0.3
SIZE_TASKS = {50: 28, 150: TASKS, 1500: 1160}  # nominal node count -> generator tasks
EVALUATORS = ("snapshot", "rete", "reference")
STAGES = ("load", "enrich", "match", "decide_report")


@dataclass(frozen=True)
class Plan:
    """How much of each section a run does."""

    latency_samples: int
    audit_files: tuple[int, ...]
    audit_batch: int  # files per generated batch (one seed each): every N is a multiple
    rule_counts: tuple[int, ...]
    rule_projects: int
    sizes: tuple[int, ...]
    size_projects: dict[int, int]
    profile_evaluations: int


FULL = Plan(
    latency_samples=200,
    audit_files=(1_000, 10_000),
    audit_batch=1_000,
    rule_counts=(10, 40, 160),
    rule_projects=30,
    sizes=(50, 150, 1500),
    size_projects={50: 60, 150: 40, 1500: 8},
    profile_evaluations=150,
)
QUICK = Plan(
    latency_samples=20,
    audit_files=(50, 100),
    audit_batch=50,
    rule_counts=(10, 40),
    rule_projects=8,
    sizes=(50, 150),
    size_projects={50: 10, 150: 8},
    profile_evaluations=20,
)


# --- inputs ---------------------------------------------------------------------------------


def state_bytes(document: dict[str, Any]) -> bytes:
    """The bytes `write_portfolio` would write, so in-memory samples parse like files."""
    return (json.dumps(document, indent=1) + "\n").encode()


def projects(count: int, seed: int, tasks: int = TASKS) -> list[tuple[str, bytes]]:
    return [
        (f"project-{i:05d}.json", state_bytes(doc))
        for i, doc in enumerate(
            generator.generate_portfolio(count, seed=seed, tasks=tasks, breaking_share=BREAKING_SHARE)
        )
    ]


def shape(files: Iterable[tuple[str, bytes]]) -> dict[str, float]:
    docs = [json.loads(raw) for _, raw in files]
    return {
        "nodes": statistics.mean(len(d["nodes"]) for d in docs),
        "edges": statistics.mean(len(d["edges"]) for d in docs),
        "bytes": statistics.mean(len(raw) for _, raw in files),
    }


def cache_root(batch: int) -> Path:
    """Generated portfolios kept between runs, keyed by seed, size and the generator's code."""
    digest = hashlib.sha256(Path(generator.__file__).read_bytes()).hexdigest()[:12]
    return (
        Path(tempfile.gettempdir())
        / "governance-engine-bench"
        / f"seed{SEED}-tasks{TASKS}-share{BREAKING_SHARE}-batch{batch}-{digest}"
    )


def cached_portfolio(count: int, batch: int) -> list[Path]:
    """The batch folders holding `count` files, generated (untimed) where missing. Batch b
    is `write_portfolio(batch, seed=SEED + b)`; a batch appears whole or not at all."""
    root = cache_root(batch)
    root.mkdir(parents=True, exist_ok=True)
    folders = []
    for number in range(math.ceil(count / batch)):
        folder = root / f"batch-{number:03d}"
        if not folder.is_dir():
            scratch = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
            generator.write_portfolio(scratch, batch, seed=SEED + number, tasks=TASKS, breaking_share=BREAKING_SHARE)
            try:
                scratch.rename(folder)
            except OSError:  # another run finished the same batch first
                shutil.rmtree(scratch)
        folders.append(folder)
    return folders


# --- a staged engine ------------------------------------------------------------------------


class StagedEngine(Engine):
    """The library's Engine with each stage of `evaluate` timed: load (parse, validate,
    index, derived figures), enrich (PMO assignment of every subject, the critical-path
    schedule), match (the evaluators), decide+report (the rest of `evaluate`: decide,
    roll-up, waivers and approvals, the report). The clocks wrap the engine's own `load`,
    `findings` and `match`; the suite checks its decisions against the plain Engine's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stage_seconds: dict[str, float] = {}

    def load(self, state, source=None):
        started = time.perf_counter()
        loaded = super().load(state, source)
        self.stage_seconds["load"] = time.perf_counter() - started
        return loaded

    def findings(self, index: StateIndex, as_of: date, pmo_type: PmoType | None = None):
        """The engine's own findings; enrich is all of it but the match stage."""
        started = time.perf_counter()
        found, assignments = super().findings(index, as_of, pmo_type)
        self.stage_seconds["enrich"] = time.perf_counter() - started - self.stage_seconds["match"]
        return found, assignments

    def match(self, index: StateIndex, as_of: date, assignments):
        started = time.perf_counter()
        found = super().match(index, as_of, assignments)
        self.stage_seconds["match"] = time.perf_counter() - started
        return found

    def timed(self, name: str, raw: bytes) -> tuple[list[Decision], dict[str, float]]:
        """One evaluation: its decisions and the seconds of each stage and in total."""
        started = time.perf_counter()
        report = self.evaluate(raw, pmo_type=DIRECTIVE, source=name)
        total = time.perf_counter() - started
        seconds = dict(self.stage_seconds)
        seconds["decide_report"] = total - seconds["load"] - seconds["enrich"] - seconds["match"]
        seconds["total"] = total
        return report.decisions, seconds


def warm(engine: StagedEngine, files: list[tuple[str, bytes]]) -> None:
    for name, raw in files:
        engine.timed(name, raw)


# --- statistics -----------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(values, 50) * 1e3,
        "p95_ms": percentile(values, 95) * 1e3,
        "mean_ms": statistics.mean(values) * 1e3,
    }


def exponent(xs: list[float], ys: list[float]) -> float:
    """The slope of the least-squares line through (log x, log y)."""
    return statistics.linear_regression([math.log(x) for x in xs], [math.log(y) for y in ys]).slope


def decision_keys(decisions: list[Decision]) -> set[tuple[str, int, str, str]]:
    return {(d.rule_id, d.rule_version, d.subject, d.outcome.value) for d in decisions}


# --- sections -------------------------------------------------------------------------------


def latency_and_reference(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each sample project through the three evaluators, in rotating order, with a warm
    engine each: the latency figures and the comparison with the reference interpreter."""
    files = projects(plan.latency_samples + 3, seed=SEED + 100)
    warmup, samples = files[:3], files[3:]
    engines = {name: StagedEngine([DIRECTIVE_PACK], evaluator=name) for name in EVALUATORS}
    plain = Engine([DIRECTIVE_PACK])
    for engine in engines.values():
        warm(engine, warmup)
    seconds: dict[str, dict[str, list[float]]] = {e: defaultdict(list) for e in EVALUATORS}
    mismatches: list[dict[str, Any]] = []
    decisions = 0
    gc.collect()
    for number, (name, raw) in enumerate(samples):
        got: dict[str, list[Decision]] = {}
        for evaluator in EVALUATORS[number % 3 :] + EVALUATORS[: number % 3]:
            got[evaluator], stage = engines[evaluator].timed(name, raw)
            for key, value in stage.items():
                seconds[evaluator][key].append(value)
        expected = got["reference"]
        decisions += len(expected)
        peers = {**got, "plain snapshot Engine": plain.evaluate(raw, pmo_type=DIRECTIVE, source=name).decisions}
        for evaluator, found in peers.items():
            if found != expected:
                mine, theirs = decision_keys(found), decision_keys(expected)
                mismatches.append(
                    {
                        "file": name,
                        "evaluator": evaluator,
                        "only_here": sorted(map(list, mine - theirs)),
                        "only_reference": sorted(map(list, theirs - mine)),
                        "same_keys_other_fields_differ": mine == theirs,
                    }
                )
    per_evaluator = {
        evaluator: {"total": ms(values["total"]), "stages": {s: ms(values[s]) for s in STAGES}}
        for evaluator, values in seconds.items()
    }
    latency = {
        "samples": len(samples),
        "workload": shape(samples),
        "evaluators": per_evaluator,
    }

    def speed(evaluator: str, part: str) -> float:
        """How many times faster than the reference interpreter, on p50s."""
        mine = per_evaluator[evaluator]["total" if part == "total" else "stages"]
        ref = per_evaluator["reference"]["total" if part == "total" else "stages"]
        if part == "total":
            return ref["p50_ms"] / mine["p50_ms"]
        return ref[part]["p50_ms"] / mine[part]["p50_ms"]

    reference = {
        "files": len(samples),
        "decisions": decisions,
        "mismatch_count": len(mismatches),
        "mismatches": mismatches,
        "speed_vs_reference": {
            evaluator: {"evaluate": speed(evaluator, "total"), "match": speed(evaluator, "match")}
            for evaluator in ("snapshot", "rete")
        },
    }
    return latency, reference


def audit_child(folders: list[str], jobs: int, out: Path) -> dict[str, Any]:
    """One audit in this process (run by the suite as a subprocess, so that its memory
    high-water marks are its own): throughput over the whole `run_audit` call (discovery, the
    engines built, the worker pool started, every report written) and in steady state (from
    the first result to the last), and the peak RSS of the audit process and of its workers.
    On Linux the audit forks its workers itself, and the pool joins them, so their peak is in
    RUSAGE_CHILDREN; elsewhere they are children of multiprocessing's fork server, and
    stopping the server (a no-op where none runs) folds their peak in."""
    settings = AuditSettings((str(DIRECTIVE_PACK),), "snapshot", DIRECTIVE.value, None)
    arrivals: list[float] = []
    started = time.perf_counter()
    result = run_audit(folders, out, settings, jobs=jobs, progress=lambda _: arrivals.append(time.perf_counter()))
    elapsed = time.perf_counter() - started
    if jobs > 1:
        from multiprocessing import forkserver

        forkserver._forkserver._stop()
    kib = 1024 if sys.platform != "darwin" else 1
    return {
        "files": result.files,
        "failed": len(result.failed),
        "decisions": sum(result.summary.values()) - result.summary["waived"],
        "seconds": elapsed,
        "first_result_seconds": arrivals[0] - started,
        "steady_projects_per_s": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else None,
        "audit_process_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kib / 2**20,
        "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * kib / 2**20 if jobs > 1 else None,
    }


def audit_section(plan: Plan) -> dict[str, Any]:
    folders = cached_portfolio(max(plan.audit_files), plan.audit_batch)
    for folder in folders:  # into the page cache, so that no run pays for the first read
        for path in folder.iterdir():
            path.read_bytes()
    runs = []
    for count in plan.audit_files:
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory(prefix="audit-out.") as out:
                used = [str(f) for f in folders[: count // plan.audit_batch]]
                command = [sys.executable, str(Path(__file__).resolve()), "--audit-child", str(jobs), out, *used]
                done = subprocess.run(command, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"audit of {count} files with {jobs} jobs failed:\n{done.stderr}")
                run = json.loads(done.stdout)
            if run["files"] != count or run["failed"]:
                raise SystemExit(
                    f"audit of {count} files with {jobs} jobs: {run['files']} files, {run['failed']} failed"
                )
            run.update(
                n=count,
                jobs=jobs,
                projects_per_s=count / run["seconds"],
                peak_rss_mb=max(run["audit_process_rss_mb"], run["worker_rss_mb"] or 0),
            )
            runs.append(run)
            print(f"  audit N={count:,} jobs={jobs}: {run['projects_per_s']:.0f} projects/s", file=sys.stderr)
    by = {(r["n"], r["jobs"]): r for r in runs}
    small, large = plan.audit_files[0], plan.audit_files[-1]
    return {
        "files_per_batch": plan.audit_batch,
        "runs": runs,
        "parallel_efficiency": {
            str(n): by[(n, 2)]["projects_per_s"] / (2 * by[(n, 1)]["projects_per_s"]) for n in plan.audit_files
        },
        "steady_parallel_efficiency": {
            str(n): by[(n, 2)]["steady_projects_per_s"] / (2 * by[(n, 1)]["steady_projects_per_s"])
            for n in plan.audit_files
        },
        "memory": {
            "method": (
                "kernel high-water marks (getrusage ru_maxrss): RUSAGE_SELF of the audit process, and "
                "RUSAGE_CHILDREN after stopping the fork server for the largest worker; peak = the larger"
            ),
            "ratio_large_to_small": {
                str(jobs): by[(large, jobs)]["peak_rss_mb"] / by[(small, jobs)]["peak_rss_mb"] for jobs in (1, 2)
            },
            "small_n": small,
            "large_n": large,
        },
    }


def catalogue_copies(count: int) -> dict[str, dict[str, Any]]:
    """Ruleset modules holding `count` rules in force: the rules that derive facts (such as
    evm_red, which others read) once, then copies of the directive pack's other rules in force (roll-ups left
    out) with fresh ids, each round of copies with its own parameters, their thresholds
    scaled by 1 + 0.07 × round."""
    directive = load_pack(DIRECTIVE_PACK)
    in_force = directive.rules_in_force(AS_OF)
    copyable = {(r.id, r.version) for r in in_force if not r.derive and not r.rolls_up}
    derived = {(r.id, r.version) for r in in_force if r.derive}
    modules: dict[str, dict[str, Any]] = {}
    bases: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for path in sorted(shared_rulesets_dir().glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in spec["rules"]:
            key = (rule["id"], rule.get("version", 1))
            if key in derived:
                name = f"{spec['ruleset']}-derived"
                modules.setdefault(name, {**spec, "ruleset": name, "rules": []})["rules"].append(rule)
            elif key in copyable:
                bases.append((spec, rule))
    random.Random(SEED).shuffle(bases)
    kept = sum(len(m["rules"]) for m in modules.values())
    for number in range(count - kept):
        spec, rule = bases[number % len(bases)]
        round_ = number // len(bases)
        name = f"{spec['ruleset']}-r{round_}"
        if name not in modules:
            factor = 1 + 0.07 * round_
            parameters = {}
            for parameter, declared in (spec.get("parameters") or {}).items():
                declared = copy.deepcopy(declared)
                default = declared["default"]
                if isinstance(default, int | float) and not isinstance(default, bool):
                    declared["default"] = (
                        type(default)(default * factor) if isinstance(default, float) else round(default * factor)
                    )
                parameters[f"{parameter}_r{round_}"] = declared
            modules[name] = {**spec, "ruleset": name, "parameters": parameters, "rules": []}
        names = set(spec.get("parameters") or {})

        def rename(value: Any, round_: int = round_, names: set[str] = names) -> Any:
            if isinstance(value, str):
                return re.sub(
                    r"\$([A-Za-z_][A-Za-z0-9_]*)",
                    lambda m: f"${m.group(1)}_r{round_}" if m.group(1) in names else m.group(0),
                    value,
                )
            if isinstance(value, dict):
                return {k: rename(v) for k, v in value.items()}
            if isinstance(value, list):
                return [rename(v) for v in value]
            return value

        fresh = rename(copy.deepcopy(rule))
        fresh["id"] = f"{rule['id']}-r{round_}"
        fresh.pop("effective_from", None)
        fresh.pop("effective_until", None)
        modules[name]["rules"].append(fresh)
    return modules


def write_rules_pack(root: Path, count: int) -> Path:
    pack = root / f"rules-{count}"
    (pack / "rules").mkdir(parents=True)
    (pack / "pack.yaml").write_text(f'pack: rules-{count}\nversion: "1"\npmo_type: directive\n', encoding="utf-8")
    for name, spec in catalogue_copies(count).items():
        text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True, width=10_000)
        (pack / "rules" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return pack


def round_robin(
    engines: dict[Any, StagedEngine], groups: dict[Any, list[tuple[str, bytes]]]
) -> dict[Any, dict[str, list[float]]]:
    """Each group's projects through its engine, one project of each group in turn so that a
    slow spell of a shared machine falls on every group alike: seconds in total and in the
    match stage."""
    timings: dict[Any, dict[str, list[float]]] = {key: {"total": [], "match": []} for key in groups}
    gc.collect()
    for number in range(max(len(files) for files in groups.values())):
        for key, files in groups.items():
            if number < len(files):
                _, seconds = engines[key].timed(*files[number])
                timings[key]["total"].append(seconds["total"])
                timings[key]["match"].append(seconds["match"])
    return timings


def growth_section(plan: Plan) -> dict[str, Any]:
    """Median time per project (whole evaluate, and the match stage alone) as the rule count
    and the project size grow, with the exponent of a log-log least-squares fit."""
    with tempfile.TemporaryDirectory(prefix="suite-rules.") as scratch:
        by_count = {count: StagedEngine([write_rules_pack(Path(scratch), count)]) for count in plan.rule_counts}
    for count, engine in by_count.items():
        in_force = len(engine.packs[0].rules_in_force(AS_OF))
        if in_force != count:
            raise SystemExit(f"the {count}-rule pack has {in_force} rules in force")
    files = projects(plan.rule_projects + 2, seed=SEED + 200)
    for engine in by_count.values():
        warm(engine, files[:2])
    rules = round_robin(by_count, {count: files[2:] for count in plan.rule_counts})

    directive = StagedEngine([DIRECTIVE_PACK])
    sized = {
        size: projects(plan.size_projects[size] + 1, seed=SEED + 300 + size, tasks=SIZE_TASKS[size])
        for size in plan.sizes
    }
    for files in sized.values():
        warm(directive, files[:1])
    size = round_robin({s: directive for s in plan.sizes}, {s: files[1:] for s, files in sized.items()})
    nodes = [shape(sized[s][1:])["nodes"] for s in plan.sizes]
    return {
        "rules": growth_points("rules", list(plan.rule_counts), [rules[c] for c in plan.rule_counts]),
        "size": growth_points("nodes", nodes, [size[s] for s in plan.sizes]),
    }


def growth_points(label: str, xs: list[float], timings: list[dict[str, list[float]]]) -> dict[str, Any]:
    points = [
        {
            label: x,
            "projects": len(seconds["total"]),
            "median_ms": statistics.median(seconds["total"]) * 1e3,
            "match_median_ms": statistics.median(seconds["match"]) * 1e3,
        }
        for x, seconds in zip(xs, timings, strict=True)
    ]
    return {
        "points": points,
        "exponent": exponent(xs, [p["median_ms"] for p in points]),
        "match_exponent": exponent(xs, [p["match_median_ms"] for p in points]),
    }


def profile_section(plan: Plan) -> dict[str, dict[str, Any]]:
    """Where the single-project path spends its time: `evaluate` on standard projects with
    the snapshot evaluator (the default) and, on a fifth as many, with the Rete."""
    files = projects(plan.profile_evaluations, seed=SEED + 400)
    return {
        "snapshot": profile_engine(Engine([DIRECTIVE_PACK]), files),
        "rete": profile_engine(Engine([DIRECTIVE_PACK], evaluator="rete"), files[: max(5, len(files) // 5)]),
    }


def profile_engine(engine: Engine, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    """One warm engine's `evaluate` over the files under pyinstrument (sampling) when it is
    installed, else cProfile: functions by own and by inclusive time, in % of the whole."""
    engine.evaluate(files[0][1], pmo_type=DIRECTIVE)
    gc.collect()
    try:
        from pyinstrument import Profiler
    except ImportError:
        return cprofile_hotspots(engine, files)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for name, raw in files:
        engine.evaluate(raw, pmo_type=DIRECTIVE, source=name)
    profiler.stop()
    root = profiler.last_session.root_frame()
    own: dict[str, float] = defaultdict(float)
    inclusive: dict[str, float] = defaultdict(float)

    def walk(frame, stack: frozenset[str]) -> None:
        label = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        own[label] += frame.total_self_time
        if label not in stack:  # recursion counts once
            inclusive[label] += frame.time
        for child in frame.children:
            if not child.is_synthetic:
                walk(child, stack | {label})

    walk(root, frozenset())
    return hotspots(f"pyinstrument {metadata.version('pyinstrument')}", len(files), root.time, own, inclusive)


def cprofile_hotspots(engine: Engine, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    profile = cProfile.Profile()
    profile.enable()
    for name, raw in files:
        engine.evaluate(raw, pmo_type=DIRECTIVE, source=name)
    profile.disable()
    stats = pstats.Stats(profile).stats  # (file, line, function) -> (cc, nc, tottime, cumtime, callers)
    own = {f"{fn} ({Path(path).name}:{line})": row[2] for (path, line, fn), row in stats.items()}
    inclusive = {f"{fn} ({Path(path).name}:{line})": row[3] for (path, line, fn), row in stats.items()}
    return hotspots("cProfile", len(files), sum(own.values()), own, inclusive)


def hotspots(
    profiler: str, evaluations: int, whole: float, own: dict[str, float], inclusive: dict[str, float]
) -> dict[str, Any]:
    def top(table: dict[str, float], count: int) -> list[dict[str, Any]]:
        ranked = sorted(table.items(), key=lambda item: -item[1])[:count]
        return [{"function": label, "percent": 100 * seconds / whole} for label, seconds in ranked]

    return {
        "profiler": profiler,
        "evaluations": evaluations,
        "seconds": whole,
        "own_time": top(own, 15),
        "inclusive_time": top(inclusive, 25),
    }


# --- targets and output ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    target: str
    met: bool


def targets(result: dict[str, Any]) -> list[Target]:
    latency = result["latency"]["evaluators"]["snapshot"]["total"]["p50_ms"]
    found = [Target("single-project p50 (ms)", latency, "<= 5", latency <= 5)]
    for run in result["audit"]["runs"]:
        if run["jobs"] == 2:
            rate = run["projects_per_s"]
            found.append(Target(f"audit N={run['n']:,} jobs 2 (projects/s)", rate, ">= 400", rate >= 400))
    for n, efficiency in result["audit"]["parallel_efficiency"].items():
        found.append(Target(f"parallel efficiency N={int(n):,}", efficiency, ">= 0.85", efficiency >= 0.85))
    memory = result["audit"]["memory"]
    for jobs, ratio in memory["ratio_large_to_small"].items():
        label = f"peak memory N={memory['large_n']:,} / N={memory['small_n']:,}, jobs {jobs}"
        found.append(Target(label, ratio, "<= 1.2", ratio <= 1.2))
    for axis, label in (("size", "project size"), ("rules", "rule count")):
        value = result["growth"][axis]["exponent"]
        found.append(Target(f"time exponent in {label}", value, "<= 1.1", value <= 1.1))
    speeds = result["reference"]["speed_vs_reference"]
    found.append(
        Target(
            "snapshot / reference speed", speeds["snapshot"]["evaluate"], ">= 1", speeds["snapshot"]["evaluate"] >= 1
        )
    )
    found.append(
        Target("Rete / reference speed (headline)", speeds["rete"]["evaluate"], ">= 1", speeds["rete"]["evaluate"] >= 1)
    )
    return found


def machine() -> dict[str, Any]:
    status = git("status", "--porcelain")
    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": sys.version.split()[0],
        "commit": git("rev-parse", "--short", "HEAD"),
        "working_tree_changed": bool(status) if status is not None else None,
        "packages": package_versions(
            ("governance-engine", "durable_rules", "pydantic", "lark", "pyinstrument", "PyYAML")
        ),
    }


def print_tables(result: dict[str, Any]) -> None:
    workload = result["latency"]["workload"]
    print(
        f"\n{result['machine']['platform']}, {result['machine']['cpu_count']} CPUs, Python {result['machine']['python']}"
        f", load {result['load_average']['start'][0]:.1f} -> {result['load_average']['end'][0]:.1f}"
        f"{' (quick run)' if result['quick'] else ''}"
    )
    print(
        f"full directive pack ({result['rules_in_force']} rules in force), projects of {workload['nodes']:.0f} nodes "
        f"/ {workload['edges']:.0f} edges on average\n"
    )
    print(f"single-project latency, ms, over {result['latency']['samples']} projects (warm Engine)")
    print(f"{'evaluator':<11}{'p50':>8}{'p95':>8}" + "".join(f"{s + ' p50':>20}" for s in STAGES))
    for evaluator, figures in result["latency"]["evaluators"].items():
        row = f"{evaluator:<11}{figures['total']['p50_ms']:>8.2f}{figures['total']['p95_ms']:>8.2f}"
        print(row + "".join(f"{figures['stages'][s]['p50_ms']:>20.2f}" for s in STAGES))
    reference = result["reference"]
    print(
        f"\nreference interpreter: {reference['decisions']:,} decisions on {reference['files']} files, "
        f"{reference['mismatch_count']} mismatches"
    )
    for mismatch in reference["mismatches"][:20]:
        print(f"  MISMATCH {mismatch}")
    for evaluator, speed in reference["speed_vs_reference"].items():
        print(f"  {evaluator} / reference: {speed['evaluate']:.2f}× on evaluate, {speed['match']:.2f}× on matching")
    print(
        f"\n{'audit':<18}{'projects/s':>12}{'seconds':>10}{'steady/s':>10}{'1st result s':>14}"
        f"{'peak RSS MB':>13}{'audit proc':>12}{'worker':>9}"
    )
    for run in result["audit"]["runs"]:
        worker = f"{run['worker_rss_mb']:.0f}" if run["worker_rss_mb"] is not None else "-"
        label = f"N={run['n']:,} jobs={run['jobs']}"
        print(
            f"{label:<18}{run['projects_per_s']:>12.0f}{run['seconds']:>10.1f}{run['steady_projects_per_s']:>10.0f}"
            f"{run['first_result_seconds']:>14.2f}"
            f"{run['peak_rss_mb']:>13.0f}{run['audit_process_rss_mb']:>12.0f}{worker:>9}"
        )
    audit = result["audit"]
    print(
        "parallel efficiency, whole run / steady state: "
        + ", ".join(
            f"N={int(n):,}: {e:.2f} / {audit['steady_parallel_efficiency'][n]:.2f}"
            for n, e in audit["parallel_efficiency"].items()
        )
    )
    growth = result["growth"]
    print("\ngrowth: median ms per project (whole evaluate / match stage)")
    for axis, label in (("rules", "rules"), ("size", "nodes")):
        points = ", ".join(
            f"{p[label]:.0f}: {p['median_ms']:.1f} / {p['match_median_ms']:.1f}" for p in growth[axis]["points"]
        )
        print(
            f"  {label:<6} {points}; exponent {growth[axis]['exponent']:.2f} (match {growth[axis]['match_exponent']:.2f})"
        )
    for evaluator, profile in result["profile"].items():
        print(
            f"\nprofile of {evaluator} evaluate ({profile['profiler']}, {profile['evaluations']} evaluations), % of time"
        )
        print(
            "  own time:\n" + "".join(f"    {h['percent']:5.1f}  {h['function']}\n" for h in profile["own_time"][:10])
        )
        print(
            "  inclusive:\n"
            + "".join(f"    {h['percent']:5.1f}  {h['function']}\n" for h in profile["inclusive_time"][1:16])
        )
    print(f"\n{'target':<44}{'value':>10}  {'target':<8}result")
    for target in result["targets"]:
        print(
            f"{target['name']:<44}{target['value']:>10.2f}  {target['target']:<8}{'met' if target['met'] else 'MISSED'}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, every section (CI smoke run, < 1 min)")
    parser.add_argument("--out", type=Path, help="where the JSON goes (default benchmarks/results/suite.json)")
    parser.add_argument("--audit-child", nargs="+", help=argparse.SUPPRESS)  # JOBS OUT FOLDER...: one audit
    args = parser.parse_args(argv)
    if args.audit_child:
        jobs, out, *folders = args.audit_child
        print(json.dumps(audit_child(folders, int(jobs), Path(out))))
        return 0
    plan = QUICK if args.quick else FULL
    out = args.out or HERE / "results" / "suite.json"
    started = datetime.now(UTC)
    result: dict[str, Any] = {
        "benchmark": "suite",
        "quick": args.quick,
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": {"start": list(os.getloadavg())},
        "pack": str(DIRECTIVE_PACK.name),
        "rules_in_force": len(load_pack(DIRECTIVE_PACK).rules_in_force(AS_OF)),
        "plan": asdict(plan),
    }
    sections: list[tuple[str, Callable[[], Any]]] = [
        (
            "latency and reference",
            lambda: result.update(zip(("latency", "reference"), latency_and_reference(plan), strict=True)),
        ),
        ("audit", lambda: result.update(audit=audit_section(plan))),
        ("growth", lambda: result.update(growth=growth_section(plan))),
        ("profile", lambda: result.update(profile=profile_section(plan))),
    ]
    for label, run in sections:
        clock = time.perf_counter()
        print(f"{label} ...", file=sys.stderr)
        run()
        print(f"{label}: {time.perf_counter() - clock:.0f} s", file=sys.stderr)
    result["load_average"]["end"] = list(os.getloadavg())
    result["seconds"] = (datetime.now(UTC) - started).total_seconds()
    result["targets"] = [asdict(t) for t in targets(result)]
    print_tables(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")
    if not args.quick and out.resolve() != (HERE / "suite.latest.json").resolve():
        shutil.copyfile(out, HERE / "suite.latest.json")
        print(f"wrote {HERE / 'suite.latest.json'}")
    return 1 if result["reference"]["mismatch_count"] else 0


if __name__ == "__main__":
    sys.exit(main())
