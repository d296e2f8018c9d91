"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import student_number_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "psych_response",
        "心理测评作答",
        "A pupil's answer to one item of a psychological screening scale at one sitting. "
        "Personal and sensitive: read only by the psychology teacher of the pupil's school.",
        ("student_number", "scale_id", "test_date", "item_no"),
        (
            student_number_field(),
            Field(
                "student_name",
                "姓名(测评系统)",
                T.STRING,
                False,
                D.SENSITIVE,
                description="The name as the screening system holds it.",
            ),
            Field(
                "scale_id",
                "量表编号",
                T.STRING,
                True,
                pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                description="The scale's `id` (a scale file in home/scales/ or the example).",
            ),
            Field("test_date", "测评日期", T.DATE, True),
            Field("item_no", "题号", T.INTEGER, True, minimum=1, maximum=500),
            Field(
                "response",
                "作答",
                T.DECIMAL,
                False,
                D.CORE,
                minimum=0,
                maximum=100,
                description="The answer as the scale numbers it (e.g. 1–4); blank: unanswered. "
                "Checked against the scale's own range when scored. 核心: masked for every "
                "role; the psychology teacher reads the scored results.",
            ),
        ),
    ),
)
