"""The entities of 一师一档 beyond the 人事 roster: training records and digital-literacy
assessments, one teacher's each."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import measure_field, school_year_field

T, D = FieldType, DataClass

# The five dimensions of 《教师数字素养》(JY/T 0646—2022), each scored 0–100 by an assessment.
LITERACY_DIMENSIONS = (
    ("awareness_score", "数字化意识"),
    ("skills_score", "数字技术知识与技能"),
    ("application_score", "数字化应用"),
    ("responsibility_score", "数字社会责任"),
    ("development_score", "专业发展"),
)


def _staff_number() -> Field:
    return Field("staff_number", "教职工号", T.STRING, True, D.INTERNAL)


ENTITIES: tuple[Entity, ...] = (
    Entity(
        "teacher_training",
        "教师培训记录",
        "One teacher's participation in one training programme (继续教育), with its hours and "
        "result.",
        ("staff_number", "programme_id"),
        (
            _staff_number(),
            Field("programme_id", "培训项目编号", T.STRING, True),
            Field("programme_name", "培训项目名称", T.STRING, False),
            Field(
                "programme_kind",
                "培训类别",
                T.CODE,
                True,
                code_table="training_kind",
                description="信息技术应用能力提升工程2.0, 省级信息技术应用能力培训, 数字素养, "
                "学科教学, 师德师风, 其他; 参训率 counts the first.",
            ),
            Field("programme_level", "培训级别", T.CODE, False, code_table="training_level"),
            school_year_field(),
            Field("start_date", "开始日期", T.DATE, False),
            Field("end_date", "结束日期", T.DATE, False),
            measure_field("hours", "培训学时", "h", 0, 500, data_class=D.INTERNAL),
            Field("result", "培训结果", T.CODE, True, code_table="training_result"),
        ),
    ),
    Entity(
        "teacher_literacy",
        "教师数字素养测评",
        "One teacher's digital-literacy assessment in a school year, by the five dimensions of "
        "《教师数字素养》(JY/T 0646—2022), with its level.",
        ("staff_number", "school_year"),
        (
            _staff_number(),
            school_year_field(),
            Field("assessed_date", "测评日期", T.DATE, False),
            *(
                measure_field(name, label, "分", 0, 100, data_class=D.INTERNAL)
                for name, label in LITERACY_DIMENSIONS
            ),
            measure_field("total_score", "测评总分", "分", 0, 100, data_class=D.INTERNAL),
            Field(
                "level",
                "测评等级",
                T.CODE,
                True,
                D.INTERNAL,
                code_table="literacy_level",
                description="优秀, 良好, 合格 or 不合格; 达标 is 合格 or above.",
            ),
        ),
    ),
)
