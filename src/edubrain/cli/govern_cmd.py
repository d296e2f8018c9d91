"""`edubrain govern`: one person one ID (一人一码) — link, assign IDs, queue doubts for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import say
from edubrain.govern.golden import FIELDS
from edubrain.settings import load_settings
from edubrain.usecases import govern as usecase
from edubrain.usecases import jobs, steward

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
    events = ", ".join(f"{say(name)} {n}" for name, n in summary.events.items())
    console.print(
        say(
            "run {run_id}: {mentions} mentions → {persons} pupils + {staff} staff; "
            "events: {events}; {review} pairs to review; {seconds:.1f} s",
            run_id=summary.run_id,
            mentions=sum(summary.mentions.values()),
            persons=summary.persons,
            staff=summary.staff_persons,
            events=events or "—",
            review=summary.review_items,
            seconds=summary.seconds["total"],
        )
    )
    if summary.evaluation is not None:
        ev = summary.evaluation
        console.print(say("pairwise precision {precision:.4f}, recall {recall:.4f}",
                          precision=ev["precision"], recall=ev["recall"]))  # fmt: skip


@review_app.command("list")
def review_list(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The queue: pairs to decide first, most impact first, then decided ones, with their state
    (待定 / 已判定·生效中 / 已生效) and both mentions side by side (differences marked ≠)."""
    rows = steward.queue(load_settings(), limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    console = Console(width=160)
    for row in rows:
        why = ", ".join(
            f"{w['comparison']} {w['weight']:+.1f}"
            for w in row.get("match_weights") or []
            if w["weight"]
        )
        console.print(
            f"[bold]{row['review_id']}[/bold] {row['state_label']}"
            f"{' (' + row['decision'] + ')' if row['decision'] else ''} · "
            f"p={row['match_probability']:.3f} · impact {row.get('impact') or 0:.2f} · "
            f"{row['reason']}"
        )
        console.print(f"  {row['mention_key_l']}  ↔  {row['mention_key_r']}")
        table = Table("", "left", "right", "", show_header=False, box=None, padding=(0, 2))
        for f in row["fields"]:
            table.add_row(f["label"], f["left"] or "—", f["right"] or "—",
                          "≠" if f["differs"] else "")  # fmt: skip
        console.print(table)
        if why:
            console.print(f"  match weights: {why}")


def _pairs(values: list[str]) -> list[tuple[str, str]]:
    if len(values) % 2:
        raise typer.BadParameter(
            "give mentions (or person IDs) in pairs: LEFT RIGHT [LEFT RIGHT …]"
        )
    return list(zip(values[::2], values[1::2], strict=True))


def _report(outcome: steward.BulkOutcome, apply_now: bool) -> None:
    for done in outcome.recorded:
        typer.echo(f"recorded: {done['mention_key_l']} and {done['mention_key_r']}: "
                   f"{done['verdict']}")  # fmt: skip
    for refused in outcome.refused:
        typer.echo(f"refused #{refused['index'] + 1}: {refused['reason']}", err=True)
    if outcome.recorded:
        if apply_now:
            summary = steward.apply(load_settings())
            typer.echo(f"in effect: {summary.changed_pairs} pair(s) changed, "
                       f"{summary.mentions} mention(s) re-resolved in "
                       f"{summary.seconds.get('total', 0):.1f} s")  # fmt: skip
        else:
            typer.echo("applied by `edubrain govern review apply` (or the next `edubrain govern`)")
    if outcome.refused:
        raise typer.Exit(1)


@review_app.command("decide")
def review_decide(
    refs: Annotated[
        list[str],
        typer.Argument(
            help="LEFT RIGHT [LEFT RIGHT …] [same|different]: mention keys or person IDs (P…)."
        ),
    ],
    verdict: Annotated[
        str | None, typer.Option("--verdict", help="same | different (or give it last).")
    ] = None,
    by: Annotated[str, typer.Option("--by", help="Who decides.")] = "steward",
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    apply_now: Annotated[
        bool, typer.Option("--apply/--no-apply", help="Put it into effect at once.")
    ] = True,
) -> None:
    """Record one decision per pair, each on its own (a refused pair is reported, the others
    kept); by default they take effect at once (the touched persons are re-resolved)."""
    if verdict is None and refs and refs[-1] in ("same", "different"):
        refs, verdict = refs[:-1], refs[-1]
    if verdict is None:
        raise typer.BadParameter("say same or different (last, or with --verdict)")
    decisions = [steward.Decision(a, b, verdict, note) for a, b in _pairs(refs)]
    _report(steward.decide(load_settings(), decisions, by=by), apply_now)


@review_app.command("undo")
def review_undo(
    refs: Annotated[list[str], typer.Argument(help="LEFT RIGHT [LEFT RIGHT …] of decided pairs.")],
    by: Annotated[str, typer.Option("--by", help="Who undoes.")] = "steward",
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    apply_now: Annotated[
        bool, typer.Option("--apply/--no-apply", help="Put it into effect at once.")
    ] = True,
) -> None:
    """Withdraw the newest decision in force on each pair (undoing an undo restores it);
    appended, never deleted. The pair returns to the queue."""
    decisions = [steward.Decision(a, b, "undo", note) for a, b in _pairs(refs)]
    _report(steward.decide(load_settings(), decisions, by=by), apply_now)


@review_app.command("apply")
def review_apply(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Put the decisions into effect without a full run: re-resolve only the persons they
    touch (no re-training) and publish a new warehouse version."""
    summary = steward.apply(load_settings())
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{summary.changed_pairs} pair(s) changed; {summary.mentions} mention(s) "
               f"re-resolved; persons {summary.persons_before} → {summary.persons_after}; "
               f"{summary.seconds.get('total', 0):.1f} s")  # fmt: skip


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
        console.print(say("{old} was merged into {active}", old=person_id, active=active))
    columns = ["field", "value", "rule", "source", "load_id", "mention_key"]
    table = Table(*(say(c) for c in columns), title=say("golden record {id}", id=active))
    for row in lineage:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    console.print(table)
    for c in conflicts:
        others = "; ".join(f"{o['value']} ({', '.join(o['mention_keys'])})"
                           for o in c["other_values"])  # fmt: skip
        console.print(say("conflict {field}: chose {value} ({rule}); {others}", field=c["field"],
                          value=c["chosen_value"], rule=c["rule"], others=others))  # fmt: skip
    for d in decisions:
        console.print(say("decision {field} = {value} by {who} at {at} {note}", field=d["field"],
                          value=d["value"], who=d["decided_by"], at=d["decided_at"],
                          note=d["note"] or ""))  # fmt: skip


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
    table = Table(*(say(c) for c in columns), title=say("value conflicts (字段冲突)"))
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
    typer.echo(say("recorded: {field} of {active} is {value!r}; applied on the next "
                   "`edubrain govern`", field=field, active=active, value=value))  # fmt: skip


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="govern")
