"""心理筛查: a screening scale's answers, scored by the scale as data; results for the school's
psychology teacher only, counts with small cells withheld for everyone else."""

from __future__ import annotations

from importlib import resources
from typing import Any

from edubrain.govern.references import Reference
from edubrain.modules.psych.entities import ENTITIES
from edubrain.modules.psych.generator import PART as GENERATOR
from edubrain.modules.psych.permissions import PERMISSIONS, PSYCH_REFERRED, PSYCH_SUMMARY
from edubrain.modules.psych.score_job import PSYCH_RESULT_TABLE
from edubrain.modules.spec import MenuEntry, Module
from edubrain.service.policy import of_person


def routes() -> Any:
    """The API router, imported only when the service assembles itself."""
    from edubrain.modules.psych.routes import routes as router

    return router()


def pages() -> Any:
    """The cockpit's pages (心理筛查, 转介学生), imported only when the cockpit assembles."""
    from edubrain.modules.psych.pages import pages as psych_pages

    return psych_pages()


MODULE = Module(
    name="psych",
    label="心理筛查",
    description="心理测评作答与按量表评分的筛查结果（仅本校心理教师可见个人结果）。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("psych_response", ("student_number",), "student"),),
    mappings=resources.files(__name__).joinpath("mappings"),
    scope=(
        of_person("psych_response", "student_number"),
        # each sitting's result (`edubrain psych screen`), personal like the answers
        of_person(PSYCH_RESULT_TABLE, "student_number"),
    ),
    permissions=PERMISSIONS,
    generator=GENERATOR,
    routes=routes,
    pages=pages,
    menu=(
        MenuEntry("/psych", "心理筛查", PSYCH_SUMMARY),
        MenuEntry("/psych/referred", "转介学生", PSYCH_REFERRED),
    ),
)
