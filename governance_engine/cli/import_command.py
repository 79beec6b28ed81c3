"""`govern import`: a schedule file (MSPDI, XER, PSPLIB) in, a pmo-state/1 JSON file out."""

from __future__ import annotations

import json
import sys

import click

from ..errors import Location, StateError
from ..importers import FORMATS, load_schedule
from .options import PMO_TYPES, reports_errors


@click.command("import")
@click.argument("schedule", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Schedule format (default: by suffix or content).")
@click.option("--pmo-type", type=PMO_TYPES, help="Record this PMO type in the state's graph attributes.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="State file to write ('-' for stdout).",
)
@reports_errors
def import_command(schedule, fmt, pmo_type, out) -> None:
    """Import an MS Project XML, Primavera P6 XER or PSPLIB .sm schedule as pmo-state/1."""
    doc = load_schedule(schedule, fmt, pmo_type=pmo_type)
    text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    if out == "-":
        sys.stdout.write(text)
        return
    try:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as err:
        raise StateError(f"cannot write state file: {err.strerror or err}", Location(file=out)) from None
    work = [node for node in doc["nodes"] if node["type"] in ("task", "milestone")]
    summaries = sum(1 for node in work if node.get("summary"))
    links = sum(1 for edge in doc["edges"] if edge["relation"] == "depends_on")
    click.echo(
        f"wrote {out}: {len(work) - summaries} activities, {summaries} summary tasks, {links} relationships",
        err=True,
    )
