"""增值评价 indicators: a school's value-added per subject, the share of its results in each
band, and the warning when a school's value-added falls two years running.

Built on `exam_value_added` (the value-added job's school rows of the school year computed);
when the job has not run, the family has no values. A school's value-added in a subject is the
pupil-weighted mean, over its grades with a value-added that year, of the effect in points per
100 points of the exam (so grades with papers of 100, 120 or 150 points are comparable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.definitions import (
    Decline,
    Direction,
    Family,
    Grain,
    Indicator,
    Ratio,
)
from edubrain.indicators.inputs import Inputs
from edubrain.modules.exams.value_added_job import VALUE_ADDED_TABLE
from edubrain.modules.roster.frames import stage_of_grade

if TYPE_CHECKING:
    import ibis.expr.types as ir

INPUTS = ("item_score", "school")
SUBJECTS = (
    ("chinese", "语文", "Chinese"),
    ("math", "数学", "mathematics"),
    ("english", "英语", "English"),
)
# A fall counts from one point in a hundred a year (the standard error of a school's
# value-added with 100 pupils is about 1–2 points per 100 on the synthetic county's papers).
FALL_POINTS = 1.0
_EMPTY = {
    "school_year": "string",
    "subject": "string",
    "grade_code": "string",
    "level": "string",
    "school_code": "string",
    "pupils": "int64",
    "effect": "float64",
    "max_score": "float64",
    "band": "string",
}


def value_added_schools(inp: Inputs) -> ir.Table:
    """The school rows of the school year: subject, grade, pupils, effect per 100 points × pupils,
    band flags, with the school's unit columns (学段 of the grade)."""

    def build() -> ir.Table:
        t = inp.derived(VALUE_ADDED_TABLE, _EMPTY)
        t = t.filter((t.school_year == inp.school_year) & (t.level == "school"))
        t = t.select(
            "school_code",
            "subject",
            "grade_code",
            stage=stage_of_grade(t.grade_code),
            weight=t.pupils.cast("float64"),
            points=t.effect * 100.0 / t.max_score * t.pupils.cast("float64"),
            below=(t.band == "below").cast("int64"),
            above=(t.band == "above").cast("int64"),
            one=ibis.literal(1.0),
        )
        return inp.attach_school(t, stage_from_school=False)

    return inp.once("exams:value_added", build, cache=inp.has_table(VALUE_ADDED_TABLE))


def _of_subject(subject: str) -> object:
    def base(inp: Inputs) -> ir.Table:
        t = value_added_schools(inp)
        return t.filter(t.subject == subject)

    return base


def _school_value_added(subject: str, zh: str, en: str) -> Indicator:
    return Indicator(
        id=f"value_added.school_{subject}",
        family="value_added",
        name_zh=f"学校增值（{zh}）",
        name_en=f"school value-added, {en}",
        unit="分/百分",
        formula=Ratio(_of_subject(subject), "points", "weight"),  # type: ignore[arg-type]
        formula_text=(
            "Σ over the school's grades of (school effect × 100 ÷ full marks × pupils) ÷ "
            "Σ pupils; the school effect is the value-added job's multilevel estimate "
            "(points of the exam's total above expectation given the prior 期末)"
        ),
        grains=(Grain.SCHOOL,),
        inputs=INPUTS,
        direction=Direction.HIGHER,
        filters=f"{zh}; the school rows of exam_value_added of the school year",
        decline=Decline(years=2, min_step=FALL_POINTS, grains=(Grain.SCHOOL,)),
    )


def _band_share(band: str, zh: str, en: str, direction: Direction) -> Indicator:
    return Indicator(
        id=f"value_added.{band}_share",
        family="value_added",
        name_zh=f"增值{zh}的学科年级占比",
        name_en=f"share of subject × grade results {en}",
        unit="%",
        formula=Ratio(value_added_schools, band, "one", scale=100.0),
        formula_text=(
            f"100 × (school × subject × grade results whose 95 % interval is {en}) ÷ results"
        ),
        grains=(Grain.SCHOOL, Grain.COUNTY),
        inputs=INPUTS,
        direction=direction,
        filters="the school rows of exam_value_added of the school year",
        decimals=1,
    )


FAMILY = Family(
    "value_added",
    "增值评价 (value-added)",
    "A school's value-added per subject (points per 100 above the progress expected from the "
    "prior 期末), the share of its results significantly above or below expectation, and a "
    "warning when a school's value-added falls two years running.",
    (
        *(_school_value_added(code, zh, en) for code, zh, en in SUBJECTS),
        _band_share("below", "显著低于预期", "entirely below 0", Direction.LOWER),
        _band_share("above", "显著高于预期", "entirely above 0", Direction.HIGHER),
    ),
)
