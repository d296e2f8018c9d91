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


def _levels(levels: dict[str, int]) -> str:
    return " ".join(f"{lv.zh}{levels.get(lv.value, 0)}" for lv in Level if levels.get(lv.value))


@app.command("groups")
def groups(
    status: Annotated[
        list[str] | None,
        typer.Option("--status", help="open, acknowledged or resolved (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The same condition grouped across units (rule × indicator × threshold × 学段)."""
    found = usecase.warning_groups(load_settings(), statuses=status or [])
    if as_json:
        _echo_json([g.as_dict() for g in found])
        return
    for g in found:
        names = "、".join(str(u["unit_name"] or u["unit_code"]) for u in g.units[:8])
        more = f" 等{len(g.units)}个" if len(g.units) > 8 else ""
        typer.echo(
            f"[{Level(g.level).zh}] {g.title} — {len(g.units)} 个单位（{_levels(g.levels)}），"
            f"涉及学生 {g.pupils:,} 人: {names}{more}"
        )


@app.command("schools")
def schools(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """One line per school: its open and acknowledged warnings by level and its worst item."""
    found = usecase.school_rollup(load_settings())
    if as_json:
        _echo_json([s.as_dict() for s in found])
        return
    for s in found:
        typer.echo(
            f"[{Level(s.level).zh}] {s.school_name} ({s.school_code}) {_levels(s.levels)}"
            f" — 最重: {s.worst['title']}"
        )


@app.command("week")
def week(
    city: Annotated[
        bool, typer.Option("--city", help="A city bureau's list: the city's warnings too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """本周待决策: the open red/orange conditions a leader must decide (at most 10)."""
    regions = ["county", "city"] if city else ["county"]
    items = usecase.this_week(load_settings(), regions=regions)
    if as_json:
        _echo_json([i.as_dict() for i in items])
        return
    typer.echo(f"本周待决策: {len(items)} 项")
    for n, i in enumerate(items, 1):
        g = i.group
        mark = "，新出现或恶化" if i.new_or_worse else ""
        names = "、".join(str(u["unit_name"] or u["unit_code"]) for u in g.units[:3])
        more = " 等" if len(g.units) > 3 else ""
        typer.echo(
            f"{n:>2}. [{Level(g.level).zh}] {g.title} — {names}{more}（{len(g.units)} 个单位），"
            f"涉及学生 {g.pupils:,} 人{mark}"
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
