"""The module's API: its loans inside the caller's scope, masked and audited."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from edubrain.modules.roster import STUDENTS_READ
from edubrain.service.deps import AuditTrail, Services, ServicesDep, Trail, require
from edubrain.service.policy import Actor, DomainPermission
from edubrain.service.schemas import as_json

# Whoever reads pupils reads their loans (the module requires the roster and builds on it).
LIBRARY_READ = DomainPermission("library:read", STUDENTS_READ.roles, reads=("library_loan",))


def loans_page(
    services: Services,
    trail: AuditTrail,
    actor: Actor,
    *,
    school_code: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of loans of the pupils in the caller's scope; the read is audited."""
    filters = {"school_code": school_code}
    page = services.scoped.page(actor, "library_loan", filters=filters, cursor=cursor, limit=limit)
    query = {**filters, "cursor": cursor, "limit": limit}
    trail.record("list", "library_loan", record_ids=page.keys, query=query)
    return {"items": page.items, "next_cursor": page.next_cursor}


def routes() -> APIRouter:
    router = APIRouter(tags=["library"])

    @router.get("/library/loans")
    def list_loans(
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(LIBRARY_READ)],
        school_code: Annotated[str | None, Query(max_length=40)] = None,
        cursor: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> Response:
        """Library loans of the pupils inside the caller's scope, by 借阅编号."""
        result = loans_page(
            services, trail, actor, school_code=school_code, cursor=cursor, limit=limit
        )
        return as_json(result)

    return router
