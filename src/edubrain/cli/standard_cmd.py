"""`edubrain standard`: show the data standard and write its generated documentation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import say
from edubrain.standard.entities import entities, entity

standard_app = typer.Typer(help="The data standard (数据标准): entities, fields, code tables.")


@standard_app.command("show")
def show(
    name: Annotated[
        str | None, typer.Argument(help="Entity to show; all entities if omitted.")
    ] = None,
) -> None:
    """List the entities, or one entity's fields."""
    console = Console()
    if name is None:
        table = Table(say("entity"), "中文", say("natural key"), say("fields"))
        for e in entities():
            table.add_row(e.name, e.label, ", ".join(e.natural_key), str(len(e.fields)))
        console.print(table)
        return
    e = entity(name)
    table = Table(say("field"), "中文", say("type"), say("required"), say("data class"),
                  title=f"{e.name} — {e.label}")  # fmt: skip
    for f in e.fields:
        table.add_row(f.name, f.label, say(f.type.value), say("yes") if f.required else "",
                      f.data_class)  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(standard_app, name="standard")
