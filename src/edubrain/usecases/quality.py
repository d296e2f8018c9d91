"""Data quality: the scorecard per source × school × load (stored for the service), drill-down to
a rule's offending rows, and 数据互通率."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from edubrain.govern.quality import RuleContext, offending_rows, rules
from edubrain.govern.scorecard import (
    GROUPINGS,
    ScoreRow,
    freshness,
    interop_rates,
    interop_summary,
    linkage_resolver,
    rollup,
    scorecard,
    store_scorecard,
)
from edubrain.settings import Settings
from edubrain.usecases.ready import require_loads, require_workspace
from edubrain.warehouse import Warehouse, open_warehouse


def rule_context(settings: Settings, as_of: date | None = None) -> RuleContext:
    """Timeliness is measured at `as_of` (default today) against the settings' load age."""
    return RuleContext(
        as_of=as_of or date.today(), max_load_age_days=settings.quality_max_load_age_days
    )


def rule_catalogue() -> list[dict[str, str]]:
    return [
        {
            "id": r.id,
            "entity": r.entity,
            "dimension": r.dimension.value,
            "severity": r.severity.value,
            "description_zh": r.description_zh,
            "description_en": r.description_en,
        }
        for r in rules()
    ]


@dataclass(frozen=True)
class Interop:
    """数据互通率: per source × entity × school, records resolving to a 学籍 pupil."""

    rates: list[dict[str, Any]]
    through_linkage: bool
    """Resolved through record linkage (一人一码), not only by 学籍号."""

    def summary(self, by: Sequence[str]) -> list[dict[str, Any]]:
        return interop_summary(self.rates, by)


@dataclass(frozen=True)
class QualityReport:
    ctx: RuleContext
    units: list[ScoreRow]
    """One row per source × school × load × entity."""
    freshness: list[dict[str, Any]]
    interop: Interop | None = None

    def rows(self, by: Sequence[str]) -> list[ScoreRow]:
        """The scorecard rolled up to `by` (fields of `GROUPINGS`)."""
        return rollup(self.units, by)

    def stale(self) -> list[dict[str, Any]]:
        return [f for f in self.freshness if f["stale"]]


def score(settings: Settings, *, as_of: date | None = None, interop: bool = False) -> QualityReport:
    """Compute the scorecard, store it (the service reads it from the warehouse) and measure
    freshness; with `interop`, also 数据互通率."""
    ctx = rule_context(settings, as_of)
    require_workspace(settings)
    with open_warehouse(settings) as wh:
        require_loads(wh, settings)
        units = scorecard(wh, ctx)
        store_scorecard(wh, units, ctx)
        fresh = freshness(wh, ctx)
        rates = _interop(wh) if interop else None
    return QualityReport(ctx, units, fresh, rates)


def interop_report(settings: Settings) -> Interop:
    require_workspace(settings)
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        return _interop(wh)


def _interop(wh: Warehouse) -> Interop:
    resolver = linkage_resolver(wh)
    rates = interop_rates(wh, resolver=resolver).to_pyarrow().to_pylist()
    return Interop(rates, through_linkage=resolver is not None)


@dataclass(frozen=True)
class Offending:
    columns: list[str]
    rows: list[dict[str, Any]]


def offending(
    settings: Settings,
    rule_id: str,
    *,
    as_of: date | None = None,
    school: str | None = None,
    limit: int = 20,
) -> Offending:
    """The rows a rule finds wrong, optionally of one school, at most `limit`."""
    ctx = rule_context(settings, as_of)
    require_workspace(settings)
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        found = offending_rows(wh, rule_id, ctx, school=school, limit=limit)
        return Offending(list(found.columns), found.to_pyarrow().to_pylist())


__all__ = [
    "GROUPINGS",
    "Interop",
    "Offending",
    "QualityReport",
    "interop_report",
    "offending",
    "rule_catalogue",
    "rule_context",
    "score",
]
