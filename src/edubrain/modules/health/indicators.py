"""健康 indicators: 超重率, 肥胖率 and 营养不良率 by WS/T 586 / WS/T 456, and 近视率 (screening
myopia) with 视力不良率 and the share of poor vision that was never refracted.

Built on `health_status` (the screening job's rows of the school year:
`usecases.health_screening`); when the job has not run, the family has no values. A pupil counts
at the school the 学籍 places them in that school year. 近视率 counts only pupils with the
refraction that shows myopia: a pupil with poor vision and no refraction is counted in
视力不良率 and in the unrefracted share, never as myopic — so where refraction is missing,
近视率 is a lower bound, and the unrefracted share says by how much it may be.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edubrain.indicators.definitions import Direction, Family, Grain, Indicator, Ratio
from edubrain.indicators.inputs import Inputs
from edubrain.modules.health.screening import (
    MILD_THIN,
    MYOPIA,
    OBESE,
    OVERWEIGHT,
    POOR_NO_REFRACTION,
    POOR_NOT_MYOPIC,
    SEVERE_THIN,
)
from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE
from edubrain.modules.roster.frames import stage_of_grade

if TYPE_CHECKING:
    import ibis.expr.types as ir

INPUTS = ("health_check", "school")
GRAINS = (Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY)
_EMPTY = {
    "school_year": "string",
    "school_code": "string",
    "grade_code": "string",
    "weight_status": "string",
    "stunted": "boolean",
    "malnutrition_classified": "boolean",
    "vision_status": "string",
}


def health_checks(inp: Inputs) -> ir.Table:
    """The screened checks of the school year with a school, as 0/1 columns, with the school's
    unit columns (学段 of the grade)."""

    def build() -> ir.Table:
        t = inp.derived(HEALTH_STATUS_TABLE, _EMPTY)
        t = t.filter((t.school_year == inp.school_year) & t.school_code.notnull())
        weighed = t.weight_status.notnull()
        seen = t.vision_status.notnull()
        t = t.select(
            "school_code",
            "grade_code",
            stage=stage_of_grade(t.grade_code),
            weighed=weighed.cast("int64"),
            overweight=(t.weight_status == OVERWEIGHT).cast("int64"),
            obese=(t.weight_status == OBESE).cast("int64"),
            assessed=t.malnutrition_classified.cast("int64"),
            malnourished=(
                t.malnutrition_classified
                & (t.weight_status.isin([MILD_THIN, SEVERE_THIN]) | t.stunted)
            ).cast("int64"),
            seen=seen.cast("int64"),
            myopic=(t.vision_status == MYOPIA).cast("int64"),
            poor=(t.vision_status.isin([MYOPIA, POOR_NO_REFRACTION, POOR_NOT_MYOPIC])).cast(
                "int64"
            ),
            unrefracted=(t.vision_status == POOR_NO_REFRACTION).cast("int64"),
        )
        return inp.attach_school(t, stage_from_school=False)

    return inp.once("health:checks", build, cache=inp.has_table(HEALTH_STATUS_TABLE))


def _rate(
    key: str,
    numerator: str,
    denominator: str,
    zh: str,
    en: str,
    text: str,
    filters: str,
    *,
    headline: bool = False,
) -> Indicator:
    return Indicator(
        id=f"health.{key}",
        family="health",
        name_zh=zh,
        name_en=en,
        unit="%",
        formula=Ratio(health_checks, numerator, denominator, scale=100.0),
        formula_text=text,
        grains=GRAINS,
        inputs=INPUTS,
        direction=Direction.LOWER,
        filters=filters,
        decimals=1,
        headline=headline,
    )


WEIGHED = (
    "checks of the school year with age (6–18), sex, height and weight, pupils placed by the 学籍"
)
SEEN = "checks of the school year with uncorrected acuity, pupils placed by the 学籍"

FAMILY = Family(
    "health",
    "健康 (health)",
    "Weight status by WS/T 586-2018 (超重, 肥胖) and WS/T 456-2014 (营养不良), and screening "
    "myopia (uncorrected acuity < 5.0 and SE ≤ −0.50 D in one eye) with poor vision and the share "
    "of it never refracted, per school, 学段 and county.",
    (
        _rate(
            "overweight_rate",
            "overweight",
            "weighed",
            "超重率",
            "share overweight",
            "100 × checks with BMI ≥ the WS/T 586 超重 value of the pupil's sex and half-year age "
            "and below its 肥胖 value ÷ checks classified",
            WEIGHED,
        ),
        _rate(
            "obesity_rate",
            "obese",
            "weighed",
            "肥胖率",
            "share obese",
            "100 × checks with BMI ≥ the WS/T 586 肥胖 value of the pupil's sex and half-year age "
            "÷ checks classified",
            WEIGHED,
        ),
        _rate(
            "malnutrition_rate",
            "malnourished",
            "assessed",
            "营养不良率",
            "share malnourished",
            "100 × checks with 消瘦 (BMI ≤ the WS/T 456 cut-offs) or 生长迟缓 (height ≤ its "
            "cut-off) ÷ checks of pupils 6.0–17.5 years classified",
            "checks of the school year of pupils 6.0–17.5 years with sex, height and weight",
        ),
        _rate(
            "myopia_rate",
            "myopic",
            "seen",
            "近视率（筛查性）",
            "share with screening myopia",
            "100 × checks with uncorrected acuity < 5.0 and spherical equivalent ≤ −0.50 D in the "
            "same eye ÷ checks with acuity (poor vision without refraction is never counted)",
            SEEN,
            headline=True,
        ),
        _rate(
            "poor_vision_rate",
            "poor",
            "seen",
            "视力不良率",
            "share with poor vision",
            "100 × checks with uncorrected acuity < 5.0 in either eye ÷ checks with acuity",
            SEEN,
        ),
        _rate(
            "unrefracted_share",
            "unrefracted",
            "seen",
            "视力不良未验光占比",
            "share with poor vision never refracted",
            "100 × checks with acuity < 5.0 and no refraction in an eye (none myopic) ÷ checks "
            "with acuity: how far 近视率 may understate",
            SEEN,
        ),
    ),
)
