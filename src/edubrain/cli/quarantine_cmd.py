"""`edubrain quarantine`: what was rejected, where, and why — for the data office."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.settings import load_settings
from edubrain.warehouse import QUARANTINE_TABLE, open_warehouse


def quarantine(
    reason: Annotated[str | None, typer.Option("--reason", help="Only this reason code.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only files whose path contains this text.")
    ] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
    summary: Annotated[
        bool, typer.Option("--summary", help="Counts by file and reason instead of rows.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Show quarantined rows (file, row, field, reason, message), newest loads first."""
    settings = load_settings()
    with open_warehouse(settings) as wh:
        t = wh.table(QUARANTINE_TABLE)
        if reason:
            t = t.filter(t.reason == reason)
        if file:
            t = t.filter(t.file.contains(file))
        if entity:
            t = t.filter(t.entity == entity)
        if summary:
            grouped = (
                t.group_by(["file", "reason"])
                .aggregate(rows=t.row_number.nunique())
                .order_by(["file", "reason"])
            )
            rows = grouped.to_pyarrow().to_pylist()
            columns = ["file", "reason", "rows"]
        else:
            ordered = t.order_by([t.load_id.desc(), t.file, t.row_number]).limit(limit)
            rows = ordered.select("file", "row_number", "field", "reason", "message")
            rows = rows.to_pyarrow().to_pylist()
            columns = ["file", "row_number", "field", "reason", "message"]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(*columns, title="quarantine (隔离区)")
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.command("quarantine")(quarantine)
