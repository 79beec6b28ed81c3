"""Option types and helpers shared by the `govern` commands in cli/main.py and the command
modules it registers (graph_command, import_command, dcma_command). They live here, not in
main.py, so that those modules need not import main.py, which imports them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps

import click

from ..errors import GovernanceError
from ..outcomes import PmoType

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


pmo_type_option = click.option("--pmo-type", type=PMO_TYPES, help="Judge every project as this PMO type.")
packs_option = click.option(
    "--pack",
    "packs",
    multiple=True,
    help="Pack name or directory, or a ruleset file (repeatable). Default: the shipped family.",
)
as_of_option = click.option(
    "--as-of", callback=parse_date, help="Evaluation date (default: the state's as_of, else today)."
)
engine_option = click.option(
    "--engine", "evaluator", type=EVALUATORS, default="snapshot", show_default=True, help="Evaluator to use."
)
