"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import (
    class_no_field,
    grade_field,
    measure_field,
    school_code_field,
    school_year_field,
    student_number_field,
)

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "homework_assignment",
        "作业布置",
        "A homework task set to a class.",
        ("assignment_id",),
        (
            Field("assignment_id", "作业编号", T.STRING, True),
            school_code_field(),
            school_year_field(),
            grade_field(),
            class_no_field(),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            Field("assigned_date", "布置日期", T.DATE, True),
            Field("due_date", "截止日期", T.DATE, False),
            Field("is_written", "是否书面作业", T.BOOLEAN, True),
            measure_field("expected_minutes", "预计用时", "min", 0, 300, data_class=D.INTERNAL),
        ),
    ),
    Entity(
        "homework_submission",
        "作业提交",
        "A student's submission of a homework task.",
        ("assignment_id", "student_number"),
        (
            Field("assignment_id", "作业编号", T.STRING, True),
            student_number_field(),
            Field("submitted_at", "提交时间", T.DATETIME, False),
            measure_field(
                "minutes_spent", "用时", "min", 0, 600, required=True, data_class=D.SENSITIVE
            ),
            measure_field("score", "得分率", "ratio", 0, 1),
        ),
    ),
)
