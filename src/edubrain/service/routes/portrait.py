"""A pupil's portrait (学生画像): the record, exam totals, fitness tests and health checks.

Everything about the pupil is read with the caller's scope inside the query (the pupil must be
in the scope, like `GET /students/{ref}`), shaped by `masking.present` for the caller's
clearance, and audited as one read. The portrait grows as the analytics land.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path

from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.masking import present
from edubrain.service.policy import Actor, Permission, clearance
from edubrain.service.routes.people import open_record
from edubrain.service.schemas import Portrait
from edubrain.standard.entities import DataClass, entity

if TYPE_CHECKING:
    import ibis.expr.types as ir

router = APIRouter(tags=["people"])


def _pupil_rows(services: Services, actor: Actor, table: str, number: str) -> ir.Table | None:
    """`table`'s rows of the pupil, restricted inside the query to pupils in the caller's scope."""
    reader = services.reader
    if not reader.has_table(table):
        return None
    with reader.lock:
        pupils = services.scoped.query(
            actor.scope, "student", filters={"student_number": number}, fields=["student_number"]
        )
        t = reader.table(table)
        return t.filter(t.student_number.isin(pupils.student_number))


def _exam_totals(services: Services, actor: Actor, number: str) -> list[dict[str, Any]]:
    scores = _pupil_rows(services, actor, "item_score", number)
    if scores is None or not services.reader.has_table("exam"):
        return []
    with services.reader.lock:
        exams = services.reader.table("exam")
        totals = scores.group_by("exam_id").aggregate(score=scores.score.sum())
        joined = totals.join(exams, "exam_id").order_by(["exam_date", "exam_id"])
        expr = joined.select(
            "exam_id", "name", "subject", "school_year", "exam_date", "max_score", "score"
        )
    rows = services.reader.rows(expr)
    # A total is as sensitive as the item scores it sums (得分: 敏感).
    if DataClass.SENSITIVE not in clearance(actor.role):
        for row in rows:
            row["score"] = None
    return rows


def _records(services: Services, actor: Actor, table: str, number: str) -> list[dict[str, Any]]:
    expr = _pupil_rows(services, actor, table, number)
    if expr is None:
        return []
    ent = entity(table)
    key = list(ent.natural_key)
    with services.reader.lock:
        expr = expr.select(*ent.field_names).order_by(key)
    seen = clearance(actor.role)
    opener = services.scoped.opener
    return [present(ent, row, seen, opener) for row in services.reader.rows(expr)]


@router.get("/students/{student_ref}/portrait", response_model=Portrait)
def get_portrait(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STUDENTS_READ)],
) -> dict[str, Any]:
    """The pupil's record with exam totals, fitness tests and health checks, if in scope."""
    number, record = open_record(
        services, trail, actor, "student", student_ref, resource="student_portrait"
    )
    return {
        "student": record,
        "exams": _exam_totals(services, actor, number),
        "fitness": _records(services, actor, "fitness_test", number),
        "health": _records(services, actor, "health_check", number),
        "scores_masked": DataClass.SENSITIVE not in clearance(actor.role),
    }
