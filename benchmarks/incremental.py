"""Incremental sessions against full re-evaluation (issue #6, item 4): the same changes to
generated 150-node projects applied through `Engine.session()` and re-evaluated in full on
the Rete and on the snapshot evaluator, in one process. Prints a table, writes JSON."""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from pathlib import Path

from governance_engine import Engine
from governance_engine.generate import generate_portfolio

CHANGEABLE = {
    "task": ("status", ["not_started", "in_progress", "completed"]),
    "risk": ("probability", [1, 2, 3, 4, 5]),
    "document": ("status", ["draft", "submitted", "approved"]),
    "project": ("actual_cost", [100_000, 400_000, 900_000]),
}


def changes(document: dict, rng: random.Random, count: int) -> list[dict]:
    nodes = [n for n in document["nodes"] if n["type"] in CHANGEABLE]
    picked = []
    for _ in range(count):
        node = rng.choice(nodes)
        attribute, values = CHANGEABLE[node["type"]]
        picked.append({"op": "update_node", "node": {"id": node["id"], attribute: rng.choice(values)}})
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=20)
    parser.add_argument("--changes", type=int, default=20, help="changes per project")
    parser.add_argument("--quick", action="store_true", help="3 projects, 5 changes (CI smoke run)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "incremental.json")
    args = parser.parse_args()
    if args.quick:
        args.projects, args.changes = 3, 5
    rng = random.Random(5)
    engine, rete = Engine(), Engine(evaluator="rete")
    timings: dict[str, list[float]] = {"session apply": [], "full rete evaluate": [], "full snapshot evaluate": []}
    sizes = []
    for document in generate_portfolio(args.projects, seed=31, tasks=100, breaking_share=0.5):
        sizes.append((len(document["nodes"]), len(document["edges"])))
        session = engine.session(document)
        for change in changes(document, rng, args.changes):
            started = time.perf_counter()
            session.apply(change)
            timings["session apply"].append(time.perf_counter() - started)
            for name, full in (("full rete evaluate", rete), ("full snapshot evaluate", engine)):
                started = time.perf_counter()
                report = full.evaluate(session.document)
                timings[name].append(time.perf_counter() - started)
            assert report.decisions == session.decisions(), "incremental and full re-evaluation disagree"
        session.close()
    medians = {name: statistics.median(values) * 1e6 for name, values in timings.items()}
    baseline = medians["full rete evaluate"]
    print(
        f"{platform.platform()}, {platform.python_version()}; {args.projects} projects of about "
        f"{statistics.mean(n for n, _ in sizes):.0f} nodes / {statistics.mean(e for _, e in sizes):.0f} edges, "
        f"{args.changes} changes each"
    )
    print(f"{'path':<26}{'median µs/change':>18}{'× full Rete':>14}")
    for name, value in medians.items():
        print(f"{name:<26}{value:>18.0f}{baseline / value:>14.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "benchmark": "incremental",
                "machine": {"platform": platform.platform(), "python": platform.python_version()},
                "projects": args.projects,
                "changes_per_project": args.changes,
                "median_us": medians,
                "speedup_vs_full_rete": baseline / medians["session apply"],
                "speedup_vs_full_snapshot": medians["full snapshot evaluate"] / medians["session apply"],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
