"""The module's API: exams in scope, an exam's score report and item analysis, a pupil's exams.

Every read goes through `modules.exams.reads` (the declared scope of `item_score`, masking of a
pupil's own scores by clearance, an audit entry per read), like the cockpit's 考试分析 page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from edubrain.modules.exams import reads
from edubrain.modules.exams.permissions import EXAMS_READ
from edubrain.modules.exams.tables import item_sheet, report_sheets
from edubrain.modules.roster import STUDENTS_READ
from edubrain.service import spreadsheet
from edubrain.service.deps import AuditTrail, ServicesDep, Trail, require
from edubrain.service.policy import Actor
from edubrain.service.records import open_record
from edubrain.service.report_export import XLSX_MEDIA
from edubrain.standard.entities import person_registry

ExamId = Annotated[str, Path(max_length=80, description="The 考试编号.")]
School = Annotated[str | None, Query(max_length=20, description="A 学校标识码.")]
ClassNo = Annotated[int | None, Query(ge=1, le=40, description="A class number (班号).")]
# The audit names what is read: the pupils' item scores (小题得分), whichever view shows them.
SCORES = "item_score"


def list_exams(
    services: ServicesDep, trail: Trail, actor: Annotated[Actor, require(EXAMS_READ)]
) -> list[dict[str, Any]]:
    """Exams with scores of pupils in the caller's scope, newest first, with how many took it."""
    found = reads.exams_in_scope(services.reader, actor.scope)
    trail.record("list", SCORES, query={"exams": len(found)})
    return found


def get_report(
    exam_id: ExamId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_READ)],
    school: School = None,
    class_no: ClassNo = None,
) -> dict[str, Any]:
    """The score report of the pupils in scope (of a school, of a class): totals, 优秀/良好/及格
    rates (≥ 85 % / 70 % / 60 % of 满分), bands of 10 % of 满分, subscores by knowledge point
    and 题型."""
    found = reads.exam_report(
        services.reader,
        actor.scope,
        exam_id,
        school_code=school,
        class_no=class_no,
        smallest_group=reads.smallest_group_for(actor),
    )
    _audit(trail, "report", exam_id, school, class_no, found["report"]["pupils"])
    return found


def get_report_xlsx(
    exam_id: ExamId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_READ)],
    school: School = None,
    class_no: ClassNo = None,
    table: Annotated[
        int, Query(ge=0, le=4, description="0 概况, 1 分数段, 2 知识点, 3 题型, 4 试题分析.")
    ] = 0,
) -> Response:
    """One table of the report (as the cockpit shows it) as an .xlsx workbook."""
    if table == 4:
        analysis = reads.exam_items(services.reader, actor.scope, exam_id, school_code=school)
        _audit(trail, "items", exam_id, school, None, analysis["analysis"]["pupils"])
        title, header, rows = item_sheet(analysis["analysis"])
    else:
        found = reads.exam_report(
            services.reader,
            actor.scope,
            exam_id,
            school_code=school,
            class_no=class_no,
            smallest_group=reads.smallest_group_for(actor),
        )
        _audit(trail, "report", exam_id, school, class_no, found["report"]["pupils"])
        title, header, rows = report_sheets(found["report"])[table]
    return xlsx_download(title, header, rows, f"exam-report-{table}.xlsx")


def get_items(
    exam_id: ExamId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_READ)],
    school: School = None,
) -> dict[str, Any]:
    """CTT item analysis of the paper over the pupils in scope: per item 难度, 区分度 (27 %
    groups), point-biserial, Ebel band and flags; per paper α and SEM. No option analysis: the
    item scores do not record the chosen option."""
    found = reads.exam_items(services.reader, actor.scope, exam_id, school_code=school)
    _audit(trail, "items", exam_id, school, None, found["analysis"]["pupils"])
    return found


def get_pupil_exams(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(STUDENTS_READ)],
) -> dict[str, Any]:
    """The pupil's exams, oldest first: total, 得分率 and rank band among the exam's takers
    (null when the caller is not cleared for 敏感 scores), if the pupil is in scope."""
    number, record = open_record(
        services, trail, actor, person_registry().entity, student_ref, resource=SCORES
    )
    return {
        "student": record,
        "exams": reads.pupil_exams(
            services.reader, actor.scope, number, clear=reads.scores_in_clear(actor)
        ),
        "scores_masked": not reads.scores_in_clear(actor),
    }


def xlsx_download(
    title: str, header: Sequence[str], rows: Sequence[Mapping[str, Any]], file_name: str
) -> Response:
    """One sheet as an .xlsx attachment (`spreadsheet.xlsx_sheet`: text cells neutralised)."""
    return Response(
        spreadsheet.xlsx_sheet(title, header, rows),
        media_type=XLSX_MEDIA,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


def _audit(
    trail: AuditTrail,
    view: str,
    exam_id: str,
    school: str | None,
    class_no: int | None,
    pupils: int,
) -> None:
    """Each report reads the item scores of its pupils: one audit entry per read."""
    query = {"view": view, "school": school, "class_no": class_no, "pupils": pupils}
    trail.record("read", SCORES, record_ids=[exam_id], query=query)


def routes() -> APIRouter:
    router = APIRouter(tags=["exams"])
    router.get("/exams")(list_exams)
    router.get("/exams/{exam_id}/report")(get_report)
    router.get("/exams/{exam_id}/report.xlsx", response_class=Response)(get_report_xlsx)
    router.get("/exams/{exam_id}/items")(get_items)
    router.get("/students/{student_ref}/exams", tags=["people"])(get_pupil_exams)
    from edubrain.modules.exams.scale_routes import scale_routes  # it imports this module

    router.include_router(scale_routes())
    return router
