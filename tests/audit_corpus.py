"""Corrupt state files for audit tests: each fails in its own way (bad JSON, wrong type,
missing field) and must be recorded with its error while the run goes on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from governance_engine.generate import write_portfolio

DECISION_KEY = ("file", "subject", "rule_id", "outcome", "message")


def write_corrupt(folder: Path, template: Path) -> list[Path]:
    """Three corrupt files beside the generated ones, from a generated `template`."""
    document = json.loads(template.read_text(encoding="utf-8"))
    wrong_type = json.loads(json.dumps(document))
    wrong_type["nodes"] = "many"
    missing_field = json.loads(json.dumps(document))
    del missing_field["nodes"][0]["id"]
    corrupt = {
        "corrupt-bad-json.json": '{"nodes": [',
        "corrupt-wrong-type.json": json.dumps(wrong_type),
        "corrupt-missing-field.json": json.dumps(missing_field),
    }
    for name, text in corrupt.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in corrupt]


def portfolio_with_corrupt_files(folder: Path, projects: int, *, seed: int, tasks: int) -> list[Path]:
    written = write_portfolio(folder, projects, seed=seed, tasks=tasks, breaking_share=0.5)
    return write_corrupt(folder, written[0])


def decision_sets(out: Path) -> dict[str, set[tuple[str, ...]]]:
    """(file, subject, rule_id, outcome, message) of every decision, as JSON, CSV and JSONL say."""
    import csv

    document = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    from_json = {tuple(d[k] for k in DECISION_KEY) for f in document["files"] for d in f["decisions"]}
    with open(out / "decisions.csv", encoding="utf-8", newline="") as table:
        from_csv = {tuple(row[k] for k in DECISION_KEY) for row in csv.DictReader(table)}
    with open(out / "decisions.jsonl", encoding="utf-8") as lines:
        from_jsonl = {tuple(json.loads(line)[k] for k in DECISION_KEY) for line in lines}
    return {"json": from_json, "csv": from_csv, "jsonl": from_jsonl}


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target
