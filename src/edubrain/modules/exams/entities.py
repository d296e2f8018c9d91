"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import grade_field, school_year_field, student_number_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "exam",
        "考试",
        "An exam sitting (统考, 月考, 期中, 期末) for one subject and grade.",
        ("exam_id",),
        (
            Field("exam_id", "考试编号", T.STRING, True),
            Field("name", "考试名称", T.STRING, True),
            school_year_field(),
            Field("term", "学期", T.CODE, True, code_table="term"),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            grade_field(),
            Field("exam_date", "考试日期", T.DATE, True),
            Field("max_score", "满分", T.DECIMAL, True, minimum=1, maximum=1000),
        ),
    ),
    Entity(
        "exam_item",
        "试题",
        "An item of an exam paper with its knowledge points (Q-matrix row).",
        ("exam_id", "item_no"),
        (
            Field("exam_id", "考试编号", T.STRING, True),
            Field("item_no", "题号", T.INTEGER, True, minimum=1, maximum=200),
            Field("max_score", "分值", T.DECIMAL, True, minimum=0.5, maximum=200),
            Field("item_type", "题型", T.CODE, False, code_table="item_type"),
            Field(
                "knowledge_points",
                "知识点",
                T.STRING,
                False,
                description="Knowledge point codes joined by ';'.",
            ),
            Field(
                "bank_item_id",
                "题库编号",
                T.STRING,
                False,
                description="The item's number in the item bank: the same value on two papers "
                "means the same item (an anchor item linking the papers' scales).",
            ),
        ),
    ),
    Entity(
        "item_score",
        "小题得分",
        "A student's score on one exam item.",
        ("exam_id", "student_number", "item_no"),
        (
            Field("exam_id", "考试编号", T.STRING, True),
            student_number_field(),
            Field("item_no", "题号", T.INTEGER, True, minimum=1, maximum=200),
            Field("score", "得分", T.DECIMAL, True, D.SENSITIVE, minimum=0, maximum=200),
        ),
    ),
)
