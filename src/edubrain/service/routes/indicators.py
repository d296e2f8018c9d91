"""Indicators and warnings (指标与预警): the catalogue, values and trends, and the warning queue.

Values and warnings carry a grain and a unit (a school, or a county/city); the caller's scope
filters them inside the query like any personal record (`policy.scope_predicate`). Indicator
values are aggregates without a person in them, so reading them is not audited; acknowledging
and resolving a warning is.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import ibis
from fastapi import APIRouter, HTTPException, Query, status

from edubrain.indicators.catalogue import INDICATORS, indicator
from edubrain.indicators.definitions import Indicator
from edubrain.indicators.store import VALUES_TABLE, latest_of
from edubrain.indicators.warnings import EVENTS_TABLE, STATE_TABLE, Level, WarningStore
from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission, scope_predicate
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import (
    IndicatorOut,
    IndicatorValueOut,
    IndicatorValuePage,
    WarningEventOut,
    WarningNote,
    WarningOut,
    WarningPage,
)

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
    return [_describe(ind) for ind in INDICATORS]


def _scoped(services: Services, actor: Actor, table: str) -> ir.Table | None:
    reader = services.reader
    if not reader.has_table(table):
        return None
    t = reader.table(table)
    if table == VALUES_TABLE:
        t = latest_of(t)
    return t.filter(scope_predicate(actor.scope, table, t, reader))


def _equal(t: ir.Table, filters: dict[str, Any]) -> ir.Table:
    for column, value in filters.items():
        if value is not None:
            t = t.filter(t[column] == value)
    return t


def _keyset_page(
    services: Services, t: ir.Table, key: ir.StringValue, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """One page ordered by a text `key` unique per row; the cursor is the last key handed out."""
    t = t.mutate(_key=key)
    if cursor:
        t = t.filter(t._key > decode_cursor(cursor))
    rows = services.reader.rows(t.order_by("_key").limit(limit + 1))
    more = len(rows) > limit
    return rows[:limit], encode_cursor(rows[limit - 1]["_key"]) if more else None


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
) -> dict[str, Any]:
    """Values of the latest computation per school year, inside the caller's scope."""
    t = _scoped(services, actor, VALUES_TABLE)
    if t is None:
        return {"items": [], "next_cursor": None}
    t = _equal(
        t,
        {
            "indicator_id": indicator_id,
            "grain": grain,
            "unit_code": unit_code,
            "school_year": school_year,
            "stage": stage,
        },
    )
    key = ibis.literal("|").join([t.indicator_id, t.school_year, t.grain, t.unit_code, t.stage])
    rows, next_cursor = _keyset_page(services, t, key, cursor, limit)
    return {"items": [{c: r[c] for c in _VALUE_COLUMNS} for r in rows], "next_cursor": next_cursor}


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
    t = _scoped(services, actor, VALUES_TABLE)
    if t is None:
        return []
    t = _equal(
        t, {"indicator_id": indicator_id, "unit_code": unit_code, "grain": grain, "stage": stage}
    )
    rows = services.reader.rows(t.order_by(["school_year", "grain", "stage"]))
    return [{c: r[c] for c in _VALUE_COLUMNS} for r in rows]


def _severity(t: ir.Table) -> ir.StringValue:
    """Red first: the level's rank as one digit (9 − rank), then the warning id."""
    rank = ibis.cases(*((t.level == lv.value, str(9 - lv.rank)) for lv in Level), else_="9")
    return rank.concat("|", t.warning_id)


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
    t = _scoped(services, actor, STATE_TABLE)
    if t is None:
        return {"items": [], "next_cursor": None}
    t = _equal(
        t,
        {
            "status": status_,
            "level": level,
            "indicator_id": indicator_id,
            "unit_code": unit_code,
            "grain": grain,
        },
    )
    rows, next_cursor = _keyset_page(services, t, _severity(t), cursor, limit)
    return {
        "items": [{c: r[c] for c in _WARNING_COLUMNS} for r in rows],
        "next_cursor": next_cursor,
    }


def _warning(services: Services, actor: Actor, warning_id: str) -> dict[str, Any]:
    t = _scoped(services, actor, STATE_TABLE)
    rows = [] if t is None else services.reader.rows(t.filter(t.warning_id == warning_id))
    if not rows:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no warning {warning_id} in your scope")
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
    if not services.reader.has_table(EVENTS_TABLE):
        return []
    t = services.reader.table(EVENTS_TABLE)
    rows: list[dict[str, Any]] = services.reader.rows(
        t.filter(t.warning_id == warning_id).order_by("at")
    )
    return rows


def _local_now(services: Services) -> datetime:
    # The warehouse keeps local wall-clock times without a zone, as the CLI writes them.
    return services.clock().astimezone().replace(tzinfo=None, microsecond=0)


@router.post("/warnings/{warning_id}/acknowledge", response_model=WarningOut)
def acknowledge_warning(
    warning_id: str,
    body: WarningNote,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.WARNINGS_MANAGE)],
) -> dict[str, Any]:
    """Take an open warning on: who and why go into its history."""
    _warning(services, actor, warning_id)
    with services.reader.lock:
        done = WarningStore(services.reader.warehouse).acknowledge(
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
    """Close a warning with a note (it reopens if a later computation finds it again)."""
    _warning(services, actor, warning_id)
    with services.reader.lock:
        done = WarningStore(services.reader.warehouse).resolve(
            warning_id, actor.username, body.note, _local_now(services)
        )
    trail.record("resolve", "indicator_warning", record_ids=[warning_id])
    return done.as_dict()
