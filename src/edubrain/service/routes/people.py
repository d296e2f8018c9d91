"""Students and teachers: scoped lists (cursor paging) and details, masked by data class."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission
from edubrain.service.schemas import StudentPage, StudentPublic, TeacherPage, TeacherPublic

router = APIRouter(tags=["people"])

Limit = Annotated[int, Query(ge=1, le=500, description="Records per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]
Code = Annotated[str | None, Query(max_length=40)]


def _ids(items: list[dict[str, Any]], key: str) -> list[str]:
    return [str(item[key]) for item in items]


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
) -> dict[str, Any]:
    """Students inside the caller's scope, ordered by 学籍号."""
    filters = {
        "school_code": school_code,
        "school_year": school_year,
        "grade_code": grade_code,
        "class_no": class_no,
        "status": status_code,
    }
    page = services.scoped.page(actor, "student", filters=filters, cursor=cursor, limit=limit)
    trail.record(
        "list",
        "student",
        record_ids=_ids(page.items, "student_number"),
        query={**filters, "cursor": cursor, "limit": limit},
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/students/{student_number}", response_model=StudentPublic)
def get_student(
    student_number: str,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STUDENTS_READ)],
) -> dict[str, Any]:
    """One student, if inside the caller's scope (404 otherwise: existence is not revealed)."""
    record = services.scoped.one(actor, "student", student_number)
    trail.record(
        "read", "student", record_ids=[student_number], outcome="ok" if record else "not_found"
    )
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such student in your scope")
    return record


@router.get("/teachers", response_model=TeacherPage)
def list_teachers(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.TEACHERS_READ)],
    school_code: Code = None,
    post: Code = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> dict[str, Any]:
    """Teachers and staff inside the caller's scope, ordered by 教职工号."""
    filters = {"school_code": school_code, "post": post}
    page = services.scoped.page(actor, "teacher", filters=filters, cursor=cursor, limit=limit)
    trail.record(
        "list",
        "teacher",
        record_ids=_ids(page.items, "staff_number"),
        query={**filters, "cursor": cursor, "limit": limit},
    )
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get("/teachers/{staff_number}", response_model=TeacherPublic)
def get_teacher(
    staff_number: str,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.TEACHERS_READ)],
) -> dict[str, Any]:
    """One member of staff, if inside the caller's scope."""
    record = services.scoped.one(actor, "teacher", staff_number)
    trail.record(
        "read", "teacher", record_ids=[staff_number], outcome="ok" if record else "not_found"
    )
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such teacher in your scope")
    return record
