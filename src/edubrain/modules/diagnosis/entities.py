"""The entities of this domain: the knowledge graph, its practice items (the Q-matrix) and the
pupils' practice responses — the four files of a knowledge folder (docs/diagnosis.md) — and the
fitted mastery the diagnosis derives from them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import student_number_field

T, D = FieldType, DataClass

# Not an entity: the diagnosis's output, each pupil's fitted mastery of each point of their
# grade, which `edubrain diagnose fit` writes (as `edubrain.diagnosis.run.MASTERY_TABLE`).
# Its scope rule is this module's; `routes` serves it.
MASTERY_TABLE = "diagnosis_mastery"


def _kp_code(name: str = "kp_code", label: str = "知识点编码") -> Field:
    return Field(
        name,
        label,
        T.STRING,
        True,
        D.PUBLIC,
        description="e.g. M7.3.2 = 七年级 mathematics, chapter 3, point 2.",
    )


def _grade(required: bool = True) -> Field:
    # The curriculum's grade, not a pupil's: public like the rest of the graph.
    return Field("grade_code", "年级编号", T.CODE, required, D.PUBLIC, code_table="grade")


def _item_id() -> Field:
    return Field("item_id", "练习题编号", T.STRING, True, D.PUBLIC)


KNOWLEDGE_POINT = Entity(
    "knowledge_point",
    "知识点",
    "A knowledge point of the subject knowledge graph (学科知识图谱).",
    ("kp_code",),
    (
        _kp_code(),
        Field("subject", "学科", T.CODE, True, D.PUBLIC, code_table="subject"),
        _grade(),
        Field("chapter_no", "章序号", T.INTEGER, False, D.PUBLIC, minimum=1, maximum=99),
        Field("point_no", "节序号", T.INTEGER, False, D.PUBLIC, minimum=1, maximum=99),
        Field("chapter_name", "章名称", T.STRING, False, D.PUBLIC),
        Field("name", "知识点名称", T.STRING, True, D.PUBLIC),
    ),
    reference_data=True,
)

KNOWLEDGE_PREREQUISITE = Entity(
    "knowledge_prerequisite",
    "知识点先修关系",
    "An edge of the knowledge graph: learn `prerequisite_code` before `kp_code`.",
    ("kp_code", "prerequisite_code"),
    (
        _kp_code(),
        _kp_code("prerequisite_code", "先修知识点编码"),
    ),
    reference_data=True,
)

PRACTICE_ITEM = Entity(
    "practice_item",
    "练习题",
    "A practice item with the knowledge points it exercises (a row of the Q-matrix).",
    ("item_id",),
    (
        _item_id(),
        Field("subject", "学科", T.CODE, False, D.PUBLIC, code_table="subject"),
        _grade(required=False),
        Field(
            "knowledge_points",
            "知识点",
            T.STRING,
            True,
            D.PUBLIC,
            description="Knowledge point codes joined by ';', the item's main point first.",
        ),
    ),
    reference_data=True,
)

PRACTICE_RESPONSE = Entity(
    "practice_response",
    "练习作答",
    "A pupil's answer to one practice item: right or wrong, and when.",
    ("student_number", "item_id", "answered_at"),
    (
        student_number_field(),
        _item_id(),
        Field("answered_at", "作答时间", T.DATETIME, True),
        Field("correct", "是否答对", T.BOOLEAN, True, D.SENSITIVE),
    ),
)

ENTITIES: tuple[Entity, ...] = (
    KNOWLEDGE_POINT,
    KNOWLEDGE_PREREQUISITE,
    PRACTICE_ITEM,
    PRACTICE_RESPONSE,
)
