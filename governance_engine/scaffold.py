"""`govern new rule|pack`: a rule (or a pack that builds on another) with a test case beside
it, valid, lint-clean and passing from the start, for a PMO designer to edit."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import UsageError

RULE = """\
  - id: {id}
    title: {title_text}
    applies_to: project
    scope: status == "active"
    condition: budget > ${parameter}
    outcome: {{supportive: warning, controlling: required_action, directive: required_action}}
    message: "{{name}}: budget {{budget}} above {{${parameter}}}"
    action:
      text: "Review the budget of {{name}}"
      owner: manager
      due_days: 10
    guidance: Replace this rule's condition, message and action with your policy.
    references: []
    tags: [{module_text}]
"""
PARAMETER = """\
  {parameter}:
    default: 1000000
    stricter: lower
    description: The threshold of rule {id}.
"""
CASES = """\
  - name: {id} fires above the threshold
    pmo_type: controlling
    as_of: 2026-11-20
    state:
      nodes:
        - {{id: p1, type: project, name: Alpha, status: active, budget: 1500000}}
    expect:
      - {{rule: {id}, subject: p1, outcome: required_action, message: above}}
  - name: {id} near miss at the threshold
    pmo_type: directive
    as_of: 2026-11-20
    state:
      nodes:
        - {{id: p1, type: project, name: Alpha, status: active, budget: 1000000}}
    absent:
      - {{rule: {id}, subject: p1}}
"""


def _names(rule_id: str) -> tuple[str, str]:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]{0,63}", rule_id):
        raise UsageError(f"rule id {rule_id!r}: letters, digits, '_', '.', '-', starting with a letter")
    return rule_id, re.sub(r"[^a-z0-9_]", "_", rule_id.lower()) + "_limit"


def new_rule(module_file: Path, rule_id: str, title: str) -> list[Path]:
    """Add a rule to a ruleset file (created if absent) and its cases to tests/ beside it."""
    rule_id, parameter = _names(rule_id)
    module = module_file.stem
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", module):
        raise UsageError(f"ruleset file name {module_file.name!r}: lower-case letters, digits, '_' and '-'")
    # texts a designer chooses go in quoted (JSON strings are YAML): `Budget: over`, `on`, `#1`
    values = {
        "id": rule_id,
        "title_text": json.dumps(title, ensure_ascii=False),
        "parameter": parameter,
        "module": module,
        "module_text": json.dumps(module),
    }
    if module_file.exists():
        text = module_file.read_text(encoding="utf-8")
        if re.search(rf"^\s*-\s*id:\s*{re.escape(rule_id)}\s*$", text, re.M):
            raise UsageError(f"{module_file} already has a rule {rule_id}")
        # empty flow collections (`parameters: {}`, `rules: []`) become blocks to add to
        text = re.sub(r"\n(parameters|rules):[ \t]*(\{\}|\[\])[ \t]*(?=\n|$)", r"\n\1:", text)
        if not re.search(r"\nrules:[ \t]*(\n|$)", text) or not re.search(r"\nparameters:[ \t]*\n", text):
            raise UsageError(f"{module_file}: expected top-level 'parameters:' and 'rules:' blocks to add to")
        head, rules = text.split("\nrules:", 1)
        after = head.find("\n", head.index("\nparameters:") + 1)
        at = len(head) if after == -1 else after  # the end of the `parameters:` line
        head = head[:at] + "\n" + PARAMETER.format(**values).rstrip("\n") + head[at:]
        module_file.write_text(f"{head}\nrules:{rules.rstrip()}\n\n{RULE.format(**values)}", encoding="utf-8")
    else:
        module_file.parent.mkdir(parents=True, exist_ok=True)
        module_file.write_text(
            f"ruleset: {json.dumps(module)}\nversion: 0.1.0\ndescription: Rules of the {module} module.\n"
            f"parameters:\n{PARAMETER.format(**values)}rules:\n{RULE.format(**values)}",
            encoding="utf-8",
        )
    tests = module_file.parent / "tests" / f"{module}.yaml"
    tests.parent.mkdir(exist_ok=True)
    existing = tests.read_text(encoding="utf-8").rstrip() + "\n" if tests.exists() else "tests:\n"
    tests.write_text(existing + CASES.format(**values), encoding="utf-8")
    return [module_file, tests]


def new_pack(directory: Path, name: str, extends: str | None, pmo_type: str) -> list[Path]:
    """A pack directory: a manifest that builds on `extends`, one rule of its own, its tests."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
        raise UsageError(f"pack name {name!r}: lower-case letters, digits, '_' and '-'")
    pack = directory / name
    if pack.exists():
        raise UsageError(f"{pack} exists already")
    stem = re.sub(r"[^A-Za-z0-9]", "", name.title())[:8]
    rule_id, _ = _names((stem if stem[:1].isalpha() else "R" + stem) + "1")  # checked before anything is written
    pack.mkdir(parents=True)
    lines = [
        f"pack: {json.dumps(name)}",
        "version: 0.1.0",
        f"pmo_type: {pmo_type}",
        f"description: The {name} PMO's pack.",
    ]
    if extends:
        lines.append(f"extends: {extends}")
    else:
        lines.append(
            "include: [stage-gates, earned-value, budget, change-control, risk, schedule, reporting, governance, resources]"
        )
    (pack / "pack.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [pack / "pack.yaml", *new_rule(pack / "rules" / f"{name}.yaml", rule_id, f"The {name} PMO's first rule")]
