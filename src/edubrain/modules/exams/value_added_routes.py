"""增值评价's API: `/api/v1/exams/value-added` (JSON) and `/api/v1/exams/value-added.xlsx`.

Reads `exam_value_added` in the caller's scope (`value_added_reads`), one audit entry per read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from edubrain.modules.exams import value_added_reads as va
from edubrain.modules.exams.permissions import EXAMS_VALUE_ADDED
from edubrain.modules.exams.reads import scores_in_clear
from edubrain.modules.exams.routes import xlsx_download
from edubrain.modules.exams.value_added_job import VALUE_ADDED_TABLE
from edubrain.service.deps import AuditTrail, ServicesDep, Trail, require
from edubrain.service.policy import Actor

Year = Annotated[
    str | None, Query(pattern=r"^20\d{2}-20\d{2}$", description="学年, e.g. 2025-2026.")
]
Subject = Annotated[str | None, Query(max_length=20, description="学科 code, e.g. math.")]
Grade = Annotated[str | None, Query(pattern=r"^\d{2}$", description="年级编号, e.g. 21.")]


def read(
    services: ServicesDep,
    trail: AuditTrail,
    actor: Actor,
    school_year: str | None,
    subject: str | None,
    grade: str | None,
) -> dict[str, Any]:
    """The value-added in the caller's scope, audited."""
    found = va.value_added(
        services.reader,
        actor.scope,
        school_year=school_year,
        subject=subject,
        grade_code=grade,
        teachers_in_clear=scores_in_clear(actor),
    )
    selection = found["selection"] or {}
    trail.record(
        "read",
        VALUE_ADDED_TABLE,
        record_ids=[selection["exam_id"]] if selection else [],
        query={
            "school_year": school_year,
            "subject": subject,
            "grade": grade,
            "schools": len(found["schools"]),
            "classes": len(found["classes"]),
        },
    )
    return found


def get_value_added(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_VALUE_ADDED)],
    school_year: Year = None,
    subject: Subject = None,
    grade: Grade = None,
) -> dict[str, Any]:
    """School and class value-added (增值) of one school year × subject × grade in scope: the
    effect in points of the exam's total with its 95 % interval, shrinkage, band (above / in
    line / below), small-group flag and the Progress-8-style simple score; a class's teacher
    only where attribution is clear. `choices` lists the years, subjects and grades in scope."""
    return read(services, trail, actor, school_year, subject, grade)


def get_value_added_xlsx(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_VALUE_ADDED)],
    school_year: Year = None,
    subject: Subject = None,
    grade: Grade = None,
    table: Annotated[int, Query(ge=0, le=1, description="0 学校增值, 1 班级增值.")] = 0,
) -> Response:
    """One table of the value-added page as an .xlsx workbook (text cells neutralised)."""
    found = read(services, trail, actor, school_year, subject, grade)
    title, header, rows = va.sheets(found)[table]
    return xlsx_download(title, header, rows, f"value-added-{table}.xlsx")


def routes() -> APIRouter:
    router = APIRouter(tags=["exams"])
    router.get("/exams/value-added")(get_value_added)
    router.get("/exams/value-added.xlsx", response_class=Response)(get_value_added_xlsx)
    return router
