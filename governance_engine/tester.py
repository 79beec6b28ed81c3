"""Rule tests beside the rules (`govern test`): given a state, a PMO type and a date, these
decisions must appear and those must not. Modelled on `kyverno test` and `opa test`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, ValidationError

from .decide.rollup import RollUp
from .engine import Engine
from .errors import GovernanceError, Location, RulesetError
from .evaluate.coverage import Coverage
from .language.packs import FAMILY, read_yaml_file, shipped_root
from .outcomes import Outcome, PmoType
from .report.model import Report


class ExpectedDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str
    subject: str
    outcome: Outcome | None = None
    version: int | None = None
    message: str | None = None  # a fragment the message must contain


class TestCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    pmo_type: PmoType | None = None
    as_of: date | None = None
    state: dict[str, Any] | None = None
    state_file: str | None = None
    expect: list[ExpectedDecision] = []
    absent: list[ExpectedDecision] = []


class TestFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    packs: list[str] | None = None
    tests: list[TestCase]


@dataclass
class CaseResult:
    file: Path
    name: str
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    report: Report | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def discover(paths: list[Path]) -> list[Path]:
    """Test files: given directly, or `tests/*.yaml` under the given directories."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.yaml") if p.parent.name == "tests"))
        elif path.is_file():
            found.append(path)
        else:
            raise RulesetError("no such test file or directory", Location(file=str(path)))
    return found


def _packs_for(path: Path, declared: list[str] | None) -> list[str] | None:
    """The packs a test file runs under: those it names (relative to itself, or shipped
    names), else the pack whose directory holds it, else the ruleset it tests (tests/x.yaml
    beside x.yaml), else the shipped family (whose modules are the shipped rulesets)."""
    if declared:
        return [p if p in FAMILY else str((path.parent / p).resolve()) for p in declared]
    for parent in path.resolve().parents:
        if (parent / "pack.yaml").is_file():
            return [str(parent)]
        if parent == shipped_root():
            break
    module = path.resolve().parent.parent / path.name
    if module.is_file() and module.parent != (shipped_root() / "rulesets").resolve():
        return [str(module)]
    return None


def _state(case: TestCase, path: Path, where: Location) -> dict[str, Any] | Path:
    if (case.state is None) == (case.state_file is None):
        raise RulesetError(f"test {case.name!r}: give exactly one of 'state' or 'state_file'", where)
    if case.state_file is not None:
        return (path.parent / case.state_file).resolve()
    state = dict(case.state or {})
    state.setdefault("directed", True)
    state.setdefault("multigraph", True)
    state.setdefault("edges", [])
    graph = dict(state.get("graph") or {})
    if case.as_of and "as_of" not in graph:
        graph["as_of"] = case.as_of.isoformat()
    state["graph"] = graph
    return state


def _check(case: TestCase, report: Report, rules: set[str], nodes: set[str]) -> list[str]:
    """What the case expects against the report; a rule id or subject that exists nowhere is
    a failure too (a typo in `absent:` would otherwise pass whatever the rules do)."""
    failures = [
        f"{entry.rule} on {entry.subject}: "
        + (
            f"no rule {entry.rule!r} in the packs"
            if entry.rule not in rules
            else f"no node {entry.subject!r} in the state"
        )
        for entry in (*case.expect, *case.absent)
        if entry.rule not in rules or entry.subject not in nodes
    ]

    def matching(expected: ExpectedDecision):
        return [
            d
            for d in report.decisions
            if d.rule_id == expected.rule
            and d.subject == expected.subject
            and (expected.version is None or d.rule_version == expected.version)
        ]

    for expected in case.expect:
        found = matching(expected)
        if not found:
            seen = ", ".join(f"{d.rule_id}@{d.subject}={d.outcome.value}" for d in report.decisions) or "none"
            failures.append(f"expected {expected.rule} on {expected.subject}: not decided (decisions: {seen})")
            continue
        decision = found[0]
        if expected.outcome is not None and decision.outcome is not expected.outcome:
            failures.append(
                f"expected {expected.rule} on {expected.subject} to be {expected.outcome.value}, got {decision.outcome.value}"
            )
        if expected.message is not None and expected.message not in decision.message:
            failures.append(
                f"{expected.rule} on {expected.subject}: message {decision.message!r} lacks {expected.message!r}"
            )
    for unexpected in case.absent:
        for decision in matching(unexpected):
            if unexpected.outcome is None or decision.outcome is unexpected.outcome:
                failures.append(
                    f"{unexpected.rule} on {unexpected.subject} must not be decided, got {decision.outcome.value}: {decision.message}"
                )
    return failures


def run_file(
    path: Path, evaluator: str = "snapshot", engines: dict | None = None, coverage: Coverage | None = None
) -> list[CaseResult]:
    """Run every case of one test file. A file that cannot be read is a RulesetError."""
    doc, _ = read_yaml_file(path, "rule test file")
    try:
        spec = TestFile.model_validate(doc.data)
    except ValidationError as error:
        first = error.errors()[0]
        where = tuple(p for p in first["loc"] if isinstance(p, str | int))
        raise RulesetError(f"{'.'.join(map(str, where))}: {first['msg']}", doc.locate(where)) from None
    packs = _packs_for(path, spec.packs)
    engines = {} if engines is None else engines
    key = (tuple(packs or ()), evaluator)
    if key not in engines:
        engines[key] = Engine(packs, evaluator=evaluator)
    engine = engines[key]
    rules = {r.id for p in engine.packs for r in p.rules}
    results = []
    for number, case in enumerate(spec.tests):
        result = CaseResult(path, case.name)
        started = time.perf_counter()
        try:
            index, _ = engine.load(_state(case, path, doc.locate(("tests", number))))
            report = engine.evaluate(index, pmo_type=case.pmo_type, as_of=case.as_of)
            result.report = report
            result.failures = _check(case, report, rules, set(index.nodes))
            if coverage is not None:
                coverage.declare([r for p in engine.packs for r in p.rules])
                _, assignments = engine.findings(index, report.as_of, case.pmo_type)
                coverage.observe(index, report.as_of, assignments, RollUp(index, report.decisions))
        except GovernanceError as error:
            result.failures = [f"error: {error}"]
        result.seconds = time.perf_counter() - started
        results.append(result)
    return results


def junit_xml(results: list[CaseResult]) -> bytes:
    suites = ElementTree.Element(
        "testsuites", tests=str(len(results)), failures=str(sum(not r.passed for r in results))
    )
    by_file: dict[Path, list[CaseResult]] = {}
    for result in results:
        by_file.setdefault(result.file, []).append(result)
    for file, cases in by_file.items():
        suite = ElementTree.SubElement(
            suites, "testsuite", name=str(file), tests=str(len(cases)), failures=str(sum(not c.passed for c in cases))
        )
        for case in cases:
            element = ElementTree.SubElement(
                suite, "testcase", classname=str(file), name=case.name, time=f"{case.seconds:.4f}"
            )
            if case.failures:
                failure = ElementTree.SubElement(element, "failure", message=case.failures[0])
                failure.text = "\n".join(case.failures)
    ElementTree.indent(suites)
    return ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
