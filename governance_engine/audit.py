"""Batch evaluation for auditors: many state files, in parallel, streamed to disk in input
order so that memory stays flat, every input accounted for (decided or failed with its
error), interruptible and resumable. Writes into one output directory:

- `decisions.jsonl`: one decision per line, each with the `file` it came from;
- `files.jsonl`: one line per input: status (ok / error), input digest, counts or error;
- `report.json`: the run (engine, packs, as_of, totals, failed inputs, complete or partial);
- `decisions.csv` when asked for.
"""

from __future__ import annotations

import csv
import glob
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import __version__
from .decide.waivers import load_waivers
from .engine import Engine, pack_ref
from .errors import GovernanceError, UsageError
from .outcomes import BLOCKING, Outcome

STATE_SUFFIXES = (".json", ".yaml", ".yml")
CSV_COLUMNS = (
    "file",
    "project",
    "subject",
    "subject_type",
    "rule_id",
    "rule_version",
    "outcome",
    "pmo_type",
    "pack",
    "message",
    "action_owner",
    "action_due",
)


def discover(paths: list[str]) -> list[Path]:
    """Files, folders (searched recursively for state files) and globs, sorted, each once."""
    found: set[Path] = set()
    for given in paths:
        matches = (
            [Path(m) for m in sorted(glob.glob(given, recursive=True))] if glob.has_magic(given) else [Path(given)]
        )
        if not matches:
            raise UsageError(f"no files match {given!r}")
        for path in matches:
            if path.is_dir():
                found.update(p for p in path.rglob("*") if p.suffix in STATE_SUFFIXES and p.is_file())
            elif path.exists():
                found.add(path)
            else:
                raise UsageError(f"no such file or directory: {given}")
    return sorted(found)


@dataclass(frozen=True)
class AuditSettings:
    packs: tuple[str, ...] | None
    evaluator: str
    pmo_type: str | None
    as_of: date | None
    waivers: str | None = None


_engine: Engine | None = None
_settings: AuditSettings | None = None
_waivers: list | None = None


def _start_worker(settings: AuditSettings) -> None:
    global _engine, _settings, _waivers
    _waivers = load_waivers(settings.waivers) if settings.waivers else None
    _engine, _settings = (
        Engine(list(settings.packs) if settings.packs else None, evaluator=settings.evaluator),
        settings,
    )


def evaluate_file(path: str) -> dict[str, Any]:
    """One input, in a worker: its decisions as JSON lines, or the error that stopped it."""
    assert _engine is not None and _settings is not None
    try:
        report = _engine.evaluate(path, pmo_type=_settings.pmo_type, as_of=_settings.as_of, waivers=_waivers)
    except GovernanceError as error:
        return {"file": path, "status": "error", "error": str(error)}
    except Exception as error:  # an evaluator bug must not stop the run: record it
        return {"file": path, "status": "error", "error": f"{path}: internal error: {type(error).__name__}: {error}"}
    decisions = [d.model_dump(mode="json") for d in report.decisions]
    return {
        "file": path,
        "status": "ok",
        "digest": report.input.digest,
        "as_of": report.as_of.isoformat(),
        "summary": report.summary,
        "decisions": decisions,
    }


def _crashed(path: str, reason: str) -> dict[str, Any]:
    return {"file": path, "status": "error", "error": f"{path}: {reason}"}


@dataclass
class AuditResult:
    files: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome} | {"waived": 0})
    complete: bool = False

    def record(self, entry: dict[str, Any]) -> None:
        """Count one input's line of files.jsonl."""
        self.files += 1
        if entry["status"] == "error":
            self.failed.append({"file": entry["file"], "error": entry["error"]})
        else:
            for outcome, count in entry["summary"].items():
                self.summary[outcome] += count

    @property
    def blocking(self) -> bool:
        return any(self.summary[o.value] for o in BLOCKING)


def _done_files(out: Path) -> set[str]:
    """Inputs a previous run recorded; drops a torn last line left by a killed run."""
    done: set[str] = set()
    for name in ("files.jsonl", "decisions.jsonl"):
        path = out / name
        if not path.exists():
            continue
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            path.write_bytes(data[: data.rfind(b"\n") + 1])
    files = out / "files.jsonl"
    if files.exists():
        for line in files.read_text(encoding="utf-8").splitlines():
            done.add(json.loads(line)["file"])
    decisions = out / "decisions.jsonl"
    if decisions.exists():  # decisions of a file killed before its line in files.jsonl: it runs again
        kept = [
            line
            for line in decisions.read_text(encoding="utf-8").splitlines(keepends=True)
            if json.loads(line)["file"] in done
        ]
        _atomic_write(decisions, "".join(kept))
    return done


def _previous(out: Path, result: AuditResult) -> None:
    for line in (out / "files.jsonl").read_text(encoding="utf-8").splitlines():
        result.record(json.loads(line))


def _run_chunk(function: Callable[[str], dict[str, Any]], items: list[str]) -> list[dict[str, Any]]:
    return [function(item) for item in items]


def parallel_map(
    function: Callable[[str], dict[str, Any]],
    initializer: Callable[..., None],
    initargs: tuple,
    items: list[str],
    jobs: int,
    on_crash: Callable[[str, str], dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """`function` over `items` in `jobs` worker processes (each set up once by `initializer`),
    results in input order as they come; in this process when jobs is 1.

    A worker that dies (killed, or crashed in a C extension) loses no result: the chunks it
    took down are run again one item at a time in a fresh pool, and an item that kills its
    worker on its own is reported through `on_crash(item, reason)`."""
    if jobs == 1:
        initializer(*initargs)
        yield from map(function, items)
        return
    context = multiprocessing.get_context("spawn" if os.name == "nt" else "forkserver")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=context, initializer=initializer, initargs=initargs)

    size = max(1, min(32, len(items) // (jobs * 8) or 1))
    chunks = deque(items[i : i + size] for i in range(0, len(items), size))
    suspects: deque[str] = deque()  # items a dead worker may have been on: run one at a time
    pool = new_pool()
    running: deque[tuple[list[str], Future]] = deque()
    try:
        while suspects or chunks or running:
            try:
                while not running and suspects:
                    item = suspects[0]
                    running.append(([item], pool.submit(_run_chunk, function, [item])))
                while not suspects and chunks and len(running) < jobs * 4:
                    running.append((chunks[0], pool.submit(_run_chunk, function, chunks[0])))
                    chunks.popleft()
                results = running[0][1].result()
            except BrokenProcessPool:
                lone = suspects and len(running) == 1 and running[0][0] == [suspects[0]]
                lost = [item for chunk, _ in running for item in chunk if not (lone and item == suspects[0])]
                running.clear()
                pool.shutdown(wait=False, cancel_futures=True)
                pool = new_pool()
                if lone:  # it died on this item alone: that item is the cause
                    yield on_crash(suspects.popleft(), "a worker process died evaluating it (killed, or crashed)")
                suspects.extendleft(reversed([item for item in lost if item not in suspects]))
                continue
            chunk, _ = running.popleft()
            if suspects and chunk == [suspects[0]]:
                suspects.popleft()
            yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def run_audit(
    paths: list[str],
    out: Path,
    settings: AuditSettings,
    *,
    jobs: int | None = None,
    csv_output: bool = False,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
) -> AuditResult:
    files = [str(p) for p in discover(paths)]
    out.mkdir(parents=True, exist_ok=True)
    engine = Engine(list(settings.packs) if settings.packs else None, evaluator=settings.evaluator)
    if settings.waivers:
        load_waivers(settings.waivers)  # a malformed file is refused before any work
    if not resume:
        for name in ("files.jsonl", "decisions.jsonl", "decisions.csv", "report.json"):
            (out / name).unlink(missing_ok=True)
    done = _done_files(out) if resume else set()
    result = AuditResult()
    if done:
        _previous(out, result)
    todo = [f for f in files if f not in done]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    with (
        open(out / "files.jsonl", "a", encoding="utf-8") as files_log,
        open(out / "decisions.jsonl", "a", encoding="utf-8") as decisions_log,
        open(out / "decisions.csv", "a", encoding="utf-8", newline="")
        if csv_output
        else open(os.devnull, "w") as csv_file,
    ):
        table = csv.writer(csv_file)
        if csv_output and csv_file.tell() == 0:
            table.writerow(CSV_COLUMNS)
        try:
            for entry in parallel_map(evaluate_file, _start_worker, (settings,), todo, jobs, _crashed):
                decisions = entry.pop("decisions", [])
                for decision in decisions:
                    decisions_log.write(json.dumps({"file": entry["file"], **decision}, sort_keys=True) + "\n")
                    if csv_output:
                        action = decision.get("action") or {}
                        table.writerow(
                            [
                                entry["file"],
                                *(decision[c] for c in CSV_COLUMNS[1:9]),
                                decision["message"],
                                action.get("owner") or "",
                                action.get("due") or "",
                            ]
                        )
                decisions_log.flush()
                files_log.write(json.dumps(entry, sort_keys=True) + "\n")
                files_log.flush()
                result.record(entry)
                if progress:
                    progress(1)
            result.complete = True
        finally:
            _atomic_write(
                out / "report.json", json.dumps(_report(engine, settings, result, len(files)), indent=2) + "\n"
            )
    return result


def _report(engine: Engine, settings: AuditSettings, result: AuditResult, total: int) -> dict[str, Any]:
    return {
        "schema": "pmo-governance-audit/1",
        "engine_version": __version__,
        "evaluator": settings.evaluator,
        "as_of": settings.as_of.isoformat() if settings.as_of else "from each state file",
        "pmo_type": settings.pmo_type,
        "waivers": settings.waivers,
        "packs": [pack_ref(p).model_dump(mode="json") for p in engine.packs],
        "complete": result.complete,
        "inputs": total,
        "evaluated": result.files - len(result.failed),
        "failed": sorted(result.failed, key=lambda f: f["file"]),
        "pending": total - result.files,
        "summary": result.summary,
    }
