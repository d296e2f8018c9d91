"""c. Staffing: students per staff member against the 编制 standard by 学段 (and urban/rural),
the posts a school is short of, 生师比 (per 专任教师), and subjects taught at a school that has
no teacher of that subject (policy_thresholds.md §5). 体育/艺术 teachers per 100 pupils are
`balance.pe_art_teachers_per100`.
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
from edubrain.modules.roster.frames import (
    school_frame,
    schools_short_of_subjects,
    subject_staffing,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

# 教职工 : 学生 = 1 : N. Since the 2014 unification 县镇 and 农村 use the 城市 ratio; the 2001
# table (国办发〔2001〕74号) had 县镇 21/16/13 and 农村 23/18/13.5 for 小学/初中/高中.
UNIFIED = {"primary": 19.0, "junior": 13.5, "senior": 12.5}
STAFFING_STANDARD = {
    f"{stage}/{ur}": ratio for stage, ratio in UNIFIED.items() for ur in ("urban", "town", "rural")
}
STAFFING_SOURCE = Source(
    "中小学教职工编制标准: 国办发〔2001〕74号, 城乡统一 2014 (中央编办发〔2014〕72号): "
    "高中 1:12.5, 初中 1:13.5, 小学 1:19（城市、县镇、农村统一）",
    Reliability.SECONDARY,
    "the 2014 document's title and number were not found in any retrieved page (U); "
    "provinces may add 附加编制, not covered",
)


def staff_schools(inp: Inputs) -> ir.Table:
    return inp.shared("staffing", lambda: _staff_schools(inp))


def _staff_schools(inp: Inputs) -> ir.Table:
    t = school_frame(inp)
    t = t.filter(t.students > 0)
    standard = ibis.cases(
        *((t.stage == stage, ratio) for stage, ratio in UNIFIED.items()), else_=None
    ).cast("float64")
    return t.mutate(
        standard_ratio=standard,
        staff_needed=t.students / standard,
        staff_short=ibis.greatest(t.students / standard - t.staff, 0.0),
    )


GRAINS = (Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY)

FAMILY = Family(
    "staffing",
    "师资配置 (staffing)",
    "Students per staff member against the 编制 standard, the posts schools are short of, "
    "生师比 per 专任教师, and subjects with no teacher of their own at a school.",
    (
        Indicator(
            id="staffing.students_per_staff",
            family="staffing",
            name_zh="生职比（在校生 : 教职工）",
            name_en="pupils per staff member (教职工, all posts)",
            unit="生/人",
            formula=Ratio(staff_schools, "students", "staff"),
            formula_text="Σ 在校生 ÷ Σ 教职工 (all posts); the standard is 1 post per N pupils",
            grains=GRAINS,
            inputs=("student", "school", "teacher"),
            direction=Direction.LOWER,
            thresholds=(
                Threshold(
                    "<=",
                    STAFFING_STANDARD,
                    STAFFING_SOURCE,
                    (Grain.SCHOOL, Grain.STAGE_COUNTY),
                    "教职工编制标准",
                ),
            ),
            filters="schools with pupils",
            headline=True,
            decimals=1,
        ),
        Indicator(
            id="staffing.staff_short",
            family="staffing",
            name_zh="教职工编制缺口",
            name_en="staff posts short of the 编制 standard",
            unit="人",
            formula=Ratio(staff_schools, "staff_short"),
            formula_text=(
                "Σ over schools of max(0, 在校生 ÷ N − 教职工), N the 学段's standard ratio; "
                "a school over its standard does not offset another's shortfall"
            ),
            grains=GRAINS,
            inputs=("student", "school", "teacher"),
            direction=Direction.LOWER,
            filters="schools with pupils",
            decimals=1,
        ),
        Indicator(
            id="staffing.students_per_teacher",
            family="staffing",
            name_zh="生师比（在校生 : 专任教师）",
            name_en="pupils per full-time teacher (专任教师)",
            unit="生/人",
            formula=Ratio(staff_schools, "students", "teachers"),
            formula_text="Σ 在校生 ÷ Σ 专任教师",
            grains=GRAINS,
            inputs=("student", "school", "teacher"),
            direction=Direction.LOWER,
            filters="schools with pupils",
            decimals=1,
        ),
        Indicator(
            id="staffing.subjects_short",
            family="staffing",
            name_zh="缺少本学科专任教师的学科数",
            name_en="subjects taught with no teacher of that subject at the school",
            unit="门",
            formula=Ratio(subject_staffing, "is_short"),
            formula_text=(
                "count of (school, subject) pairs on this year's timetable (任课安排) where no "
                "专任教师 of the school lists the subject among its 任教学科"
            ),
            grains=GRAINS,
            inputs=("teaching_assignment", "teacher", "school"),
            direction=Direction.LOWER,
            thresholds=(
                Threshold(
                    "<=",
                    {"*": 0},
                    Source(
                        "国家课程方案: 开齐开足，每门学科均由本学科专任教师任教",
                        Reliability.UNVERIFIED,
                        "edubrain's reading; no numeric rule in the reference file",
                    ),
                    (Grain.SCHOOL,),
                    "各学科均有本学科专任教师",
                    bands=(2, 4),
                ),
            ),
            filters="this year's teaching assignments",
            decimals=0,
        ),
        Indicator(
            id="staffing.schools_short_of_subject_teachers_share",
            family="staffing",
            name_zh="存在学科教师缺口的学校比例",
            name_en="share of schools with at least one subject short of its own teacher",
            unit="%",
            formula=Ratio(schools_short_of_subjects, "has_short", "one", 100),
            formula_text="schools with ≥ 1 subject short ÷ schools with a timetable × 100",
            grains=(Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY),
            inputs=("teaching_assignment", "teacher", "school"),
            direction=Direction.LOWER,
            filters="schools with this year's teaching assignments",
            headline=True,
            decimals=1,
        ),
    ),
    (STAFFING_SOURCE,),
    order=3,
    explain_columns=("students", "staff", "teachers", "standard_ratio", "qualified_teachers"),
)
