"""The fitness scores' section of a pupil's portrait: each year's 学年总分 and 等级."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE
from edubrain.service.portrait import PortraitSection, results_of

SCORES = (
    "total", "standard_score", "bonus", "level", "graduation_score", "bmi", "bmi_category",
    "uncertain",
)  # fmt: skip
# 免予执行 / 暂缓执行 says the pupil is ill or disabled: the status is as sensitive as the scores.
SENSITIVE = (*SCORES, "status", "missing_items", "retest")


class FitnessScore(BaseModel):
    school_year: str | None
    test_date: date | None
    status: str | None = Field(
        description="完整; 缺项 (an item of the grade missing); 免予执行 or 暂缓执行 (not "
        "scored); null when masked."
    )
    missing_items: str | None
    retest: bool | None = Field(description="The row is the school year's 补测.")
    graduation_score: float | None = Field(
        description="毕业成绩 at a 学段's last grade: 50 % this year's total, 50 % the mean of "
        "the other years of the 学段 on record."
    )
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
        ("school_year", "test_date", "status", "missing_items", "retest", *SCORES),
        sensitive=SENSITIVE,
        order="school_year",
    ),
    lambda: FitnessScore,
)
