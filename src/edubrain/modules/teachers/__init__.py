"""一师一档 (teacher development): training records, 提升工程2.0, digital-literacy assessments,
a teacher's archive, and the indicators 参训率 and 数字素养达标率 against the plans' targets."""

from __future__ import annotations

from importlib import resources
from typing import Any

from edubrain.govern.references import Reference
from edubrain.modules.spec import MenuEntry, Module
from edubrain.modules.teachers.entities import ENTITIES
from edubrain.modules.teachers.generator import PART as GENERATOR
from edubrain.modules.teachers.indicators import FAMILY
from edubrain.modules.teachers.permissions import PERMISSIONS, TEACHER_ARCHIVE
from edubrain.service.policy import of_staff


def routes() -> Any:
    """The API router, imported only when the service assembles itself."""
    from edubrain.modules.teachers.routes import routes as router

    return router()


def pages() -> Any:
    """The cockpit's pages (教师发展, 一师一档), imported only when the cockpit assembles."""
    from edubrain.modules.teachers.pages import pages as teacher_pages

    return teacher_pages()


MODULE = Module(
    name="teachers",
    label="教师发展",
    description="教师培训记录、提升工程2.0、数字素养测评与一师一档。",
    requires=("roster",),
    entities=ENTITIES,
    references=(
        Reference("teacher_training", ("staff_number",), "teacher"),
        Reference("teacher_literacy", ("staff_number",), "teacher"),
    ),
    mappings=resources.files(__name__).joinpath("mappings"),
    scope=(
        of_staff("teacher_training", "staff_number"),
        of_staff("teacher_literacy", "staff_number"),
    ),
    indicators=(FAMILY,),
    permissions=PERMISSIONS,
    generator=GENERATOR,
    routes=routes,
    pages=pages,
    menu=(MenuEntry("/teachers", "教师发展", TEACHER_ARCHIVE),),
)
