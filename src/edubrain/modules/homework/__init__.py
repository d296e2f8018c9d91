"""作业: homework set to classes and pupils' submissions (双减作业时长)."""

from __future__ import annotations

from importlib import resources

from edubrain.govern.persons import PersonSource
from edubrain.govern.quality import DatesInOrder, NeededField
from edubrain.govern.references import Reference
from edubrain.modules.homework.entities import ENTITIES
from edubrain.modules.homework.generator import PART as GENERATOR
from edubrain.modules.homework.indicators import FAMILY
from edubrain.modules.roster.entities import CLASS_KEY
from edubrain.modules.spec import Module

SUBMITTED_FOR = Reference("homework_submission", ("assignment_id",), "homework_assignment")

MODULE = Module(
    name="homework",
    label="作业",
    description="布置到班级的作业与学生提交记录。",
    requires=("roster",),
    entities=ENTITIES,
    references=(
        Reference("homework_assignment", CLASS_KEY, "class"),
        SUBMITTED_FOR,
        Reference("homework_submission", ("student_number",), "student"),
    ),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField("homework_submission", "submitted_at", "双减作业时长统计", "homework timing"),
        DatesInOrder("homework_assignment", "assigned_date", "due_date", strict=False),
    ),
    # A submission carries the 学籍号 alone; the class its assignment was set to is the only
    # context it has.
    persons=(
        PersonSource(
            "homework_submission",
            "作业",
            fields={
                "school_code": "school_code",
                "grade_code": "grade_code",
                "class_no": "class_no",
            },
            by_number=True,
            context=SUBMITTED_FOR,
        ),
    ),
    indicators=(FAMILY,),
    generator=GENERATOR,
)
