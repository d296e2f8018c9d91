"""`edubrain demo`: generate a synthetic county, ingest every source, print what happened.

Later layers (governance, indicators, the service) extend this command; it is the product's
shortest honest tour. The tour itself is `edubrain.usecases.demo.run_demo`; this module prints
each step as it finishes.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from edubrain.cli.language import say
from edubrain.cli.render import (
    RichProgress,
    audit_tables,
    entity_label,
    fmt_value,
    reason_label,
    role_label,
    scope_label,
    source_label,
    warnings_table,
)
from edubrain.govern.run import GovernSummary
from edubrain.govern.scorecard import ScoreRow
from edubrain.indicators.catalogue import indicator
from edubrain.indicators.warnings import STAGE_LABELS, Level
from edubrain.ingest import FileReport
from edubrain.settings import Settings
from edubrain.sources.generator import GenerationSummary
from edubrain.usecases.demo import DemoIndicators, DemoLogin, run_demo
from edubrain.usecases.ingest import IngestResult
from edubrain.usecases.progress import ByteProgress
from edubrain.usecases.quality import Interop, QualityReport

if TYPE_CHECKING:
    from edubrain.usecases.diagnose import DemoDiagnosis

DEMO_HOME = Path("edubrain-demo")


def _summary_by_source(reports: list[FileReport]) -> Table:
    table = Table(title=say("Ingestion by source (导入汇总)"), show_lines=False)
    for column in ("source", "entity", "files", "read", "accepted", "quarantined", "top reasons"):
        numeric = column in {"files", "read", "accepted", "quarantined"}
        table.add_column(say(column), justify="right" if numeric else "left", no_wrap=not numeric)
    groups: dict[tuple[str, str], list[FileReport]] = defaultdict(list)
    for report in reports:
        groups[(report.source or "standard", report.entity or "?")].append(report)
    for (source, entity_name), group in sorted(groups.items()):
        reasons: Counter[str] = Counter()
        for report in group:
            reasons.update(report.reasons)
        top = ", ".join(f"{reason_label(code)} {n:,}" for code, n in reasons.most_common(2))
        table.add_row(
            source_label(source),
            entity_label(entity_name),
            str(len(group)),
            f"{sum(r.rows_read for r in group):,}",
            f"{sum(r.rows_accepted for r in group):,}",
            f"{sum(r.rows_quarantined for r in group):,}",
            top,
        )
    return table


def _quality_by_source(rows: list[ScoreRow], interop: Interop | None) -> Table:
    table = Table(title=say("Data quality by source (数据质量, 数据互通率)"))
    for column in ("source", "records", "score", "worst dimension", "互通率 %"):
        numeric = column in {"records", "score", "互通率 %"}
        table.add_column(say(column), justify="right" if numeric else "left")
    rates = {r["source"]: r["rate"] for r in (interop.summary(["source"]) if interop else [])}
    for row in rows:
        worst = row.worst_dimension()
        rate = rates.get(row.source)
        table.add_row(
            source_label(row.source),
            f"{row.records:,}",
            f"{row.score:.1f}" if row.score is not None else "—",
            f"{say(worst.value)} {row.dimension_score(worst):.1f}" if worst else "",
            f"{rate:.2f}" if rate is not None else "",
        )
    return table


def _linkage_line(linkage: GovernSummary) -> str:
    mentions = sum(n for e, n in linkage.mentions.items() if e != "teacher")
    line = say(
        "Record linkage: {mentions:,} pupil mentions → {persons:,} pupils (+ {staff:,} staff "
        "by ID number), {review:,} doubtful pairs in the steward's queue",
        mentions=mentions,
        persons=linkage.persons,
        staff=linkage.staff_persons,
        review=linkage.review_items,
    )
    if linkage.evaluation:
        line += say(
            "; against the generator's truth: pairwise precision {precision:.4f}, "
            "recall {recall:.4f}",
            precision=linkage.evaluation["precision"],
            recall=linkage.evaluation["recall"],
        )
    return line + say(".")


def _headline_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=say("Headline indicators (核心指标, county)"))
    for column in ("indicator", "学段", "value", "unit", "threshold", "达标"):
        table.add_column(say(column), justify="right" if column == "value" else "left")
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


def _accounts_table(logins: list[DemoLogin]) -> Table:
    table = Table(title=say("Demo accounts (演示账号) — passwords are shown only once"))
    for column in ("user", "password", "role", "scope"):
        table.add_column(say(column), no_wrap=True)
    for login in logins:
        table.add_row(
            login.username, login.password, role_label(login.role), scope_label(login.scope)
        )
    return table


class _Tour:
    """Prints each step of the demo as it finishes (`edubrain.usecases.demo.DemoEvents`)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = self.step = time.perf_counter()
        self.region: GenerationSummary | None = None

    def _done(self, where: object = None) -> None:
        to = f" → {where}" if where is not None else ""
        self.console.print(
            say("    done in {seconds:.1f} s{to}", seconds=time.perf_counter() - self.step, to=to)
        )

    def generating(self, students: int) -> None:
        self.started = self.step = time.perf_counter()
        self.console.print(
            say("[bold]1/4[/] Generating a synthetic county of {students:,} students ...",
                students=students)
        )  # fmt: skip

    def generated(self, region: GenerationSummary) -> None:
        self.region = region
        seconds = time.perf_counter() - self.started
        self.console.print(
            say("    done in {seconds:.1f} s{to}", seconds=seconds, to=f" → {region.out}")
        )

    def ingesting(self, settings: Settings) -> AbstractContextManager[ByteProgress | None]:
        self.step = time.perf_counter()
        self.console.print(say("[bold]2/4[/] Ingesting every export into the warehouse ..."))
        if settings.progress and sys.stderr.isatty():
            return RichProgress(Console(stderr=True))
        return nullcontext(None)

    def ingested(self, result: IngestResult, settings: Settings) -> None:
        self._done(settings.workspace.warehouse)
        self.console.print(_summary_by_source(result.reports))
        self.console.print(
            say(
                "{files} files, {read:,} rows read = {accepted:,} accepted + "
                "{quarantined:,} quarantined ",
                files=len(result.reports),
                read=result.rows_read,
                accepted=result.rows_accepted,
                quarantined=result.rows_quarantined,
            )
            + (
                say("[green](every file balances)[/]")
                if result.balanced
                else say("[red](IMBALANCE: a bug)[/]")
            )
        )
        faults = sum(self.region.faults.values()) if self.region else 0
        self.console.print(say("Injected faults in truth/faults.csv: {faults:,}.", faults=faults))

    def governing(self) -> None:
        self.step = time.perf_counter()
        self.console.print(
            say("[bold]3/4[/] Governing: quality scorecard, record linkage (一人一码) ...")
        )

    def governed(self, linkage: GovernSummary, scores: QualityReport) -> None:
        self._done()
        self.console.print(_quality_by_source(scores.rows(["source"]), scores.interop))
        self.console.print(_linkage_line(linkage))

    def diagnosing(self) -> None:
        self.console.print(
            say("[bold]学情诊断[/]: BKT per knowledge point on the practice log, fairness audit")
        )

    def diagnosed(self, diagnosis: DemoDiagnosis) -> None:
        summary = diagnosis.fit
        self.console.print(
            say(
                "    {students:,} students × {points} points from {responses:,} responses, "
                "one-step AUC {auc:.3f}, {seconds:.1f} s",
                students=summary["students"],
                points=summary["knowledge_points"],
                responses=summary["responses"],
                auc=summary["one_step_auc"],
                seconds=summary["seconds"],
            )
        )
        for table in audit_tables(diagnosis.audit):
            self.console.print(table)

    def computing(self) -> None:
        self.step = time.perf_counter()
        self.console.print(
            say("[bold]4/4[/] Computing the indicator catalogue (指标) and warnings (预警) ...")
        )

    def computed(self, indicators: DemoIndicators) -> None:
        run = indicators.run.run
        warnings = indicators.open_warnings
        self.console.print(
            say(
                "    {indicators} indicators, {values:,} values for {year} in {seconds:.1f} s",
                indicators=run.indicators,
                values=run.values,
                year=run.school_year,
                seconds=run.seconds,
            )
        )
        self.console.print(_headline_table(indicators.headline))
        counts = "  ".join(
            f"{lv.zh} {sum(1 for w in warnings if w.level == lv.value)}" for lv in Level
        )
        self.console.print(
            say("Open warnings (预警): {n} — {counts}", n=len(warnings), counts=counts)
        )
        regional = [w for w in warnings if w.grain in ("county", "stage_county")]
        self.console.print(warnings_table(regional[:8], say("most severe county-level warnings")))
        self._done()


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
    tour = _Tour(console)
    result = run_demo(home, students=students, seed=seed, events=tour)
    settings = result.settings
    again = _this_command()
    console.print(
        say("See why rows were rejected: EDUBRAIN_HOME={home} {again} quarantine --summary",
            home=home, again=again)
    )  # fmt: skip
    console.print(
        say("Drill into quality: EDUBRAIN_HOME={home} {again} quality --rules", home=home,
            again=again)
    )  # fmt: skip
    console.print(_accounts_table(result.logins))
    console.print(
        say(
            "Serve the API and the cockpit: EDUBRAIN_HOME={home} edubrain serve, then open "
            "http://{host}:{port}/ and log in as above",
            home=settings.home,
            host=settings.service_host,
            port=settings.service_port,
        )
    )
    console.print(
        say(
            "Indicators and warnings: EDUBRAIN_HOME={home} {again} indicators show; "
            "... warnings list; ... indicators explain ID --school CODE",
            home=home,
            again=again,
        )
    )
    console.print(say("Total time {seconds:.1f} s.", seconds=time.perf_counter() - tour.started))
    if not result.balanced:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
