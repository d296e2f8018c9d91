"""The module's API: a pupil's diagnosed mastery, read in scope, masked and audited.

The fit (`edubrain diagnose fit`) writes each pupil's mastery to the warehouse table
`MASTERY_TABLE`; this route reads it like any personal record: the pupil must be in the caller's
scope (the same check and audit entry as `GET /students/{ref}`), the table's declared scope
rule filters inside the query, and mastery and its uncertainty — as sensitive as the scores
they are estimated from — are shown only to roles cleared for 敏感 data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import ibis
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from edubrain.modules.diagnosis.entities import KNOWLEDGE_POINT, MASTERY_TABLE
from edubrain.modules.roster import STUDENTS_READ
from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.masking import in_clear
from edubrain.service.policy import Actor, clearance, scope_predicate
from edubrain.service.records import open_record
from edubrain.standard.entities import DataClass, person_registry

POINT_TABLE = KNOWLEDGE_POINT.name
MASTERY_CLASS = DataClass.SENSITIVE


class PointMastery(BaseModel):
    kp_code: str
    name: str | None = Field(description="The knowledge point's name, from knowledge_point.")
    mastery: float | None = Field(description="P(mastered); null when masked.")
    uncertainty: float | None = Field(description="Its standard deviation; null when masked.")
    attempts: int


class PupilMastery(BaseModel):
    student: dict[str, Any]
    fitted_at: datetime | None
    points: list[PointMastery] = Field(description="Points of the pupil's grade, by code.")
    mastery_masked: bool


def pupil_mastery(services: Services, actor: Actor, number: str) -> dict[str, Any]:
    """The pupil's rows of the mastery table that the caller's scope covers, masked."""
    reader = services.reader
    if not reader.has_table(MASTERY_TABLE):
        return {"fitted_at": None, "points": []}
    with reader.lock:
        t = reader.table(MASTERY_TABLE)
        t = t.filter(scope_predicate(actor.scope, MASTERY_TABLE, t, reader))
        t = t.filter(t.student_number == number)
        if reader.has_table(POINT_TABLE):
            p = reader.table(POINT_TABLE).select(qr_code="kp_code", name="name")
            t = t.left_join(p, t.kp_code == p.qr_code).drop("qr_code")
        else:
            t = t.mutate(name=ibis.null().cast("string"))
        expr = t.select(
            "kp_code", "name", "mastery", "uncertainty", "attempts", "fitted_at"
        ).order_by("kp_code")
    rows = reader.rows(expr)
    clear = in_clear(MASTERY_CLASS, clearance(actor.role))
    points = [
        {
            "kp_code": r["kp_code"],
            "name": r["name"],
            "mastery": r["mastery"] if clear else None,
            "uncertainty": r["uncertainty"] if clear else None,
            "attempts": r["attempts"],
        }
        for r in rows
    ]
    return {"fitted_at": rows[0]["fitted_at"] if rows else None, "points": points}


def routes() -> APIRouter:
    router = APIRouter(tags=["people"])

    @router.get("/students/{student_ref}/mastery", response_model=PupilMastery)
    def get_mastery(
        student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(STUDENTS_READ)],
    ) -> dict[str, Any]:
        """The pupil's mastery of each knowledge point of their grade (学情诊断), if in scope."""
        number, record = open_record(
            services, trail, actor, person_registry().entity, student_ref,
            resource="student_mastery",
        )  # fmt: skip
        found = pupil_mastery(services, actor, number)
        return {
            "student": record,
            **found,
            "mastery_masked": not in_clear(MASTERY_CLASS, clearance(actor.role)),
        }

    return router
