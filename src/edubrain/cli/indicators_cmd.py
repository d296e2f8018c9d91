"""`edubrain indicators`: compute the catalogue, show values, explain one value, check plans."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import say
from edubrain.cli.render import fmt_value
from edubrain.indicators.catalogue import families, indicator
from edubrain.indicators.definitions import GRAIN_LABELS
from edubrain.indicators.warnings import STAGE_LABELS
from edubrain.settings import load_settings
from edubrain.usecases import compute as usecase
from edubrain.usecases import jobs

app = typer.Typer(
    help="Indicators (指标): compute the official catalogue, show values, explain one value.",
    no_args_is_help=True,
)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


@app.command("compute")
def compute(
    year: Annotated[
        str | None,
        typer.Option("--year", help="School year, e.g. 2025-2026; default the latest in 学籍."),
    ] = None,
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Only this indicator (repeatable).")
    ] = None,
    families: Annotated[
        list[str] | None,
        typer.Option(
            "--family", help="Only this family (repeatable): " + ", ".join(f.id for f in families())
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Compute the catalogue for a school year at every grain; store it with provenance and
    raise or clear warnings."""
    summary = jobs.compute_here(
        load_settings(), school_year=year, ids=ids, families=families, by=jobs.command_line_user()
    )
    run = summary.run
    w = summary.warnings
    payload = {
        "run_id": run.run_id,
        "school_year": run.school_year,
        "computed_at": run.computed_at.isoformat(),
        "indicators": run.indicators,
        "values": run.values,
        "seconds": run.seconds,
        "skipped": run.skipped,
        "warnings": None if w is None else {
            "opened": w.opened, "updated": w.updated, "reopened": w.reopened,
            "resolved": w.resolved, "unchanged": w.unchanged,
        },
        "warnings_skipped": summary.warnings_skipped,
    }  # fmt: skip
    if as_json:
        _echo_json(payload)
        return
    typer.echo(
        say(
            "run {run_id}: {indicators} indicators, {values:,} values for {year} "
            "in {seconds:.1f} s",
            run_id=run.run_id,
            indicators=run.indicators,
            values=run.values,
            year=run.school_year,
            seconds=run.seconds,
        )
    )
    for ind_id, why in run.skipped.items():
        typer.echo(say("  skipped {id}: {why}", id=ind_id, why=say(why)))
    if w is not None:
        typer.echo(
            say(
                "warnings: {opened} opened, {updated} updated, {reopened} reopened, "
                "{resolved} resolved, {unchanged} unchanged (edubrain warnings list)",
                opened=w.opened,
                updated=w.updated,
                reopened=w.reopened,
                resolved=w.resolved,
                unchanged=w.unchanged,
            )
        )
    else:
        typer.echo(say("warnings not evaluated: {why}", why=say(summary.warnings_skipped or "")))


@app.command("show")
def show(
    grain: Annotated[
        str, typer.Option("--grain", help="school, stage_county, county or city.")
    ] = "county",
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="Only this indicator (repeatable).")
    ] = None,
    family_id: Annotated[str | None, typer.Option("--family", help="Only this family.")] = None,
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this school / county / city code.")
    ] = None,
    year: Annotated[str | None, typer.Option("--year", help="School year; default latest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    list_only: Annotated[
        bool, typer.Option("--list", help="List the catalogue (no values).")
    ] = False,
) -> None:
    """Show stored values (the latest run of each indicator), with thresholds."""
    if list_only:
        catalogue = usecase.catalogue()
        if as_json:
            _echo_json(catalogue)
            return
        table = Table(say("id"), "名称", say("unit"), say("grains"),
                      title=say("indicator catalogue (指标目录)"))  # fmt: skip
        for item in catalogue:
            table.add_row(item["id"], item["name_zh"], item["unit"], ", ".join(item["grains"]))
        _console().print(table)
        return
    stored = usecase.stored_values(
        load_settings(), grain=grain, ids=ids, family_id=family_id, unit=unit, year=year
    )
    chosen, school_year, rows = stored.grain, stored.school_year, stored.rows
    if as_json:
        _echo_json(rows)
        return
    table = Table(
        say("indicator"), "名称", GRAIN_LABELS[chosen], "学段", say("value"), say("unit"),
        say("threshold"), "达标",
        title=say("indicators {year} at grain {grain} (latest run)", year=school_year,
                  grain=GRAIN_LABELS[chosen]),
    )  # fmt: skip
    for r in rows:
        ind = indicator(r["indicator_id"])
        table.add_row(
            r["indicator_id"],
            ind.name_zh,
            f"{r['unit_name']} ({r['unit_code']})" if r["unit_name"] != r["unit_code"]
            else r["unit_code"],
            STAGE_LABELS.get(r["stage"], r["stage"]),
            fmt_value(r["value"], ind.decimals),
            ind.unit,
            f"{r['threshold_op']} {r['threshold']:g}" if r["threshold"] is not None else "",
            {True: "✓", False: "✗", None: ""}[r["meets"]],
        )  # fmt: skip
    _console().print(table)
    if not rows:
        typer.echo(say("no values at this grain (edubrain indicators show --list)"))


@app.command("explain")
def explain(
    indicator_id: Annotated[str, typer.Argument(help="Indicator id, e.g. balance.cv.x.")],
    school: Annotated[str, typer.Option("--school", help="The school's 学校标识码.")],
    year: Annotated[str | None, typer.Option("--year", help="School year; default latest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The inputs and the arithmetic of one school's value (or its county 学段's CV)."""
    out = usecase.explain(load_settings(), indicator_id, school, year)
    if as_json:
        _echo_json(out)
        return
    console = _console()
    d = out["indicator"]
    console.print(f"[bold]{d['id']}[/] {d['name_zh']} — {d['name_en']} (v{d['version']})")
    console.print(say("formula: {formula}", formula=d["formula"]))
    if d["filters"]:
        console.print(say("counted: {filters}", filters=d["filters"]))
    if d["notes"]:
        console.print(say("note: {notes}", notes=d["notes"]))
    s = out["school"]
    console.print(
        say(
            "school: {name} ({code}), {stage}, {urban_rural}, county {county}; school year {year}",
            name=s["school_name"],
            code=s["school_code"],
            stage=STAGE_LABELS.get(s["stage"], ""),
            urban_rural=say(s["urban_rural"]),
            county=s["county_code"],
            year=out["school_year"],
        )
    )
    if out["inputs"]:
        columns = list(out["inputs"][0])
        table = Table(*columns, title=say("inputs ({rows} rows)", rows=out["input_rows"]))
        for row in out["inputs"]:
            table.add_row(*(_cell(row[c]) for c in columns))
        console.print(table)
    console.print(say("arithmetic: {arithmetic}", arithmetic=out["arithmetic"]))
    for th in out["thresholds"]:
        verdict = say({True: "met", False: "NOT met", None: "—"}[th["met"]])
        console.print(
            say(
                "threshold ({grains}): {op} {value:g} → {verdict}; {source} [{reliability}]",
                grains=", ".join(say(g) for g in th["grains"]),
                op=th["op"],
                value=th["value"],
                verdict=verdict,
                source=th["source"],
                reliability=th["reliability"],
            )
            + (f" — {th['note']}" if th["note"] else "")
        )
    stored = out["stored"]
    if stored:
        console.print(
            say("stored: {value} at grain {grain}, run {run_id} ({at}), definition v{version}; ",
                value=fmt_value(stored["value"], 6), grain=say(stored["grain"]),
                run_id=stored["run_id"], at=stored["computed_at"],
                version=stored["definition_version"])
            + (say("matches the recomputation") if stored["matches_recomputation"]
               else say("[yellow]differs from the recomputation: data changed since[/]"))
        )  # fmt: skip
        for table_name, prov in stored["inputs"].items():
            if prov:
                console.print(say("  input {table}: {provenance}", table=table_name,
                                  provenance=_provenance(prov)))  # fmt: skip
    else:
        console.print(say("stored: no stored value yet (edubrain indicators compute)"))


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    return "" if v is None else str(v)


def _provenance(prov: dict[str, Any]) -> str:
    parts = [say("{rows:,} rows", rows=prov["rows"])]
    if "loads" in prov:
        parts.append(
            say("{loads} loads, last {load_id} at {at}", loads=prov["loads"],
                load_id=prov["last_load_id"], at=prov["last_loaded_at"])
        )  # fmt: skip
    return "; ".join(parts)


@app.command("plans")
def plans(
    year: Annotated[str | None, typer.Option("--year", help="School year; default latest.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Plan targets (baseline → target, progress) and the per-county 共性要求 checklist."""
    report = usecase.plan_report(load_settings(), year)
    school_year, progress, checklist = report.school_year, report.progress, report.checklist
    if as_json:
        _echo_json({"school_year": school_year, "progress": progress, "checklist": checklist})
        return
    console = _console()
    heads = ("item", "unit", "baseline", "target", "now", "expected", "progress")
    table = Table(*(say(h) for h in heads),
                  title=say("plan targets ({year})", year=school_year))  # fmt: skip
    for r in progress:
        table.add_row(
            r["item"], r["unit"], f"{r['baseline']:g} ({r['baseline_year']})",
            f"{r['target']:g} ({r['target_year']})", fmt_value(r["value"], 1),
            fmt_value(r["expected_now"], 1),
            "—" if r["progress"] is None else f"{r['progress']:.0%}",
        )  # fmt: skip
    console.print(table)
    checklist_heads = ("county", "item", "requirement", "value", "result")
    table = Table(*(say(h) for h in checklist_heads), title=say("共性要求 checklist"))
    for r in checklist:
        table.add_row(
            r["county"], r["item"], r.get("requirement", ""), fmt_value(r.get("value"), 1),
            say(r["result"]) if r["result"] != "not computable"
            else say("n/a: {reason}", reason=say(r["reason"])),
        )  # fmt: skip
    console.print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="indicators")
