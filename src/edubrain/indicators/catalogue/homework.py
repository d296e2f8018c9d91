"""d. 双减: average daily written-homework minutes by grade band against the limits, and the
share of classes over their limit (policy_thresholds.md §4). Measured on the classes that use
the homework platform (`homework_assignment`, `homework_submission`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def _band(grades: tuple[str, ...]) -> object:
    def base(inp: Inputs) -> ir.Table:
        c = inp.homework_classes()
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
                lambda inp: inp.homework_classes().filter(
                    inp.homework_classes().limit_minutes.notnull()
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
)
