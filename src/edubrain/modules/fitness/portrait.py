"""The fitness scores' section of a pupil's portrait: each year's 学年总分 and 等级."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE
from edubrain.service.portrait import PortraitSection, results_of

SCORES = ("total", "standard_score", "bonus", "level", "bmi", "bmi_category", "uncertain")


class FitnessScore(BaseModel):
    school_year: str | None
    test_date: date | None
    status: str | None = Field(description="完整, or 缺项 (an item of the grade missing).")
    missing_items: str | None
    total: float | None = Field(description="学年总分; null when masked or 缺项.")
    standard_score: float | None
    bonus: float | None
    level: str | None = Field(description="优秀 / 良好 / 及格 / 不及格; null when masked or 缺项.")
    bmi: float | None
    bmi_category: str | None
    uncertain: str | None = Field(description="Reliability marks of the table cells used.")


SECTION = PortraitSection(
    "fitness_scores",
    "fitness scores by the 国家学生体质健康标准",
    results_of(
        FITNESS_SCORE_TABLE,
        "student_number",
        ("school_year", "test_date", "status", "missing_items", *SCORES),
        sensitive=SCORES,
        order="school_year",
    ),
    lambda: FitnessScore,
)
