"""健康体检: pupils' health checks (vision, height, weight)."""

from __future__ import annotations

from importlib import resources

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import Agreement, NeededField
from edubrain.govern.references import Reference
from edubrain.modules.health.entities import ENTITIES
from edubrain.modules.health.generator import PART as GENERATOR
from edubrain.modules.health.indicators import FAMILY
from edubrain.modules.health.portrait import SECTION as SCORED
from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE
from edubrain.modules.spec import Module
from edubrain.service.policy import of_person
from edubrain.service.portrait import PortraitSection, records_of
from edubrain.service.schemas import record_model

MODULE = Module(
    name="health",
    label="健康体检",
    description="学生健康体检记录。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("health_check", ("student_number",), "student"),),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField("health_check", "sex", "近视/肥胖分性别统计", "myopia/obesity by sex"),
        NeededField("health_check", "vision_left", "近视率指标", "myopia indicator"),
        NeededField("health_check", "vision_right", "近视率指标", "myopia indicator"),
        Agreement("health_check", "sex", "sex"),
        Agreement("health_check", "student_name", "name"),
    ),
    persons=(
        PersonSource(
            "health_check",
            "体检",
            fields={"name": "student_name", "sex": "sex"},
            dated_by="check_date",
        ),
    ),
    scope=(
        of_person("health_check", "student_number"),
        # each check's classification (`edubrain health screen`), personal like the check
        of_person(HEALTH_STATUS_TABLE, "student_number"),
    ),
    portrait=(
        PortraitSection(
            "health",
            "health checks",
            records_of("health_check", "student_number"),
            lambda: record_model("health_check", "HealthPublic"),
        ),
        SCORED,
    ),
    indicators=(FAMILY,),
    generator=GENERATOR,
)
