"""作业: homework set to classes and pupils' submissions (双减作业时长)."""

from __future__ import annotations

from importlib import resources

from edubrain.govern.quality import DatesInOrder, NeededField
from edubrain.govern.references import Reference
from edubrain.modules.homework.entities import ENTITIES
from edubrain.modules.homework.indicators import FAMILY
from edubrain.modules.roster.entities import CLASS_KEY
from edubrain.modules.spec import Module

MODULE = Module(
    name="homework",
    label="作业",
    description="布置到班级的作业与学生提交记录。",
    requires=("roster",),
    entities=ENTITIES,
    references=(
        Reference("homework_assignment", CLASS_KEY, "class"),
        Reference("homework_submission", ("assignment_id",), "homework_assignment"),
        Reference("homework_submission", ("student_number",), "student"),
    ),
    mappings=resources.files(__name__).joinpath("mappings"),
    quality=(
        NeededField("homework_submission", "submitted_at", "双减作业时长统计", "homework timing"),
        DatesInOrder("homework_assignment", "assigned_date", "due_date", strict=False),
    ),
    indicators=(FAMILY,),
)
