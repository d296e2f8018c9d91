"""`edubrain warnings`: list warnings (预警), acknowledge and resolve them, see their history."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.errors import ConfigError
from edubrain.indicators.warnings import IndicatorWarning, Level, Status, WarningStore
from edubrain.service.store import open_store
from edubrain.settings import load_settings

app = typer.Typer(
    help="Warnings (预警) raised by indicator rules: list, acknowledge, resolve, history.",
    no_args_is_help=True,
)
LEVEL_STYLE = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow"}


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _parse(values: list[str] | None, allowed: type[Level] | type[Status], flag: str) -> list[str]:
    out = []
    for v in values or []:
        try:
            out.append(allowed(v).value)
        except ValueError:
            names = ", ".join(m.value for m in allowed)
            raise ConfigError(f"{flag} {v!r}: use one of {names}") from None
    return out


def warnings_table(rows: list[IndicatorWarning], title: str) -> Table:
    table = Table("id", "级别", "status", "rule", "message", title=title)
    for w in rows:
        level = Level(w.level)
        table.add_row(
            w.warning_id,
            f"[{LEVEL_STYLE[w.level]}]{level.zh}[/]",
            w.status,
            w.rule,
            w.message,
        )
    return table


@app.command("list")
def list_warnings(
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="open, acknowledged or resolved (repeatable); default open and acknowledged.",
        ),
    ] = None,
    level: Annotated[
        list[str] | None, typer.Option("--level", help="red, orange or yellow (repeatable).")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Every status.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to print.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout (no limit).")] = False,
) -> None:
    """Warnings, most severe first."""
    statuses = _parse(status, Status, "--status") or (
        [] if show_all else [Status.OPEN.value, Status.ACKNOWLEDGED.value]
    )
    levels = _parse(level, Level, "--level")
    with open_store(load_settings()) as store:
        rows = WarningStore(store).query(status=statuses, level=levels)
    if as_json:
        _echo_json([w.as_dict() for w in rows])
        return
    counts = {lv: sum(1 for w in rows if w.level == lv.value) for lv in Level}
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(warnings_table(rows[:limit], f"warnings (预警): {len(rows)}"))
    console.print(
        "  ".join(f"{lv.zh} {n}" for lv, n in counts.items())
        + (f"; first {limit} shown" if len(rows) > limit else "")
    )


def _who(who: str | None) -> str:
    if who:
        return who
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command("acknowledge")
def acknowledge(
    warning_id: Annotated[str, typer.Argument(help="The warning's id (W…).")],
    note: Annotated[str, typer.Option("--note", help="What is being done about it.")] = "",
    who: Annotated[str | None, typer.Option("--by", help="Who; default the OS user.")] = None,
) -> None:
    """open → acknowledged: someone has seen it and owns it."""
    with open_store(load_settings()) as store:
        w = WarningStore(store).acknowledge(warning_id, _who(who), note, datetime.now())
    typer.echo(f"{w.warning_id} acknowledged by {w.acknowledged_by}")


@app.command("resolve")
def resolve(
    warning_id: Annotated[str, typer.Argument(help="The warning's id (W…).")],
    note: Annotated[str, typer.Option("--note", help="How it was resolved.")] = "",
    who: Annotated[str | None, typer.Option("--by", help="Who; default the OS user.")] = None,
) -> None:
    """→ resolved. If the next computation still finds the condition, it reopens."""
    with open_store(load_settings()) as store:
        w = WarningStore(store).resolve(warning_id, _who(who), note, datetime.now())
    typer.echo(f"{w.warning_id} resolved by {w.resolved_by}")


@app.command("history")
def history(
    warning_id: Annotated[str, typer.Argument(help="The warning's id (W…).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Every event of one warning: opened, updated, acknowledged, resolved, reopened."""
    with open_store(load_settings()) as opened:
        store = WarningStore(opened)
        w = store.get(warning_id)
        events = store.events(warning_id)
    if as_json:
        _echo_json({"warning": w.as_dict(), "events": events})
        return
    typer.echo(f"{w.warning_id} [{Level(w.level).zh}] {w.status}: {w.message}")
    for e in events:
        typer.echo(
            f"  {e['at']:%Y-%m-%d %H:%M:%S} {e['event']:<13} {e['level']:<6} by {e['who']}"
            + (f" — {e['note']}" if e["note"] else "")
        )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warnings")
