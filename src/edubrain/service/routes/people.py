"""Students and teachers: scoped lists (cursor paging) and details, masked by data class."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from edubrain.errors import NotFoundError, TooManyRequestsError
from edubrain.service.deps import AuditTrail, Services, ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission
from edubrain.service.schemas import (
    StudentPage,
    StudentPublic,
    TeacherPage,
    TeacherPublic,
    as_json,
)

router = APIRouter(tags=["people"])

Limit = Annotated[int, Query(ge=1, le=500, description="Records per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]
Code = Annotated[str | None, Query(max_length=40)]


def _list(
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
    return {"items": page.items, "next_cursor": page.next_cursor}


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


def _one(
    services: ServicesDep, trail: Trail, actor: Actor, entity_name: str, ref_or_key: str
) -> dict[str, Any]:
    """One record if it is in the caller's scope; 404 otherwise (existence is not revealed)."""
    return open_record(services, trail, actor, entity_name, ref_or_key)[1]


def students_page(
    services: Services,
    trail: AuditTrail,
    actor: Actor,
    *,
    school_code: str | None = None,
    school_year: str | None = None,
    grade_code: str | None = None,
    class_no: int | None = None,
    status_code: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One page of students in the caller's scope (`StudentPage`), audited."""
    filters = {
        "school_code": school_code,
        "school_year": school_year,
        "grade_code": grade_code,
        "class_no": class_no,
        "status": status_code,
    }
    return _list(services, trail, actor, "student", filters, cursor, limit)


@router.get("/students", response_model=StudentPage)
def list_students(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STUDENTS_READ)],
    school_code: Code = None,
    school_year: Code = None,
    grade_code: Code = None,
    class_no: Annotated[int | None, Query(ge=1, le=40)] = None,
    status_code: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Students inside the caller's scope, ordered by 学籍号."""
    return as_json(
        students_page(
            services,
            trail,
            actor,
            school_code=school_code,
            school_year=school_year,
            grade_code=grade_code,
            class_no=class_no,
            status_code=status_code,
            cursor=cursor,
            limit=limit,
        )
    )


@router.get("/students/{student_ref}", response_model=StudentPublic)
def get_student(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STUDENTS_READ)],
) -> dict[str, Any]:
    """One student, if inside the caller's scope (404 otherwise: existence is not revealed)."""
    return _one(services, trail, actor, "student", student_ref)


@router.get("/teachers", response_model=TeacherPage)
def list_teachers(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.TEACHERS_READ)],
    school_code: Code = None,
    post: Code = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Teachers and staff inside the caller's scope, ordered by 教职工号."""
    filters = {"school_code": school_code, "post": post}
    return as_json(_list(services, trail, actor, "teacher", filters, cursor, limit))


@router.get("/teachers/{staff_ref}", response_model=TeacherPublic)
def get_teacher(
    staff_ref: Annotated[str, Path(description="The `ref` from a list, or the 教职工号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.TEACHERS_READ)],
) -> dict[str, Any]:
    """One member of staff, if inside the caller's scope."""
    return _one(services, trail, actor, "teacher", staff_ref)
