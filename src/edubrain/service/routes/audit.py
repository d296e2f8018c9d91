"""The audit trail, for auditors (事后可追溯): who read or changed what, when, why, from where."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.masking import pseudonymise_key
from edubrain.service.policy import Actor, Permission, clearance
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import AuditPage, ChainStatus

router = APIRouter(tags=["audit"])

Text = Annotated[str | None, Query(max_length=64)]
_NOT_SHOWN = ("record_ids", "query", "unit_school", "unit_region")


@router.get("/audit", response_model=AuditPage)
def list_audit(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.AUDIT_READ)],
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
    """Audit records of the caller's scope (records of actors whose scope lies inside it),
    newest first, filtered by user, action, resource, record (e.g. a 学籍号) and time."""
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
        units=services.units(actor),
        record_id=record_id,
    )
    items = [
        {
            "seq": r.seq,
            **{k: v for k, v in r.entry.__dict__.items() if k not in _NOT_SHOWN},
            "record_ids": json.loads(r.entry.record_ids),
            "query": json.loads(r.entry.query),
            "hash": r.hash,
        }
        for r in records[:limit]
    ]
    items = [_shown(services, actor, item) for item in items]
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


def _shown(services: ServicesDep, actor: Actor, item: dict[str, Any]) -> dict[str, Any]:
    """An audit record as the reader may see it: the trail keeps keys in clear (it is the
    evidence), but a reader without the clearance for a 学籍号 sees its sealed ref instead,
    and ID numbers nowhere (`masking.pseudonymise_key`). The hash is of the record as kept."""
    seen = clearance(actor.role)

    def show(value: Any) -> Any:
        if isinstance(value, str):
            return pseudonymise_key(value, seen, services.refs.seal)
        if isinstance(value, list):
            return [show(v) for v in value]
        if isinstance(value, dict):
            return {k: show(v) for k, v in value.items()}
        return value

    return item | {
        "scope": ";".join(show(part) for part in item["scope"].split(";")),
        "actor": show(item["actor"]),
        "resource": show(item["resource"]),
        "record_ids": show(item["record_ids"]),
        "query": show(item["query"]),
    }


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
