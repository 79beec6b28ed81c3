"""The library from several processes at once, on different packs, gives the decisions of
sequential use (bounded: a few files per process)."""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

from governance_engine import Engine
from governance_engine.generate import generate_portfolio

PACKS = (["supportive"], ["controlling"], ["directive"], None)


def evaluate_all(packs: list[str] | None, evaluator: str) -> list[str]:
    engine = Engine(packs, evaluator=evaluator)
    return [engine.evaluate(state).to_json() for state in generate_portfolio(6, seed=44, tasks=15, breaking_share=0.8)]


def test_processes_on_different_packs_agree_with_sequential_use():
    jobs = [(packs, evaluator) for packs in PACKS for evaluator in ("snapshot", "rete")]
    sequential = [evaluate_all(packs, evaluator) for packs, evaluator in jobs]
    with ProcessPoolExecutor(4) as pool:
        parallel = list(pool.map(evaluate_all, *zip(*jobs, strict=True)))
    assert parallel == sequential
    packs_used = [{json.loads(report)["pack"]["name"] for report in reports} for reports in sequential]
    assert packs_used[0] == {"supportive"} and packs_used[4] == {"directive"}  # the packs really differ
    assert sequential[0] != sequential[4]
