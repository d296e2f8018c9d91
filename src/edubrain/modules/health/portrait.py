"""The health screening's section of a pupil's portrait: weight status and vision per check."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE
from edubrain.service.portrait import PortraitSection, results_of

FINDINGS = ("bmi", "weight_status", "stunted", "vision_status", "uncertain")


class HealthStatus(BaseModel):
    check_date: date | None
    school_year: str | None
    bmi: float | None
    weight_status: str | None = Field(
        description="正常 / 超重 / 肥胖 / 轻度消瘦 / 中重度消瘦 (WS/T 586, WS/T 456); null when "
        "masked or outside 6–18 years."
    )
    stunted: bool | None
    vision_status: str | None = Field(
        description="筛查性近视 / 视力不良（未验光）/ 视力不良（验光未见近视）/ 视力正常; "
        "null when masked."
    )
    uncertain: str | None


SECTION = PortraitSection(
    "health_status",
    "health screening",
    results_of(
        HEALTH_STATUS_TABLE,
        "student_number",
        ("check_date", "school_year", *FINDINGS),
        sensitive=FINDINGS,
        order="check_date",
    ),
    lambda: HealthStatus,
)
