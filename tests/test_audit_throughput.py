"""govern audit with parallel workers, as it runs for speed: workers forked from the audit
process (on Linux, when it runs no other thread) take its engine as it is, send back the
lines to write, and the audit's digest is made as the files are written; none of it may
change a byte of the output, lose a result when a worker dies, or differ from a fork
server's workers."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from governance_engine import audit
from governance_engine.audit import AuditSettings, run_audit
from governance_engine.engine import Engine
from governance_engine.generate import write_portfolio

from .test_waivers import STATE as WAIVED_STATE  # a risk without an owner: R1, waived below

GOVERN = [sys.executable, "-m", "governance_engine"]
OUTPUTS = ("files.jsonl", "decisions.jsonl", "decisions.csv", "report.json", "audit.json", "manifest.json")


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("throughput")
    write_portfolio(folder / "inputs", 40, seed=5, tasks=10, breaking_share=0.6)
    (folder / "inputs" / "broken.json").write_text('{"nodes": [')
    (folder / "inputs" / "zz-waived.json").write_text(json.dumps(WAIVED_STATE))
    (folder / "waivers.yaml").write_text(
        "waivers:\n  - {rule: R1, subject: r, justification: accepted, approved_by: s, expires: 2026-12-31}\n"
    )
    return folder


def govern_audit(portfolio: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """A run in a process of its own: no other thread, so on Linux its workers are forked."""
    return subprocess.run(
        [*GOVERN, "audit", "inputs", "--out", str(out), "--quiet", "--waivers", "waivers.yaml", *extra],
        cwd=portfolio,
        capture_output=True,
        text=True,
        check=False,
    )


def outputs(out: Path) -> dict[str, bytes]:
    return {name: (out / name).read_bytes() for name in OUTPUTS if (out / name).exists()}


@pytest.mark.parametrize("evaluator", ["snapshot", "rete"])
def test_forked_workers_write_the_bytes_one_process_writes(portfolio, tmp_path, evaluator):
    formats = ("--format", "csv", "--format", "json", "--engine", evaluator)
    one = govern_audit(portfolio, tmp_path / "one", "--jobs", "1", *formats)
    two = govern_audit(portfolio, tmp_path / "two", "--jobs", "2", *formats)
    assert one.returncode == two.returncode == 3, one.stderr + two.stderr
    assert one.stdout.split(" -> ")[0] == two.stdout.split(" -> ")[0]
    written = outputs(tmp_path / "one")
    assert set(written) == set(OUTPUTS) and written == outputs(tmp_path / "two")
    files = [json.loads(line) for line in written["files.jsonl"].splitlines()]
    assert [f["status"] for f in files].count("error") == 1 and len(files) == 42
    assert b'"waiver": {' in written["decisions.jsonl"]  # the waivers reached the workers


def test_the_digest_made_while_writing_is_that_of_audit_json(portfolio, tmp_path):
    """Without --format json the manifest's report digest is made as the files are written;
    with it, from audit.json's bytes: the two agree, whatever the number of jobs."""
    settings = AuditSettings(None, "snapshot", None, None, str(portfolio / "waivers.yaml"))
    inputs = [str(portfolio / "inputs")]
    run_audit(inputs, tmp_path / "streamed", settings, jobs=2)
    run_audit(inputs, tmp_path / "document", settings, jobs=1, json_output=True)
    streamed, document = (json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("streamed", "document"))
    digest = "sha256:" + hashlib.sha256((tmp_path / "document" / "audit.json").read_bytes()).hexdigest()
    assert streamed == document and streamed["report_digest"] == digest


def test_a_resumed_run_has_the_digest_of_an_uninterrupted_one(portfolio, tmp_path):
    settings = AuditSettings(None, "snapshot", None, None, None)
    inputs = [str(portfolio / "inputs")]
    run_audit(inputs, tmp_path / "full", settings, jobs=1)

    def interrupt(count: int, seen=[0]) -> None:  # noqa: B006 - a counter shared between calls
        seen[0] += count
        if seen[0] == 9:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audit(inputs, tmp_path / "resumed", settings, jobs=1, progress=interrupt)
    run_audit(inputs, tmp_path / "resumed", settings, jobs=2, resume=True)
    assert outputs(tmp_path / "resumed") == outputs(tmp_path / "full")


WORKERS = """
import json, os, sys, threading
from governance_engine.audit import _pool_context, parallel_map

def start(tag, parent):
    global TAG, PARENT
    TAG, PARENT = tag, parent

def work(item):
    if item == "boom":
        os._exit(3)  # as a worker killed, or crashed in a C extension
    return f"{TAG}:{item}:{os.getpid() != PARENT}"

if __name__ == "__main__":
    if sys.argv[1] == "threaded":
        threading.Thread(target=threading.Event().wait, daemon=True).start()
    method = _pool_context().get_start_method()
    items = [f"i{n}" for n in range(60)]
    items.insert(23, "boom")
    results = list(parallel_map(work, start, ("t", os.getpid()), items, 2, lambda item, reason: f"lost:{item}:{reason}"))
    print(json.dumps({"method": method, "results": results}))
"""


@pytest.mark.parametrize("threads", ["single", "threaded"])
def test_a_worker_that_dies_loses_nothing_however_workers_start(tmp_path, threads):
    script = tmp_path / "workers.py"
    script.write_text(WORKERS)
    done = subprocess.run([sys.executable, str(script), threads], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    if sys.platform.startswith("linux"):
        assert found["method"] == ("fork" if threads == "single" else "forkserver")
    expected = [f"t:i{n}:True" for n in range(60)]
    expected.insert(23, "lost:boom:a worker process died evaluating it (killed, or crashed)")
    assert found["results"] == expected


def test_workers_fork_only_from_a_process_without_other_threads():
    if not sys.platform.startswith("linux"):
        assert audit._pool_context().get_start_method() != "fork"
        return
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert audit._pool_context().get_start_method() == "forkserver"
    finally:
        stop.set()
        thread.join()
    alone = subprocess.run(
        [sys.executable, "-c", "from governance_engine.audit import _pool_context as c; print(c().get_start_method())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == "fork"


def test_a_worker_takes_the_engine_of_the_process_it_was_forked_from(monkeypatch):
    settings = AuditSettings(None, "snapshot", None, None)
    engine = Engine()
    monkeypatch.setattr(audit, "_inherited", (settings, engine, None))
    monkeypatch.setattr(audit, "_engine", None)
    audit._start_worker(settings, True)
    assert audit._engine is engine and audit._settings is settings and audit._csv_output is True
    other = AuditSettings(None, "snapshot", "directive", None)
    audit._start_worker(other)  # settings of another run: its own engine
    assert audit._engine is not engine and audit._settings is other and audit._csv_output is False


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)


@given(
    entry=st.dictionaries(st.sampled_from(["as_of", "digest", "error", "file", "status", "summary", "zz"]), JSON),
    decisions=st.lists(st.dictionaries(st.text(max_size=8), JSON, max_size=4), max_size=4),
)
def test_an_entry_with_its_decisions_is_encoded_as_json_dumps_does(entry, decisions):
    lines = [audit._jsonl(d)[:-1] for d in decisions]
    assert audit._with_decisions(entry, lines) == json.dumps({**entry, "decisions": decisions}, sort_keys=True)
