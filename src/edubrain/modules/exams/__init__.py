"""考试与阅卷: exams, their items (with knowledge points) and every pupil's item scores."""

from __future__ import annotations

from importlib import resources
from typing import Any

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import NeededField
from edubrain.govern.references import Reference
from edubrain.modules.exams.entities import ENTITIES
from edubrain.modules.exams.generator import PART as GENERATOR
from edubrain.modules.exams.mastery import MASTERY_TABLE
from edubrain.modules.exams.permissions import (
    EXAMS_READ,
    EXAMS_VALUE_ADDED,
    LEARNING_READ,
    OWN_SCHOOL_REPORT,
    PERMISSIONS,
    RESEARCH_READ,
)
from edubrain.modules.exams.portrait import SECTION
from edubrain.modules.exams.rules import EXAM_MAX_EQUALS_ITEMS, ITEM_SCORE_WITHIN_ITEM_MAX
from edubrain.modules.exams.value_added_indicators import FAMILY as VALUE_ADDED_FAMILY
from edubrain.modules.exams.value_added_reads import SCOPE as VALUE_ADDED_SCOPE
from edubrain.modules.spec import MenuEntry, Module
from edubrain.service.demo import DemoEvidence
from edubrain.service.policy import of_person


def routes() -> Any:
    """The API router, imported only when the service assembles itself."""
    from edubrain.modules.exams.learning_routes import routes as learning
    from edubrain.modules.exams.report_pages import api_routes as reports
    from edubrain.modules.exams.routes import routes as router
    from edubrain.modules.exams.value_added_routes import routes as value_added

    found = value_added()  # /exams/value-added before /exams/{exam_id}/…
    found.include_router(router())
    found.include_router(learning())
    found.include_router(reports())
    return found


def pages() -> Any:
    """The cockpit's pages (考试分析, 增值评价; 教研分析, 学校质量报告, 学业进步; 学情), imported
    only when the cockpit assembles itself."""
    from edubrain.modules.exams.learning_routes import pages as learning_pages
    from edubrain.modules.exams.pages import pages as exam_pages
    from edubrain.modules.exams.report_pages import pages as report_pages
    from edubrain.modules.exams.value_added_pages import pages as value_added_pages

    found = value_added_pages()  # /exams/value-added before /exams/{exam_id}/…
    found.include_router(exam_pages())
    found.include_router(report_pages())
    found.include_router(learning_pages())
    return found


def commands(app: Any) -> None:
    """The `edubrain exams` command group."""
    from edubrain.modules.exams.commands import add_commands

    add_commands(app)


MODULE = Module(
    name="exams",
    label="考试与阅卷",
    description="考试、小题（含知识点）与学生小题得分。",
    requires=("roster",),
    entities=ENTITIES,
    references=(
        Reference("exam_item", ("exam_id",), "exam"),
        Reference("item_score", ("exam_id", "item_no"), "exam_item"),
        Reference("item_score", ("student_number",), "student"),
    ),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField(
            "exam_item", "knowledge_points", "学情诊断 Q 矩阵", "learning diagnosis Q-matrix"
        ),
        EXAM_MAX_EQUALS_ITEMS,
        ITEM_SCORE_WITHIN_ITEM_MAX,
    ),
    # An item score carries nothing about the pupil but the 学籍号 written on the paper.
    persons=(PersonSource("item_score", "阅卷", by_number=True),),
    indicators=(VALUE_ADDED_FAMILY,),
    scope=(
        of_person("item_score", "student_number"),
        # each pupil's mastery from the exams' cognitive diagnosis (`edubrain diagnose exams`)
        of_person(MASTERY_TABLE, "student_number"),
        # each pupil's IRT θ and scale score (`edubrain exams scale`), 敏感 like the scores
        of_person("exam_scale_score", "student_number"),
        VALUE_ADDED_SCOPE,
    ),
    portrait=(SECTION,),
    # The demo's teacher and parent see a class with exam item scores.
    demo=(DemoEvidence("item_score"),),
    permissions=PERMISSIONS,
    routes=routes,
    pages=pages,
    menu=(
        MenuEntry("/exams", "考试分析", EXAMS_READ),
        MenuEntry("/exams/value-added", "增值评价", EXAMS_VALUE_ADDED),
        MenuEntry("/research", "教研分析", RESEARCH_READ),
        MenuEntry("/school-report", "学校质量报告", OWN_SCHOOL_REPORT),
        MenuEntry("/learning", "学情", LEARNING_READ),
    ),
    commands=commands,
    generator=GENERATOR,
)
