"""One computation of the catalogue: values, thresholds, provenance, storage and warnings."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from edubrain.govern.quality import RuleContext
from edubrain.indicators.catalogue import indicator
from edubrain.indicators.catalogue import indicators as catalogue_indicators
from edubrain.indicators.definitions import Grain, Indicator
from edubrain.indicators.engine import compute_values, default_school_year
from edubrain.indicators.inputs import Inputs
from edubrain.indicators.plans import Plan
from edubrain.indicators.saved_values import (
    RunRecord,
    latest_values,
    stored_years,
    write_run,
)
from edubrain.indicators.warnings import (
    SyncResult,
    WarningBook,
    WarningStore,
    decline_conditions,
    target_conditions,
    threshold_conditions,
    trend_conditions,
)
from edubrain.standard.entities import unit_registry
from edubrain.warehouse import LOADS_TABLE, Warehouse
from edubrain.warehouse.api import Tables

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    run: RunRecord
    warnings: SyncResult | None = None
    warnings_skipped: str = ""
    values: list[dict[str, Any]] = field(default_factory=list)


def unit_lookup(inputs: Inputs) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """School code → {name, urban_rural}; region code → name."""
    schools = {r["school_code"]: r for r in inputs.schools().to_pyarrow().to_pylist()}
    regions = (
        inputs.table(unit_registry().region_entity)
        .select("region_code", "name")
        .to_pyarrow()
        .to_pylist()
    )
    return schools, {r["region_code"]: r["name"] for r in regions}


def finish_rows(
    raw: Sequence[dict[str, Any]],
    school_year: str,
    schools: dict[str, dict[str, Any]],
    regions: dict[str, str],
) -> list[dict[str, Any]]:
    """Raw engine rows + unit names, the first applicable threshold and whether it is met."""
    out = []
    for row in raw:
        ind = indicator(row["indicator_id"])
        grain = Grain(row["grain"])
        code = row["unit_code"]
        school = schools.get(code) if grain == Grain.SCHOOL else None
        name = school["school_name"] if school else regions.get(code, code)
        urban_rural = school["urban_rural"] if school else None
        limit = op = meets = None
        for th in ind.thresholds_at(grain):
            limit = th.value_for(row["stage"] or None, urban_rural)
            if limit is not None:
                op = th.op
                meets = th.met(row["value"], limit) if row["value"] is not None else None
                break
        out.append(
            {
                **row,
                "school_year": school_year,
                "definition_version": ind.version,
                "unit_name": name,
                "urban_rural": urban_rural,
                "threshold": limit,
                "threshold_op": op,
                "meets": meets,
            }
        )
    return out


def input_provenance(tables: Tables, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per input table: its rows now, and the loads (the `loads` table) that fed it — how
    many, and the last one's id and time. Reads the small `loads` table, not the inputs."""
    wanted = sorted(set(names))
    loads = tables.table(LOADS_TABLE)
    loads = loads.filter(loads.entity.isin(wanted))
    per = (
        loads.group_by("entity")
        .aggregate(
            loads=loads.count(),
            last_load_id=loads.load_id.argmax(loads.finished_at),
            last_loaded_at=loads.finished_at.max(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    by_entity = {r["entity"]: r for r in per}
    out: dict[str, dict[str, Any]] = {}
    for name in wanted:
        t = tables.table(name)
        entry: dict[str, Any] = {"rows": int(t.count().to_pyarrow().as_py())}
        if name in by_entity:
            r = by_entity[name]
            entry.update(
                loads=r["loads"],
                last_load_id=r["last_load_id"],
                last_loaded_at=r["last_loaded_at"].isoformat() if r["last_loaded_at"] else None,
            )
        out[name] = entry
    return out


def compute_catalogue(
    wh: Warehouse,
    *,
    school_year: str | None = None,
    indicators: Sequence[Indicator] | None = None,
    plans: Sequence[Plan] = (),
    as_of: date | None = None,
    max_load_age_days: int = 45,
    backend: str = "duckdb",
    warnings: WarningBook | None = None,
    now: datetime | None = None,
) -> RunSummary:
    """Compute and store the values, then (for the latest year, given a book to keep them in)
    raise or clear warnings.

    The values are written in one warehouse transaction; the warnings after it commits, in
    one transaction of the book. If that fails the values stand, and the next run brings the
    warnings up to date.
    """
    started = time.perf_counter()
    now = now or datetime.now().replace(microsecond=0)
    year = school_year or default_school_year(wh)
    if indicators is None:
        indicators = catalogue_indicators()
    families = {i.family for i in indicators}
    resolver = quality_rows = None
    if "data" in families:
        from edubrain.govern.scorecard import linkage_resolver, scorecard_rows

        resolver = linkage_resolver(wh)
        ctx = RuleContext(as_of or now.date(), max_load_age_days=max_load_age_days)
        # Governance's stored scorecard when it is current; computed (and stored) otherwise.
        quality_rows = scorecard_rows(wh, ctx)
    inputs = Inputs(wh, year, interop_resolver=resolver, quality_rows=quality_rows)
    try:
        computed = compute_values(inputs, indicators)
        schools, regions = unit_lookup(inputs)
        rows = finish_rows(computed.rows, year, schools, regions)
        provenance = input_provenance(wh, [t for i in computed.indicators for t in i.inputs])
    finally:
        inputs.release()
    run = RunRecord(
        run_id=f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}",
        school_year=year,
        computed_at=now,
        backend=backend,
        indicators=len(computed.indicators),
        values=len(rows),
        seconds=round(time.perf_counter() - started, 3),
        definitions={i.id: i.version for i in computed.indicators},
        inputs=provenance,
        skipped=computed.skipped,
    )
    stored = [{**r, "run_id": run.run_id, "computed_at": now} for r in rows]
    summary = RunSummary(run, values=stored)
    later = [y for y in stored_years(wh) if y > year]
    with wh.transaction() as tx:
        write_run(tx, run, stored)
    if warnings is None:
        summary.warnings_skipped = "not asked for"
    elif later:
        summary.warnings_skipped = (
            f"warnings follow the latest school year ({later[-1]}); {year} is history"
        )
    else:
        previous_year = _previous(wh, year)
        before = latest_values(wh, school_year=previous_year) if previous_year else []
        conditions = threshold_conditions(stored, before)
        if previous_year:
            conditions += trend_conditions(stored, before)
        conditions += target_conditions(stored, plans)
        running = max((i.decline.years for i in computed.indicators if i.decline), default=0)
        if running:
            earlier = [y for y in stored_years(wh) if y < year][::-1][:running]
            conditions += decline_conditions(
                stored, [latest_values(wh, school_year=y) for y in earlier]
            )
        evaluated = {i.id for i in computed.indicators}
        summary.warnings = WarningStore(warnings).sync(conditions, evaluated, now)
    log.info("indicators %s: %d values in %.1f s", year, len(stored), run.seconds)
    return summary


def _previous(wh: Warehouse, year: str) -> str | None:
    earlier = [y for y in stored_years(wh) if y < year]
    return earlier[-1] if earlier else None
