"""The exams' section of a pupil's portrait: the pupil's total per exam, with the exam."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from edubrain.service.deps import Services
from edubrain.service.policy import Actor
from edubrain.service.portrait import PortraitSection


class ExamTotal(BaseModel):
    exam_id: str
    name: str | None
    subject: str | None
    school_year: str | None
    exam_date: date | None
    max_score: float | None
    score: float | None = Field(
        description="The pupil's total; null when the caller does not see 敏感 scores."
    )


def exam_totals(services: Services, actor: Actor, number: str) -> list[dict[str, Any]]:
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


SECTION = PortraitSection("exams", "exam totals", exam_totals, lambda: ExamTotal)
