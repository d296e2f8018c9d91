"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import measure_field, school_code_field

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "facility_survey",
        "办学条件普查",
        "A school's facilities and equipment in one survey year.",
        ("school_code", "survey_year"),
        (
            school_code_field(),
            Field("survey_year", "统计年度", T.INTEGER, True, minimum=2000, maximum=2100),
            measure_field(
                "teaching_aux_area_m2",
                "教学及辅助用房面积",
                "m²",
                0,
                500_000,
                data_class=D.INTERNAL,
            ),
            measure_field(
                "sports_area_m2", "体育运动场馆面积", "m²", 0, 500_000, data_class=D.INTERNAL
            ),
            measure_field(
                "equipment_value_yuan", "教学仪器设备值", "元", 0, 1e9, data_class=D.INTERNAL
            ),
            measure_field(
                "multimedia_classrooms",
                "网络多媒体教室数",
                "间",
                0,
                2000,
                T.INTEGER,
                data_class=D.INTERNAL,
            ),
            measure_field(
                "computers", "计算机台数", "台", 0, 20_000, T.INTEGER, data_class=D.INTERNAL
            ),
            measure_field(
                "books", "图书册数", "册", 0, 5_000_000, T.INTEGER, data_class=D.INTERNAL
            ),
            measure_field(
                "outbound_bandwidth_mbps", "出口带宽", "Mbps", 0, 100_000, data_class=D.INTERNAL
            ),
            measure_field(
                "wireless_coverage", "无线网络覆盖率", "ratio", 0, 1, data_class=D.INTERNAL
            ),
            Field("ipv6_enabled", "是否支持IPv6", T.BOOLEAN, False),
            measure_field(
                "new_type_spaces", "新型教学空间数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL
            ),
            measure_field("labs", "实验室数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL),
            measure_field(
                "recording_classrooms", "录播教室数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL
            ),
        ),
    ),
)
