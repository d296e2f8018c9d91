"""综合素质评价 (growth): pupils' confirmed records in the five domains (德智体美劳), scored per
term by a scheme a bureau writes as data, with 成长预警 when a domain falls."""

from __future__ import annotations

from edubrain.govern.references import Reference
from edubrain.modules.growth.entities import ENTITIES
from edubrain.modules.growth.generator import PART as GENERATOR
from edubrain.modules.growth.portrait import SECTION
from edubrain.modules.growth.score_job import GROWTH_SCORE_TABLE
from edubrain.modules.spec import Module
from edubrain.service.policy import of_person

MODULE = Module(
    name="growth",
    label="综合素质评价",
    description="德智体美劳写实记录，按评价方案计算各维度得分、等级与成长预警。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("growth_record", ("student_number",), "student"),),
    scope=(
        of_person("growth_record", "student_number"),
        # each pupil-term's scores (`edubrain growth score`), personal like the records
        of_person(GROWTH_SCORE_TABLE, "student_number"),
    ),
    portrait=(SECTION,),
    generator=GENERATOR,
)
