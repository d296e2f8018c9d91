"""`edubrain warnings`: list warnings (预警), acknowledge and resolve them, see their history."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

from edubrain.cli.language import say
from edubrain.cli.render import level_label, warnings_table
from edubrain.indicators.warnings import Level
from edubrain.settings import load_settings
from edubrain.usecases import warnings as usecase

app = typer.Typer(
    help="Warnings (预警) raised by indicator rules: list, acknowledge, resolve, history.",
    no_args_is_help=True,
)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


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
    rows = usecase.list_warnings(
        load_settings(), statuses=status or [], levels=level or [], every_status=show_all
    )
    if as_json:
        _echo_json([w.as_dict() for w in rows])
        return
    counts = {lv: sum(1 for w in rows if w.level == lv.value) for lv in Level}
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(warnings_table(rows[:limit], say("warnings (预警): {n}", n=len(rows))))
    console.print(
        "  ".join(f"{level_label(lv.value)} {n}" for lv, n in counts.items())
        + (say("; first {limit} shown", limit=limit) if len(rows) > limit else "")
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
    w = usecase.acknowledge(load_settings(), warning_id, by=_who(who), note=note)
    typer.echo(say("{id} acknowledged by {who}", id=w.warning_id, who=w.acknowledged_by))


@app.command("resolve")
def resolve(
    warning_id: Annotated[str, typer.Argument(help="The warning's id (W…).")],
    note: Annotated[str, typer.Option("--note", help="How it was resolved.")] = "",
    who: Annotated[str | None, typer.Option("--by", help="Who; default the OS user.")] = None,
) -> None:
    """→ resolved. If the next computation still finds the condition, it reopens."""
    w = usecase.resolve(load_settings(), warning_id, by=_who(who), note=note)
    typer.echo(say("{id} resolved by {who}", id=w.warning_id, who=w.resolved_by))


@app.command("history")
def history(
    warning_id: Annotated[str, typer.Argument(help="The warning's id (W…).")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Every event of one warning: opened, updated, acknowledged, resolved, reopened."""
    w, events = usecase.history(load_settings(), warning_id)
    if as_json:
        _echo_json({"warning": w.as_dict(), "events": events})
        return
    typer.echo(f"{w.warning_id} [{Level(w.level).zh}] {say(w.status)}: {w.message}")
    for e in events:
        typer.echo(
            say("  {at:%Y-%m-%d %H:%M:%S} {event:<13} {level:<6} by {who}", at=e["at"],
                event=say(e["event"]), level=level_label(e["level"]), who=e["who"])
            + (f" — {e['note']}" if e["note"] else "")
        )  # fmt: skip


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="warnings")
