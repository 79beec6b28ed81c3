"""The `govern` command. Each command is a thin shell over the library API; errors are
rendered here, once."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path

import click

from .. import __version__
from ..engine import Engine
from ..errors import GovernanceError
from ..outcomes import BLOCKING, Outcome, PmoType
from ..render.table import render_table
from ..tester import discover, junit_xml, run_file

PMO_TYPES = click.Choice([t.value for t in PmoType])
EVALUATORS = click.Choice(["snapshot", "rete", "reference"])


def reports_errors(command: Callable) -> Callable:
    """Bad input is one clear line naming the file and place, exit code 2, no traceback."""

    @wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GovernanceError as error:
            click.echo(f"govern: {error}", err=True)
            sys.exit(2)

    return wrapper


def parse_date(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govern")
def main() -> None:
    """Evaluate PMO governance rulesets against project-state graphs."""


@main.command()
@click.argument("state", type=click.Path(dir_okay=False))
@click.option("--pmo-type", type=PMO_TYPES, help="Judge every project as this PMO type.")
@click.option(
    "--pack",
    "packs",
    multiple=True,
    help="Pack name or directory, or a ruleset file (repeatable). Default: the shipped family.",
)
@click.option("--as-of", callback=parse_date, help="Evaluation date (default: the state's as_of, else today).")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
@click.option("--engine", "evaluator", type=EVALUATORS, default="snapshot", show_default=True, help="Evaluator to use.")
@click.option(
    "--fail-on",
    type=click.Choice(["blocking", "insufficient_evidence"]),
    multiple=True,
    help="Exit 1 also on insufficient evidence.",
)
@reports_errors
def evaluate(state, pmo_type, packs, as_of, fmt, evaluator, fail_on) -> None:
    """Evaluate one project-state file. Exit 0: nothing blocking; 1: a required action,
    escalation or rejection; 2: bad usage or invalid input."""
    engine = Engine(list(packs) or None, evaluator=evaluator)
    report = engine.evaluate(state, pmo_type=pmo_type, as_of=as_of)
    click.echo(report.to_json() if fmt == "json" else render_table(report), nl=False)
    failing = set(BLOCKING)
    if "insufficient_evidence" in fail_on:
        failing.add(Outcome.insufficient_evidence)
    sys.exit(1 if any(d.outcome in failing for d in report.decisions) else 0)


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--engine", "evaluator", type=EVALUATORS, default="snapshot", show_default=True, help="Evaluator to use.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results as JUnit XML.")
@reports_errors
def test_command(paths, evaluator, junit) -> None:
    """Run rule tests: YAML files in `tests/` folders beside the rules (or given directly).
    Exit 1 when a case fails, 2 when a test file cannot be read."""
    results = []
    engines: dict = {}
    for path in discover(list(paths)):
        for result in run_file(path, evaluator, engines):
            results.append(result)
            status = "PASS" if result.passed else "FAIL"
            click.echo(f"{status} {path}: {result.name}")
            for failure in result.failures:
                click.echo(f"     {failure}")
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if junit:
        junit.write_bytes(junit_xml(results))
    sys.exit(1 if failed else 0)
