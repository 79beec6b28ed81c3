"""`govern audit --executor dask`: the same audit on a Dask distributed cluster (here a
`LocalCluster` of two worker processes) writes byte-identical reports to the local run, with
the same per-file error recording; without dask or without --scheduler it is a usage error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_engine.cli.main import main

from .audit_corpus import decision_sets, portfolio_with_corrupt_files


def govern(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed", reason="the dask extra is not installed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
    ) as running:
        yield running


@pytest.mark.slow
def test_dask_and_local_runs_write_identical_reports(cluster, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    portfolio_with_corrupt_files(tmp_path / "portfolio", 80, seed=13, tasks=10)
    local = govern(
        "audit", "portfolio", "--out", "local", "--jobs", "1", "--quiet", "--format", "json", "--format", "csv"
    )
    address = cluster.scheduler_address
    remote = govern(
        "audit", "portfolio", "--out", "dask", "--quiet", "--format", "json", "--format", "csv",
        "--executor", "dask", "--scheduler", address,
    )  # fmt: skip
    assert local.exit_code == remote.exit_code == 3, remote.output
    for name in ("audit.json", "decisions.jsonl", "files.jsonl", "report.json", "decisions.csv"):
        assert (tmp_path / "local" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name
    sets = decision_sets(tmp_path / "dask")
    assert sets["json"] == sets["csv"] == sets["jsonl"] and len(sets["json"]) > 80
    verify = govern("audit", "--verify", "dask/manifest.json", "--executor", "dask", "--scheduler", address)
    assert verify.exit_code == 0, verify.output


@pytest.mark.slow
def test_a_file_that_kills_its_dask_worker_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    distributed = pytest.importorskip("dask.distributed", reason="the dask extra is not installed")
    import dask
    from distributed.diagnostics.plugin import WorkerPlugin

    class KillOnFile(WorkerPlugin):
        """On every worker, restarted ones too: evaluating `file` kills the worker process
        (as a file that crashes the evaluator in C would). Defined here, so that it is sent
        to the workers by value: they cannot import the tests."""

        name = "kill-on-file"

        def __init__(self, file: str) -> None:
            self.file = file

        def setup(self, worker) -> None:
            import os

            from governance_engine import executors

            evaluate, file = executors.evaluate_state, self.file

            def dying(engine, settings, waivers, path, data=None):
                if path.endswith(file):
                    os._exit(1)
                return evaluate(engine, settings, waivers, path, data)

            executors.evaluate_state = dying

    monkeypatch.chdir(tmp_path)
    portfolio_with_corrupt_files(tmp_path / "portfolio", 12, seed=4, tasks=6)
    killer = tmp_path / "portfolio" / "project-00005.json"
    assert govern("audit", "portfolio", "--out", "local", "--jobs", "1", "--quiet").exit_code == 3
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.register_plugin(KillOnFile(killer.name))
        remote = govern(
            "audit", "portfolio", "--out", "dask", "--quiet", "--executor", "dask",
            "--scheduler", cluster.scheduler_address,
        )  # fmt: skip
    assert remote.exit_code == 3, remote.output
    entries = [json.loads(line) for line in (tmp_path / "dask" / "files.jsonl").read_text().splitlines()]
    expected = [json.loads(line) for line in (tmp_path / "local" / "files.jsonl").read_text().splitlines()]
    assert [e["file"] for e in entries] == [e["file"] for e in expected]
    for got, want in zip(entries, expected, strict=True):
        if got["file"] == "portfolio/project-00005.json":
            assert got["status"] == "error" and "a Dask worker died evaluating it" in got["error"]
        else:
            assert got == want, got["file"]


def test_dask_needs_a_scheduler(tmp_path):
    (tmp_path / "in.json").write_text("{}")
    result = govern("audit", str(tmp_path / "in.json"), "--out", str(tmp_path / "o"), "--executor", "dask")
    assert result.exit_code == 2 and "--scheduler ADDRESS" in result.output


def test_dask_not_installed_is_a_clear_usage_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as if absent
    (tmp_path / "in.json").write_text("{}")
    result = govern(
        "audit", str(tmp_path / "in.json"), "--out", str(tmp_path / "o"), "--executor", "dask",
        "--scheduler", "tcp://127.0.0.1:8786",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "dask.distributed, which is not installed" in result.output and "governance-engine[dask]" in result.output
    assert not Path(tmp_path / "o").exists()  # refused before anything was written
