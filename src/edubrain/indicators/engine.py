"""Compute the catalogue for a school year at every grain.

The indicators of a family that share a base table run as one Ibis expression: the base
grouped by each grain, every indicator's sums as columns, the grains unioned. It runs on
whatever backend the tables come from (DuckDB by default, PySpark for scale-out). The few
result rows come back to Python, which turns the sums into values (one piece of arithmetic for
every backend) and applies thresholds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from edubrain.errors import EdubrainError, NotFoundError
from edubrain.indicators.catalogue import indicators as catalogue_indicators
from edubrain.indicators.definitions import Grain, Indicator, Ratio, WeightedCV, cv_from_sums
from edubrain.indicators.inputs import Inputs
from edubrain.standard.entities import person_registry
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

log = logging.getLogger(__name__)

GROUP_KEYS: dict[Grain, tuple[str, ...]] = {
    Grain.SCHOOL: ("school_code", "stage"),
    Grain.STAGE_COUNTY: ("county_code", "stage"),
    Grain.COUNTY: ("county_code",),
    Grain.CITY: ("city_code",),
}


class IndicatorError(EdubrainError):
    """An indicator could not be computed (names the indicator and the engine's message)."""


class NoSchoolYearError(NotFoundError):
    """The warehouse has no school year to compute (no 学籍 rows yet)."""


def _aggregates(k: int, ind: Indicator, base: ir.Table) -> dict[str, ir.Value]:
    """The sums indicator number `k` needs from one group of its base rows."""
    f = ind.formula
    if isinstance(f, Ratio):
        num = base[f.numerator].cast("float64")
        aggs = {f"u{k}": base.count(), f"n{k}": num.sum()}
        if f.denominator is not None:
            # A unit whose numerator is unknown does not count in the denominator either.
            den = base[f.denominator].cast("float64")
            aggs[f"d{k}"] = ibis.ifelse(num.notnull(), den, ibis.null("float64")).sum()
        return aggs
    assert isinstance(f, WeightedCV)
    p = base[f.weight].cast("float64")
    r = base[f.resource].cast("float64")
    counted = (p > 0) & r.notnull()
    nothing = ibis.null("float64")
    return {
        f"u{k}": counted.cast("int64").sum(),
        f"n{k}": ibis.ifelse(counted, r, nothing).sum(),  # Σ Xᵢ·Pᵢ (the resource)
        f"d{k}": ibis.ifelse(counted, p, nothing).sum(),  # P
        f"x{k}": ibis.ifelse(counted, r * r / p, nothing).sum(),  # Σ Xᵢ²·Pᵢ
    }


def base_expression(indicators: Sequence[Indicator], base: ir.Table) -> ir.Table:
    """One query for all indicators sharing a base: per grain any of them declares, the sums
    of every indicator (wide), the grains unioned. Few shuffles, which matters on Spark."""
    grains = [g for g in Grain if any(g in i.grains for i in indicators)]
    parts = []
    for grain in grains:
        keys = GROUP_KEYS[grain]
        aggs: dict[str, ir.Value] = {}
        for k, ind in enumerate(indicators):
            aggs.update(_aggregates(k, ind, base))
        agg = base.group_by(*keys).aggregate(**aggs)
        parts.append(
            agg.select(
                grain=ibis.literal(grain.value),
                unit_code=agg[keys[0]].cast("string"),
                stage=agg.stage.fill_null("") if "stage" in keys else ibis.literal(""),
                **{c: agg[c].cast("float64") for c in aggs},
            )
        )
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def _value(ind: Indicator, num: float | None, den: float | None, sxx: float | None) -> float | None:
    """The value from the sums — in Python, so that every backend shares this arithmetic."""
    f = ind.formula
    if num is None:
        return None
    if isinstance(f, WeightedCV):
        return cv_from_sums(den or 0.0, num, sxx or 0.0)
    assert isinstance(f, Ratio)
    if f.denominator is None:
        return f.scale * num
    if not den:
        return None
    return f.scale * num / den


def long_rows(indicators: Sequence[Indicator], wide: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for row in wide:
        grain = Grain(row["grain"])
        for k, ind in enumerate(indicators):
            if grain not in ind.grains:
                continue
            num, den, sxx = row[f"n{k}"], row.get(f"d{k}"), row.get(f"x{k}")
            units = int(row[f"u{k}"] or 0)
            if isinstance(ind.formula, WeightedCV) and units == 0:
                continue  # no school of the group is counted
            rows.append(
                {
                    "indicator_id": ind.id,
                    "grain": grain.value,
                    "unit_code": row["unit_code"],
                    "stage": row["stage"],
                    "units": units,
                    "numerator": num,
                    "denominator": den,
                    "value": _value(ind, num, den, sxx),
                }
            )
    return rows


@dataclass(frozen=True)
class Computed:
    """The raw values of one run, before thresholds and storage."""

    school_year: str
    rows: list[dict[str, Any]]
    indicators: tuple[Indicator, ...]
    skipped: dict[str, str]  # indicator id → why it was not computed


def school_years(tables: Tables) -> list[str]:
    """The school years of the person registry (学籍), oldest first."""
    st = tables.table(person_registry().entity)
    years = st.select("school_year").distinct().to_pyarrow().column("school_year").to_pylist()
    return sorted(y for y in years if y)


def default_school_year(tables: Tables) -> str:
    years = school_years(tables)
    if not years:
        raise NoSchoolYearError(
            "工作区还没有学籍数据：请先运行 edubrain ingest 学籍导出文件夹（或传 --year） — "
            "no school year to compute: the warehouse has no 学籍 (student) rows"
        )
    return years[-1]


def select_indicators(
    ids: Iterable[str] | None = None, families: Iterable[str] | None = None
) -> tuple[Indicator, ...]:
    wanted_ids = set(ids or ())
    wanted_families = set(families or ())
    if not wanted_ids and not wanted_families:
        return catalogue_indicators()
    return tuple(
        i for i in catalogue_indicators() if i.id in wanted_ids or i.family in wanted_families
    )


def compute_values(inputs: Inputs, indicators: Sequence[Indicator] | None = None) -> Computed:
    """Run the indicators (default: the whole catalogue), one query per family (a failing
    family is retried indicator by indicator so that the error names the indicator)."""
    if indicators is None:
        indicators = catalogue_indicators()
    rows: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    runnable: list[Indicator] = []
    for ind in indicators:
        if ind.id == "data.quality_score" and inputs.quality_rows is None:
            skipped[ind.id] = "the quality scorecard was not computed"
        else:
            runnable.append(ind)
    families: dict[str, list[Indicator]] = {}
    for ind in runnable:
        families.setdefault(ind.family, []).append(ind)
    for members in families.values():
        try:
            rows.extend(_run(members, inputs))
        except EdubrainError:
            raise
        except Exception:  # noqa: BLE001 - retried one by one to name the failing indicator
            for ind in members:
                try:
                    rows.extend(_run([ind], inputs))
                except EdubrainError:
                    raise
                except Exception as exc:
                    raise IndicatorError(f"indicator {ind.id} failed: {exc}") from exc
    return Computed(inputs.school_year, rows, tuple(runnable), skipped)


def _run(indicators: Sequence[Indicator], inputs: Inputs) -> list[dict[str, Any]]:
    """Indicators sharing a base (the same base function) run as one query."""
    by_base: dict[int, list[Indicator]] = {}
    for ind in indicators:
        by_base.setdefault(id(ind.formula.base), []).append(ind)
    rows: list[dict[str, Any]] = []
    for group in by_base.values():
        base = group[0].formula.base(inputs)
        wide = base_expression(group, base).to_pyarrow().to_pylist()
        rows.extend(long_rows(group, wide))
    return rows
