"""Running an audit beyond one machine: a Dask distributed cluster (an existing engine, not a
home-made one) evaluates the inputs, with the same entries, in the same order, as the local
worker processes, so that the reports are byte-identical.

The client reads each input and sends its bytes with the task, so the workers need no view of
the client's files; the packs (loaded and checked here) and waivers are sent once, as a task
that the workers share (and the scheduler computes again if the worker holding it dies). Chunks of files are mapped with a bounded number in flight and gathered in input
order as they finish, so results are streamed to disk and memory stays flat."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .audit import AuditSettings, _crashed, evaluate_state, read_input
from .engine import Engine
from .errors import GovernanceError, UsageError
from .language.packs import Pack

INSTALL_HINT = "pip install 'governance-engine[dask]'"
POLL_SECONDS = 5
WORKERLESS_SECONDS = 120


def _distributed():
    """dask.distributed, or a UsageError saying how to install it."""
    try:
        import dask.distributed as distributed
    except ImportError:
        raise UsageError(f"--executor dask needs dask.distributed, which is not installed: {INSTALL_HINT}") from None
    return distributed


@dataclass(frozen=True)
class _Setup:
    """What every worker needs to evaluate: sent once, turned into an Engine once."""

    token: str
    packs: tuple[Pack, ...]
    settings: AuditSettings
    waivers: tuple | None


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _worker_engine(setup: _Setup) -> Engine:
    """This worker's engine for a run; a worker keeps only the latest run's."""
    with _engines_lock:
        if setup.token not in _engines:
            _engines.clear()
            _engines[setup.token] = Engine(list(setup.packs), evaluator=setup.settings.evaluator)
        return _engines[setup.token]


def _evaluate_chunk(setup: _Setup, items: list[tuple[str, bytes | None, str | None]]) -> list[dict[str, Any]]:
    """On a worker: each (file, bytes, read error) evaluated as the local workers do."""
    engine = _worker_engine(setup)
    waivers = list(setup.waivers) if setup.waivers is not None else None
    return [
        {"file": path, "status": "error", "error": error, "digest": None}
        if error is not None
        else evaluate_state(engine, setup.settings, waivers, path, data)
        for path, data, error in items
    ]


def _read(path: str) -> tuple[str, bytes | None, str | None]:
    try:
        return path, read_input(path), None
    except GovernanceError as error:
        return path, None, str(error)


class DaskExecutor:
    """Evaluate on the Dask cluster whose scheduler is at `address` (`tcp://host:8786`)."""

    def __init__(self, address: str | None, *, chunk_size: int | None = None) -> None:
        if not address:
            raise UsageError("--executor dask needs --scheduler ADDRESS (the Dask scheduler, e.g. tcp://host:8786)")
        _distributed()
        self.address = address
        self.chunk_size = chunk_size

    def map(
        self, files: list[str], settings: AuditSettings, engine: Engine, waivers: list | None
    ) -> Iterator[dict[str, Any]]:
        if not files:
            return
        distributed = _distributed()
        try:
            client = distributed.Client(self.address, timeout="20s")
        except (OSError, TimeoutError) as error:
            raise UsageError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        try:
            yield from self._run(client, distributed, files, settings, engine, waivers)
        finally:
            client.close()

    def _run(self, client, distributed, files, settings, engine, waivers) -> Iterator[dict[str, Any]]:
        threads = sum(client.nthreads().values()) or 1
        size = self.chunk_size or max(1, min(32, len(files) // (threads * 8) or 1))
        # A task, not scattered data: if the worker holding it dies, the scheduler computes it again.
        setup = client.submit(
            _Setup,
            uuid.uuid4().hex,
            tuple(engine.packs),
            settings,
            tuple(waivers) if waivers is not None else None,
            pure=False,
        )
        chunks = deque(files[i : i + size] for i in range(0, len(files), size))
        running: deque[tuple[list[str], Any]] = deque()
        while chunks or running:
            while chunks and len(running) < threads * 4:
                chunk = chunks.popleft()
                running.append((chunk, client.submit(_evaluate_chunk, setup, [_read(f) for f in chunk], pure=False)))
            chunk, future = running.popleft()
            yield from self._gather(client, distributed, setup, chunk, future)

    def _gather(self, client, distributed, setup, chunk: list[str], future) -> Iterator[dict[str, Any]]:
        """A chunk's entries. Dask retries a task whose worker died; a chunk that kept killing
        workers is run one file at a time, and a file that kills its worker alone is recorded."""
        try:
            yield from self._result(client, future)
            return
        except distributed.KilledWorker:
            pass
        except UsageError:
            raise
        except Exception as error:
            raise UsageError(f"the Dask run failed at {self.address}: {type(error).__name__}: {error}") from None
        for path in chunk:
            single = client.submit(_evaluate_chunk, setup, [_read(path)], pure=False)
            try:
                yield from self._result(client, single)
            except distributed.KilledWorker:
                yield _crashed(path, "a Dask worker died evaluating it (killed, or crashed)")

    def _result(self, client, future) -> list[dict[str, Any]]:
        """The future's value; a cluster left without workers for WORKERLESS_SECONDS is an
        error, not an endless wait (a task on a cluster with no workers never runs)."""
        workerless_since: float | None = None
        while True:
            try:
                return future.result(timeout=POLL_SECONDS)
            except TimeoutError:
                if client.scheduler_info().get("workers"):
                    workerless_since = None
                    continue
                now = time.monotonic()
                workerless_since = workerless_since or now
                if now - workerless_since > WORKERLESS_SECONDS:
                    raise UsageError(
                        f"the Dask cluster at {self.address} has had no workers for {WORKERLESS_SECONDS} s"
                    ) from None
