"""The 综合素质评价 section of a pupil's portrait: each term's domain scores, levels, 预警."""

from __future__ import annotations

from pydantic import BaseModel, Field

from edubrain.modules.growth.score_job import GROWTH_SCORE_TABLE
from edubrain.service.portrait import PortraitSection, results_of

SCORES = ("score", "level", "previous_score", "decline")


class GrowthScore(BaseModel):
    school_year: str | None
    term: str | None
    domain: str | None = Field(description="moral, intellectual, physical, aesthetic, labour "
                               "or total (综合).")  # fmt: skip
    domain_name: str | None
    score: float | None = Field(description="0–100; null when masked or 无记录.")
    level: str | None
    records: int | None
    previous_score: float | None
    decline: bool | None = Field(description="成长预警: fell by the scheme's decline or more.")


SECTION = PortraitSection(
    "growth_scores",
    "综合素质评价 by the bureau's scheme",
    results_of(
        GROWTH_SCORE_TABLE,
        "student_number",
        ("school_year", "term", "domain", "domain_name", "records", *SCORES),
        sensitive=SCORES,
        order="school_year",
    ),
    lambda: GrowthScore,
)
