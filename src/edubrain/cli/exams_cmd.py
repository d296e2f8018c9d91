"""`edubrain exams value-added`: the value-added fit, added to the exams module's command group.

The module's own commands read the warehouse; this one changes it and runs as a job (recorded
like `edubrain govern`), so it lives with the use cases' commands and joins the group the module
registered.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.errors import ConfigError
from edubrain.settings import load_settings
from edubrain.usecases import jobs


def value_added_cmd(
    school_year: Annotated[
        str | None,
        typer.Option("--year", help="Only this school year (e.g. 2025-2026); default every year."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """增值评价: fit school and class value-added of every exam with a prior and store it."""
    found = jobs.value_added_here(
        load_settings(), school_year=school_year, by=jobs.command_line_user()
    )
    if as_json:
        payload = {"exams": found.pairs, "fitted": found.fitted, "notes": found.notes}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for line in found.notes:
        typer.echo(line)
    typer.echo(
        say(
            "{fitted} of {exams} exams fitted; {rows} value-added rows stored.",
            fitted=found.fitted,
            exams=found.pairs,
            rows=len(found.rows),
        )
    )


def register(root: typer.Typer) -> None:
    for group in root.registered_groups:
        if group.name == "exams" and group.typer_instance is not None:
            group.typer_instance.command("value-added")(value_added_cmd)
            return
    raise ConfigError("the exams module's command group is not registered")
