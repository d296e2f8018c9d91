"""Bulk exports of personal data need approval first (事前审批).

request (by a user entitled to read the entity) → approval by a *different* user entitled to
approve, whose scope covers the request's → one download by the requester, before it expires.
Every step is audited; the download carries the requested fields in clear.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from edubrain.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidInputError,
    NotFoundError,
)
from edubrain.service import spreadsheet
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission, Reading, Scope, allowed, covers
from edubrain.service.schemas import ExportCreate, ExportDecision, ExportOut, ScopeOut
from edubrain.service.store import ExportRecord, RecordNotFoundError
from edubrain.standard.entities import entity

router = APIRouter(tags=["exports"])


def _out(services: ServicesDep, record: ExportRecord) -> dict[str, Any]:
    def name(user_id: int | None) -> str | None:
        return None if user_id is None else services.store.user(user_id).username

    return ExportOut(
        export_id=record.export_id,
        requester=name(record.requester_id) or "",
        entity=record.entity,
        fields=list(record.fields),
        scope=ScopeOut(level=record.scope_level, key=record.scope_key),
        purpose=record.purpose,
        status=_status(services, record),
        created_at=record.created_at,
        decided_by=name(record.decided_by),
        decided_at=record.decided_at,
        decision_note=record.decision_note,
        expires_at=record.expires_at,
        downloaded_at=record.downloaded_at,
    ).model_dump()


def _status(services: ServicesDep, record: ExportRecord) -> str:
    expired = record.expires_at is not None and record.expires_at <= services.clock()
    return "expired" if record.status == "approved" and expired else record.status


def _visible(services: ServicesDep, actor: Actor, export_id: str) -> ExportRecord:
    """A request the caller made, or (for approvers) one whose unit their scope covers; any
    other is a 404, like one that does not exist."""
    approver = allowed(actor, Permission.EXPORTS_APPROVE)
    try:
        return services.store.export(
            export_id,
            requester_id=actor.user_id,
            units=services.units(actor) if approver else None,
        )
    except RecordNotFoundError:
        raise NotFoundError("no such export request") from None


@router.post("/exports", response_model=ExportOut, status_code=201)
def request_export(
    body: ExportCreate,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.EXPORTS_REQUEST)],
) -> dict[str, Any]:
    """Ask to export fields of students or teachers in your scope; someone else must approve."""
    if not allowed(actor, Reading(lambda: body.entity)):
        raise ForbiddenError(f"your role may not read {body.entity}")
    known = set(entity(body.entity).field_names)
    unknown = [f for f in body.fields if f not in known]
    if unknown:
        raise InvalidInputError(f"{body.entity} has no field {unknown}")
    unit_school, unit_region = services.unit_of(actor.scope)
    record = services.store.create_export(
        unit_school=unit_school,
        unit_region=unit_region,
        export_id=uuid.uuid4().hex,
        requester_id=actor.user_id,
        entity=body.entity,
        fields=list(dict.fromkeys(body.fields)),
        scope_level=actor.scope.level.value,
        scope_key=actor.scope.key,
        purpose=body.purpose,
        now=services.clock(),
    )
    trail.record(
        "request",
        "export",
        record_ids=[record.export_id],
        query={"entity": body.entity, "fields": body.fields, "purpose": body.purpose},
    )
    return _out(services, record)


@router.get("/exports", response_model=list[ExportOut])
def list_exports(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.EXPORTS_REQUEST)],
) -> list[dict[str, Any]]:
    """Your own requests."""
    return [_out(services, r) for r in services.store.list_exports(requester_id=actor.user_id)]


@router.get("/exports/pending", response_model=list[ExportOut])
def list_pending(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.EXPORTS_APPROVE)],
) -> list[dict[str, Any]]:
    """Requests waiting for a decision whose unit (the requester's scope) the approver's scope
    covers."""
    pending = services.store.list_exports(units=services.units(actor), status="pending")
    return [_out(services, r) for r in pending]


@router.get("/exports/{export_id}", response_model=ExportOut)
def get_export(
    export_id: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.EXPORTS_REQUEST)],
) -> dict[str, Any]:
    """One request: yours, or (for approvers) one of the units your scope covers."""
    return _out(services, _visible(services, actor, export_id))


def _decide(
    export_id: str, approved: bool, note: str, services: ServicesDep, trail: Trail, actor: Actor
) -> dict[str, Any]:
    try:
        record = _visible(services, actor, export_id)
    except NotFoundError:
        # Refused like a missing request; the id is not written to the caller's own trail,
        # which its scope's auditor reads.
        trail.record("approve" if approved else "reject", "export", outcome="not_found")
        raise
    if record.requester_id == actor.user_id:
        trail.record(
            "approve" if approved else "reject", "export", record_ids=[export_id], outcome="denied"
        )
        raise ForbiddenError("a request is decided by someone else")
    requested = Scope.parse(record.scope_level, record.scope_key)

    if not covers(actor.scope, requested, services.reader.region_of_school().get):
        trail.record(
            "approve" if approved else "reject", "export", record_ids=[export_id], outcome="denied"
        )
        raise ForbiddenError("the request's scope is outside yours")
    now = services.clock()
    expires = now + timedelta(minutes=services.settings.export_download_ttl_minutes)
    if not services.store.decide_export(
        export_id,
        approved=approved,
        decided_by=actor.user_id,
        note=note,
        now=now,
        expires_at=expires,
    ):
        raise ConflictError("the request was already decided")
    trail.record(
        "approve" if approved else "reject", "export", record_ids=[export_id], query={"note": note}
    )
    return _out(services, services.store.export(export_id))


@router.post("/exports/{export_id}/approve", response_model=ExportOut)
def approve_export(
    export_id: str,
    body: ExportDecision,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.EXPORTS_APPROVE)],
) -> dict[str, Any]:
    """Approve: the requester may then download once before it expires."""
    return _decide(export_id, True, body.note, services, trail, actor)


@router.post("/exports/{export_id}/reject", response_model=ExportOut)
def reject_export(
    export_id: str,
    body: ExportDecision,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.EXPORTS_APPROVE)],
) -> dict[str, Any]:
    """Reject a request."""
    return _decide(export_id, False, body.note, services, trail, actor)


_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/exports/{export_id}/download",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}, _MEDIA["xlsx"]: {}},
            "description": "The export as UTF-8 CSV or as an .xlsx workbook.",
        }
    },
)
def download_export(
    export_id: str,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.EXPORTS_REQUEST)],
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
) -> Response:
    """The approved export as CSV or xlsx: once, by the requester, before it expires. Text
    cells that a spreadsheet would read as a formula are neutralised (`service.spreadsheet`)."""
    record = _visible(services, actor, export_id)
    if record.requester_id != actor.user_id:
        raise ForbiddenError("only the requester downloads an export")
    if not services.store.claim_export_download(export_id, now=services.clock()):
        trail.record("download", "export", record_ids=[export_id], outcome="refused")
        raise GoneError("not approved, already downloaded, or expired")
    scope = Scope.parse(record.scope_level, record.scope_key)
    rows = services.scoped.export_rows(scope, record.entity, record.fields)
    ent = entity(record.entity)
    key = ent.natural_key[0]
    write = spreadsheet.xlsx_bytes if file_format == "xlsx" else spreadsheet.csv_bytes
    body = write(ent, list(record.fields), rows)
    trail.record(
        "download",
        "export",
        record_ids=[export_id],
        query={
            "entity": record.entity,
            "fields": list(record.fields),
            "rows": len(rows),
            "key": key,
            "format": file_format,
        },
    )
    filename = f"{record.entity}-{export_id}.{file_format}"
    return Response(
        body,
        media_type=_MEDIA[file_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
