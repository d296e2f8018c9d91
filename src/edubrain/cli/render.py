"""Rendering shared by several commands: the ingest progress bar and tables of warnings and of
the fairness audit. Command modules import this, never each other."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from edubrain.cli.language import current, say
from edubrain.errors import UnknownEntityError
from edubrain.indicators.warnings import IndicatorWarning, Level
from edubrain.ingest.quarantine import reason_name
from edubrain.sources.mapping import builtin_mappings
from edubrain.standard.entities import entity

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
        self._task = self._bar.add_task(say("ingest"), total=total_bytes)

    def advance(self, n_bytes: int) -> None:
        if self._task is not None:
            self._bar.advance(self._task, n_bytes)


def entity_label(name: str | None) -> str:
    """An entity as the reader says it: its Chinese label in Chinese, its name in English."""
    if not name or current() == "en":
        return name or ""
    try:
        return entity(name).label
    except UnknownEntityError:
        return name


def source_label(name: str | None) -> str:
    """A source system as the reader says it: 学籍系统 in Chinese, `xueji` in English."""
    if not name or current() == "en":
        return name or ""
    found = builtin_mappings().get(name)
    if found is not None:
        return found.label
    return say("standard") if name == "standard" else name


def reason_label(code: str) -> str:
    """A quarantine reason: its Chinese name in Chinese, its code in English."""
    return code if current() == "en" else reason_name(code)


def role_label(role: str) -> str:
    """A service role: its Chinese label in Chinese, its code in English."""
    if current() == "en":
        return role
    from edubrain.service.policy import ROLE_LABELS, Role

    try:
        return ROLE_LABELS[Role(role)]
    except ValueError:
        return role


def scope_label(scope: str) -> str:
    """A scope written `level:key` (county:339901): `县 339901` in Chinese, as is in English."""
    if current() == "en":
        return scope
    level, colon, key = scope.partition(":")
    return f"{say(level)} {key}" if colon else say(scope)


def level_label(level: str) -> str:
    """A warning's level: 红/橙/黄 in Chinese, red/orange/yellow in English."""
    return Level(level).zh if current() != "en" else level


def fmt_value(value: float | None, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def warnings_table(rows: list[IndicatorWarning], title: str) -> Table:
    table = Table(say("id"), say("level"), say("status"), say("rule"), say("message"), title=title)
    for w in rows:
        table.add_row(
            w.warning_id,
            f"[{LEVEL_STYLE[w.level]}]{level_label(w.level)}[/]",
            say(w.status),
            say(w.rule),
            w.message,
        )
    return table


def audit_tables(result: Audit) -> list[Table]:
    """One table per attribute: a row per metric, a column per group, then the gap."""
    from edubrain.diagnosis.audit import METRICS

    tables = []
    for attribute, gaps in result.gaps.items():
        rows = [r for r in result.rows if r.attribute == attribute]
        table = Table(title=say("Fairness audit by {attribute} (公平性审计)",
                                attribute=say(attribute)))  # fmt: skip
        table.add_column(say("metric"))
        for r in rows:
            table.add_column(f"{say(r.group)} ({r.students})", justify="right")
        table.add_column(say("gap"), justify="right")
        for metric in METRICS:
            values = [r.metrics[metric] for r in rows]
            if all(np.isnan(v) for v in values):
                continue
            cells = ["" if np.isnan(v) else f"{v:.3f}" for v in [*values, gaps[metric]]]
            table.add_row(say(metric), *cells)
        tables.append(table)
    return tables
