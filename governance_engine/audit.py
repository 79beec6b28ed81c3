"""Batch evaluation for auditors: many state files, in parallel, streamed to disk in input
order so that memory stays flat, every input accounted for (decided or failed with its
error), interruptible and resumable. Writes into one output directory:

- `decisions.jsonl`: one decision per line, each with the `file` it came from;
- `files.jsonl`: one line per input: status (ok / error), input digest, counts or error;
- `report.json`: the run (engine, packs, as_of, totals, failed inputs, complete or partial);
- `manifest.json`: what an auditor needs to re-run the audit and prove the same result
  (`governance_engine.manifest`);
- `decisions.csv` and `audit.json` (the whole audit as one document) when asked for.

Output files are appended with unbuffered writes, one write per input, so that a write that
fails (disk full) loses nothing already written and leaves at most a torn last line, which
`--resume` drops; `report.json`, `audit.json` and `manifest.json` are written atomically.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TypeVar

from . import __version__
from .atomic import replacing, write_text
from .decide.waivers import WaiverSpec, load_waivers
from .engine import Engine, pack_ref
from .errors import GovernanceError, Location, StateError, UsageError
from .outcomes import BLOCKING, Outcome

STATE_SUFFIXES = (".json", ".yaml", ".yml")
CHUNK = 8  # inputs a worker takes at a time, at most
IN_FLIGHT = 8  # chunks per worker handed out ahead of the one whose results are awaited
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
    "waiver_approved_by",
    "waiver_expires",
)


def discover(paths: list[str], skip: Path | None = None) -> list[Path]:
    """Files, folders (searched recursively for state files) and globs, sorted, each file
    once however many ways it is reached (links, overlapping paths). Files under `skip`
    (the audit's own output folder) are left out unless named one by one. A link that
    leads nowhere stays in, to be recorded as an input that could not be read."""
    skipped = os.path.realpath(skip) + os.sep if skip is not None else None
    found: dict[str, Path] = {}  # by real path: the first way a file is reached, in sorted order
    for given in paths:
        matches = (
            [Path(m) for m in sorted(glob.glob(given, recursive=True))] if glob.has_magic(given) else [Path(given)]
        )
        if not matches:
            raise UsageError(f"no files match {given!r}")
        for path in matches:
            if path.is_dir():
                chosen = sorted(p for p in path.rglob("*") if p.suffix in STATE_SUFFIXES and _a_file(p))
            elif path.exists() or path.is_symlink():
                chosen = [path]
            else:
                raise UsageError(f"no such file or directory: {given}")
            named = path == Path(given) and not path.is_dir()  # a file given by name is kept wherever it is
            for file in chosen:
                real = os.path.realpath(file)
                if named or skipped is None or not real.startswith(skipped):
                    found.setdefault(real, file)
    files = sorted(set(found.values()))
    if not files:
        raise UsageError(f"no state files ({', '.join(STATE_SUFFIXES)}) to audit in {', '.join(paths)}")
    for file in files:
        _check_name(file)
    return files


def _a_file(path: Path) -> bool:
    """A regular file, or a link that leads nowhere (an input to record as unreadable)."""
    return path.is_file() or (path.is_symlink() and not path.exists())


def _check_name(path: Path) -> None:
    """File names go into every output, all of them UTF-8 documents: a name that is not
    text is refused before any work, with the name shown as its bytes."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise UsageError("the file name is not valid UTF-8: rename it to audit it", Location(file=shown)) from None


@dataclass(frozen=True)
class AuditSettings:
    packs: tuple[str, ...] | None
    evaluator: str
    pmo_type: str | None
    as_of: date | None
    waivers: str | None = None


FAIL_ON_LEVELS = ("blocking", "insufficient_evidence")


def failing_outcomes(levels: Iterable[str] = ()) -> set[Outcome]:
    """The outcomes that fail a run (as `govern evaluate --fail-on`): the blocking ones
    always, insufficient evidence when asked for."""
    failing = set(BLOCKING)
    if "insufficient_evidence" in levels:
        failing.add(Outcome.insufficient_evidence)
    return failing


class OutputError(GovernanceError):
    """The output directory cannot be written (disk full, file size limit): the run stops,
    what was written stays valid, and `--resume` finishes it once there is room."""

    kind = "output error"


_engine: Engine | None = None
_settings: AuditSettings | None = None
_waivers: list | None = None
_csv_output = False
# The audit process's (settings, engine, waivers) while its workers start: a worker forked
# from it (see `_pool_context`) takes them as they are instead of loading the packs again.
_inherited: tuple[AuditSettings, Engine, list[WaiverSpec] | None] | None = None


def _start_worker(settings: AuditSettings, csv_output: bool = False) -> None:
    global _engine, _settings, _waivers, _csv_output
    _csv_output = csv_output
    if _inherited is not None and _inherited[0] == settings:
        _settings, _engine, _waivers = _inherited
        return
    _waivers = load_waivers(settings.waivers) if settings.waivers else None
    _engine, _settings = (
        Engine(list(settings.packs) if settings.packs else None, evaluator=settings.evaluator),
        settings,
    )


def read_input(path: str) -> bytes:
    """An input's bytes, or the StateError that says why they cannot be had."""
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise StateError(f"cannot read state file: {e.strerror}", Location(file=path)) from None


def evaluate_file(path: str) -> dict[str, Any]:
    """One input, in a worker that reads it: see `evaluate_state`."""
    assert _engine is not None and _settings is not None
    return evaluate_state(_engine, _settings, _waivers, path)


class Lines(NamedTuple):
    """One input's entry as written: its line of files.jsonl (`entry`, decisions left out,
    and as text), its lines of decisions.jsonl and its rows of decisions.csv (None when no
    CSV is written). Workers send this rather than the entry with its decisions, so that
    the audit process only writes: text is cheap to pass between processes, and the work
    of serialising is shared between the workers."""

    entry: dict[str, Any]
    line: str
    decisions: str
    csv: str | None


def entry_lines(entry: dict[str, Any], csv_output: bool) -> Lines:
    """An entry of `evaluate_state` as the lines the audit writes for it."""
    decisions = entry.pop("decisions", [])
    file = entry["file"]
    return Lines(
        entry,
        _jsonl(entry),
        "".join(_jsonl({"file": file, **d}) for d in decisions),
        _csv_text(_csv_row(file, d) for d in decisions) if csv_output else None,
    )


def evaluate_file_lines(path: str) -> Lines:
    """One input, in a worker that reads it, as the lines the audit writes for it."""
    return entry_lines(evaluate_file(path), _csv_output)


def evaluate_state(
    engine: Engine, settings: AuditSettings, waivers: list[WaiverSpec] | None, path: str, data: bytes | None = None
) -> dict[str, Any]:
    """One input (read here unless its bytes are given): its decisions as JSON lines, or the
    error that stopped it. The same entry whichever executor runs it."""
    digest = None
    try:
        if data is None:
            data = read_input(path)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        report = engine.evaluate(data, source=path, pmo_type=settings.pmo_type, as_of=settings.as_of, waivers=waivers)
    except GovernanceError as error:
        return {"file": path, "status": "error", "error": str(error), "digest": digest}
    except Exception as error:  # an evaluator bug must not stop the run: record it
        message = f"{path}: internal error: {type(error).__name__}: {error}"
        return {"file": path, "status": "error", "error": message, "digest": digest}
    decisions = [d.model_dump(mode="json") for d in report.decisions]
    unwaived = Counter(d.outcome.value for d in report.decisions if d.waiver is None)
    return {
        "file": path,
        "status": "ok",
        "digest": report.input.digest,
        "as_of": report.as_of.isoformat(),
        "summary": report.summary,
        "unwaived": dict(sorted(unwaived.items())),
        "decisions": decisions,
    }


def _crashed(path: str, reason: str) -> dict[str, Any]:
    return {"file": path, "status": "error", "error": f"{path}: {reason}"}


@dataclass
class AuditResult:
    files: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome} | {"waived": 0})
    unwaived: Counter[str] = field(default_factory=Counter)
    complete: bool = False

    def record(self, entry: dict[str, Any]) -> None:
        """Count one input's line of files.jsonl."""
        self.files += 1
        if entry["status"] == "error":
            self.failed.append({"file": entry["file"], "error": entry["error"]})
        else:
            for outcome, count in entry["summary"].items():
                self.summary[outcome] += count
            self.unwaived.update(entry.get("unwaived", {}))

    @property
    def blocking(self) -> bool:
        """An unwaived blocking decision (as `govern evaluate`: a waived one does not fail)."""
        return self.fails()

    def fails(self, levels: Iterable[str] = ()) -> bool:
        """An unwaived decision at one of the `--fail-on` levels."""
        return any(self.unwaived[o.value] for o in failing_outcomes(levels))

    def exit_code(self, levels: Iterable[str] = ()) -> int:
        """3 some inputs failed; else 1 a decision at a failing level; else 0."""
        return 3 if self.failed else 1 if self.fails(levels) else 0


def _done_files(out: Path) -> set[str]:
    """Inputs a previous run recorded. Drops a torn last line (a killed run, a full disk) and
    the decisions of a file whose line in files.jsonl was not written (it runs again), by
    truncating: both are at the end, and truncating needs no free space."""
    for name in ("files.jsonl", "decisions.jsonl"):
        path = out / name
        if path.exists():
            whole = 0
            with open(path, "rb") as log:
                for line in log:
                    if not line.endswith(b"\n"):
                        break
                    whole += len(line)
            if whole < path.stat().st_size:
                os.truncate(path, whole)
    done: set[str] = set()
    files = out / "files.jsonl"
    if files.exists():
        with open(files, encoding="utf-8") as log:
            done.update(json.loads(line)["file"] for line in log)
    decisions = out / "decisions.jsonl"
    if decisions.exists():
        keep = 0
        with open(decisions, "rb") as log:
            for line in log:
                if json.loads(line)["file"] not in done:
                    break
                keep += len(line)
            orphans_last = all(json.loads(line)["file"] not in done for line in log)
        if orphans_last:
            os.truncate(decisions, keep)
        else:  # not written by this module; keep what is done, in order
            with open(decisions, encoding="utf-8") as log:
                kept = [line for line in log if json.loads(line)["file"] in done]
            write_text(decisions, "".join(kept))
    return done


RESUMED_SETTINGS = ("evaluator", "as_of", "pmo_type", "waivers", "packs")


def _check_resumable(out: Path, header: dict[str, Any], files: list[str], done: set[str]) -> None:
    """--resume finishes the run it finds: the same settings and packs (report.json, written
    when that run started), and every input it finished still among the inputs."""
    previous = out / "report.json"
    if not previous.exists():
        if done:
            raise UsageError(
                f"{out} has no report.json to tell which run to resume: run again without --resume",
                Location(file=str(out)),
            )
        return
    try:
        earlier = json.loads(previous.read_text(encoding="utf-8"))
        changed = [name for name in RESUMED_SETTINGS if earlier[name] != header[name]]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            "cannot read the interrupted run's report.json: run again without --resume", Location(file=str(previous))
        ) from None
    if changed:
        shown = "; ".join(
            f"{name} was {json.dumps(earlier[name])}, now {json.dumps(header[name])}"
            if name != "packs"
            else "the packs (or their rules) differ"
            for name in changed
        )
        raise UsageError(
            f"--resume must finish the interrupted run with its own settings: {shown}; "
            "give the same options, or run again without --resume",
            Location(file=str(previous)),
        )
    gone = sorted(done - set(files))
    if gone:
        raise UsageError(
            f"{len(gone)} inputs the interrupted run finished are no longer among the inputs "
            f"(the first: {gone[0]}): give the same paths, or run again without --resume",
            Location(file=str(out / "files.jsonl")),
        )


def _previous(out: Path, result: AuditResult) -> None:
    with open(out / "files.jsonl", encoding="utf-8") as log:
        for line in log:
            result.record(json.loads(line))


def _run_chunk(function: Callable[[str], T], items: list[str]) -> list[T]:
    return [function(item) for item in items]


def _single_threaded() -> bool:
    """Whether this process runs one thread only, counting threads started outside Python
    (from /proc where there is one)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def _pool_context() -> multiprocessing.context.BaseContext:
    """How worker processes start. On Linux, when this process runs no other thread, by
    `fork`: a worker is ready at once, with the modules imported and whatever
    `initializer` can take from this process (`_inherited`). Otherwise from a fork server
    (spawn on Windows), which starts each worker from a clean process: forking a process
    with threads can copy a lock that another thread holds, and macOS does not support fork
    with its system libraries."""
    if os.name == "nt":
        return multiprocessing.get_context("spawn")
    if sys.platform.startswith("linux") and _single_threaded():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver")


T = TypeVar("T")


def parallel_map(
    function: Callable[[str], T],
    initializer: Callable[..., None],
    initargs: tuple,
    items: list[str],
    jobs: int,
    on_crash: Callable[[str, str], T],
) -> Iterator[T]:
    """`function` over `items` in `jobs` worker processes (each set up once by `initializer`),
    results in input order as they come; in this process when jobs is 1.

    Items go out in small chunks, so that no worker idles at the end while another finishes
    a long chunk, with enough of them in flight that the workers never wait for this process.

    A worker that dies (killed, or crashed in a C extension) loses no result: the chunks it
    took down are run again one item at a time in a fresh pool, and an item that kills its
    worker on its own is reported through `on_crash(item, reason)`."""
    if jobs == 1:
        initializer(*initargs)
        yield from map(function, items)
        return

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(jobs, mp_context=_pool_context(), initializer=initializer, initargs=initargs)

    size = max(1, min(CHUNK, len(items) // (jobs * 16)))
    chunks = deque(items[i : i + size] for i in range(0, len(items), size))
    suspects: deque[str] = deque()  # items a dead worker may have been on: run one at a time
    pool = new_pool()
    running: deque[tuple[list[str], Future[list[T]]]] = deque()
    try:
        while suspects or chunks or running:
            try:
                while not running and suspects:
                    item = suspects[0]
                    running.append(([item], pool.submit(_run_chunk, function, [item])))
                while not suspects and chunks and len(running) < jobs * IN_FLIGHT:
                    running.append((chunks[0], pool.submit(_run_chunk, function, chunks[0])))
                    chunks.popleft()
                results = running[0][1].result()
            except BrokenProcessPool:
                lone = suspects and len(running) == 1 and running[0][0] == [suspects[0]]
                lost = [item for chunk, _ in running for item in chunk if not (lone and item == suspects[0])]
                running.clear()
                # the broken pool's threads may still run: the next pool then starts its workers
                # from the fork server (see _pool_context), which is safe, and slower to start
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


class _Log:
    """An output file appended with one unbuffered write per input: a failed write (disk
    full) leaves nothing in a buffer to be written later, at most a torn last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "ab", buffering=0)  # noqa: SIM115 - closed by close()

    def append(self, text: str) -> None:
        data = memoryview(text.encode("utf-8"))
        try:
            while data:
                data = data[self.file.write(data) :]
        except OSError as error:
            raise OutputError(f"cannot write: {error.strerror}", Location(file=str(self.path))) from None

    def close(self) -> None:
        self.file.close()


class Executor(Protocol):
    """Runs `evaluate_state` over the inputs; yields one entry per input, in input order."""

    def map(
        self, files: list[str], settings: AuditSettings, engine: Engine, waivers: list[WaiverSpec] | None
    ) -> Iterator[dict[str, Any]]: ...


@dataclass(frozen=True)
class LocalExecutor:
    """Worker processes on this machine (`jobs`, default all cores)."""

    jobs: int | None = None

    def map(
        self, files: list[str], settings: AuditSettings, engine: Engine, waivers: list[WaiverSpec] | None
    ) -> Iterator[dict[str, Any]]:
        jobs = max(1, min(self.jobs or os.cpu_count() or 1, len(files) or 1))
        if jobs == 1:  # in this process, with the engine already built
            return (evaluate_state(engine, settings, waivers, f) for f in files)
        return _inheriting(
            (settings, engine, waivers), parallel_map(evaluate_file, _start_worker, (settings,), files, jobs, _crashed)
        )

    def map_lines(
        self,
        files: list[str],
        settings: AuditSettings,
        engine: Engine,
        waivers: list[WaiverSpec] | None,
        csv_output: bool,
    ) -> Iterator[Lines]:
        """As `map`, each entry as the lines the audit writes for it, made in the workers."""
        jobs = max(1, min(self.jobs or os.cpu_count() or 1, len(files) or 1))
        if jobs == 1:
            return (entry_lines(evaluate_state(engine, settings, waivers, f), csv_output) for f in files)

        def crashed(path: str, reason: str) -> Lines:
            return entry_lines(_crashed(path, reason), csv_output)

        return _inheriting(
            (settings, engine, waivers),
            parallel_map(evaluate_file_lines, _start_worker, (settings, csv_output), files, jobs, crashed),
        )


def _inheriting(inherited: tuple[AuditSettings, Engine, list[WaiverSpec] | None], run: Iterator[T]) -> Iterator[T]:
    """`run`, with `inherited` for the workers it forks to take (`_start_worker`)."""
    global _inherited
    _inherited = inherited
    try:
        yield from run
    finally:
        _inherited = None


# Every file an audit writes: a new run into the same folder removes them all first, so that
# none is left from an earlier run (the formats asked for are written again at the end).
OUTPUTS = (
    "files.jsonl",
    "decisions.jsonl",
    "decisions.csv",
    "report.json",
    "audit.json",
    "manifest.json",
    "report.junit.xml",
    "report.md",
    "audit.sarif",
    "audit.html",
)


def run_audit(
    paths: list[str],
    out: Path,
    settings: AuditSettings,
    *,
    jobs: int | None = None,
    csv_output: bool = False,
    json_output: bool = False,
    resume: bool = False,
    progress: Callable[[int], None] | None = None,
    executor: Executor | None = None,
) -> AuditResult:
    """Evaluate every input into `out`. `report.json` is written first (partial), then after
    the run; if the run stops (Ctrl-C, a full disk) the files stay valid for `--resume`."""
    files = [str(p) for p in discover(paths, skip=out)]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot make the output folder: {error.strerror}", Location(file=str(out))) from None
    engine = Engine(list(settings.packs) if settings.packs else None, evaluator=settings.evaluator)
    waivers = load_waivers(settings.waivers) if settings.waivers else None  # refused before any work
    if not resume:
        for name in OUTPUTS:
            (out / name).unlink(missing_ok=True)
    done = _done_files(out) if resume else set()
    if resume:
        _check_resumable(out, _report(engine, settings, AuditResult(), len(files)), files, done)
        if csv_output:
            _rebuild_csv(out)
        else:  # a table of the earlier part alone would disagree with the finished run
            (out / "decisions.csv").unlink(missing_ok=True)
    result = AuditResult()
    if done:
        _previous(out, result)
    todo = [f for f in files if f not in done]
    # audit.json's digest, made as the files are written (so that the manifest need not read
    # them all again at the end), when this run writes every file and no audit.json
    document = _DocumentDigest() if not done and not json_output else None
    try:
        write_text(out / "report.json", _report_text(engine, settings, result, len(files)))
    except OSError as error:
        raise OutputError(f"cannot write: {error.strerror}", Location(file=str(out / "report.json"))) from None
    logs: list[_Log] = []
    try:
        files_log, decisions_log = _Log(out / "files.jsonl"), _Log(out / "decisions.jsonl")
        logs += [files_log, decisions_log]
        csv_log = _Log(out / "decisions.csv") if csv_output else None
        if csv_log:
            logs.append(csv_log)
            if csv_log.file.tell() == 0:
                csv_log.append(_csv_text([CSV_COLUMNS]))
        executor = executor or LocalExecutor(jobs)
        written = (
            executor.map_lines(todo, settings, engine, waivers, csv_output)
            if isinstance(executor, LocalExecutor)
            else (entry_lines(entry, csv_output) for entry in executor.map(todo, settings, engine, waivers))
        )
        for lines in written:
            decisions_log.append(lines.decisions)
            if csv_log:
                csv_log.append(lines.csv or "")
            files_log.append(lines.line)
            result.record(lines.entry)
            if document:
                document.add(lines.entry, lines.decisions)
            if progress:
                progress(1)
        result.complete = True
    except BaseException as error:
        for log in logs:
            log.close()
        with contextlib.suppress(Exception):  # the error in flight says what happened; report.json from the start stays
            _finish(out, engine, settings, paths, result, files, json_output)
        if isinstance(error, OutputError):
            error.message += (
                f"; the run stopped after {result.files} of {len(files)} inputs, keeping every finished "
                "file's decisions: make room and finish it with --resume"
            )
        raise
    for log in logs:
        log.close()
    try:
        _finish(out, engine, settings, paths, result, files, json_output, document)
    except OSError as error:
        raise OutputError(
            f"cannot write the report: {error.strerror}; every decision is written: make room and "
            "run again with --resume",
            Location(file=str(out)),
        ) from None
    return result


def _jsonl(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True) + "\n"


def _csv_row(file: str, decision: dict[str, Any]) -> list[str]:
    action = decision.get("action") or {}
    waiver = decision.get("waiver") or {}
    return [
        file,
        *(decision[c] for c in CSV_COLUMNS[1:9]),
        decision["message"],
        action.get("owner") or "",
        action.get("due") or "",
        waiver.get("approved_by") or "",
        waiver.get("expires") or "",
    ]


def _csv_text(rows: Iterable[Iterable[Any]]) -> str:
    text = io.StringIO(newline="")
    csv.writer(text).writerows(rows)
    return text.getvalue()


def _rebuild_csv(out: Path) -> None:
    """decisions.csv again from decisions.jsonl (which `_done_files` left with only finished
    files), so that a resumed run has neither torn rows nor rows of files it runs again."""
    source = out / "decisions.jsonl"
    with (
        open(source if source.exists() else os.devnull, encoding="utf-8") as lines,
        replacing(out / "decisions.csv") as table,
    ):
        table.write(_csv_text([CSV_COLUMNS]))
        for line in lines:
            decision = json.loads(line)
            table.write(_csv_text([_csv_row(decision["file"], decision)]))


def _finish(
    out: Path,
    engine: Engine,
    settings: AuditSettings,
    paths: list[str],
    result: AuditResult,
    files: list[str],
    json_output: bool,
    document: _DocumentDigest | None = None,
) -> None:
    """report.json, audit.json (when asked for) and manifest.json, each written atomically;
    the manifest's report digest is that of audit.json's bytes, written or not: made from
    the files written, or, given `document`, from what the run wrote into them."""
    from .manifest import build_manifest

    header = _report(engine, settings, result, len(files))
    write_text(out / "report.json", json.dumps(header, indent=2) + "\n")
    if document is not None and not json_output:
        digest = document.digest.copy()
        digest.update(_document_end(header).encode("utf-8"))
    else:
        digest = hashlib.sha256()
        target = out / "audit.json.tmp"
        try:
            with open(target, "w", encoding="utf-8") if json_output else open(os.devnull, "w") as written:
                for part in audit_document(out, header):
                    digest.update(part.encode("utf-8"))
                    written.write(part)
            if json_output:
                os.replace(target, out / "audit.json")
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    manifest = build_manifest(out, paths, settings, engine, "sha256:" + digest.hexdigest(), result.complete)
    write_text(out / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _iter_file_lines(out: Path) -> Iterator[tuple[dict[str, Any], list[tuple[dict[str, Any], str]]]]:
    """Each input's entry in files.jsonl with its decisions, each with its line (without the
    newline), streaming: both files are in input order and a file's decisions come before
    its entry is written. A torn last line (a run stopped mid-write) is not an entry or a
    decision."""
    pending: tuple[dict[str, Any], str] | None = None
    with (
        open(out / "decisions.jsonl", encoding="utf-8") as decisions,
        open(out / "files.jsonl", encoding="utf-8") as entries,
    ):
        for line in entries:
            if not line.endswith("\n"):
                break
            entry = json.loads(line)
            mine = []
            while True:
                if pending is None:
                    text = decisions.readline()
                    pending = (json.loads(text), text[:-1]) if text.endswith("\n") else None
                if pending is None or pending[0]["file"] != entry["file"]:
                    break
                mine.append(pending)
                pending = None
            yield entry, mine


def audit_document(out: Path, header: dict[str, Any]) -> Iterator[str]:
    """audit.json in parts: `files` (each entry of files.jsonl with its `decisions`, as in
    decisions.jsonl, one file a line, in input order), `run` (report.json) and `schema`.
    Keys sorted, no timings, paths as given: the same bytes whatever the executor."""
    yield DOCUMENT_START
    separator = "\n    "
    for entry, decisions in _iter_file_lines(out):
        yield separator + _with_decisions(entry, [text for _, text in decisions])
        separator = ",\n    "
    yield _document_end(header)


DOCUMENT_START = '{\n  "files": ['


def _document_end(header: dict[str, Any]) -> str:
    run = json.dumps(header, indent=2, sort_keys=True).replace("\n", "\n  ")
    return f'\n  ],\n  "run": {run},\n  "schema": "pmo-governance-audit-document/1"\n}}\n'


class _DocumentDigest:
    """The sha256 of `audit_document` up to its `run` part, from each file's entry and lines
    of decisions.jsonl as they are written, in order."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(DOCUMENT_START.encode("utf-8"))
        self.separator = "\n    "

    def add(self, entry: dict[str, Any], decisions: str) -> None:
        """`decisions`: the file's lines of decisions.jsonl, each ending with a newline."""
        text = _with_decisions(entry, decisions.split("\n")[:-1])
        self.digest.update((self.separator + text).encode("utf-8"))
        self.separator = ",\n    "


def _with_decisions(entry: dict[str, Any], decisions: list[str]) -> str:
    """`json.dumps({**entry, "decisions": [json.loads(d) for d in decisions]}, sort_keys=True)`
    without encoding the decisions again: each line of decisions.jsonl is already that
    encoding of its decision (`_jsonl`: keys sorted, all of them strings, as pydantic dumps
    them), and `json.dumps` joins list items with ", " and items of an object with ", " and ": "."""
    listed = "[" + ", ".join(decisions) + "]"
    return (
        "{"
        + ", ".join(
            f"{json.dumps(key)}: {listed if key == 'decisions' else json.dumps(entry[key], sort_keys=True)}"
            for key in sorted({*entry, "decisions"})
        )
        + "}"
    )


def _report_text(engine: Engine, settings: AuditSettings, result: AuditResult, total: int) -> str:
    return json.dumps(_report(engine, settings, result, total), indent=2) + "\n"


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
