"""Indicators (指标): compute the catalogue with provenance and raise or clear warnings; read the
stored values back, explain one, check plan targets and the 共性要求 checklist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edubrain.errors import ConfigError
from edubrain.indicators.catalogue import family, indicator, indicators
from edubrain.indicators.definitions import Grain
from edubrain.indicators.engine import default_school_year, select_indicators
from edubrain.indicators.explain import explain as _explain
from edubrain.indicators.plans import Plan, load_plans
from edubrain.indicators.run import RunSummary, compute_catalogue
from edubrain.indicators.saved_values import latest_values, stored_years
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases.ready import require_loads, require_workspace
from edubrain.warehouse import Warehouse, open_warehouse


def compute_indicators(
    settings: Settings,
    *,
    school_year: str | None = None,
    ids: list[str] | None = None,
    families: list[str] | None = None,
) -> RunSummary:
    """Compute the catalogue (or some indicators or families) for a school year (default the
    latest in 学籍) at every grain; store it with provenance and raise or clear warnings."""
    for f in families or []:
        family(f)  # unknown family → one clear error
    for i in ids or []:
        indicator(i)
    chosen = select_indicators(ids, families)
    require_workspace(settings)
    # Warnings live in the operational store, where people acknowledge and resolve them.
    with open_warehouse(settings) as wh, open_store(settings) as store:
        require_loads(wh, settings)
        return compute_catalogue(
            wh,
            school_year=school_year,
            indicators=chosen,
            plans=load_plans(settings.workspace.plans),
            max_load_age_days=settings.quality_max_load_age_days,
            warnings=store,
        )


def catalogue() -> list[dict[str, Any]]:
    """The indicator catalogue, without values."""
    return [
        {
            "id": i.id, "family": i.family, "name_zh": i.name_zh, "name_en": i.name_en,
            "unit": i.unit, "grains": [g.value for g in i.grains], "version": i.version,
        }
        for i in indicators()
    ]  # fmt: skip


def _latest_year(wh: Warehouse, year: str | None) -> str:
    years = stored_years(wh)
    if not years:
        raise ConfigError("no indicator values yet: run `edubrain indicators compute`")
    return year or years[-1]


@dataclass(frozen=True)
class StoredValues:
    school_year: str
    grain: Grain
    rows: list[dict[str, Any]]


def stored_values(
    settings: Settings,
    *,
    grain: str = "county",
    ids: list[str] | None = None,
    family_id: str | None = None,
    unit: str | None = None,
    year: str | None = None,
) -> StoredValues:
    """Stored values at one grain: the latest run of each indicator, with thresholds."""
    try:
        chosen = Grain(grain)
    except ValueError:
        raise ConfigError(
            f"--grain {grain!r}: use one of {', '.join(g.value for g in Grain)}"
        ) from None
    wanted = list(ids or [])
    for i in wanted:
        indicator(i)
    if family_id:
        wanted += [i.id for i in family(family_id).indicators]
    require_workspace(settings)
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        school_year = _latest_year(wh, year)
        rows = latest_values(
            wh, school_year=school_year, grain=chosen.value, indicator_ids=wanted or None,
            unit_code=unit,
        )  # fmt: skip
    return StoredValues(school_year, chosen, rows)


def explain(
    settings: Settings, indicator_id: str, school: str, year: str | None = None
) -> dict[str, Any]:
    """The inputs and the arithmetic of one school's value (or its county 学段's CV)."""
    require_workspace(settings)
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        return _explain(wh, indicator_id, school, year)


def headline_rows(settings: Settings, school_year: str | None = None) -> list[dict[str, Any]]:
    """County values of the headline indicators; per 学段 only where an indicator has no county
    value (the 差异系数)."""
    ids = [i.id for i in indicators() if i.headline]
    with open_warehouse(settings, read_only=True) as wh:
        year = school_year or default_school_year(wh)
        rows = latest_values(wh, school_year=year, indicator_ids=ids)
    at_county = {r["indicator_id"] for r in rows if r["grain"] == Grain.COUNTY}
    return [
        r
        for r in rows
        if r["grain"] == Grain.COUNTY
        or (r["grain"] == Grain.STAGE_COUNTY and r["indicator_id"] not in at_county)
    ]


@dataclass(frozen=True)
class PlanReport:
    school_year: str
    progress: list[dict[str, Any]]
    """Plan targets: baseline → target, the value now, what was expected by now, progress."""
    checklist: list[dict[str, Any]]
    """The per-county 共性要求 checklist: pass, fail, no value or not computable."""


def plan_report(settings: Settings, year: str | None = None) -> PlanReport:
    """Plan targets (baseline → target, progress) and the per-county 共性要求 checklist."""
    all_plans = load_plans(settings.workspace.plans)
    with open_warehouse(settings, read_only=True) as wh:
        school_year = _latest_year(wh, year)
        ids = [t.indicator_id for p in all_plans for t in p.targets] + [
            i.indicator_id for p in all_plans for i in p.checklist if i.indicator_id
        ]
        values = latest_values(wh, school_year=school_year, indicator_ids=ids)
    county = [v for v in values if v["grain"] == Grain.COUNTY]
    return PlanReport(
        school_year, progress_rows(all_plans, values), checklist_rows(all_plans, county)
    )


def checklist_rows(plans: list[Plan], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {(v["indicator_id"], v["unit_code"]): v for v in values}
    counties = sorted({(v["unit_code"], v["unit_name"]) for v in values})
    out = []
    for plan in plans:
        for item in plan.checklist:
            for code, name in counties:
                row: dict[str, Any] = {
                    "plan": plan.id, "item": item.item, "county_code": code, "county": name,
                }  # fmt: skip
                if not item.computable:
                    row.update(result="not computable", reason=item.reason)
                else:
                    v = by_key.get((item.indicator_id, code))
                    measured = v["value"] if v else None
                    row.update(
                        indicator=item.indicator_id, requirement=f"{item.op} {item.value:g}",
                        value=measured,
                        result="no value" if measured is None
                        else ("pass" if item.passes(measured) else "fail"),
                    )  # fmt: skip
                out.append(row)
    return out


def progress_rows(plans: list[Plan], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for plan in plans:
        for t in plan.targets:
            for v in values:
                if v["indicator_id"] != t.indicator_id or v["grain"] != t.grain.value:
                    continue
                year = int(v["school_year"][:4])
                p = t.progress(v["value"]) if v["value"] is not None else None
                out.append(
                    {
                        "plan": plan.id, "item": t.item, "indicator": t.indicator_id,
                        "unit_code": v["unit_code"], "unit": v["unit_name"],
                        "baseline": t.baseline, "baseline_year": t.baseline_year,
                        "target": t.target, "target_year": t.target_year,
                        "value": v["value"], "expected_now": t.expected(year),
                        "progress": p,
                        "reached": t.reached(v["value"]) if v["value"] is not None else None,
                    }
                )  # fmt: skip
    return out
