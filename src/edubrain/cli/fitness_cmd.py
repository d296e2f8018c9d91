"""`edubrain fitness score`: score every fitness test by the 2014 standard, as a job.

The command runs a use case that changes the warehouse, so it lives with the use cases' commands
(like `edubrain exams value-added`) and is registered only when the fitness module is installed.
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
    """体测评分: score every fitness test by the 国家学生体质健康标准 (2014) and store it."""
    found = jobs.fitness_scores_here(load_settings(), by=jobs.command_line_user())
    status = found.table.column("status").to_pylist()
    if as_json:
        payload = {
            "records": found.table.num_rows,
            "complete": status.count("完整"),
            "missing_items": status.count("缺项"),
            "notes": found.notes,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for line in found.notes:
        typer.echo(line)
    typer.echo(
        say(
            "{records} fitness tests scored; {complete} complete, {missing} with missing items.",
            records=found.table.num_rows,
            complete=status.count("完整"),
            missing=status.count("缺项"),
        )
    )


def register(root: typer.Typer) -> None:
    group = typer.Typer(
        help="体质健康: fitness scoring by the national standard.", no_args_is_help=True
    )
    group.command("score")(score_cmd)
    root.add_typer(group, name="fitness")
