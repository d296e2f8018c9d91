"""考勤: attendance exceptions (absence, leave, lateness) on school days."""

from __future__ import annotations

from edubrain.govern.references import Reference
from edubrain.modules.attendance.entities import ENTITIES
from edubrain.modules.attendance.generator import PART as GENERATOR
from edubrain.modules.spec import Module

MODULE = Module(
    name="attendance",
    label="考勤",
    description="学生缺勤、请假、迟到等考勤异常记录。",
    requires=("roster",),
    entities=ENTITIES,
    references=(Reference("attendance", ("student_number",), "student"),),
    generator=GENERATOR,
)
