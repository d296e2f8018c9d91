"""体质健康 indicators: the shares of tested pupils at 优良 (优秀 + 良好) and 及格 or above by the
国家学生体质健康标准 (2014), and the share of tests with an item missing.

Built on `fitness_score` (the scoring job's rows of the school year: `usecases.fitness_scores`);
when the job has not run, the family has no values. A pupil counts at the school the 学籍 places
them in that school year; the rates are over complete tests (a test with a missing item has no
学年总分 and no 等级, and is counted in the missing-item share instead — never as 不及格); a pupil
免予执行 or 暂缓执行 is in no rate but the share of such pupils.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.definitions import Direction, Family, Grain, Indicator, Ratio
from edubrain.indicators.inputs import Inputs
from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE
from edubrain.modules.fitness.scoring import COMPLETE, EXEMPTIONS, MISSING
from edubrain.modules.roster.frames import stage_of_grade

if TYPE_CHECKING:
    import ibis.expr.types as ir

INPUTS = ("fitness_test", "school")
GRAINS = (Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY)
STANDARD = (
    "《国家学生体质健康标准（2014年修订）》(教体艺〔2014〕5号): "
    "学年总分 ≥ 90.0 优秀, ≥ 80.0 良好, ≥ 60.0 及格"
)
_EMPTY = {
    "school_year": "string",
    "grade_code": "string",
    "school_code": "string",
    "level": "string",
    "status": "string",
}


def fitness_tests(inp: Inputs) -> ir.Table:
    """The scored tests of the school year with a school: complete (0/1), 优良, 及格 or above
    and missing-item flags, with the school's unit columns (学段 of the grade)."""

    def build() -> ir.Table:
        t = inp.derived(FITNESS_SCORE_TABLE, _EMPTY)
        t = t.filter(
            (t.school_year == inp.school_year) & t.school_code.notnull() & (t.status != "")
        )
        t = t.select(
            "school_code",
            "grade_code",
            stage=stage_of_grade(t.grade_code),
            listed=ibis.literal(1),
            tested=(t.status.isin([COMPLETE, MISSING])).cast("int64"),
            complete=(t.status == COMPLETE).cast("int64"),
            good=(t.level.isin(["优秀", "良好"])).cast("int64"),
            passed=(t.level.isin(["优秀", "良好", "及格"])).cast("int64"),
            missing=(t.status == MISSING).cast("int64"),
            exempt=(t.status.isin(list(EXEMPTIONS.values()))).cast("int64"),
        )
        return inp.attach_school(t, stage_from_school=False)

    return inp.once("fitness:tests", build, cache=inp.has_table(FITNESS_SCORE_TABLE))


def _rate(key: str, column: str, zh: str, en: str, text: str) -> Indicator:
    return Indicator(
        id=f"fitness.{key}",
        family="fitness",
        name_zh=zh,
        name_en=en,
        unit="%",
        formula=Ratio(fitness_tests, column, "complete", scale=100.0),
        formula_text=f"100 × tests whose 学年总分 is {text} ÷ complete tests ({STANDARD})",
        grains=GRAINS,
        inputs=INPUTS,
        direction=Direction.HIGHER,
        filters="complete tests (every item of the grade measured) of the school year, pupils "
        "placed in a school by the 学籍",
        decimals=1,
        headline=key == "good_rate",
    )


FAMILY = Family(
    "fitness",
    "体质健康 (fitness)",
    "The shares of pupils at 优良 and at 及格 or above by the 国家学生体质健康标准 (2014), and "
    "the share of tests with an item missing, per school, 学段 and county.",
    (
        _rate("good_rate", "good", "体质健康优良率", "share at 优秀 or 良好", "≥ 80.0"),
        _rate("pass_rate", "passed", "体质健康及格率", "share at 及格 or above", "≥ 60.0"),
        Indicator(
            id="fitness.missing_share",
            family="fitness",
            name_zh="体测缺项占比",
            name_en="share of tests with an item missing",
            unit="%",
            formula=Ratio(fitness_tests, "missing", "tested", scale=100.0),
            formula_text="100 × tests with an item of the grade not measured ÷ tests",
            grains=GRAINS,
            inputs=INPUTS,
            direction=Direction.LOWER,
            filters="tests of the school year (免予执行 and 暂缓执行 are not tests), pupils "
            "placed in a school by the 学籍",
            decimals=1,
        ),
        Indicator(
            id="fitness.exempt_share",
            family="fitness",
            name_zh="体测免测占比",
            name_en="share of pupils exempt from or deferring the test",
            unit="%",
            formula=Ratio(fitness_tests, "exempt", "listed", scale=100.0),
            formula_text="100 × pupils recorded 免予执行 or 暂缓执行 ÷ pupils on the fitness "
            "records (a high share hides pupils from the rates)",
            grains=GRAINS,
            inputs=INPUTS,
            direction=Direction.LOWER,
            filters="fitness records of the school year, pupils placed in a school by the 学籍",
            decimals=1,
        ),
    ),
)
