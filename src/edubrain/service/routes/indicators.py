"""Indicators and warnings (指标与预警): the catalogue, values and trends, and the warning queue.

Values and warnings carry a grain and a unit (a school, or a county/city); the caller's scope
filters them inside the query like any personal record: values in the warehouse
(`policy.scope_predicate`), warnings in the operational store, where people change them
(`policy.units_in_scope`). Indicator values are aggregates without a person in them, so reading
them is not audited; acknowledging and resolving a warning is.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import ibis
from fastapi import APIRouter, Query, Response

from edubrain.errors import ForbiddenError, NotFoundError
from edubrain.indicators.catalogue import indicator, indicators
from edubrain.indicators.definitions import Indicator
from edubrain.indicators.saved_values import VALUES_TABLE, latest_of
from edubrain.indicators.warning_triage import (
    SchoolSize,
    group_warnings,
    roll_up_schools,
    week_list,
)
from edubrain.indicators.warnings import Level, Status, WarningStore
from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.policy import (
    Actor,
    Permission,
    scope_predicate,
    units_in_scope,
    units_to_act_on,
)
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import (
    IndicatorOut,
    IndicatorValueOut,
    IndicatorValuePage,
    SchoolRollupOut,
    WarningEventOut,
    WarningGroupOut,
    WarningNote,
    WarningOut,
    WarningPage,
    WeekItemOut,
    as_json,
    local_zone,
)
from edubrain.service.units import school_sizes

if TYPE_CHECKING:
    import ibis.expr.types as ir

router = APIRouter(tags=["indicators and warnings"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]
Text = Annotated[str | None, Query(max_length=40)]
_VALUE_COLUMNS = list(IndicatorValueOut.model_fields)
_WARNING_COLUMNS = list(WarningOut.model_fields)


def _describe(ind: Indicator) -> dict[str, Any]:
    return {
        "indicator_id": ind.id,
        "family": ind.family,
        "name_zh": ind.name_zh,
        "name_en": ind.name_en,
        "unit": ind.unit,
        "formula": ind.formula_text,
        "direction": ind.direction.value if ind.direction else None,
        "headline": ind.headline,
        "grains": [g.value for g in ind.grains],
        "thresholds": [
            {
                "op": t.op,
                "values": dict(t.values),
                "label": t.label,
                "grains": [g.value for g in t.grains],
                "reliability": t.source.reliability.value,
                "document": t.source.document,
            }
            for t in ind.thresholds
        ],
    }


@router.get(
    "/indicators",
    response_model=list[IndicatorOut],
    dependencies=[require(Permission.INDICATORS_READ)],
)
def list_indicators() -> list[dict[str, Any]]:
    """The indicator catalogue: names, units, formulas, thresholds and their sources."""
    return [_describe(ind) for ind in indicators()]


def _latest_values(
    services: Services, actor: Actor, names: tuple[str, ...]
) -> tuple[ir.Table, dict[str, ir.Scalar]]:
    """The latest computation's values in the caller's scope, with `column == value` for each
    name, every value a bound parameter (`f_<name>`): requests with other values reuse the
    compiled query, and a value is never SQL text."""
    reader = services.reader
    t = latest_of(reader.table(VALUES_TABLE))
    t = t.filter(scope_predicate(actor.scope, VALUES_TABLE, t, reader))
    params: dict[str, ir.Scalar] = {}
    for name in names:
        params[f"f_{name}"] = value = ibis.param("string")
        t = t.filter(t[name] == value)
    return t, params


def _given(filters: dict[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in sorted(filters.items()) if v is not None}


def _bound(given: dict[str, str]) -> dict[str, str]:
    return {f"f_{k}": v for k, v in given.items()}


def values_page(
    services: Services,
    actor: Actor,
    *,
    indicator_id: str | None = None,
    grain: str | None = None,
    unit_code: str | None = None,
    school_year: str | None = None,
    stage: str | None = None,
    cursor: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """One page of indicator values in the caller's scope (`IndicatorValuePage`); empty while
    no values have been computed.

    Ordered by a text key unique per value; the cursor is the last key handed out. The query
    is compiled once per shape (scope, filters given, page size) with the filter values and
    the cursor bound as parameters.
    """
    if not services.reader.has_table(VALUES_TABLE):
        return {"items": [], "next_cursor": None}
    given = _given(
        {
            "indicator_id": indicator_id,
            "grain": grain,
            "unit_code": unit_code,
            "school_year": school_year,
            "stage": stage,
        }
    )
    after = decode_cursor(cursor) if cursor else None

    def build() -> tuple[ir.Table, dict[str, ir.Scalar]]:
        t, params = _latest_values(services, actor, tuple(given))
        unique = [t.indicator_id, t.school_year, t.grain, t.unit_code, t.stage]
        t = t.mutate(_key=ibis.literal("|").join(unique))
        if after is None:
            return t.order_by("_key").limit(limit + 1), params
        bound = ibis.param("string")
        page = t.filter(t._key > bound).order_by("_key").limit(limit + 1)
        return page, params | {"after": bound}

    shape = ("values", actor.scope, tuple(given), after is not None, limit)
    values = _bound(given) | ({"after": after} if after is not None else {})
    rows = services.reader.prepared_rows(shape, build, values)
    items = [{c: r[c] for c in _VALUE_COLUMNS} for r in rows[:limit]]
    for item in items:
        item["computed_at"] = local_zone(item["computed_at"])
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor(rows[limit - 1]["_key"]) if more else None,
    }


@router.get("/indicators/values", response_model=IndicatorValuePage)
def list_values(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INDICATORS_READ)],
    indicator_id: Text = None,
    grain: Text = None,
    unit_code: Text = None,
    school_year: Text = None,
    stage: Text = None,
    cursor: Cursor = None,
    limit: Limit = 200,
) -> Response:
    """Values of the latest computation per school year, inside the caller's scope."""
    return as_json(
        values_page(
            services,
            actor,
            indicator_id=indicator_id,
            grain=grain,
            unit_code=unit_code,
            school_year=school_year,
            stage=stage,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get("/indicators/{indicator_id}/series", response_model=list[IndicatorValueOut])
def value_series(
    indicator_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INDICATORS_READ)],
    unit_code: Annotated[str, Query(max_length=40, description="A school or region code.")],
    grain: Text = None,
    stage: Text = None,
) -> list[dict[str, Any]]:
    """One unit's values of one indicator across school years (its trend), oldest first."""
    indicator(indicator_id)  # an unknown id is a 404
    if not services.reader.has_table(VALUES_TABLE):
        return []
    given = _given(
        {"indicator_id": indicator_id, "unit_code": unit_code, "grain": grain, "stage": stage}
    )

    def build() -> tuple[ir.Table, dict[str, ir.Scalar]]:
        t, params = _latest_values(services, actor, tuple(given))
        return t.order_by(["school_year", "grain", "stage"]), params

    shape = ("series", actor.scope, tuple(given))
    rows = services.reader.prepared_rows(shape, build, _bound(given))
    return [{c: r[c] for c in _VALUE_COLUMNS} for r in rows]


# Red first: the level's rank as one digit (9 − rank) leads each warning's paging key.
_SEVERITY = {lv.value: 9 - lv.rank for lv in Level}


@router.get("/warnings", response_model=WarningPage)
def list_warnings(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    level: Annotated[str | None, Query(max_length=20)] = None,
    indicator_id: Text = None,
    unit_code: Text = None,
    grain: Text = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Warnings inside the caller's scope, red first."""
    filters = {
        "status": status_,
        "level": level,
        "indicator_id": indicator_id,
        "unit_code": unit_code,
        "grain": grain,
    }
    rows = services.store.warnings_in_scope(
        units_in_scope(actor.scope, services.reader.region_of_school()),
        filters=_given(filters),
        severity=_SEVERITY,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    more = len(rows) > limit
    return {
        "items": [{c: r[c] for c in _WARNING_COLUMNS} for r in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1]["severity_key"]) if more else None,
    }


UNRESOLVED = (Status.OPEN.value, Status.ACKNOWLEDGED.value)


def warnings_to_weigh(
    services: Services, actor: Actor, status: str | None = None
) -> list[dict[str, Any]]:
    """The caller's warnings of one status (default: open and acknowledged), every column."""
    rows = services.store.warnings_in_scope(
        units_in_scope(actor.scope, services.reader.region_of_school()),
        filters={},
        severity=_SEVERITY,
    )
    wanted = (status,) if status else UNRESOLVED
    return [r for r in rows if r["status"] in wanted]


def sizes_of_schools(services: Services) -> dict[str, SchoolSize]:
    reader = services.reader
    return school_sizes(reader.table, reader.rows)


@router.get("/warnings/groups", response_model=list[WarningGroupOut])
def warning_groups(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
) -> list[dict[str, Any]]:
    """The same condition (rule × indicator × threshold × 学段) grouped across the units in the
    caller's scope, worst first; default the open and acknowledged warnings."""
    rows = warnings_to_weigh(services, actor, status_)
    return [g.as_dict() for g in group_warnings(rows, sizes_of_schools(services))]


@router.get("/warnings/schools", response_model=list[SchoolRollupOut])
def warning_schools(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = None,
) -> list[dict[str, Any]]:
    """One line per school in scope with warnings: counts by level and its worst item."""
    return [s.as_dict() for s in roll_up_schools(warnings_to_weigh(services, actor, status_))]


@router.get("/warnings/this-week", response_model=list[WeekItemOut])
def warnings_this_week(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
) -> list[dict[str, Any]]:
    """本周待决策: at most 10 conditions a leader must decide — open 红/橙 warnings of units the
    caller can act on, one item per condition, ordered by level, new or worsening, pupils
    affected and gap (decision 0018)."""
    rows = warnings_to_weigh(services, actor)
    acting = units_to_act_on(actor.scope, services.reader.region_of_school())
    items = week_list(
        rows,
        sizes_of_schools(services),
        decides=lambda r: acting.covers(r["grain"], r["unit_code"]),
    )
    return [i.as_dict() for i in items]


def _warning_to_act_on(services: Services, actor: Actor, warning_id: str) -> None:
    """404 for a warning the caller cannot read; 403 for one it reads but whose unit its scope
    does not cover (a principal and the county's warning)."""
    _warning(services, actor, warning_id)
    rows = services.store.warnings_in_scope(
        units_to_act_on(actor.scope, services.reader.region_of_school()),
        filters={"warning_id": warning_id},
        severity=_SEVERITY,
    )
    if not rows:
        raise ForbiddenError("acting on this warning needs a scope over its unit")


def _warning(services: Services, actor: Actor, warning_id: str) -> dict[str, Any]:
    rows = services.store.warnings_in_scope(
        units_in_scope(actor.scope, services.reader.region_of_school()),
        filters={"warning_id": warning_id},
        severity=_SEVERITY,
    )
    if not rows:
        raise NotFoundError(f"no warning {warning_id} in your scope")
    return {c: rows[0][c] for c in _WARNING_COLUMNS}


@router.get("/warnings/{warning_id}", response_model=WarningOut)
def get_warning(
    warning_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
) -> dict[str, Any]:
    """One warning, if its unit is inside the caller's scope."""
    return _warning(services, actor, warning_id)


@router.get("/warnings/{warning_id}/events", response_model=list[WarningEventOut])
def warning_events(
    warning_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
) -> list[dict[str, Any]]:
    """What happened to a warning: opened, updated, acknowledged, resolved, reopened."""
    _warning(services, actor, warning_id)
    return services.store.warning_events(warning_id)


def _local_now(services: Services) -> datetime:
    # Warnings keep local wall-clock times without a zone, as the indicator runs write them.
    return services.clock().astimezone().replace(tzinfo=None, microsecond=0)


@router.post("/warnings/{warning_id}/acknowledge", response_model=WarningOut)
def acknowledge_warning(
    warning_id: str,
    body: WarningNote,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.WARNINGS_MANAGE)],
) -> dict[str, Any]:
    """Take an open warning on: who and why go into its history. Needs a scope over the
    warning's unit (a school's: the school or a region around it; a region's: a region scope
    at or above it)."""
    _warning_to_act_on(services, actor, warning_id)
    done = WarningStore(services.store).acknowledge(
        warning_id, actor.username, body.note, _local_now(services)
    )
    trail.record("acknowledge", "indicator_warning", record_ids=[warning_id])
    return done.as_dict()


@router.post("/warnings/{warning_id}/resolve", response_model=WarningOut)
def resolve_warning(
    warning_id: str,
    body: WarningNote,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.WARNINGS_MANAGE)],
) -> dict[str, Any]:
    """Close a warning with a note (it reopens if a later computation finds it again). Needs a
    scope over the warning's unit, as acknowledging does."""
    _warning_to_act_on(services, actor, warning_id)
    done = WarningStore(services.store).resolve(
        warning_id, actor.username, body.note, _local_now(services)
    )
    trail.record("resolve", "indicator_warning", record_ids=[warning_id])
    return done.as_dict()
