"""`govern dcma FILE`: the DCMA 14-point schedule health report of one schedule."""

from __future__ import annotations

import sys

import click

from .options import parse_date, reports_errors


@click.command("dcma")
@click.argument("schedule", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@click.option("--as-of", callback=parse_date, help="Status date (default: the file's, else today).")
@reports_errors
def dcma_command(schedule, fmt, as_of) -> None:
    """DCMA 14-point assessment of an MSPDI (.xml), XER (.xer) or pmo-state/1 file.

    Exit 0 when every scored metric passes, 1 when any fails, 2 on bad input.
    """
    from ..dcma import assess, render

    report = assess(schedule, as_of)
    click.echo(render(report, fmt), nl=False)
    sys.exit(0 if report.passed else 1)
