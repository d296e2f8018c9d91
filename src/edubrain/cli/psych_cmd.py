"""`edubrain psych screen`: score every screening sitting by its scale (the example and the
bureau's own scale files in home/scales/).

Runs a use case that changes the warehouse, so it lives with the use cases' commands and is
registered only when the psych module is installed. It prints counts only: a pupil's result is
for the psychology teacher of the pupil's school, in the service.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.settings import load_settings
from edubrain.usecases import jobs


def screen_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """心理筛查: score every sitting by its scale and tell the counts."""
    found = jobs.psych_screening_here(load_settings(), by=jobs.command_line_user())
    warnings = sum(1 for w in found.table.column("warning").to_pylist() if w)
    if as_json:
        payload = {"sittings": found.table.num_rows, "warnings": warnings, "notes": found.notes}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for line in found.notes:
        typer.echo(line)
    typer.echo(say("{sittings} sittings scored.", sittings=found.table.num_rows))


def register(root: typer.Typer) -> None:
    group = typer.Typer(
        help="心理筛查: psychological screening by a scale as data.", no_args_is_help=True
    )
    group.command("screen")(screen_cmd)
    root.add_typer(group, name="psych")
