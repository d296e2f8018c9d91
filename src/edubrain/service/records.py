"""Personal records for a route: a scoped page (cursor paging) or one record a path names,
masked by data class and audited.

The routes themselves belong to the modules that own the entities (the roster's `/students`
and `/teachers`); what they share — the scope inside the query, masking, the audit record with
the ids returned, the throttled 404 that reveals nothing — is here."""

from __future__ import annotations

from typing import Any

from edubrain.errors import NotFoundError, TooManyRequestsError
from edubrain.service.deps import AuditTrail, Services
from edubrain.service.policy import Actor


def records_page(
    services: Services,
    trail: AuditTrail,
    actor: Actor,
    entity_name: str,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of an entity in the caller's scope, audited with the ids it returned."""
    page = services.scoped.page(actor, entity_name, filters=filters, cursor=cursor, limit=limit)
    trail.record(
        "list",
        entity_name,
        record_ids=page.keys,
        query={**filters, "cursor": cursor, "limit": limit},
    )
    return {"items": page.items, "next_cursor": page.next_cursor, "total": page.total}


def open_record(
    services: Services,
    trail: AuditTrail,
    actor: Actor,
    entity_name: str,
    ref_or_key: str,
    *,
    resource: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The key and the record a path names, if it is in the caller's scope.

    Every miss answers the same 404: a record that does not exist, one outside the scope, a
    forged ref, or a key the caller sees only masked (it could only be a guess). Misses are
    counted per account and per client address; past `lookup_miss_limit` within the window
    lookups answer 429 (Retry-After), and the audit trail marks the pattern once per window
    (`enumeration_suspected`, with the counts).
    """
    resource = resource or entity_name
    now = services.clock()
    windows = (
        (services.misses_by_account, f"user:{actor.user_id}"),
        (services.misses_by_address, f"ip:{trail.client_ip}"),
    )
    waits = [w for w in (win.retry_after(key, now) for win, key in windows) if w is not None]
    if waits:
        trail.record("read", resource, record_ids=[ref_or_key], outcome="throttled")
        raise TooManyRequestsError(
            "too many lookups that found nothing; try again later", retry_after=max(waits)
        )
    scoped = services.scoped
    key_value = scoped.address(actor, entity_name, ref_or_key)
    record = scoped.one(actor, entity_name, key_value) if key_value is not None else None
    trail.record(
        "read",
        resource,
        record_ids=[key_value if key_value is not None else ref_or_key],
        outcome="ok" if record else "not_found",
    )
    if record is None or key_value is None:
        counts = [win.miss(key, now) for win, key in windows]
        if any(n == win.limit for n, (win, _) in zip(counts, windows, strict=True)):
            # Once per window and key: the miss that reaches the limit.
            trail.record(
                "enumeration_suspected",
                resource,
                query={
                    "misses_by_account": counts[0],
                    "misses_by_address": counts[1],
                    "limit_per_account": windows[0][0].limit,
                    "limit_per_address": windows[1][0].limit,
                    "window_seconds": int(windows[0][0].window.total_seconds()),
                },
                outcome="flagged",
            )
        raise NotFoundError(f"no such {entity_name} in your scope")
    return key_value, record
