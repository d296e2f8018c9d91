"""The API of the IRT scaling: an exam's item parameters and link, a pupil's scale scores.

`GET /api/v1/exams/{exam_id}/scale` (and `.xlsx`, one table of it) for a caller with pupils of
the exam in scope; `GET /api/v1/students/{ref}/scale-scores` for a pupil in scope, θ and the
scale score masked unless the caller is cleared for 敏感 scores. Every read is audited as a read
of `exam_scale_score` naming the exam and the view.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from edubrain.modules.exams import reads, scale_reads
from edubrain.modules.exams.permissions import EXAMS_READ
from edubrain.modules.exams.routes import ExamId, xlsx_download
from edubrain.modules.roster import STUDENTS_READ
from edubrain.service.deps import AuditTrail, ServicesDep, Trail, require
from edubrain.service.policy import Actor
from edubrain.service.records import open_record
from edubrain.standard.entities import person_registry

SCALE_SCORES = scale_reads.SCORE_TABLE


def read_scale(
    services: ServicesDep, trail: AuditTrail, actor: Actor, exam_id: str
) -> dict[str, Any]:
    """The exam's scaling for the caller (audited: it reads the scale scores in scope)."""
    found = scale_reads.exam_scale(
        services.reader,
        actor.scope,
        exam_id,
        smallest_group=reads.smallest_group_for(actor),
    )
    trail.record(
        "read",
        SCALE_SCORES,
        record_ids=[exam_id],
        query={"view": "scale", "pupils": found["scores"]["pupils"]},
    )
    return found


def get_scale(
    exam_id: ExamId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_READ)],
) -> dict[str, Any]:
    """IRT calibration of the paper: model, item parameters (a, b, standard errors, fit, flags)
    on the base year's scale when linked, the linking constants of the four methods, and the
    scale scores (500 + 100·θ) of the pupils in scope as an aggregate."""
    return read_scale(services, trail, actor, exam_id)


def get_scale_xlsx(
    exam_id: ExamId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(EXAMS_READ)],
    table: Annotated[int, Query(ge=0, le=1, description="0 项目参数, 1 等值常数.")] = 0,
) -> Response:
    """One table of the scaling (as the cockpit shows it) as an .xlsx workbook."""
    found = read_scale(services, trail, actor, exam_id)
    title, header, rows = scale_reads.scale_sheets(found)[table]
    return xlsx_download(title, header, rows, f"exam-scale-{table}.xlsx")


def get_pupil_scale_scores(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(STUDENTS_READ)],
) -> dict[str, Any]:
    """The pupil's IRT scale scores per exam, oldest first (θ, its standard error, 500 + 100·θ;
    null when the caller is not cleared for 敏感 scores), if the pupil is in scope."""
    number, record = open_record(
        services, trail, actor, person_registry().entity, student_ref, resource=SCALE_SCORES
    )
    clear = reads.scores_in_clear(actor)
    return {
        "student": record,
        "exams": scale_reads.pupil_scale_scores(services.reader, actor.scope, number, clear=clear),
        "scores_masked": not clear,
    }


def scale_routes() -> APIRouter:
    router = APIRouter(tags=["exams"])
    router.get("/exams/{exam_id}/scale")(get_scale)
    router.get("/exams/{exam_id}/scale.xlsx", response_class=Response)(get_scale_xlsx)
    router.get("/students/{student_ref}/scale-scores", tags=["people"])(get_pupil_scale_scores)
    return router
