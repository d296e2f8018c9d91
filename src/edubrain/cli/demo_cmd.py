"""`edubrain demo`: generate a synthetic county, ingest every source, print what happened.

Later layers (governance, indicators, the service) extend this command; it is the product's
shortest honest tour.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.diagnose_cmd import demo_diagnosis
from edubrain.cli.govern_cmd import stored_verdicts
from edubrain.cli.indicators_cmd import fmt_value, headline_rows, run_compute
from edubrain.cli.ingest_cmd import RichProgress
from edubrain.cli.service_cmd import show_demo_accounts
from edubrain.cli.warnings_cmd import warnings_table
from edubrain.govern.quality import RuleContext
from edubrain.govern.run import GovernSummary, govern
from edubrain.govern.scorecard import (
    ScoreRow,
    interop_rates,
    interop_summary,
    linkage_resolver,
    rollup,
    scorecard,
    store_scorecard,
)
from edubrain.indicators.catalogue import indicator
from edubrain.indicators.warnings import STAGE_LABELS, Level, Status, WarningStore
from edubrain.ingest import FileReport, ingest_paths
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.warehouse import open_warehouse

DEMO_HOME = Path("edubrain-demo")


def _summary_by_source(reports: list[FileReport]) -> Table:
    table = Table(title="Ingestion by source (导入汇总)", show_lines=False)
    for column in ("source", "entity", "files", "read", "accepted", "quarantined", "top reasons"):
        numeric = column in {"files", "read", "accepted", "quarantined"}
        table.add_column(column, justify="right" if numeric else "left", no_wrap=not numeric)
    groups: dict[tuple[str, str], list[FileReport]] = defaultdict(list)
    for report in reports:
        groups[(report.source or "standard", report.entity or "?")].append(report)
    for (source, entity_name), group in sorted(groups.items()):
        reasons: Counter[str] = Counter()
        for report in group:
            reasons.update(report.reasons)
        top = ", ".join(f"{code} {n:,}" for code, n in reasons.most_common(2))
        table.add_row(
            source,
            entity_name,
            str(len(group)),
            f"{sum(r.rows_read for r in group):,}",
            f"{sum(r.rows_accepted for r in group):,}",
            f"{sum(r.rows_quarantined for r in group):,}",
            top,
        )
    return table


def _quality_by_source(rows: list[ScoreRow], interop: list[dict[str, Any]]) -> Table:
    table = Table(title="Data quality by source (数据质量, 数据互通率)")
    for column in ("source", "records", "score", "worst dimension", "互通率 %"):
        numeric = column in {"records", "score", "互通率 %"}
        table.add_column(column, justify="right" if numeric else "left")
    rates = {r["source"]: r["rate"] for r in interop_summary(interop, ["source"])}
    for row in rollup(rows, ["source"]):
        worst = row.worst_dimension()
        rate = rates.get(row.source)
        table.add_row(
            row.source,
            f"{row.records:,}",
            f"{row.score:.1f}" if row.score is not None else "—",
            f"{worst.value} {row.dimension_score(worst):.1f}" if worst else "",
            f"{rate:.2f}" if rate is not None else "",
        )
    return table


def _linkage_line(linkage: GovernSummary) -> str:
    mentions = sum(n for e, n in linkage.mentions.items() if e != "teacher")
    line = (
        f"Record linkage: {mentions:,} pupil mentions → {linkage.persons:,} pupils "
        f"(+ {linkage.staff_persons:,} staff by ID number), "
        f"{linkage.review_items:,} doubtful pairs in the steward's queue"
    )
    if linkage.evaluation:
        line += (
            f"; against the generator's truth: pairwise precision "
            f"{linkage.evaluation['precision']:.4f}, recall {linkage.evaluation['recall']:.4f}"
        )
    return line + "."


def _headline_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Headline indicators (核心指标, county)")
    for column in ("indicator", "学段", "value", "unit", "threshold", "达标"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for r in rows:
        ind = indicator(r["indicator_id"])
        table.add_row(
            ind.name_zh,
            STAGE_LABELS.get(r["stage"], r["stage"]),
            fmt_value(r["value"], ind.decimals),
            ind.unit,
            f"{r['threshold_op']} {r['threshold']:g}" if r["threshold"] is not None else "",
            {True: "✓", False: "✗", None: ""}[r["meets"]],
        )
    return table


def _indicators_step(console: Console, settings: Settings) -> None:
    """Last year's facility survey first (so trends have a baseline), then this year."""
    with open_warehouse(settings) as wh, open_store(settings) as store:
        run_compute(settings, wh, school_year="2024-2025", families=["info"], warnings=store)
        summary = run_compute(settings, wh, warnings=store)
        headline = headline_rows(wh, summary.run.school_year)
        warnings = WarningStore(store).query(status=[Status.OPEN.value])
    console.print(
        f"    {summary.run.indicators} indicators, {summary.run.values:,} values for "
        f"{summary.run.school_year} in {summary.run.seconds:.1f} s"
    )
    console.print(_headline_table(headline))
    counts = "  ".join(f"{lv.zh} {sum(1 for w in warnings if w.level == lv.value)}" for lv in Level)
    console.print(f"Open warnings (预警): {len(warnings)} — {counts}")
    regional = [w for w in warnings if w.grain in ("county", "stage_county")]
    console.print(warnings_table(regional[:8], "most severe county-level warnings"))


def _this_command() -> str:
    """How the user can call edubrain again: the path they used, relative when it is shorter."""
    used = Path(sys.argv[0])
    if used.name != "edubrain" or not used.is_absolute():
        return "edubrain"
    try:
        return str(used.relative_to(Path.cwd()))
    except ValueError:
        return str(used)


def demo(
    students: Annotated[
        int, typer.Option("--students", min=100, help="Students in the county.")
    ] = 60_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: same seed, same county.")
    ] = 20251,
    home: Annotated[
        Path, typer.Option("--home", help="Demo workspace; rebuilt from scratch on every run.")
    ] = DEMO_HOME,
) -> None:
    """Generate a synthetic county, ingest all its exports, govern them, compute the indicator
    catalogue and its warnings, print a summary."""
    console = Console(width=None if sys.stdout.isatty() else 120)
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    settings = Settings(home=home)
    region_dir = settings.workspace.demo_region

    started = time.perf_counter()
    console.print(f"[bold]1/4[/] Generating a synthetic county of {students:,} students ...")
    summary = generate_region(region_dir, students=students, seed=seed)
    console.print(f"    done in {time.perf_counter() - started:.1f} s → {region_dir}")
    outline = region_dir / "map" / "outline.geojson"
    if outline.is_file():  # the cockpit's map (教育一张图) draws it
        settings.workspace.map_outline.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(outline, settings.workspace.map_outline)

    step = time.perf_counter()
    console.print("[bold]2/4[/] Ingesting every export into the warehouse ...")
    folders = [region_dir / "standard", region_dir / "exports"]
    if settings.progress and sys.stderr.isatty():
        with RichProgress(Console(stderr=True)) as bar:
            reports = ingest_paths(folders, settings, progress=bar)
    else:
        reports = ingest_paths(folders, settings)
    console.print(
        f"    done in {time.perf_counter() - step:.1f} s → {settings.workspace.warehouse}"
    )

    console.print(_summary_by_source(reports))
    read = sum(r.rows_read for r in reports)
    accepted = sum(r.rows_accepted for r in reports)
    quarantined = sum(r.rows_quarantined for r in reports)
    balanced = all(r.rows_read == r.rows_accepted + r.rows_quarantined for r in reports)
    console.print(
        f"{len(reports)} files, {read:,} rows read = {accepted:,} accepted + "
        f"{quarantined:,} quarantined "
        + ("[green](every file balances)[/]" if balanced else "[red](IMBALANCE: a bug)[/]")
    )
    console.print(f"Injected faults in truth/faults.csv: {sum(summary.faults.values()):,}.")
    step = time.perf_counter()
    console.print("[bold]3/4[/] Governing: quality scorecard, record linkage (一人一码) ...")
    linkage = govern(settings, verdicts=stored_verdicts(settings), truth=region_dir / "truth")
    with open_warehouse(settings) as wh:
        ctx = RuleContext(date.today(), max_load_age_days=settings.quality_max_load_age_days)
        quality = scorecard(wh, ctx)
        store_scorecard(wh, quality, ctx)
        interop = interop_rates(wh, resolver=linkage_resolver(wh)).to_pyarrow().to_pylist()
    console.print(f"    done in {time.perf_counter() - step:.1f} s")
    console.print(_quality_by_source(quality, interop))
    console.print(_linkage_line(linkage))
    demo_diagnosis(console, settings, region_dir)
    step = time.perf_counter()
    console.print("[bold]4/4[/] Computing the indicator catalogue (指标) and warnings (预警) ...")
    _indicators_step(console, settings)
    console.print(f"    done in {time.perf_counter() - step:.1f} s")
    console.print(
        f"See why rows were rejected: EDUBRAIN_HOME={home} {_this_command()} quarantine --summary"
    )
    console.print(f"Drill into quality: EDUBRAIN_HOME={home} {_this_command()} quality --rules")
    show_demo_accounts(console, settings)
    console.print(
        f"Indicators and warnings: EDUBRAIN_HOME={home} {_this_command()} indicators show; "
        f"... warnings list; ... indicators explain ID --school CODE"
    )
    console.print(f"Total time {time.perf_counter() - started:.1f} s.")
    if not balanced:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
