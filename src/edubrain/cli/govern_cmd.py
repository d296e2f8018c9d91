"""`edubrain govern`: one person one ID (一人一码) — link, assign IDs, queue doubts for review."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.govern.run import govern as run_govern
from edubrain.govern.steward import REVIEW_TABLE, decide
from edubrain.settings import load_settings
from edubrain.warehouse import open_warehouse

app = typer.Typer(
    help="Record linkage and persistent person IDs (一人一码); `review` for the steward.",
    invoke_without_command=True,
    no_args_is_help=False,
)
review_app = typer.Typer(help="The steward's review queue: list doubtful links, decide them.")
app.add_typer(review_app, name="review")


@app.callback()
def govern(
    ctx: typer.Context,
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="A generator truth folder: print pairwise precision/recall."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Link every person mention, keep IDs stable, record merges/splits, refresh the queue."""
    if ctx.invoked_subcommand is not None:
        return
    summary = run_govern(load_settings(), truth=truth)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    console = Console(width=120)
    console.print(
        f"run {summary.run_id}: {sum(summary.mentions.values())} mentions → "
        f"{summary.persons} persons; events {summary.events}; "
        f"{summary.review_items} pairs to review; {summary.seconds['total']:.1f} s"
    )
    if summary.evaluation is not None:
        ev = summary.evaluation
        console.print(f"pairwise precision {ev['precision']:.4f}, recall {ev['recall']:.4f}")


@review_app.command("list")
def review_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Doubtful pairs of the last run, most probable first."""
    with open_warehouse(load_settings()) as wh:
        if not wh.has_table(REVIEW_TABLE):
            rows: list[dict[str, object]] = []
        else:
            t = wh.table(REVIEW_TABLE)
            rows = t.order_by(t.match_probability.desc()).limit(limit).to_pyarrow().to_pylist()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    columns = ["review_id", "mention_key_l", "mention_key_r", "match_probability", "reason"]
    table = Table(*columns, title="review queue (待审核)")
    for row in rows:
        table.add_row(*(str(row[c]) for c in columns))
    Console(width=180).print(table)


@review_app.command("decide")
def review_decide(
    left: Annotated[str, typer.Argument(help="A mention key or a person ID (P…).")],
    right: Annotated[str, typer.Argument(help="A mention key or a person ID (P…).")],
    verdict: Annotated[str, typer.Argument(help="same | different")],
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "steward",
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
) -> None:
    """Record a decision; it wins on every later `edubrain govern` run."""
    with open_warehouse(load_settings()) as wh:
        a, b = decide(wh, left, right, verdict, by=by, note=note, now=datetime.now())
    typer.echo(f"recorded: {a} and {b} are {verdict}; applied on the next `edubrain govern`")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="govern")
