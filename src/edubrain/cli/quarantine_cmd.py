"""`edubrain quarantine`: what was rejected, where, and why — for the data office."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import current, say
from edubrain.settings import load_settings
from edubrain.usecases.ingest import quarantined
from edubrain.usecases.ready import require_workspace


def quarantine(
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only this reason (code or name, 日期无效).")
    ] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="Only files whose path contains this text.")
    ] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="open (未处理: no later load accepted the row's key), resolved (已解决) or all.",
        ),
    ] = "all",
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
    summary: Annotated[
        bool, typer.Option("--summary", help="Counts by file, reason and status instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Show quarantined rows (file, row, field, reason, status, message), newest loads first."""
    if status not in ("open", "resolved", "all"):
        raise typer.BadParameter(say("open, resolved or all"), param_hint="--status")
    require_workspace(load_settings())  # a missing workspace: say what to run first
    found = quarantined(
        load_settings(),
        reason=reason,
        file=file,
        entity=entity,
        status=None if status == "all" else status,
        limit=limit,
        summary=summary,
    )
    rows, columns = found.rows, found.columns
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    # In Chinese the reason's name (原因) stands for its code.
    shown = [c for c in columns if not (c == "reason" and "原因" in columns and current() != "en")]
    table = Table(*(say(c) for c in shown), title=say("quarantine (隔离区)"))
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in shown))
    if not rows:
        Console().print(say("no quarantined rows match"))
        return
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.command("quarantine")(quarantine)
