"""The data office's views (data_admin): ingestion runs, quarantine, quality, steward queue."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from edubrain.govern.quality import RuleContext
from edubrain.govern.scorecard import rollup, scorecard
from edubrain.govern.steward import REVIEW_TABLE, check_decision
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.masking import mask_free_text, quarantine_row
from edubrain.service.policy import Actor, Permission, clearance
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import (
    LoadRun,
    QualityRow,
    QuarantinePage,
    ReviewPage,
    StewardDecision,
    StewardDecisionOut,
)
from edubrain.standard.entities import DataClass
from edubrain.warehouse import LOADS_TABLE, QUARANTINE_TABLE

router = APIRouter(tags=["data office"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200)]


@router.get(
    "/ingest/runs", response_model=list[LoadRun], dependencies=[require(Permission.INGEST_READ)]
)
def list_runs(
    services: ServicesDep,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The newest ingested files: counts read, accepted and quarantined per file."""
    t = services.reader.table(LOADS_TABLE)
    return services.reader.rows(t.order_by(t.started_at.desc()).limit(limit))


@router.get("/ingest/quarantine", response_model=QuarantinePage)
def list_quarantine(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    entity: Annotated[str | None, Query(max_length=64)] = None,
    reason: Annotated[str | None, Query(max_length=64)] = None,
    load_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Rejected rows with their reason; the raw source row has ID and phone numbers masked."""
    t = services.reader.table(QUARANTINE_TABLE)
    for column, value in (("entity", entity), ("reason", reason), ("load_id", load_id)):
        if value is not None:
            t = t.filter(t[column] == value)
    offset = int(decode_cursor(cursor)) if cursor and decode_cursor(cursor).isdigit() else 0
    ordered = t.order_by([t.load_id, t.row_number, t.field, t.reason])
    rows = services.reader.rows(ordered.limit(limit + 1, offset=offset))
    seen = clearance(actor.role)
    rows = [quarantine_row(row, seen) for row in rows]
    more = len(rows) > limit
    items = rows[:limit]
    trail.record(
        "list",
        "quarantine",
        record_ids=[f"{r['load_id']}#{r['row_number']}" for r in items],
        query={"entity": entity, "reason": reason, "load_id": load_id, "cursor": cursor},
    )
    return {"items": items, "next_cursor": encode_cursor(str(offset + limit)) if more else None}


@router.get(
    "/quality", response_model=list[QualityRow], dependencies=[require(Permission.QUALITY_READ)]
)
def get_quality(
    services: ServicesDep,
    by: Annotated[list[Literal["source", "school_code", "load_id", "entity"]], Query()] = [  # noqa: B006
        "source"
    ],
) -> list[dict[str, Any]]:
    """The data-quality scorecard (质量评分), rolled up by the given fields."""
    ctx = RuleContext(
        services.clock().date(),
        max_load_age_days=services.settings.quality_max_load_age_days,
    )
    # The scorecard takes seconds; the warehouse does not change under a running service
    # (it holds the file), so one computation serves the day.
    rows = services.memo.get(("quality", ctx.as_of))
    if rows is None:
        with services.reader.lock:
            rows = services.memo[("quality", ctx.as_of)] = scorecard(services.reader, ctx)
    return [row.as_dict() for row in rollup(rows, list(dict.fromkeys(by)))]


@router.get("/steward/queue", response_model=ReviewPage)
def list_review_queue(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_READ)],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Doubtful record-linkage pairs waiting for a steward's decision (人工审核).

    A mention key names its record by 学籍号: it is masked like one for the caller, and the
    pair is decided by the sealed `mention_ref_l`/`mention_ref_r` (or the person IDs)."""
    if not services.reader.has_table(REVIEW_TABLE):
        return {"items": [], "next_cursor": None}
    t = services.reader.table(REVIEW_TABLE)
    if cursor:
        t = t.filter(t.review_id > decode_cursor(cursor))
    rows = services.reader.rows(t.order_by(t.review_id).limit(limit + 1))
    items = [_review_item(services, row, clearance(actor.role)) for row in rows[:limit]]
    trail.record("list", "review_queue", record_ids=[r["review_id"] for r in items])
    more = len(rows) > limit
    return {
        "items": items,
        "next_cursor": encode_cursor(items[-1]["review_id"]) if more else None,
    }


def _review_item(
    services: ServicesDep, row: dict[str, Any], seen: frozenset[DataClass]
) -> dict[str, Any]:
    item = dict(row)
    for side in ("l", "r"):
        key = row[f"mention_key_{side}"]
        item[f"mention_ref_{side}"] = services.refs.seal(f"mention:{key}")
        item[f"mention_key_{side}"] = mask_free_text(key, seen)
    item["reason"] = mask_free_text(row["reason"], seen) if row["reason"] else row["reason"]
    return item


def _mention(services: ServicesDep, given: str) -> str:
    """A mention ref from the queue → its mention key; anything else as given (a person ID)."""
    opened = services.refs.open(given)
    return opened.removeprefix("mention:") if opened and opened.startswith("mention:") else given


@router.post("/steward/decisions", response_model=StewardDecisionOut, status_code=201)
def post_decision(
    body: StewardDecision,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_DECIDE)],
) -> dict[str, Any]:
    """Decide whether two mentions are the same pupil; applied on every later linkage run."""
    with services.reader.lock:  # reads only: a person ID → one of its mentions
        left, right = check_decision(
            services.reader.warehouse,
            _mention(services, body.left),
            _mention(services, body.right),
            body.verdict,
        )
    services.store.record_steward_decision(
        left,
        right,
        body.verdict,
        by=actor.username,
        note=body.note,
        at=services.clock().replace(tzinfo=None),
    )
    trail.record(
        "decide", "steward_decision", record_ids=[left, right], query={"verdict": body.verdict}
    )
    seen = clearance(actor.role)
    return {
        "mention_key_l": mask_free_text(left, seen),
        "mention_key_r": mask_free_text(right, seen),
        "verdict": body.verdict,
    }
