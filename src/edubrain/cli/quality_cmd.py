"""`edubrain quality`: data-quality scorecards, drill-down to offending rows, 数据互通率."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import current, say
from edubrain.cli.render import entity_label, source_label
from edubrain.errors import ConfigError
from edubrain.govern.quality import Dimension
from edubrain.govern.scorecard import GROUPINGS, ScoreRow
from edubrain.settings import load_settings
from edubrain.usecases import quality as usecase

# Short names users type for the scorecard's grouping fields.
_BY_ALIASES = {"school": "school_code", "load": "load_id"}
_DIMENSION_HEADERS = {
    Dimension.COMPLETENESS: "完整",
    Dimension.VALIDITY: "有效",
    Dimension.UNIQUENESS: "唯一",
    Dimension.CONSISTENCY: "一致",
    Dimension.REFERENTIAL_INTEGRITY: "关联",
    Dimension.TIMELINESS: "及时",
}


def _grouping(by: str) -> list[str]:
    fields = [_BY_ALIASES.get(part.strip(), part.strip()) for part in by.split(",") if part]
    unknown = [f for f in fields if f not in GROUPINGS]
    if unknown or not fields:
        raise ConfigError(
            say("--by {by!r}: use a comma list of source, school, load, entity (got {unknown})",
                by=by, unknown=unknown)
        )  # fmt: skip
    return fields


def _fmt(score: float | None) -> str:
    return "—" if score is None else f"{score:.1f}"


def scorecard_table(rows: list[ScoreRow], by: list[str], title: str) -> Table:
    table = Table(title=title)
    for name in by:
        table.add_column(say(name), no_wrap=True)
    for name in ("records", "quarantined", "failed", "score"):
        table.add_column(say(name), justify="right")
    for d in Dimension:
        under = f"\n{d.value[:12]}" if current() == "en" else ""
        table.add_column(f"{_DIMENSION_HEADERS[d]}{under}", justify="right")
    table.add_column(say("worst"))
    labels = {"source": source_label, "entity": entity_label}
    for row in rows:
        worst = row.worst_dimension()
        table.add_row(
            *(labels.get(g, str)(str(getattr(row, g))) for g in by),
            f"{row.records:,}",
            f"{row.quarantined:,}",
            f"{row.failed_any:,}",
            _fmt(row.score),
            *(_fmt(row.dimension_score(d)) for d in Dimension),
            say(worst.value) if worst else "",
        )
    return table


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def quality(
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    by: Annotated[
        str,
        typer.Option("--by", help="Scorecard rows: comma list of source, school, load, entity."),
    ] = "source",
    rule_id: Annotated[
        str | None, typer.Option("--rule", help="Drill down: the offending rows of this rule.")
    ] = None,
    school: Annotated[
        str | None, typer.Option("--school", help="With --rule: only this school's rows.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="With --rule: rows to show.")] = 20,
    list_rules: Annotated[bool, typer.Option("--rules", help="List the rule catalogue.")] = False,
    interop: Annotated[
        bool, typer.Option("--interop", help="数据互通率 per source, entity and school.")
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Date (YYYY-MM-DD) timeliness is measured at; default today."),
    ] = None,
) -> None:
    """Data-quality scorecard per source × school × load (rules, dimensions, 数据互通率)."""
    settings = load_settings()
    try:
        when = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise ConfigError(
            say("--as-of {as_of!r} is not a date (YYYY-MM-DD)", as_of=as_of)
        ) from None
    console = Console(width=None if sys.stdout.isatty() else 200)
    if list_rules:
        catalogue = usecase.rule_catalogue()
        if as_json:
            _echo_json(catalogue)
            return
        table = Table(say("id"), say("severity"), say("description"),
                      title=say("quality rules (质量规则)"))  # fmt: skip
        for item in catalogue:
            table.add_row(item["id"], say(item["severity"]), item["description_zh"])
        console.print(table)
        return
    grouping = _grouping(by)
    if rule_id:
        found = usecase.offending(settings, rule_id, as_of=when, school=school, limit=limit)
        if as_json:
            _echo_json(found.rows)
            return
        table = Table(
            *found.columns, title=say("{rule} (first {limit})", rule=rule_id, limit=limit)
        )
        for row in found.rows:
            table.add_row(*(str(row[c]) for c in found.columns))
        console.print(table)
        return
    if interop:
        rates = usecase.interop_report(settings)
        if as_json:
            _echo_json(rates.rates)
            return
        table = Table(*(say(c) for c in ("source", "entity", "school", "records")),
                      say("resolving"), say("rate %"))  # fmt: skip
        table.title = say(
            "数据互通率 (records resolving to a 学籍 pupil, through record linkage)"
            if rates.through_linkage
            else "数据互通率 (records resolving to a 学籍 pupil)"
        )
        for row in rates.summary(["source", "entity"]) + rates.rates:
            table.add_row(
                source_label(row["source"]),
                entity_label(row["entity"]),
                row.get("school_code", "*"),
                f"{row['records']:,}",
                f"{row['resolved']:,}",
                _fmt(row["rate"]),
            )
        console.print(table)
        return
    report = usecase.score(settings, as_of=when)
    ctx = report.ctx
    rows_by = report.rows(grouping)
    if as_json:
        _echo_json(
            {
                "as_of": when.isoformat(),
                "max_load_age_days": ctx.max_load_age_days,
                "by": grouping,
                "scorecard": [
                    {k: v for k, v in r.as_dict().items() if k not in GROUPINGS or k in grouping}
                    for r in rows_by
                ],
                "freshness": report.freshness,
            }
        )
        return
    console.print(
        scorecard_table(rows_by, grouping, say("data quality (数据质量) as of {when}", when=when))
    )
    for f in report.stale():
        console.print(
            say(
                "[yellow]stale:[/] {source}/{entity} last loaded {last} ({days} days; limit "
                "{limit})",
                source=source_label(f["source"]),
                entity=entity_label(f["entity"]),
                last=f["last_loaded"],
                days=f["days_since"],
                limit=ctx.max_load_age_days,
            )
        )
    console.print(say("Drill down: edubrain quality --rules, then edubrain quality --rule ID"))


def register(app: typer.Typer) -> None:
    app.command("quality")(quality)
