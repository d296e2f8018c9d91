"""The entity of 综合素质评价: one confirmed record of a pupil's growth in one of the five domains
(德智体美劳) — a volunteer service, an honour, a discipline record, an academic level, a fitness
level, an arts activity, labour hours."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import school_year_field, student_number_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "growth_record",
        "综合素质评价记录",
        "One confirmed record of a pupil's growth (写实记录): its domain, its kind as the "
        "evaluation scheme names it, a value (hours, a count, a score) or a level, and who "
        "submitted it. Records reach the warehouse after review and 公示.",
        ("record_id",),
        (
            Field("record_id", "记录编号", T.STRING, True),
            student_number_field(),
            school_year_field(),
            Field("term", "学期", T.CODE, True, code_table="term"),
            Field("domain", "评价维度", T.CODE, True, code_table="growth_domain"),
            Field(
                "kind",
                "记录类别",
                T.STRING,
                True,
                description="As the bureau's evaluation scheme names it (志愿服务, 荣誉表彰, "
                "违纪处分, 学业等级, 体测等级, 艺术活动, 劳动时长 …); a kind no rule of the scheme "
                "names is counted nowhere and reported.",
            ),
            Field("value", "数值", T.DECIMAL, False, minimum=-1000, maximum=10000),
            Field("level", "等级", T.STRING, False),
            Field("description", "写实描述", T.STRING, False, D.SENSITIVE),
            Field("evidence_date", "发生日期", T.DATE, False),
            Field("submitted_by", "提交方", T.CODE, False, code_table="growth_submitter"),
        ),
    ),
)
