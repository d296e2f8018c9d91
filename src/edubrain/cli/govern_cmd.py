"""`edubrain govern`: one person one ID (一人一码) — link, assign IDs, queue doubts for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.govern.golden import FIELDS
from edubrain.settings import load_settings
from edubrain.usecases import govern as usecase
from edubrain.usecases import jobs

app = typer.Typer(
    help="Record linkage and persistent person IDs (一人一码); `review` for the steward.",
    invoke_without_command=True,
    no_args_is_help=False,
)
review_app = typer.Typer(help="The steward's review queue: list doubtful links, decide them.")
app.add_typer(review_app, name="review")
golden_app = typer.Typer(
    help="Golden records (黄金记录): show one with lineage, list value conflicts, decide a value."
)
app.add_typer(golden_app, name="golden")


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
    summary = jobs.govern_here(load_settings(), truth=truth, by=jobs.command_line_user())
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    console = Console(width=120)
    console.print(
        f"run {summary.run_id}: {sum(summary.mentions.values())} mentions → "
        f"{summary.persons} pupils + {summary.staff_persons} staff; events {summary.events}; "
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
    rows = usecase.review_queue(load_settings(), limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    columns = ["review_id", "mention_key_l", "mention_key_r", "match_probability", "reason"]
    table = Table(*columns, "match weights", title="review queue (待审核)")
    for row in rows:
        # Why the model scored the pair: each comparison that counted, for (+) or against (−).
        why = ", ".join(
            f"{w['comparison']} {w['weight']:+.1f}"
            for w in row.get("match_weights") or []
            if w["weight"]
        )
        table.add_row(*(str(row[c]) for c in columns), why)
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
    a, b = usecase.decide_pair(load_settings(), left, right, verdict, by=by, note=note)
    typer.echo(f"recorded: {a} and {b} are {verdict}; applied on the next `edubrain govern`")


@golden_app.command("show")
def golden_show(
    person_id: Annotated[str, typer.Argument(help="A person ID (P…); a merged one is followed.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """One golden record: every field with its value, source, load, mention and deciding rule."""
    record = usecase.golden_record(load_settings(), person_id)
    active, lineage = record.person_id, record.lineage
    conflicts, decisions = record.conflicts, record.decisions
    if as_json:
        out = {"person_id": active, "lineage": lineage, "conflicts": conflicts,
               "decisions": decisions}  # fmt: skip
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    console = Console(width=180)
    if active != person_id:
        console.print(f"{person_id} was merged into {active}")
    columns = ["field", "value", "rule", "source", "load_id", "mention_key"]
    table = Table(*columns, title=f"golden record {active}")
    for row in lineage:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)
    for c in conflicts:
        others = "; ".join(f"{o['value']} ({', '.join(o['mention_keys'])})"
                           for o in c["other_values"])  # fmt: skip
        console.print(f"conflict {c['field']}: chose {c['chosen_value']} ({c['rule']}); {others}")
    for d in decisions:
        console.print(f"decision {d['field']} = {d['value']} by {d['decided_by']} "
                      f"at {d['decided_at']} {d['note'] or ''}")  # fmt: skip


@golden_app.command("conflicts")
def golden_conflicts(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Fields whose sources disagree and no steward has decided (the value review queue)."""
    rows = usecase.value_conflicts(load_settings(), limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    columns = ["person_id", "field", "chosen_value", "rule", "other values"]
    table = Table(*columns, title="value conflicts (字段冲突)")
    for row in rows:
        others = row["other_values"]
        assert isinstance(others, list)
        table.add_row(
            *(str(row[c]) for c in columns[:-1]),
            ", ".join(f"{o['value']}×{len(o['mention_keys'])}" for o in others),
        )
    Console(width=180).print(table)


@golden_app.command("decide")
def golden_decide(
    person_id: Annotated[str, typer.Argument(help="A person ID (P…).")],
    field: Annotated[str, typer.Argument(help=f"One of: {', '.join(FIELDS)}.")],
    value: Annotated[str, typer.Argument(help="The value (dates as YYYY-MM-DD).")],
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "steward",
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
) -> None:
    """Record a field's value; it beats survivorship on every later `edubrain govern` run."""
    active = usecase.decide_value(load_settings(), person_id, field, value, by=by, note=note)
    typer.echo(f"recorded: {field} of {active} is {value!r}; applied on the next `edubrain govern`")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="govern")
