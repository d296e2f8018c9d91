"""A pupil's portrait (学生画像): the record, exam totals, fitness tests and health checks.

Everything about the pupil is read through the scoped reader — each table's declared scope
rule inside the query (the pupil must be in the scope, like `GET /students/{ref}`), masked for
the caller's clearance — and audited as one read. The portrait grows as the analytics land.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission, clearance
from edubrain.service.routes.people import open_record
from edubrain.service.schemas import Portrait
from edubrain.standard.entities import DataClass

router = APIRouter(tags=["people"])


def _exam_totals(services: Services, actor: Actor, number: str) -> list[dict[str, Any]]:
    """The pupil's total per exam (masked like the item scores it sums), with the exam."""
    totals = services.scoped.summed(
        actor, "item_score", filters={"student_number": number}, by=["exam_id"], measure="score"
    )
    reader = services.reader
    if not totals or not reader.has_table("exam"):
        return []
    with reader.lock:
        exams = reader.table("exam")
        expr = exams.filter(exams.exam_id.isin([t["exam_id"] for t in totals])).select(
            "exam_id", "name", "subject", "school_year", "exam_date", "max_score"
        )
    about = {e["exam_id"]: e for e in reader.rows(expr)}
    rows = [about[t["exam_id"]] | {"score": t["score"]} for t in totals if t["exam_id"] in about]
    return sorted(rows, key=lambda r: (r["exam_date"], r["exam_id"]))


def _records(services: Services, actor: Actor, table: str, number: str) -> list[dict[str, Any]]:
    if not services.reader.has_table(table):
        return []
    return services.scoped.records(actor, table, filters={"student_number": number})


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
