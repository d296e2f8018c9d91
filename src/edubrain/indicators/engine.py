"""Compute the catalogue for a school year at every grain.

Each indicator is one Ibis expression: its base table grouped by each of its grains, the
groups unioned into one long result (indicator, grain, unit, 学段, units, numerator,
denominator, value). The expression runs on whatever backend the tables come from (DuckDB by
default, PySpark for scale-out); thresholds are applied to the few result rows in Python.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis

from edubrain.errors import EdubrainError
from edubrain.govern.quality import Tables
from edubrain.indicators.catalogue import INDICATORS
from edubrain.indicators.definitions import Grain, Indicator, Ratio, WeightedCV
from edubrain.indicators.inputs import Inputs

if TYPE_CHECKING:
    import ibis.expr.types as ir

log = logging.getLogger(__name__)

GROUP_KEYS: dict[Grain, tuple[str, ...]] = {
    Grain.SCHOOL: ("school_code", "stage"),
    Grain.STAGE_COUNTY: ("county_code", "stage"),
    Grain.COUNTY: ("county_code",),
    Grain.CITY: ("city_code",),
}
RESULT_COLUMNS = (
    "indicator_id", "grain", "unit_code", "stage", "units", "numerator", "denominator", "value",
)  # fmt: skip


class IndicatorError(EdubrainError):
    """An indicator could not be computed (names the indicator and the engine's message)."""


class NoSchoolYearError(EdubrainError, ValueError):
    exit_code = 2


def _grouped(ind: Indicator, grain: Grain, base: ir.Table) -> ir.Table:
    keys = GROUP_KEYS[grain]
    f = ind.formula
    if isinstance(f, Ratio):
        num = base[f.numerator].cast("float64")
        if f.denominator is None:
            agg = base.group_by(*keys).aggregate(
                units=base.count(), numerator=num.sum(), denominator=ibis.null("float64")
            )
            value = agg.numerator * f.scale
        else:
            den = base[f.denominator].cast("float64")
            # A unit whose numerator is unknown does not count in the denominator either.
            agg = base.group_by(*keys).aggregate(
                units=base.count(),
                numerator=num.sum(),
                denominator=ibis.ifelse(num.notnull(), den, ibis.null("float64")).sum(),
            )
            value = f.scale * agg.numerator / agg.denominator.nullif(0.0)
    else:
        assert isinstance(f, WeightedCV)
        p = base[f.weight].cast("float64")
        r = base[f.resource].cast("float64")
        rows = base.filter((p > 0) & r.notnull())
        p, r = rows[f.weight].cast("float64"), rows[f.resource].cast("float64")
        agg = rows.group_by(*keys).aggregate(
            units=rows.count(),
            numerator=r.sum(),  # Σ Xᵢ·Pᵢ (the resource)
            denominator=p.sum(),  # P
            sxx=(r * r / p).sum(),  # Σ Xᵢ²·Pᵢ
        )
        mean = agg.numerator / agg.denominator
        variance = ibis.greatest(agg.sxx / agg.denominator - mean * mean, 0.0)
        value = variance.sqrt() / mean.nullif(0.0)
    return agg.select(
        indicator_id=ibis.literal(ind.id),
        grain=ibis.literal(grain.value),
        unit_code=agg[keys[0]].cast("string"),
        stage=(agg.stage.fill_null("") if "stage" in keys else ibis.literal("")),
        units=agg.units.cast("int64"),
        numerator=agg.numerator.cast("float64"),
        denominator=agg.denominator.cast("float64"),
        value=value.cast("float64"),
    )


def indicator_expression(ind: Indicator, inputs: Inputs) -> ir.Table:
    """Every grain of `ind` as one long table (RESULT_COLUMNS)."""
    base = ind.formula.base(inputs)
    parts = [_grouped(ind, g, base) for g in ind.grains]
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


@dataclass(frozen=True)
class Computed:
    """The raw values of one run, before thresholds and storage."""

    school_year: str
    rows: list[dict[str, Any]]
    indicators: tuple[Indicator, ...]
    skipped: dict[str, str]  # indicator id → why it was not computed


def school_years(tables: Tables) -> list[str]:
    st = tables.table("student")
    years = st.select("school_year").distinct().to_pyarrow().column("school_year").to_pylist()
    return sorted(y for y in years if y)


def default_school_year(tables: Tables) -> str:
    years = school_years(tables)
    if not years:
        raise NoSchoolYearError(
            "no school year to compute: the warehouse has no 学籍 (student) rows; "
            "ingest them first or pass --year"
        )
    return years[-1]


def select_indicators(
    ids: Iterable[str] | None = None, families: Iterable[str] | None = None
) -> tuple[Indicator, ...]:
    wanted_ids = set(ids or ())
    wanted_families = set(families or ())
    if not wanted_ids and not wanted_families:
        return INDICATORS
    return tuple(i for i in INDICATORS if i.id in wanted_ids or i.family in wanted_families)


def compute_values(inputs: Inputs, indicators: Sequence[Indicator] = INDICATORS) -> Computed:
    """Run the indicators, one query per family (a failing family is retried indicator by
    indicator so that the error names the indicator)."""
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
    exprs = [indicator_expression(ind, inputs) for ind in indicators]
    expr = ibis.union(*exprs) if len(exprs) > 1 else exprs[0]
    rows: list[dict[str, Any]] = expr.to_pyarrow().select(list(RESULT_COLUMNS)).to_pylist()
    return rows
