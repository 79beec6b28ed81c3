"""The `govern` command. Each command is a thin shell over the library API; errors are
rendered once, by `options.reports_errors`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import __version__
from ..audit import FAIL_ON_LEVELS, AuditSettings, OutputError, run_audit
from ..audit import discover as discover_states
from ..decide.waivers import load_waivers
from ..engine import Engine
from ..errors import Location, UsageError
from ..evaluate.coverage import Coverage
from ..generate import write_portfolio
from ..language.lint import lint
from ..outcomes import BLOCKING, Outcome
from ..render.table import render_table
from ..scaffold import new_pack, new_rule
from ..tester import discover, junit_xml, run_file
from .dcma_command import dcma_command
from .graph_command import graph
from .import_command import import_command
from .options import (
    EVALUATORS,
    PMO_TYPES,
    as_of_option,
    engine_option,
    packs_option,
    parse_date,
    pmo_type_option,
    reports_errors,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govern")
def main() -> None:
    """Evaluate PMO governance rulesets against project-state graphs."""


@main.command()
@click.argument("state", type=click.Path(dir_okay=False))
@pmo_type_option
@packs_option
@as_of_option
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
@engine_option
@click.option(
    "--fail-on",
    type=click.Choice(["blocking", "insufficient_evidence"]),
    multiple=True,
    help="Exit 1 also on insufficient evidence.",
)
@click.option("--remedies", is_flag=True, help="Add to each decision the single changes that would clear it.")
@click.option("--waivers", type=click.Path(dir_okay=False), help="A waivers file: approved, dated exceptions.")
@reports_errors
def evaluate(state, pmo_type, packs, as_of, fmt, evaluator, fail_on, remedies, waivers) -> None:
    """Evaluate one project-state file. Exit 0: nothing blocking; 1: a required action,
    escalation or rejection; 2: bad usage or invalid input."""
    engine = Engine(list(packs) or None, evaluator=evaluator)
    exceptions = load_waivers(waivers) if waivers else None
    report = engine.evaluate(state, pmo_type=pmo_type, as_of=as_of, remedies=remedies, waivers=exceptions)
    click.echo(report.to_json() if fmt == "json" else render_table(report), nl=False)
    failing = set(BLOCKING)
    if "insufficient_evidence" in fail_on:
        failing.add(Outcome.insufficient_evidence)
    sys.exit(1 if any(d.outcome in failing and d.waiver is None for d in report.decisions) else 0)


@main.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@engine_option
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Also write the results as JUnit XML.")
@click.option(
    "--coverage", "with_coverage", is_flag=True, help="Report which rules and condition outcomes the cases reach."
)
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    help="With --coverage: exit 1 when the weakest figure is below PCT.",
)
@reports_errors
def test_command(paths, evaluator, junit, with_coverage, min_coverage) -> None:
    """Run rule tests: YAML files in `tests/` folders beside the rules (or given directly).
    Exit 1 when a case fails (or coverage is below --min-coverage), 2 when a test file
    cannot be read."""
    results = []
    engines: dict = {}
    coverage = Coverage() if with_coverage or min_coverage is not None else None
    for path in discover(list(paths)):
        for result in run_file(path, evaluator, engines, coverage):
            results.append(result)
            status = "PASS" if result.passed else "FAIL"
            click.echo(f"{status} {path}: {result.name}")
            for failure in result.failures:
                click.echo(f"     {failure}")
    failed = sum(not r.passed for r in results)
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if junit:
        junit.write_bytes(junit_xml(results))
    below = False
    if coverage is not None:
        for key, entry in sorted(coverage.rules.items()):
            seen = sum(len(s) for s in entry.seen)
            click.echo(
                f"  {key:<12} fired {'yes' if entry.fired else 'NO ':<3}  near miss {'yes' if entry.near_miss else 'NO ':<3}"
                f"  condition outcomes {seen}/{2 * len(entry.seen)}"
            )
        rules, fired, near, seen, possible = coverage.totals()
        click.echo(
            f"coverage: rules fired {fired}/{rules}, near misses {near}/{rules}, condition outcomes {seen}/{possible}"
        )
        below = min_coverage is not None and coverage.percent() < min_coverage
        if below:
            click.echo(f"coverage {coverage.percent():.1f}% is below --min-coverage {min_coverage:g}%")
    sys.exit(1 if failed or below else 0)


@main.command()
@click.option("--projects", type=click.IntRange(1), required=True, help="How many project files to write.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--tasks", type=click.IntRange(1), default=100, show_default=True, help="Tasks per project (100: about 150 nodes)."
)
@click.option(
    "--breaking",
    type=click.FloatRange(0, 1),
    default=0.3,
    show_default=True,
    help="Share of projects that break policies.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def generate(projects, seed, tasks, breaking, out) -> None:
    """Write a synthetic portfolio: one pmo-state/1 JSON file per project, deterministic for a seed."""
    written = write_portfolio(out, projects, seed=seed, tasks=tasks, breaking_share=breaking)
    click.echo(f"wrote {len(written)} files to {out}")


SCHEMAS = {
    "ruleset": "governance_engine.language.model:RulesetSpec",
    "pack": "governance_engine.language.model:PackSpec",
    "report": "governance_engine.report.model:Report",
    "tests": "governance_engine.tester:TestFile",
    "state": "governance_engine.state.model:state_json_schema",
    "waivers": "governance_engine.decide.waivers:WaiverFile",
}


@main.command()
@click.argument("document", type=click.Choice(sorted(SCHEMAS)))
def schema(document) -> None:
    """Print the JSON Schema of a document type, generated from its pydantic model (for the
    YAML language server: `# yaml-language-server: $schema=ruleset.schema.json`)."""
    import importlib
    import json

    module, name = SCHEMAS[document].split(":")
    model = getattr(importlib.import_module(module), name)
    generated = model() if callable(model) and not isinstance(model, type) else model.model_json_schema(by_alias=True)
    click.echo(json.dumps(generated, indent=2, sort_keys=True))


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--pack", "packs", multiple=True, help="Pack name or directory, or a ruleset file (repeatable).")
@click.option("--pmo-type", type=PMO_TYPES, help="Judge every project as this PMO type.")
@click.option("--as-of", callback=parse_date, help="Evaluation date for every file (default: each file's own as_of).")
@click.option("--jobs", type=click.IntRange(1), help="Worker processes (default: all cores).")
@click.option("--engine", "evaluator", type=EVALUATORS, default="snapshot", show_default=True)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["jsonl", "json", "csv", "junit", "md", "sarif", "html"]),
    multiple=True,
    help="Extra outputs (repeatable): audit.json, decisions.csv, report.junit.xml, report.md, audit.sarif, audit.html. decisions.jsonl, files.jsonl, report.json and manifest.json are always written.",
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("audit-out"), show_default=True)
@click.option("--resume", is_flag=True, help="Finish an interrupted run in --out without evaluating done files again.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--waivers", type=click.Path(dir_okay=False), help="A waivers file applied to every input.")
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_LEVELS),
    multiple=True,
    help="Exit 1 also on insufficient evidence (always on unwaived blocking decisions).",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="Where to evaluate: worker processes here, or a Dask cluster (needs --scheduler).",
)
@click.option("--scheduler", metavar="ADDRESS", help="The Dask scheduler for --executor dask (tcp://host:8786).")
@click.option(
    "--verify",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="MANIFEST",
    help="Re-run the audit a manifest.json describes and compare. Exit 0 identical, 1 differs.",
)
@reports_errors
def audit(
    paths,
    packs,
    pmo_type,
    as_of,
    jobs,
    evaluator,
    formats,
    out,
    resume,
    quiet,
    waivers,
    fail_on,
    executor,
    scheduler,
    verify,
) -> None:
    """Evaluate many state files (files, folders, globs) in parallel. Exit 0: nothing blocking;
    1: unwaived blocking decisions (or at a --fail-on level); 2: bad usage, or the report
    cannot be written (disk full: finish with --resume); 3: some inputs could not be
    evaluated (each recorded in the report with its error)."""
    from ..executors import DaskExecutor
    from ..manifest import verify as verify_manifest

    runner = DaskExecutor(scheduler) if executor == "dask" else None
    if verify:
        found = verify_manifest(verify, jobs=jobs, executor=runner)
        click.echo(found.render(), nl=False)
        sys.exit(0 if found.identical else 1)
    if not paths:
        raise UsageError("give the state files to audit (files, folders, globs), or --verify MANIFEST")
    settings = AuditSettings(tuple(packs) or None, evaluator, pmo_type, as_of, waivers)
    total = len(discover_states(list(paths), skip=out))
    show = not quiet and sys.stderr.isatty()
    with click.progressbar(length=total, label="evaluating", file=sys.stderr if show else open(os.devnull, "w")) as bar:
        try:
            result = run_audit(
                list(paths),
                out,
                settings,
                jobs=jobs,
                csv_output="csv" in formats,
                json_output="json" in formats,
                resume=resume,
                progress=bar.update,
                executor=runner,
            )
        except KeyboardInterrupt:
            click.echo(f"\ninterrupted: partial report in {out}; finish with --resume", err=True)
            sys.exit(130)
    _write_formats(out, formats, tuple(packs) or None)
    counts = ", ".join(f"{n} {k}" for k, n in result.summary.items() if n) or "no decisions"
    click.echo(f"{result.files} files, {len(result.failed)} failed: {counts} -> {out}")
    for failure in result.failed[:20]:
        click.echo(f"  failed: {failure['error']}", err=True)
    sys.exit(result.exit_code(fail_on))


def _write_formats(out: Path, formats: tuple[str, ...], packs: tuple[str, ...] | None) -> None:
    """The extra outputs asked for, each written whole or not at all; a write that fails is
    an OutputError (exit 2), never taken for blocking decisions."""
    from ..render import audit_formats

    def sarif(folder: Path) -> Path:
        from ..render.sarif import write_sarif

        return write_sarif(folder, packs)

    def html(folder: Path) -> Path:
        from ..render.html import write_html  # Jinja2, only when the page is asked for

        return write_html(folder)

    writers = {
        "junit": ("report.junit.xml", audit_formats.write_junit),
        "md": ("report.md", audit_formats.write_markdown),
        "sarif": ("audit.sarif", sarif),
        "html": ("audit.html", html),
    }
    for fmt, (name, write) in writers.items():
        if fmt in formats:
            try:
                write(out)
            except OSError as error:
                raise OutputError(
                    f"cannot write: {error.strerror or error}; the audit itself is complete in {out}",
                    Location(file=str(out / name)),
                ) from None


@main.command("lint")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--waivers", type=click.Path(dir_okay=False, path_type=Path), help="Also check a waivers file against these packs."
)
@reports_errors
def lint_command(paths, fmt, waivers) -> None:
    """Check rulesets and packs: schema, vocabulary (did you mean ...), kinds of values,
    paths, messages, authority caps, versions, tighten-only layering and untested rules.
    Exit 0: clean or warnings only; 1: errors; 2: unreadable input."""
    import json

    diagnostics, unreadable = lint(list(paths), waivers)
    if fmt == "json":
        click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2))
    else:
        for diagnostic in diagnostics:
            click.echo(str(diagnostic))
        counts = {level: sum(d.level == level for d in diagnostics) for level in ("error", "warning", "info")}
        click.echo(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    sys.exit(2 if unreadable else 1 if any(d.level == "error" for d in diagnostics) else 0)


@main.command("explain")
@click.argument("state", type=click.Path(dir_okay=False))
@click.option("--rule", "rule_id", required=True, help="Rule id to explain.")
@click.option("--subject", help="Only this node.")
@click.option("--pmo-type", type=PMO_TYPES, help="Judge every project as this PMO type.")
@click.option("--pack", "packs", multiple=True, help="Pack name or directory, or a ruleset file (repeatable).")
@click.option("--as-of", callback=parse_date)
@reports_errors
def explain_command(state, rule_id, subject, pmo_type, packs, as_of) -> None:
    """Why a rule did or did not fire: for each candidate subject, every part of its condition
    with the values it saw and the related nodes graph functions counted."""
    from ..decide.explain import explain, render_trace

    engine = Engine(list(packs) or None)
    click.echo(render_trace(explain(engine, state, rule_id, subject, pmo_type, as_of)), nl=False)


@main.command("impact")
@click.argument("paths", nargs=-1, required=True)
@click.option("--from", "before", multiple=True, required=True, help="The current pack(s).")
@click.option("--to", "after", multiple=True, required=True, help="The proposed pack(s).")
@click.option("--pmo-type", type=PMO_TYPES, help="Judge every project as this PMO type.")
@click.option("--as-of", callback=parse_date)
@click.option("--jobs", type=click.IntRange(1), help="Worker processes (default: all cores).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@reports_errors
def impact_command(paths, before, after, pmo_type, as_of, jobs, fmt) -> None:
    """What a ruleset change would change: every snapshot evaluated under both packs;
    decisions added, removed and changed in outcome, per subject, with totals."""
    import json

    from ..impact import ImpactSettings, describe, run_impact

    result = run_impact(list(paths), ImpactSettings(before, after, pmo_type, as_of), jobs)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        header = "| file | subject | rule | before | after |\n|---|---|---|---|---|" if fmt == "md" else ""
        rows = [
            (
                f"| {c['file']} | {c['subject']} | {c['rule_id']} | {c['before'] or '–'} | {c['after'] or '–'} |"
                if fmt == "md"
                else f"{c['file']}  {c['subject']:<20} {c['rule_id']:<6} {c['before'] or '-':>21} -> {c['after'] or '-'}"
            )
            for c in result["changes"]
        ]
        click.echo("\n".join([describe(result), "", *([header] if header else []), *rows]))
    sys.exit(3 if result["failed"] else 0)


@main.group("new")
def new_group() -> None:
    """Scaffolding: a rule or a pack with test cases beside it, passing from the start."""


@new_group.command("rule")
@click.argument("rule_id")
@click.option(
    "--module",
    "module_file",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The ruleset file to add the rule to (created if absent).",
)
@click.option("--title", default="Describe what the rule checks", show_default=True)
@reports_errors
def new_rule_command(rule_id, module_file, title) -> None:
    """Add a rule to a ruleset file, with a firing case and a near miss in tests/ beside it."""
    for path in new_rule(module_file, rule_id, title):
        click.echo(f"wrote {path}")


@new_group.command("pack")
@click.argument("name")
@click.option("--extends", help="A shipped pack (supportive, controlling, directive) or a sibling pack directory.")
@click.option("--pmo-type", type=PMO_TYPES, required=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where the pack directory goes.",
)
@reports_errors
def new_pack_command(name, extends, pmo_type, out) -> None:
    """A pack that builds on another, with one rule of its own and its test cases."""
    for path in new_pack(out, name, extends, pmo_type):
        click.echo(f"wrote {path}")


@main.command("catalogue")
@click.argument("packs", nargs=-1, required=True)
@click.option("--write", is_flag=True, help="Write the catalogue into each pack directory's README.md.")
@click.option("--check", is_flag=True, help="Exit 1 when a pack's README.md is not current.")
@reports_errors
def catalogue_command(packs, write, check) -> None:
    """The rule catalogue of each pack (id, condition, outcome per PMO type, parameters,
    references), generated from its rules."""
    from ..catalogue import catalogue, with_catalogue
    from ..language.packs import load_pack, shipped_root

    stale = []
    for ref in packs:
        directory = Path(ref) if Path(ref).is_dir() else shipped_root() / ref
        if not (directory / "pack.yaml").is_file():
            raise UsageError(f"{ref}: a catalogue is written into a pack's README: give a pack directory or name")
        pack = load_pack(ref)
        readme = directory / "README.md"
        current = (
            readme.read_text(encoding="utf-8") if readme.exists() else f"# The {pack.name} pack\n\n{pack.description}\n"
        )
        wanted = with_catalogue(current, pack)
        if write:
            readme.write_text(wanted, encoding="utf-8")
            click.echo(f"wrote {readme}")
        elif check:
            if current != wanted:
                stale.append(str(readme))
        else:
            click.echo(catalogue(pack))
    for path in stale:
        click.echo(f"{path} is not current: run govern catalogue --write", err=True)
    sys.exit(1 if stale else 0)


@main.command("diff")
@click.argument("old", type=click.Path(file_okay=False, path_type=Path))
@click.argument("new", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@reports_errors
def diff_command(old, new, fmt) -> None:
    """Decisions that appeared, disappeared or changed outcome between two audit output
    directories (last month's and this month's), per project and in total."""
    from ..audit_diff import diff_audits, render_diff

    click.echo(render_diff(diff_audits(old, new), fmt), nl=False)


main.add_command(graph)
main.add_command(import_command)
main.add_command(dcma_command)
