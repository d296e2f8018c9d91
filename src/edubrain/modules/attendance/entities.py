"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import student_number_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "attendance",
        "考勤",
        "An attendance exception (absence, leave, lateness) on a school day.",
        ("student_number", "date"),
        (
            student_number_field(),
            Field("date", "日期", T.DATE, True),
            Field("status", "考勤状态", T.CODE, True, code_table="attendance_status"),
            Field("reason", "原因", T.STRING, False, D.SENSITIVE),
        ),
    ),
)
