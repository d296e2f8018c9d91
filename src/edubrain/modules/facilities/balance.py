"""a. 县域义务教育优质均衡 (教督〔2017〕6号): the 7 resource indicators per school, the
6-of-7-and-85% school rule, the share of schools meeting each, and the enrolment-weighted
差异系数 per indicator per 学段 (policy_thresholds.md §1).

Counted schools: compulsory-education schools (学段 小学 or 初中) with pupils; the facility
indicators need the school's facility survey of the year. Special-education and vocational
schools and 教学点 under 50 pupils are excluded by the 办法; the standard has no school type
yet, so every compulsory school in the warehouse is counted.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    WeightedCV,
)
from edubrain.indicators.inputs import Inputs
from edubrain.modules.facilities.frames import school_facility_frame
from edubrain.modules.roster.frames import COMPULSORY, school_frame

if TYPE_CHECKING:
    import ibis.expr.types as ir

BALANCE_2017 = Source(
    "教育部《县域义务教育优质均衡发展督导评估办法》(教督〔2017〕6号) 资源配置",
    Reliability.SECONDARY,
    "numbers from secondary pages and the Hebei 具体办法; the 2017 text itself not retrieved",
)
CV_2017 = Source(
    "教督〔2017〕6号 校际差异系数 小学≤0.50 初中≤0.45; 计算方法: 教育部督导《义务教育均衡发展"
    "差异系数计算方法及数据来源》",
    Reliability.SECONDARY,
    "enrolment-weighted formula of the 2012 method note, assumed for 2017 (annex not retrieved)",
)
ABOVE_REQUIRED_NOTE = (
    "高于规定学历 is read as 小学 专科及以上, 初中 本科及以上 (教师法 第十一条 规定学历); "
    "that reading is not in the reference file (U)."
)
RULE_SHARE = 0.85  # the one missed indicator must reach 85% of its requirement


@dataclass(frozen=True)
class Resource:
    key: str
    name_zh: str
    name_en: str
    unit: str
    column: str  # the school's total of the resource
    scale: float  # 100 for "per 100 students"
    primary: float
    junior: float
    facility: bool  # from the facility survey (else from the teacher roster)
    note: str = ""


RESOURCES = (
    Resource("qualified_teachers_per100", "每百名学生拥有高于规定学历教师数",
             "teachers above the required qualification per 100 pupils", "人/百生",
             "above_required", 100, 4.2, 5.3, False, ABOVE_REQUIRED_NOTE),
    Resource("backbone_teachers_per100", "每百名学生拥有县级以上骨干教师数",
             "county-level-or-above backbone teachers per 100 pupils", "人/百生",
             "backbone", 100, 1.0, 1.0, False),
    Resource("pe_art_teachers_per100", "每百名学生拥有体育、艺术（美术、音乐）专任教师数",
             "PE, music and art teachers per 100 pupils", "人/百生",
             "pe_art", 100, 0.9, 0.9, False,
             "a 专任教师 counts when 体育/音乐/美术 is among its 任教学科"),
    Resource("teaching_area_per_student", "生均教学及辅助用房面积",
             "teaching and auxiliary floor area per pupil", "m²/生",
             "teaching_aux_area_m2", 1, 4.5, 5.8, True),
    Resource("sports_area_per_student", "生均体育运动场馆面积",
             "sports ground area per pupil", "m²/生",
             "sports_area_m2", 1, 7.5, 10.2, True),
    Resource("equipment_value_per_student", "生均教学仪器设备值",
             "teaching equipment value per pupil", "元/生",
             "equipment_value_yuan", 1, 2000, 2500, True),
    Resource("multimedia_rooms_per100", "每百名学生拥有网络多媒体教室数",
             "networked multimedia classrooms per 100 pupils", "间/百生",
             "multimedia_classrooms", 100, 2.3, 2.4, True),
)  # fmt: skip


def _compulsory(t: ir.Table) -> ir.Table:
    return t.filter(t.stage.isin(list(COMPULSORY)) & (t.students > 0))


def teacher_schools(inp: Inputs) -> ir.Table:
    return _compulsory(school_frame(inp))


def facility_schools(inp: Inputs) -> ir.Table:
    return _compulsory(school_facility_frame(inp))


def _requirement(r: Resource, stage: ir.StringValue) -> ir.FloatingValue:
    return ibis.cases(
        (stage == "primary", r.primary), (stage == "junior", r.junior), else_=None
    ).cast("float64")


def rule_schools(inp: Inputs) -> ir.Table:
    """Per school: each indicator's value, whether it meets its requirement, and the rule."""
    return inp.shared("balance_rule", lambda: _rule_schools(inp))


def _rule_schools(inp: Inputs) -> ir.Table:
    t = facility_schools(inp)
    values = {}
    for r in RESOURCES:
        x = r.scale * t[r.column].cast("float64") / t.students
        values[f"x_{r.key}"] = x
        values[f"ratio_{r.key}"] = x / _requirement(r, t.stage)
    t = t.mutate(**values)
    met = {f"met_{r.key}": (t[f"ratio_{r.key}"] >= 1).cast("int64") for r in RESOURCES}
    t = t.mutate(**met)
    met_count = sum((t[f"met_{r.key}"] for r in RESOURCES), ibis.literal(0))
    lowest = ibis.least(*(t[f"ratio_{r.key}"] for r in RESOURCES))
    passes = (met_count == len(RESOURCES)) | (
        (met_count == len(RESOURCES) - 1) & (lowest >= RULE_SHARE)
    )
    return t.mutate(
        indicators_met=met_count.cast("float64"),
        lowest_ratio=lowest,
        passes=passes.cast("int64"),
        one=ibis.literal(1.0),
    )


def _resource_indicator(r: Resource) -> Indicator:
    base = facility_schools if r.facility else teacher_schools
    inputs = (
        ("student", "school", "facility_survey") if r.facility else ("student", "school", "teacher")
    )
    per = "100 名在校生" if r.scale == 100 else "在校生"
    return Indicator(
        id=f"balance.{r.key}",
        family="balance",
        name_zh=r.name_zh,
        name_en=r.name_en,
        unit=r.unit,
        formula=Ratio(base, r.column, "students", r.scale),
        formula_text=(
            f"{r.name_zh} = Σ {r.column} ÷ Σ 在校生 × {r.scale:g} (per {per}); at a school its "
            "own counts, at 学段×区县 the pooled county ratio"
        ),
        grains=(Grain.SCHOOL, Grain.STAGE_COUNTY),
        inputs=inputs,
        direction=Direction.HIGHER,
        thresholds=(
            Threshold(
                ">=",
                {"primary": r.primary, "junior": r.junior},
                BALANCE_2017,
                (Grain.SCHOOL,),
                "优质均衡学校标准",
            ),
        ),
        filters="compulsory schools (小学, 初中) with pupils"
        + ("; this year's facility survey" if r.facility else ""),
        notes=r.note,
    )


def _share_meeting(r: Resource) -> Indicator:
    return Indicator(
        id=f"balance.share_meeting.{r.key}",
        family="balance",
        name_zh=f"{r.name_zh}达标学校比例",
        name_en=f"share of schools meeting: {r.name_en}",
        unit="%",
        formula=Ratio(rule_schools, f"met_{r.key}", "one", 100),
        formula_text=(
            f"schools whose {r.name_zh} ≥ requirement (小学 {r.primary:g}, 初中 {r.junior:g}) "
            "÷ counted schools × 100"
        ),
        grains=(Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY),
        inputs=("student", "school", "teacher", "facility_survey"),
        direction=Direction.HIGHER,
        filters="compulsory schools with pupils and this year's facility survey",
    )


def _cv(r: Resource) -> Indicator:
    base = facility_schools if r.facility else teacher_schools
    return Indicator(
        id=f"balance.cv.{r.key}",
        family="balance",
        name_zh=f"{r.name_zh}校际差异系数",
        name_en=f"between-school coefficient of variation: {r.name_en}",
        unit="",
        formula=WeightedCV(base, r.column, "students", r.scale),
        formula_text=(
            "enrolment-weighted 差异系数 across the 学段's schools of the county: "
            "X̄ = Σ(Xᵢ·Pᵢ)/P, S = √(Σ[Pᵢ·(Xᵢ−X̄)²]/P), CV = S/X̄, Xᵢ the school's value, "
            "Pᵢ its 在校生, P = ΣPᵢ"
        ),
        grains=(Grain.STAGE_COUNTY,),
        inputs=("student", "school", "facility_survey" if r.facility else "teacher"),
        direction=Direction.LOWER,
        thresholds=(
            Threshold(
                "<=",
                {"primary": 0.50, "junior": 0.45},
                CV_2017,
                (Grain.STAGE_COUNTY,),
                "优质均衡校际差异系数标准",
            ),
        ),
        filters="compulsory schools with pupils"
        + ("; this year's facility survey" if r.facility else ""),
        decimals=3,
        headline=r.key == "teaching_area_per_student",
    )


RULE_SOURCE = Source(
    "教督〔2017〕6号: 每所学校至少6项指标达到要求，余项不低于要求的85%",
    Reliability.SECONDARY,
)

RULE = Indicator(
    id="balance.schools_meeting_rule_share",
    family="balance",
    name_zh="资源配置达标学校比例（7项中至少6项达标、其余不低于85%）",
    name_en="share of schools meeting the 6-of-7 rule (the missed one ≥ 85% of its requirement)",
    unit="%",
    formula=Ratio(rule_schools, "passes", "one", 100),
    formula_text=(
        "a school meets the rule when at least 6 of the 7 resource indicators reach their "
        "requirement and the remaining one reaches ≥ 85% of it; value = meeting schools ÷ "
        "counted schools × 100 (at a school: 100 meets, 0 does not)"
    ),
    grains=(Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY),
    inputs=("student", "school", "teacher", "facility_survey"),
    direction=Direction.HIGHER,
    thresholds=(
        Threshold(
            ">=",
            {"*": 100},
            RULE_SOURCE,
            tuple(g for g in Grain if g is not Grain.SCHOOL),
            "每所学校均达标",
        ),
        # At a school the rule is pass or fail (0 or 100), so its gap says nothing of how far
        # the school is: a school missing it is 橙 (红 when it newly misses it); how far it
        # misses each resource is graded in that resource's own warning (decision 0018).
        Threshold(">=", {"*": 100}, RULE_SOURCE, (Grain.SCHOOL,), "资源配置学校标准", (1.0, 2.0)),
    ),
    filters="compulsory schools with pupils and this year's facility survey",
    headline=True,
    decimals=1,
)

INDICATORS_MET = Indicator(
    id="balance.indicators_met",
    family="balance",
    name_zh="资源配置达标指标项数",
    name_en="resource indicators (of 7) the school meets",
    unit="项",
    formula=Ratio(rule_schools, "indicators_met"),
    formula_text="the number of the 7 resource indicators whose value ≥ the 学段's requirement",
    grains=(Grain.SCHOOL,),
    inputs=("student", "school", "teacher", "facility_survey"),
    direction=Direction.HIGHER,
    filters="compulsory schools with pupils and this year's facility survey",
    decimals=0,
)

FAMILY = Family(
    "balance",
    "县域义务教育优质均衡 (资源配置)",
    "The 7 resource indicators of 教督〔2017〕6号 per school, the school rule, the share of "
    "schools meeting each indicator and the enrolment-weighted 校际差异系数 per 学段.",
    (
        *(_resource_indicator(r) for r in RESOURCES),
        RULE,
        INDICATORS_MET,
        *(_share_meeting(r) for r in RESOURCES),
        *(_cv(r) for r in RESOURCES),
    ),
    order=1,
)
