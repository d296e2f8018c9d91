"""综合素质评价 (growth): pupils' confirmed records in the five domains (德智体美劳), scored per
term by a scheme a bureau writes as data, with 成长预警 when a domain falls."""

from __future__ import annotations

from typing import Any

from edubrain.govern.references import Reference
from edubrain.modules.growth.entities import ENTITIES
from edubrain.modules.growth.generator import PART as GENERATOR
from edubrain.modules.growth.permissions import GROWTH_RECORDS, PERMISSIONS
from edubrain.modules.growth.portrait import SECTION
from edubrain.modules.growth.score_job import GROWTH_SCORE_TABLE
from edubrain.modules.spec import MenuEntry, Module
from edubrain.service.policy import of_person


def routes() -> Any:
    """The API router, imported only when the service assembles itself."""
    from edubrain.modules.growth.routes import routes as router

    return router()


def pages() -> Any:
    """The cockpit's page (综合素质评价: 写实记录 and 公示), imported when the cockpit assembles."""
    from edubrain.modules.growth.pages import pages as growth_pages

    return growth_pages()


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
    permissions=PERMISSIONS,
    generator=GENERATOR,
    routes=routes,
    pages=pages,
    menu=(MenuEntry("/growth", "综合素质评价", GROWTH_RECORDS),),
)
