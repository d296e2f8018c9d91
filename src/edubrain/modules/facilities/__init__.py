"""装备与信息化: each school's facilities and equipment survey.

Its indicator families: 教育信息化 (informatization) and 县域义务教育优质均衡 (balance), whose
resource indicators read the survey beside the roster's pupils and teachers.
"""

from __future__ import annotations

from importlib import resources

from edubrain.govern.references import Reference
from edubrain.modules.facilities import balance, informatization
from edubrain.modules.facilities.entities import ENTITIES
from edubrain.modules.facilities.generator import PART as GENERATOR
from edubrain.modules.spec import Module

MODULE = Module(
    name="facilities",
    label="装备与信息化",
    description="学校办学条件与教育装备、信息化年度统计。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("facility_survey", ("school_code",), "school"),),
    mappings=resources.files(__name__).joinpath("mappings"),
    indicators=(balance.FAMILY, informatization.FAMILY),
    generator=GENERATOR,
)
