"""`edubrain growth score`: score every pupil-term's 综合素质评价 records by the scheme (the
packaged example, or the bureau's own file in home/schemes/).

Runs a use case that changes the warehouse, so it lives with the use cases' commands and is
registered only when the growth module is installed. It prints counts only.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.settings import load_settings
from edubrain.usecases import jobs


def score_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """综合素质评价: score every pupil-term by the scheme and tell the counts."""
    found = jobs.growth_scores_here(load_settings(), by=jobs.command_line_user())
    pupils = len(set(found.table.column("student_number").to_pylist()))
    declines = sum(1 for d in found.table.column("decline").to_pylist() if d)
    if as_json:
        payload = {"pupils": pupils, "declines": declines, "notes": found.notes}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for line in found.notes:
        typer.echo(line)
    typer.echo(say("{pupils} pupils scored.", pupils=pupils))


def register(root: typer.Typer) -> None:
    group = typer.Typer(
        help="综合素质评价: five-domain evaluation by a scheme as data.", no_args_is_help=True
    )
    group.command("score")(score_cmd)
    root.add_typer(group, name="growth")
