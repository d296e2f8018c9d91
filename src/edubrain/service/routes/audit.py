"""The audit trail, for auditors (事后可追溯): who read or changed what, when, why, from where."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Permission
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import AuditPage, ChainStatus

router = APIRouter(tags=["audit"])

Text = Annotated[str | None, Query(max_length=64)]


@router.get("/audit", response_model=AuditPage, dependencies=[require(Permission.AUDIT_READ)])
def list_audit(
    services: ServicesDep,
    trail: Trail,
    user: Text = None,
    action: Text = None,
    resource: Text = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO time, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO time, exclusive")] = None,
    record: Annotated[
        str | None, Query(max_length=80, description="A record key read, e.g. a 学籍号")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Audit records, newest first, filtered by user, action, resource, record and time."""
    before = decode_cursor(cursor) if cursor else ""
    sealer = services.reader.sealer
    # The trail keeps record keys as stored: a 学籍号 searched for in clear is sealed first.
    record_id = sealer.seal_text(record) if sealer and record else record
    records = services.store.audit_records(
        after_seq=int(before) if before.isdigit() else 0,
        limit=limit + 1,
        actor=user,
        action=action,
        resource=resource,
        since=since,
        until=until,
        descending=True,
        record_id=record_id,
    )
    items = [
        {
            "seq": r.seq,
            **{k: v for k, v in r.entry.__dict__.items() if k not in ("record_ids", "query")},
            "record_ids": json.loads(r.entry.record_ids),
            "query": json.loads(r.entry.query),
            "hash": r.hash,
        }
        for r in records[:limit]
    ]
    trail.record(
        "list",
        "audit",
        record_ids=[str(item["seq"]) for item in items],
        query={
            "user": user,
            "action": action,
            "resource": resource,
            "since": since,
            "record": record_id,
        },
    )
    more = len(records) > limit
    return {"items": items, "next_cursor": encode_cursor(str(items[-1]["seq"])) if more else None}


@router.get(
    "/audit/verify", response_model=ChainStatus, dependencies=[require(Permission.AUDIT_READ)]
)
def verify_audit(
    services: ServicesDep,
    trail: Trail,
) -> dict[str, Any]:
    """Walk the hash chain; name the first record that was changed or deleted."""
    report = services.store.verify_audit_chain()
    trail.record("verify", "audit", outcome="ok" if report.ok else "broken")
    return {
        "ok": report.ok,
        "records": report.records,
        "head_seq": report.head_seq,
        "broken_seq": report.broken_seq,
        "problem": report.problem,
    }
