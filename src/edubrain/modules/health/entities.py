"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import measure_field, sex_field, student_number_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "health_check",
        "健康体检",
        "A health examination: growth and uncorrected vision.",
        ("student_number", "check_date"),
        (
            student_number_field(),
            Field(
                "student_name",
                "姓名(体检系统)",
                T.STRING,
                False,
                D.SENSITIVE,
                description="The name as the health-check system holds it; for record linkage.",
            ),
            sex_field(required=False),
            Field("check_date", "体检日期", T.DATE, True),
            measure_field("height_cm", "身高", "cm", 80, 230, required=True),
            measure_field("weight_kg", "体重", "kg", 10, 200, required=True),
            measure_field("vision_left", "左眼裸眼视力", "5分记录", 3.0, 5.3),
            measure_field("vision_right", "右眼裸眼视力", "5分记录", 3.0, 5.3),
            measure_field("se_left", "左眼等效球镜", "D", -20, 10),
            measure_field("se_right", "右眼等效球镜", "D", -20, 10),
        ),
    ),
)
