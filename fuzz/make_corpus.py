"""Rebuild the seed corpora in fuzz/corpus/ from the shipped examples and rulesets:
small states (rule-test cases and one project of the example portfolio, as JSON and YAML),
every expression of the shipped rules (behind a byte that picks its place in a rule) and the
shipped rule modules. Run after the rulesets change: python fuzz/make_corpus.py"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CORPUS = Path(__file__).resolve().parent / "corpus"
STATE_CASES_PER_MODULE = 2
PLACES = 6  # slots of fuzz_expression._rules


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60]


def _states() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    for tests in sorted((ROOT / "rulesets" / "tests").glob("*.yaml")):
        cases = [c for c in yaml.safe_load(tests.read_text())["tests"] if "state" in c]
        for number, case in enumerate(cases[:STATE_CASES_PER_MODULE]):
            state = case["state"]
            document = {
                "graph": {"as_of": str(case.get("as_of", "2026-11-20")), "pmo_type": case.get("pmo_type")},
                "nodes": state.get("nodes", []),
                "edges": state.get("edges", []),
            }
            if number % 2:
                seeds[f"{tests.stem}-{number}.yaml"] = yaml.safe_dump(document, sort_keys=False).encode()
            else:
                seeds[f"{tests.stem}-{number}.json"] = json.dumps(document, default=str).encode()
    portfolio = json.loads((ROOT / "examples" / "portfolio.json").read_text())
    project = next(n["id"] for n in portfolio["nodes"] if n["type"] == "project")
    keep = {project} | {e["target"] for e in portfolio["edges"] if e["source"] == project}
    keep |= {e["source"] for e in portfolio["edges"] if e["target"] == project}
    part = dict(
        portfolio,
        nodes=[n for n in portfolio["nodes"] if n["id"] in keep],
        edges=[e for e in portfolio["edges"] if e["source"] in keep and e["target"] in keep],
    )
    seeds["portfolio-one-project.json"] = json.dumps(part, indent=1).encode()
    return seeds


def _expressions() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    seen: set[str] = set()
    for module in sorted((ROOT / "rulesets").glob("*.yaml")):
        for rule in yaml.safe_load(module.read_text())["rules"]:
            texts = [(k, rule[k]) for k in ("scope", "condition", "unless") if rule.get(k)]
            texts += [(f"let-{name}", text) for name, text in (rule.get("let") or {}).items()]
            for field, text in texts:
                if text not in seen:
                    seen.add(text)
                    slot = len(seen) % PLACES
                    seeds[f"{_slug(rule['id'])}-{_slug(field)}"] = bytes([slot]) + text.encode()
    return seeds


def _rulesets() -> dict[str, bytes]:
    return {module.name: module.read_bytes() for module in sorted((ROOT / "rulesets").glob("*.yaml"))}


def main() -> None:
    for name, seeds in (("state", _states()), ("expression", _expressions()), ("ruleset", _rulesets())):
        folder = CORPUS / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for file_name, content in seeds.items():
            (folder / file_name).write_bytes(content)
        print(f"{folder.relative_to(ROOT)}: {len(seeds)} seeds, {sum(map(len, seeds.values())):,} bytes")


if __name__ == "__main__":
    main()
