"""`edubrain standard`: show the data standard and write its generated documentation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
        table = Table("entity", "中文", "natural key", "fields")
        for e in entities():
            table.add_row(e.name, e.label, ", ".join(e.natural_key), str(len(e.fields)))
        console.print(table)
        return
    e = entity(name)
    table = Table("field", "中文", "type", "required", "class", title=f"{e.name} — {e.label}")
    for f in e.fields:
        table.add_row(f.name, f.label, f.type.value, "yes" if f.required else "", f.data_class)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(standard_app, name="standard")
