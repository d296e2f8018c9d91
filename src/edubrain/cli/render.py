"""Rendering shared by several commands: the ingest progress bar and tables of warnings and of
the fairness audit. Command modules import this, never each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from edubrain.indicators.warnings import IndicatorWarning, Level

if TYPE_CHECKING:  # the models (scipy, pandas) load only when a diagnose command runs
    from edubrain.diagnosis.audit import Audit

LEVEL_STYLE = {"red": "bold red", "orange": "dark_orange", "yellow": "yellow"}


class RichProgress:
    """A byte-based bar on stderr."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._task: Any = None

    def __enter__(self) -> RichProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def start(self, total_bytes: int) -> None:
        self._task = self._bar.add_task("ingest", total=total_bytes)

    def advance(self, n_bytes: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n_bytes)


def fmt_value(value: float | None, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


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


def audit_tables(result: Audit) -> list[Table]:
    """One table per attribute: a row per metric, a column per group, then the gap."""
    from edubrain.diagnosis.audit import METRICS

    tables = []
    for attribute, gaps in result.gaps.items():
        rows = [r for r in result.rows if r.attribute == attribute]
        table = Table(title=f"Fairness audit by {attribute} (公平性审计)")
        table.add_column("metric")
        for r in rows:
            table.add_column(f"{r.group} ({r.students})", justify="right")
        table.add_column("gap", justify="right")
        for metric in METRICS:
            values = [r.metrics[metric] for r in rows]
            if all(np.isnan(v) for v in values):
                continue
            cells = ["" if np.isnan(v) else f"{v:.3f}" for v in [*values, gaps[metric]]]
            table.add_row(metric, *cells)
        tables.append(table)
    return tables
