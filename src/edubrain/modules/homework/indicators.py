"""d. 双减: average daily written-homework minutes by grade band against the limits, and the
share of classes over their limit (policy_thresholds.md §4). Measured on the classes that use
the homework platform (`homework_assignment`, `homework_submission`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.definitions import (
    Direction,
    Family,
    Grain,
    Indicator,
    Ratio,
    Reliability,
    Source,
    Threshold,
)
from edubrain.indicators.inputs import Inputs
from edubrain.modules.roster.frames import stage_of_grade

if TYPE_CHECKING:
    import ibis.expr.types as ir

SHUANGJIAN = Source(
    "中共中央办公厅、国务院办公厅《关于进一步减轻义务教育阶段学生作业负担和校外培训负担的意见》"
    "(2021-07) 二(5): 小学一、二年级不布置家庭书面作业; 三至六年级 ≤ 60 分钟; 初中 ≤ 90 分钟",
    Reliability.VERIFIED,
)
GRAINS = (Grain.SCHOOL, Grain.COUNTY, Grain.CITY)
INPUTS = ("homework_assignment", "homework_submission", "school")
DAILY_TEXT = (
    "mean over the band's classes of the class's daily written minutes; a class's daily "
    "written minutes = Σ mean completion time (minutes_spent over submissions) of its written "
    "assignments ÷ days it was set homework"
)


def homework_limit(grade: ir.StringValue) -> ir.FloatingValue:
    """双减 daily written-homework limit in minutes by grade (policy_thresholds.md §4)."""
    return ibis.cases(
        (grade.isin(["11", "12"]), 0.0),
        (grade.isin(["13", "14", "15", "16"]), 60.0),
        (grade.substr(0, 1) == "2", 90.0),
        else_=ibis.null("float64"),
    )


def homework_classes(inp: Inputs) -> ir.Table:
    """Per class on the homework platform: homework days and daily written minutes.

    An assignment's completion time is the mean `minutes_spent` of its submissions (the
    teacher's `expected_minutes` when nobody submitted). A class's daily written minutes
    = Σ completion time of its written assignments ÷ the days it was set any homework.
    """

    def build() -> ir.Table:
        a = inp.table("homework_assignment")
        a = a.filter(a.school_year == inp.school_year)
        s = inp.table("homework_submission")
        per = s.group_by(_a_id=s.assignment_id).aggregate(mean_minutes=s.minutes_spent.mean())
        j = a.left_join(per, a.assignment_id == per._a_id)
        minutes = j.mean_minutes.fill_null(j.expected_minutes).fill_null(0.0)
        j = j.mutate(written_minutes=ibis.ifelse(j.is_written, minutes, 0.0))
        per_class = j.group_by("school_code", "grade_code", "class_no").aggregate(
            homework_days=j.assigned_date.nunique(),
            written_minutes=j.written_minutes.sum(),
            written_assignments=j.is_written.cast("int64").sum(),
        )
        daily = per_class.written_minutes / per_class.homework_days
        limit = homework_limit(per_class.grade_code)
        per_class = per_class.mutate(
            stage=stage_of_grade(per_class.grade_code),
            daily_written_minutes=daily,
            limit_minutes=limit,
            over_limit=(limit.notnull() & (daily > limit)).cast("int64"),
            one=ibis.literal(1.0),
        )
        return inp.attach_school(per_class, stage_from_school=False)

    return inp.once("homework:classes", build, cache=True)


def _band(grades: tuple[str, ...]) -> object:
    def base(inp: Inputs) -> ir.Table:
        c = homework_classes(inp)
        return c.filter(c.grade_code.isin(list(grades)))

    return base


def _minutes(key: str, zh: str, en: str, grades: tuple[str, ...], limit: float) -> Indicator:
    bands = (10.0, 30.0) if limit == 0 else (0.1, 0.3)
    return Indicator(
        id=f"homework.written_minutes_{key}",
        family="homework",
        name_zh=zh,
        name_en=en,
        unit="分钟/天",
        formula=Ratio(_band(grades), "daily_written_minutes", "one"),  # type: ignore[arg-type]
        formula_text=DAILY_TEXT,
        grains=GRAINS,
        inputs=INPUTS,
        direction=Direction.LOWER,
        thresholds=(
            Threshold(
                "<=",
                {"*": limit},
                SHUANGJIAN,
                GRAINS,
                "不布置书面作业" if limit == 0 else f"≤ {limit:g} 分钟",
                bands=bands,
            ),
        ),
        filters=f"classes of grades {', '.join(grades)} on the homework platform",
        decimals=1,
        headline=key == "junior",
    )


FAMILY = Family(
    "homework",
    "双减 作业时间 (homework)",
    "Daily written-homework minutes by grade band against the 双减 limits, and the share of "
    "classes over their limit.",
    (
        _minutes(
            "grades_1_2",
            "一、二年级日均书面作业时间",
            "daily written homework, grades 1–2",
            ("11", "12"),
            0,
        ),
        _minutes(
            "grades_3_6",
            "三至六年级日均书面作业时间",
            "daily written homework, grades 3–6",
            ("13", "14", "15", "16"),
            60,
        ),
        _minutes(
            "junior",
            "初中日均书面作业时间",
            "daily written homework, junior secondary",
            ("21", "22", "23"),
            90,
        ),
        Indicator(
            id="homework.classes_over_limit_share",
            family="homework",
            name_zh="书面作业超时班级比例",
            name_en="share of classes over their daily written-homework limit",
            unit="%",
            formula=Ratio(
                lambda inp: homework_classes(inp).filter(
                    homework_classes(inp).limit_minutes.notnull()
                ),
                "over_limit",
                "one",
                100,
            ),
            formula_text=(
                "classes whose daily written minutes exceed their grade's limit (0 for grades "
                "1–2, 60 for 3–6, 90 for junior) ÷ classes on the platform × 100"
            ),
            grains=(Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY),
            inputs=INPUTS,
            direction=Direction.LOWER,
            filters="compulsory-school classes on the homework platform",
            headline=True,
            decimals=1,
        ),
    ),
    order=4,
    explain_columns=("homework_days", "written_minutes", "limit_minutes"),
)
