"""体质健康: the 国家学生体质健康标准 test results, one row per pupil per school year."""

from __future__ import annotations

from importlib import resources

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import Agreement, NeededField
from edubrain.govern.references import Reference
from edubrain.modules.fitness.entities import ENTITIES
from edubrain.modules.fitness.generator import PART as GENERATOR
from edubrain.modules.fitness.indicators import FAMILY
from edubrain.modules.fitness.portrait import SECTION as SCORED
from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE
from edubrain.modules.spec import Module
from edubrain.service.policy import of_person
from edubrain.service.portrait import PortraitSection, records_of
from edubrain.service.schemas import record_model

MODULE = Module(
    name="fitness",
    label="体质健康",
    description="国家学生体质健康标准测试成绩。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("fitness_test", ("student_number",), "student"),),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField("fitness_test", "birth_date", "体测与学籍比对", "linking 体测 to 学籍"),
        NeededField("fitness_test", "test_date", "体测时间序列", "fitness time series"),
        Agreement("fitness_test", "sex", "sex"),
        Agreement("fitness_test", "birth_date", "birth_date"),
        Agreement("fitness_test", "student_name", "name"),
        Agreement("fitness_test", "grade_code", "grade_code", also_equal=("school_year",)),
    ),
    persons=(
        PersonSource(
            "fitness_test",
            "体测",
            fields={
                "name": "student_name",
                "sex": "sex",
                "birth_date": "birth_date",
                "grade_code": "grade_code",
            },
            dated_by="test_date",
        ),
    ),
    scope=(
        of_person("fitness_test", "student_number"),
        # each pupil's scores by the standard (`edubrain fitness score`), personal like the results
        of_person(FITNESS_SCORE_TABLE, "student_number"),
    ),
    portrait=(
        PortraitSection(
            "fitness",
            "fitness tests",
            records_of("fitness_test", "student_number"),
            lambda: record_model("fitness_test", "FitnessPublic"),
        ),
        SCORED,
    ),
    indicators=(FAMILY,),
    generator=GENERATOR,
)
