"""The cockpit's report pages of the 评价—反馈—改进 loop, and their exports.

- `/research` (教研分析): the 教研员's and the bureau's county analysis of an exam;
- `/schools/{code}/report` (学校质量报告): a school against the county — its principal's (the
  menu's 学校质量报告 opens it: `/school-report`) and the region roles';
- `/students/{ref}/progress` (学业进步): a pupil's own progress — the parent's and the pupil's,
  two clicks from the home page (the child's card, then 学业进步 on the portrait).

Each page's tables come with an .xlsx and a PDF of the page (`…/export?format=xlsx|pdf`, one
table with `table=`), written by `service.report_export`. Reads are scoped, masked and audited
like the API's: the pupil is opened by `open_record` (the 404 of `GET /students/{ref}`), and
every view reads the item scores under one audit entry per exam.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edubrain.cockpit.render import page
from edubrain.errors import NotFoundError
from edubrain.modules.exams import insight, reads
from edubrain.modules.exams.permissions import (
    OWN_SCHOOL_REPORT,
    RESEARCH_READ,
    SCHOOL_REPORT_READ,
)
from edubrain.modules.exams.routes import SCORES
from edubrain.modules.roster import STUDENTS_READ
from edubrain.service import report_export
from edubrain.service.deps import AuditTrail, ServicesDep, Trail, require
from edubrain.service.policy import Actor, ScopeLevel
from edubrain.service.records import open_record
from edubrain.standard.entities import person_registry

ExamQ = Annotated[str | None, Query(max_length=80)]
TableQ = Annotated[str | None, Query(max_length=20, pattern=r"^[a-z_]+$")]
Format = Annotated[Literal["xlsx", "pdf"], Query(alias="format")]
SchoolCode = Annotated[str, Path(pattern=r"^\d{10}$")]
StudentRef = Annotated[str, Path(max_length=200)]


def _audit(trail: AuditTrail, view: str, found: insight.View, **query: Any) -> None:
    """One read of the item scores per view (with the exams it read)."""
    trail.record(
        "read",
        SCORES,
        record_ids=found.audited,
        query={"view": view, "pupils": found.pupils, **query},
    )


def _export(found: insight.View, table: str | None, file_format: str, stem: str) -> Response:
    report = found.report().only(table)
    if table is not None and not report.tables:
        raise NotFoundError(f"no table {table} on this page")
    if file_format == "pdf":
        body, media, suffix = report_export.pdf(report), report_export.PDF_MEDIA, "pdf"
    else:
        body, media, suffix = report_export.xlsx(report), report_export.XLSX_MEDIA, "xlsx"
    name = report_export.file_name(f"{stem}-{table or 'all'}", suffix)
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _page(request: Request, actor: Actor, found: insight.View, export: str) -> HTMLResponse:
    sep = "&" if "?" in export else "?"
    return page(
        request,
        actor,
        "exam_insight.html",
        {"v": found, "export": export + sep, "shown": report_export.shown},
    )


def _export_base(path: str, exam_id: str | None) -> str:
    return f"{path}/export" + (f"?exam={exam_id}" if exam_id else "")


def research_view(actor: Actor, services: Any, exam: str | None) -> insight.View:
    return insight.research(
        services.reader, actor.scope, exam, smallest_group=reads.smallest_group_for(actor)
    )


def school_view(actor: Actor, services: Any, school_code: str, exam: str | None) -> insight.View:
    return insight.school_report(
        services.reader,
        actor.scope,
        school_code,
        exam,
        smallest_group=reads.smallest_group_for(actor),
    )


def progress_view(actor: Actor, services: Any, trail: AuditTrail, student_ref: str) -> insight.View:
    number, record = open_record(
        services, trail, actor, person_registry().entity, student_ref, resource=SCORES
    )
    found = insight.progress(
        services.reader, actor.scope, number, clear=reads.scores_in_clear(actor)
    )
    found.title = f"学业进步：{record.get('name') or ''}".rstrip("：")
    return found


def as_json(found: insight.View) -> dict[str, Any]:
    """A report page as data: what its exports write (title, lines, tables with their columns
    and rows) and the page's notices, facts and exam choices."""
    report = found.report()
    return {
        "title": report.title,
        "exam_id": found.exam_id,
        "lines": list(report.lines),
        "notices": list(found.notices),
        "facts": [{"label": label, "value": value} for label, value in found.facts],
        "exams": [
            {"label": label, "href": href, "current": current}
            for label, href, current in found.choices
        ],
        "tables": [
            {
                "key": table.key,
                "title": table.title,
                "note": table.note,
                "columns": [
                    {"label": c.label, "kind": str(c.kind), "group": c.group} for c in table.columns
                ],
                "rows": [list(row) for row in table.rows],
            }
            for table in report.tables
        ],
    }


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/research", response_class=HTMLResponse)
    def research_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(RESEARCH_READ)],
        exam: ExamQ = None,
    ) -> Response:
        """教研分析: an exam's items, weakest knowledge points and schools across the county."""
        found = research_view(actor, services, exam)
        _audit(trail, "research", found)
        return _page(request, actor, found, _export_base("/research", found.exam_id))

    @router.get("/research/export")
    def research_export(
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(RESEARCH_READ)],
        file_format: Format = "xlsx",
        exam: ExamQ = None,
        table: TableQ = None,
    ) -> Response:
        """教研分析's tables as .xlsx (layout kept) or PDF; one with `table=`."""
        found = research_view(actor, services, exam)
        _audit(trail, "research", found, export=file_format, table=table)
        return _export(found, table, file_format, "research")

    @router.get("/school-report")
    def own_school_report(
        actor: Annotated[Actor, require(OWN_SCHOOL_REPORT)],
    ) -> Response:
        """The menu's 学校质量报告: the principal's own school."""
        if actor.scope.level is not ScopeLevel.SCHOOL:
            raise NotFoundError("no school of your own")
        target = f"/schools/{actor.scope.key}/report"
        return RedirectResponse(target, status.HTTP_303_SEE_OTHER)

    @router.get("/schools/{school_code}/report", response_class=HTMLResponse)
    def school_report_page(
        school_code: SchoolCode,
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(SCHOOL_REPORT_READ)],
        exam: ExamQ = None,
    ) -> Response:
        """学校质量报告: strengths, weak knowledge points, value-added, what to work on."""
        found = school_view(actor, services, school_code, exam)
        _audit(trail, "school_report", found, school=school_code)
        base = _export_base(f"/schools/{school_code}/report", found.exam_id)
        return _page(request, actor, found, base)

    @router.get("/schools/{school_code}/report/export")
    def school_report_export(
        school_code: SchoolCode,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(SCHOOL_REPORT_READ)],
        file_format: Format = "xlsx",
        exam: ExamQ = None,
        table: TableQ = None,
    ) -> Response:
        found = school_view(actor, services, school_code, exam)
        _audit(trail, "school_report", found, school=school_code, export=file_format, table=table)
        return _export(found, table, file_format, f"school-{school_code}")

    @router.get("/students/{student_ref}/progress", response_class=HTMLResponse)
    def progress_page(
        student_ref: StudentRef,
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(STUDENTS_READ)],
    ) -> Response:
        """学业进步: the pupil's own exams — 得分率, rank band, knowledge points, trend."""
        found = progress_view(actor, services, trail, student_ref)
        _audit(trail, "progress", found)
        return _page(request, actor, found, f"/students/{student_ref}/progress/export")

    @router.get("/students/{student_ref}/progress/export")
    def progress_export(
        student_ref: StudentRef,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(STUDENTS_READ)],
        file_format: Format = "xlsx",
        table: TableQ = None,
    ) -> Response:
        """学业进步's tables as .xlsx (layout kept) or PDF; one with `table=`."""
        found = progress_view(actor, services, trail, student_ref)
        _audit(trail, "progress", found, export=file_format, table=table)
        return _export(found, table, file_format, "progress")

    return router


def api_routes() -> APIRouter:
    """The report pages as data (`/api/v1/…`), read, scoped, masked and audited as the pages."""
    router = APIRouter(tags=["exams"])

    @router.get("/research")
    def get_research(
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(RESEARCH_READ)],
        exam: ExamQ = None,
    ) -> dict[str, Any]:
        """教研分析 as data: an exam's items by CTT with flags, the weakest knowledge points and
        the schools across the caller's scope (`exam=` one exam, else the newest); the tables
        the page and its exports show, with the exams to choose from."""
        found = research_view(actor, services, exam)
        _audit(trail, "research", found, api=True)
        return as_json(found)

    @router.get("/schools/{school_code}/report", tags=["regions and schools"])
    def get_school_report(
        school_code: SchoolCode,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(SCHOOL_REPORT_READ)],
        exam: ExamQ = None,
    ) -> dict[str, Any]:
        """学校质量报告 as data: the school against the county — strengths, weak knowledge
        points, value-added band, what to work on (404 outside the caller's scope)."""
        found = school_view(actor, services, school_code, exam)
        _audit(trail, "school_report", found, school=school_code, api=True)
        return as_json(found)

    @router.get("/students/{student_ref}/progress", tags=["people"])
    def get_progress(
        student_ref: StudentRef,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(STUDENTS_READ)],
    ) -> dict[str, Any]:
        """学业进步 as data: the pupil's own exams — 得分率, rank band (masked without 敏感
        clearance), knowledge points and trend — if the pupil is in scope (404 otherwise)."""
        found = progress_view(actor, services, trail, student_ref)
        _audit(trail, "progress", found, api=True)
        return as_json(found)

    return router
