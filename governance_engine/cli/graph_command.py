"""`govern graph`: the project-state graph drawn with each node coloured by its strongest
decision. Registered on the `govern` group in cli/main.py."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..decide.waivers import load_waivers
from ..engine import Engine
from .options import (
    as_of_option,
    engine_option,
    packs_option,
    pmo_type_option,
    reports_errors,
)


@click.command("graph")
@click.argument("state", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.dot (DOT text), .svg, .png or .html (inline SVG with every node's decisions). Default: DOT on stdout.",
)
@click.option("--project", help="Draw only this project (or program/portfolio), its contents and their neighbours.")
@pmo_type_option
@packs_option
@as_of_option
@engine_option
@click.option("--waivers", type=click.Path(dir_okay=False), help="A waivers file: waived decisions are drawn dashed.")
@reports_errors
def graph(state, out, project, pmo_type, packs, as_of, evaluator, waivers) -> None:
    """Draw the state: projects, gates, tasks, risks, people, PMOs and their relations,
    projects as boxes of what they contain, each node coloured by its strongest decision.
    Rendering .svg, .png or .html needs Graphviz's `dot` program; .dot does not."""
    from ..render.graph import build, check_format, check_project, picture, write

    if out is not None:
        check_format(out)  # before the evaluation, which takes a while
    engine = Engine(list(packs) or None, evaluator=evaluator)
    index, _ = engine.load(state)
    if project is not None:
        check_project(index, project)
    exceptions = load_waivers(waivers) if waivers else None
    report = engine.evaluate(index, pmo_type=pmo_type, as_of=as_of, waivers=exceptions)
    drawn = picture(index, report, project)
    if out is None:
        sys.stdout.write(build(drawn).source)
        return
    write(drawn, out)
    click.echo(f"wrote {out}: {len(drawn.nodes)} nodes, {len(drawn.edges)} edges", err=True)
