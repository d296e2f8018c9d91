"""一师一档 indicators against the plans' teacher targets: 提升工程2.0 参训率 and 合格率,
教师数字素养达标率 and the share of teachers assessed.

Conventions, each stated once here:

* The denominator is the school's 专任教师 on the current 人事 roster (`teacher.post` =
  teacher), at the school the roster names — the roster's own convention
  (`modules.roster.frames`).
* 参训 (took part) is any 提升工程2.0 record (`programme_kind` ict2) of the school year or an
  earlier one, whatever its result; 合格 is such a record with result 合格. The programme ran
  as 整校推进 over several years, so a teacher trained in 2022 still counts in 2026.
* 达标 is a digital-literacy assessment of the school year at 合格 or above; a teacher not
  assessed that year is not 达标 (else a school could reach the target by assessing only its
  best), and the share assessed is its own indicator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.definitions import Direction, Family, Grain, Indicator, Ratio
from edubrain.indicators.inputs import Inputs

if TYPE_CHECKING:
    import ibis.expr.types as ir

INPUTS = ("teacher", "teacher_training", "teacher_literacy", "school")
GRAINS = (Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY)
ICT2 = "ict2"
PASSED = "passed"
LITERACY_PASSING = ("excellent", "good", "pass")
_TRAINING = {"staff_number": "string", "programme_kind": "string", "school_year": "string",
             "result": "string"}  # fmt: skip
_LITERACY = {"staff_number": "string", "school_year": "string", "level": "string"}


def teacher_development(inp: Inputs) -> ir.Table:
    """Per 专任教师 of the roster: took part in 提升工程2.0 (0/1), passed it, assessed this
    year, 达标 this year; with the school's unit columns."""

    def build() -> ir.Table:
        roster = inp.table("teacher")
        roster = roster.filter(roster.post == "teacher").select("staff_number", "school_code")
        tr = inp.derived("teacher_training", _TRAINING)  # absent before a first load
        tr = tr.filter((tr.programme_kind == ICT2) & (tr.school_year <= inp.school_year))
        ict2 = tr.group_by(_ict2_staff=tr.staff_number).aggregate(
            _ict2_passed=(tr.result == PASSED).cast("int64").max()
        )
        lit = inp.derived("teacher_literacy", _LITERACY)
        lit = lit.filter(lit.school_year == inp.school_year).select(
            _lit_staff=lit.staff_number,
            _lit_pass=lit.level.isin(list(LITERACY_PASSING)).cast("int64"),
        )
        j = roster.left_join(ict2, roster.staff_number == ict2._ict2_staff)
        j = j.left_join(lit, j.staff_number == lit._lit_staff)
        t = j.select(
            "school_code",
            teachers=ibis.literal(1),
            ict2_took_part=j._ict2_staff.notnull().cast("int64"),
            ict2_passed=j._ict2_passed.fill_null(0),
            literacy_assessed=j._lit_staff.notnull().cast("int64"),
            literacy_passing=j._lit_pass.fill_null(0),
        )
        return inp.attach_school(t)

    return inp.once("teachers:development", build)


def _rate(key: str, column: str, zh: str, en: str, text: str, filters: str) -> Indicator:
    return Indicator(
        id=f"teachers.{key}",
        family="teachers",
        name_zh=zh,
        name_en=en,
        unit="%",
        formula=Ratio(teacher_development, column, "teachers", scale=100.0),
        formula_text=f"100 × {text} ÷ 专任教师",
        grains=GRAINS,
        inputs=INPUTS,
        direction=Direction.HIGHER,
        filters=filters,
        decimals=1,
        headline=key == "literacy_rate",
    )


_ROSTER = "专任教师 of the current 人事 roster, at the school it names"
FAMILY = Family(
    "teachers",
    "教师发展 (teacher development)",
    "提升工程2.0 参训率 and 合格率, 教师数字素养达标率 and the share assessed, against the plans' "
    "targets (江苏省智慧教育样板区建设指南: 参训率 and 合格率 100 %; "
    "2025年区域教育信息化发展规划报告: 数字素养达标率 95 % by 2025).",
    (
        _rate(
            "ict2_participation_rate",
            "ict2_took_part",
            "提升工程2.0参训率",
            "share of teachers who took part in 提升工程2.0",
            "专任教师 with a 提升工程2.0 training record of the school year or earlier",
            _ROSTER + "; a record of any result counts",
        ),
        _rate(
            "ict2_pass_rate",
            "ict2_passed",
            "提升工程2.0合格率",
            "share of teachers who passed 提升工程2.0",
            "专任教师 with a 提升工程2.0 record of result 合格, of the school year or earlier",
            _ROSTER,
        ),
        _rate(
            "literacy_rate",
            "literacy_passing",
            "教师数字素养达标率",
            "share of teachers at the digital-literacy standard",
            "专任教师 whose digital-literacy assessment of the school year is 合格 or above",
            _ROSTER + "; a teacher not assessed that year is not 达标",
        ),
        _rate(
            "literacy_assessed_share",
            "literacy_assessed",
            "教师数字素养测评覆盖率",
            "share of teachers assessed for digital literacy",
            "专任教师 with a digital-literacy assessment of the school year",
            _ROSTER,
        ),
    ),
)
