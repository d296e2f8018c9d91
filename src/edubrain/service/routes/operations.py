"""The data office's views (data_admin): ingestion runs, quarantine, quality, steward queue.

Every table here is scoped like the people tables (decision 0012): a load, a quarantined row, a
scorecard unit, a review pair belongs to schools and regions, and the caller's scope is a filter
of the warehouse query (`policy.operational_predicate`). A decision names mentions inside the
caller's scope; any other is a 404, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from edubrain.errors import NotFoundError, UnknownEntityError
from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.quality import UNKNOWN_SCHOOL, RuleContext
from edubrain.govern.scorecard import ScoreRow, rollup, scorecard
from edubrain.govern.steward import (
    APPLIED_TABLE,
    REVIEW_TABLE,
    UNDO,
    StewardError,
    is_mention_key,
)
from edubrain.ingest.quarantine import reason_name
from edubrain.ingest.quarantine_views import (
    OPEN,
    RESOLVED,
    filtered,
    raw_cells,
    rejected_rows,
    status_expr,
    summary_exprs,
    summary_from,
    with_school,
    with_status,
)
from edubrain.ingest.returned import SHEET as RETURNED_SHEET
from edubrain.ingest.returned import row_ref
from edubrain.service import jobs as service_jobs
from edubrain.service import spreadsheet
from edubrain.service import steward_queue as steward_usecase
from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.masking import mask_free_text, quarantine_cells, quarantine_row
from edubrain.service.policy import (
    Actor,
    Permission,
    clearance,
    operational_predicate,
    operational_scope,
)
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import (
    LoadRun,
    QualityRow,
    QuarantinePage,
    QuarantineSummary,
    ReviewPage,
    StewardBulk,
    StewardBulkOut,
    StewardDecision,
    StewardDecisionOut,
    StewardUndo,
)
from edubrain.standard.entities import DataClass, unit_registry
from edubrain.standard.entities import entity as standard_entity
from edubrain.warehouse import LOADS_TABLE, QUARANTINE_TABLE

if TYPE_CHECKING:
    import ibis.expr.types as ir

router = APIRouter(tags=["data office"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=200)]


def scoped_table(services: Services, actor: Actor, name: str) -> ir.Table:
    """An operational warehouse table with the caller's scope as a filter of the query."""
    reader = services.reader
    with reader.lock:
        t = reader.table(name)
        where = operational_predicate(actor.scope, name, t, reader, reader.region_of_school())
        return t.filter(where)


@router.get("/ingest/runs", response_model=list[LoadRun])
def list_runs(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The newest ingested files in the caller's scope: counts read, accepted and quarantined
    per file."""
    t = scoped_table(services, actor, LOADS_TABLE)
    return services.reader.rows(t.order_by(t.started_at.desc()).limit(limit))


Status = Annotated[
    Literal["open", "resolved", "all"] | None,
    Query(description="open (未处理), resolved (已解决) or all; default all."),
]
Lang = Annotated[Literal["zh", "en"], Query(description="Language of reason names.")]
QText = Annotated[str | None, Query(max_length=64)]
QFile = Annotated[str | None, Query(max_length=1000, description="A file's path as stored.")]


def _scoped_quarantine(services: Services, actor: Actor) -> ir.Table:
    """The caller's quarantine records with `resolved` (`ingest.quarantine_views`)."""
    t = scoped_table(services, actor, QUARANTINE_TABLE)
    reader = services.reader
    names = [r["entity"] for r in reader.rows(t.select("entity").distinct())]
    with reader.lock:
        return with_status(t, reader, [n for n in names if n])


@dataclass(frozen=True)
class QuarantineFilter:
    """The filters the quarantine list, summary and download share (one query-string shape)."""

    entity: QText = None
    reason: QText = None
    load_id: QText = None
    file: QFile = None
    status: Status = None
    lang: Lang = "zh"

    def where(self, *, any_status: bool = False) -> dict[str, str | None]:
        """The keyword filters of `quarantine_views.filtered` (the status one left out when
        `any_status`)."""
        return {"reason": self.reason, "file": self.file, "entity": self.entity,
                "load_id": self.load_id, "status": None if any_status else self.status}  # fmt: skip


Filters = Annotated[QuarantineFilter, Depends()]


def _field_label(entity_name: str | None, field: str | None) -> str | None:
    """A standard field's Chinese label; a source column (an encoding error's) as it is."""
    if not entity_name or not field:
        return field
    try:
        return standard_entity(entity_name).field(field).label
    except (KeyError, UnknownEntityError):
        return field


def _item(row: dict[str, Any], seen: frozenset[DataClass], lang: str) -> dict[str, Any]:
    item = quarantine_row(row, seen)
    item["reason_name"] = reason_name(item["reason"] or "", lang)
    item["field_label"] = _field_label(item.get("entity"), item.get("field"))
    item["status"] = RESOLVED if item.pop("resolved", False) else OPEN
    item.pop("natural_key", None)
    return item


@router.get("/ingest/quarantine", response_model=QuarantinePage)
def list_quarantine(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    q: Filters,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Rejected rows in the caller's scope with their reason (code and name) and whether they
    are still open (未处理) or resolved (已解决: a later load of the same source accepted a row
    with the same natural key); the raw source row has ID and phone numbers masked."""
    t = filtered(_scoped_quarantine(services, actor), **q.where())
    offset = int(decode_cursor(cursor)) if cursor and decode_cursor(cursor).isdigit() else 0
    ordered = t.order_by([t.load_id, t.row_number, t.field, t.reason])
    rows = services.reader.rows(ordered.limit(limit + 1, offset=offset))
    seen = clearance(actor.role)
    rows = [_item(row, seen, q.lang) for row in rows]
    more = len(rows) > limit
    items = rows[:limit]
    trail.record(
        "list",
        "quarantine",
        record_ids=[f"{r['load_id']}#{r['row_number']}" for r in items],
        query={**q.where(), "cursor": cursor},
    )
    return {"items": items, "next_cursor": encode_cursor(str(offset + limit)) if more else None}


@router.get("/ingest/quarantine/summary", response_model=QuarantineSummary)
def quarantine_summary(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    q: Filters,
) -> dict[str, Any]:
    """Quarantined rows in the caller's scope counted by main reason (the most fundamental of
    a row's reasons), file, school and status: a row counts once in each. The status counts
    ignore the `status` filter, the others apply every filter. Counts only: no personal data,
    no audit entry."""
    scoped = _scoped_quarantine(services, actor)
    t = filtered(scoped, **q.where())
    any_status = filtered(scoped, **q.where(any_status=True))
    reader = services.reader
    with reader.lock:
        exprs = summary_exprs(t, with_school(t, reader))
        exprs["status"] = status_expr(any_status)
    results = {name: reader.rows(expr) for name, expr in exprs.items()}
    return summary_from(results, q.lang)


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_DOWNLOAD_RECORDS = 200_000


@router.get(
    "/ingest/quarantine/download",
    response_class=Response,
    responses={200: {"content": {_XLSX: {}}, "description": "The rejected rows as .xlsx."}},
)
def download_quarantine(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    q: Filters,
) -> Response:
    """下载被拒绝的行: the rejected rows of a file (or of any filter) in the caller's scope as an
    .xlsx workbook — the columns as the file had them, then 行号, 原因 and 隔离编号 — to fix in
    Excel and upload again: masked cells left as they are take their values back on the way
    in (`ingest.returned`). Masked as the quarantine browser masks the raw row; text a spreadsheet
    would read as a formula is neutralised; audited like the list."""
    t = filtered(_scoped_quarantine(services, actor), **q.where())
    ordered = t.order_by([t.file, t.load_id, t.row_number, t.field, t.reason])
    records = services.reader.rows(ordered.limit(MAX_DOWNLOAD_RECORDS))
    seen = clearance(actor.role)
    masked = [
        quarantine_row(r, seen)
        | {
            "cells": quarantine_cells(raw_cells(r["raw"]), seen),
            "ref": row_ref(r["load_id"], r["row_number"], r["raw"]),
        }
        for r in records
    ]
    header, rows = rejected_rows(masked, q.lang)
    body = spreadsheet.xlsx_sheet(RETURNED_SHEET, header, rows)
    trail.record(
        "download",
        "quarantine",
        record_ids=sorted({f"{r['load_id']}#{r['row_number']}" for r in records}),
        query={**q.where(), "rows": len(rows)},
    )
    stem = (q.file or "").replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0] or "quarantine"
    name = f"{stem}-被拒绝的行.xlsx"
    return Response(
        body,
        media_type=_XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="quarantine.xlsx"; '
            f"filename*=UTF-8''{quote(name)}"
        },
    )


def _units_in_scope(services: Services, actor: Actor, rows: list[ScoreRow]) -> list[ScoreRow]:
    """The scorecard's units (source × school × load × entity) the caller's scope covers: a
    school's by its school, records without a school by their load (decision 0012)."""
    units = operational_scope(actor.scope, services.reader.region_of_school())
    if units.everything:
        return rows
    loads = {
        r["load_id"]
        for r in services.reader.rows(scoped_table(services, actor, LOADS_TABLE).select("load_id"))
    }
    return [
        r
        for r in rows
        if (r.school_code in units.schools)
        or (r.school_code == UNKNOWN_SCHOOL and r.load_id in loads)
    ]


@router.get("/quality", response_model=list[QualityRow])
def get_quality(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.QUALITY_READ)],
    by: Annotated[list[Literal["source", "school_code", "load_id", "entity"]], Query()] = [  # noqa: B006
        "source"
    ],
) -> list[dict[str, Any]]:
    """The data-quality scorecard (质量评分) of the units in the caller's scope, rolled up by
    the given fields."""
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
    mine = _units_in_scope(services, actor, rows)
    return [row.as_dict() for row in rollup(mine, list(dict.fromkeys(by)))]


def _review_rows(services: Services, actor: Actor) -> list[dict[str, Any]]:
    """The caller's pairs, still asked and decided, with their states (`usecases.steward`)."""
    review, applied = [], []
    if services.reader.has_table(REVIEW_TABLE):
        review = services.reader.rows(scoped_table(services, actor, REVIEW_TABLE))
    if services.reader.has_table(APPLIED_TABLE):
        applied = services.reader.rows(scoped_table(services, actor, APPLIED_TABLE))
    units = operational_scope(actor.scope, services.reader.region_of_school())
    return steward_usecase.with_states(review, applied, services.store.steward_decisions(units))


@router.get("/steward/queue", response_model=ReviewPage)
def list_review_queue(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_READ)],
    cursor: Cursor = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Doubtful record-linkage pairs in the caller's scope (both mentions inside it) for a
    steward's decision (人工审核): pairs to decide first, most impact first (rows the decision
    moves × the model's uncertainty, decision 0017), then the decided ones; each with its
    state (待定 / 已判定·生效中 / 已生效) and both mentions side by side (`fields`: 姓名, 性别,
    出生日期, 学校, 年级, 班级, 来源, 来源文件, 行数, 学籍号), masked for the caller's clearance,
    with `differs` per field. Every pair shown is audited.

    A mention key names its record by 学籍号: it is masked like one for the caller, and the
    pair is decided by the sealed `mention_ref_l`/`mention_ref_r` (or the person IDs)."""
    rows = _review_rows(services, actor)
    offset = int(decode_cursor(cursor)) if cursor and decode_cursor(cursor).isdigit() else 0
    page = rows[offset : offset + limit]
    seen = clearance(actor.role)
    schools = _school_names(services)
    files = _files(services, actor)
    items = [_review_item(services, row, seen, schools, files) for row in page]
    trail.record("list", "review_queue", record_ids=[r["review_id"] for r in items])
    more = len(rows) > offset + limit
    return {"items": items, "next_cursor": encode_cursor(str(offset + limit)) if more else None}


def _school_names(services: Services) -> dict[str, str]:
    reader = services.reader
    schools = unit_registry().school_entity
    if not reader.has_table(schools):
        return {}
    with reader.lock:
        t = reader.table(schools).select("school_code", "name")
    return {str(r["school_code"]): str(r["name"]) for r in reader.rows(t)}


def _files(services: Services, actor: Actor) -> dict[str, str]:
    t = scoped_table(services, actor, LOADS_TABLE).select("load_id", "file")
    return {str(r["load_id"]): str(r["file"]) for r in services.reader.rows(t)}


def _review_item(
    services: Services,
    row: dict[str, Any],
    seen: frozenset[DataClass],
    schools: dict[str, str],
    files: dict[str, str],
) -> dict[str, Any]:
    item = dict(row)
    for side in ("l", "r"):
        key = row[f"mention_key_{side}"]
        item[f"mention_ref_{side}"] = services.refs.seal(f"mention:{key}")
        item[f"mention_key_{side}"] = mask_free_text(key, seen)
        item.pop(f"side_{side}", None)
    item["reason"] = mask_free_text(row["reason"], seen) if row["reason"] else row["reason"]
    item["match_weights"] = [
        {**w, "level": mask_free_text(w["level"], seen) if w.get("level") else ""}
        for w in row.get("match_weights") or []
    ]
    opener = services.reader.sealer.open_text if services.reader.sealer is not None else None
    item["fields"] = steward_usecase.side_by_side(row, seen, opener, school_names=schools,
                                                  files=files)  # fmt: skip
    return item


def _mention(services: Services, given: str) -> str:
    """A mention ref from the queue → its mention key; anything else as given (a person ID)."""
    opened = services.refs.open(given)
    if opened and opened.startswith("mention:"):
        return opened.removeprefix("mention:")
    sealer = services.reader.sealer  # a 学籍号 typed in clear is sealed, as the keys are stored
    return sealer.seal_text(given) if sealer is not None else given


def _decide(
    services: Services, trail: Trail, actor: Actor, decisions: list[steward_usecase.Decision]
) -> tuple[steward_usecase.BulkOutcome, str | None]:
    """Record each decision on its own (`usecases.steward.decide_many`), audit each, and queue
    the job that puts them into effect."""
    unit = services.unit_of(actor.scope)
    outcome = steward_usecase.decide_many(
        services.store,
        decisions,
        lambda ref: _mention_in_scope(services, actor, _mention(services, ref)),
        by=actor.username,
        at=services.clock().replace(tzinfo=None),
        unit=unit,
    )
    for done in outcome.recorded:
        trail.record("undo" if done["verdict"] == UNDO else "decide", "steward_decision",
                     record_ids=[done["mention_key_l"], done["mention_key_r"]],
                     query={"verdict": done["verdict"]})  # fmt: skip
    for refused in outcome.refused:
        trail.record("decide", "steward_decision", outcome="refused",
                     query={"index": refused["index"], "reason": refused["reason"]})  # fmt: skip
    job_id = None
    if outcome.recorded:
        job = service_jobs.queue_job(
            services.store, "steward", by=actor.username, unit_school=unit[0], unit_region=unit[1]
        )
        job_id = str(job["job_id"])
        service_jobs.start_runner(services.settings)
    return outcome, job_id


def _shown(done: dict[str, Any], seen: frozenset[DataClass]) -> dict[str, Any]:
    return {
        "mention_key_l": mask_free_text(done["mention_key_l"], seen),
        "mention_key_r": mask_free_text(done["mention_key_r"], seen),
        "verdict": done["verdict"],
    }


@router.post("/steward/decisions", response_model=StewardDecisionOut, status_code=201)
def post_decision(
    body: StewardDecision,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_DECIDE)],
) -> dict[str, Any]:
    """Decide whether two mentions (or persons, by one of their mentions) in your scope are the
    same pupil; the `steward` job puts it into effect at once (the persons it touches are
    re-resolved, decision 0017) and every later linkage run applies it. A mention or person not
    in your scope is a 404, like one that does not exist."""
    outcome, _ = _decide(services, trail, actor,
                         [steward_usecase.Decision(body.left, body.right, body.verdict,
                                                   body.note)])  # fmt: skip
    if outcome.refused:
        reason = outcome.refused[0]["reason"]
        if reason == steward_usecase.SAME_MENTION:
            raise StewardError(f"{body.left} and {body.right} are the same mention")
        raise NotFoundError("no such mention or person in your scope")
    return _shown(outcome.recorded[0], clearance(actor.role))


@router.post("/steward/decisions/bulk", response_model=StewardBulkOut, status_code=200)
def post_decisions(
    body: StewardBulk,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_DECIDE)],
) -> dict[str, Any]:
    """Several decisions in one request, each checked and audited on its own: one that names
    no mention in your scope (or one mention twice) is refused with its position and reason,
    the others are recorded — not all or nothing. One job puts them into effect."""
    decisions = [steward_usecase.Decision(d.left, d.right, d.verdict, d.note)
                 for d in body.decisions]  # fmt: skip
    outcome, job_id = _decide(services, trail, actor, decisions)
    seen = clearance(actor.role)
    return {"recorded": [_shown(d, seen) for d in outcome.recorded],
            "refused": outcome.refused, "job_id": job_id}  # fmt: skip


@router.post("/steward/decisions/undo", response_model=StewardDecisionOut, status_code=201)
def post_undo(
    body: StewardUndo,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_DECIDE)],
) -> dict[str, Any]:
    """Withdraw the newest decision still in force on a pair (or, right after an undo, restore
    what it withdrew): appended as an `undo` event, never deleted; the pair returns to the
    queue and the `steward` job re-resolves it. 404 outside your scope; 400 when the pair has
    no decision to undo."""
    undo = steward_usecase.Decision(body.left, body.right, UNDO, body.note)
    outcome, _ = _decide(services, trail, actor, [undo])
    if outcome.refused:
        reason = outcome.refused[0]["reason"]
        if reason == steward_usecase.NOT_IN_SCOPE:
            raise NotFoundError("no such mention or person in your scope")
        raise StewardError(reason)
    return _shown(outcome.recorded[0], clearance(actor.role))


def _mention_in_scope(services: Services, actor: Actor, ref: str) -> str | None:
    """The mention key `ref` names (itself, or a person's smallest mention key) if it exists in
    the caller's scope; None otherwise."""
    reader = services.reader
    if not reader.has_table(PERSON_MENTION_TABLE):
        return None
    with reader.lock:
        t = scoped_table(services, actor, PERSON_MENTION_TABLE)
        t = t.filter((t.mention_key if is_mention_key(ref) else t.person_id) == ref)
        expr = t.mention_key.min()
    found = reader.scalar(expr)
    return None if found is None else str(found)
