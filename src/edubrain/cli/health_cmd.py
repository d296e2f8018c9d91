"""`edubrain health screen`: classify every health check (WS/T 586, WS/T 456, screening myopia).

Runs a use case that changes the warehouse, so it lives with the use cases' commands and is
registered only when the health module is installed.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.settings import load_settings
from edubrain.usecases import jobs


def screen_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """健康筛查: classify every health check by WS/T 586, WS/T 456 and screening myopia."""
    found = jobs.health_screening_here(load_settings(), by=jobs.command_line_user())
    weight = Counter(v for v in found.table.column("weight_status").to_pylist() if v)
    vision = Counter(v for v in found.table.column("vision_status").to_pylist() if v)
    if as_json:
        payload = {
            "checks": found.table.num_rows,
            "weight_status": dict(weight),
            "vision_status": dict(vision),
            "notes": found.notes,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    for line in found.notes:
        typer.echo(line)
    for name, count in (*weight.most_common(), *vision.most_common()):
        typer.echo(f"{name}\t{count}")
    typer.echo(say("{checks} health checks screened.", checks=found.table.num_rows))


def register(root: typer.Typer) -> None:
    group = typer.Typer(
        help="健康体检: health screening by the national standards.", no_args_is_help=True
    )
    group.command("screen")(screen_cmd)
    root.add_typer(group, name="health")
