"""装备与信息化: each school's facilities and equipment survey."""

from __future__ import annotations

from importlib import resources

from edubrain.govern.references import Reference
from edubrain.modules.facilities.entities import ENTITIES
from edubrain.modules.spec import Module

MODULE = Module(
    name="facilities",
    label="装备与信息化",
    description="学校办学条件与教育装备、信息化年度统计。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("facility_survey", ("school_code",), "school"),),
    mappings=resources.files(__name__).joinpath("mappings"),
)
