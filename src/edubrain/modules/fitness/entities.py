"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import DataClass, Entity, Field, FieldType
from edubrain.standard.fields import (
    grade_field,
    measure_field,
    school_year_field,
    sex_field,
    student_number_field,
)

T, D = FieldType, DataClass

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "fitness_test",
        "体质健康测试",
        "Raw results of the 国家学生体质健康标准 test, one row per student per school year.",
        ("student_number", "school_year"),
        (
            student_number_field(),
            school_year_field(),
            grade_field(),
            sex_field(),
            Field(
                "student_name",
                "姓名(体测系统)",
                T.STRING,
                False,
                D.SENSITIVE,
                description="The name as the fitness system holds it; for record linkage.",
            ),
            Field("birth_date", "出生日期(体测系统)", T.DATE, False, D.SENSITIVE),
            Field("test_date", "测试日期", T.DATE, False),
            measure_field("height_cm", "身高", "cm", 80, 230),
            measure_field("weight_kg", "体重", "kg", 10, 200),
            measure_field("vital_capacity", "肺活量", "ml", 300, 9000, T.INTEGER),
            measure_field("run_50m", "50米跑", "s", 5, 25),
            measure_field("sit_and_reach", "坐位体前屈", "cm", -40, 45),
            measure_field("rope_skip_1min", "1分钟跳绳", "次", 0, 300, T.INTEGER),
            measure_field("sit_up_1min", "1分钟仰卧起坐", "次", 0, 100, T.INTEGER),
            measure_field("shuttle_run_50x8", "50米×8往返跑", "s", 60, 300),
            measure_field("standing_long_jump", "立定跳远", "cm", 50, 350, T.INTEGER),
            measure_field("pull_up", "引体向上", "次", 0, 60, T.INTEGER),
            measure_field("run_1000m", "1000米跑", "s", 150, 720),
            measure_field("run_800m", "800米跑", "s", 150, 720),
            Field(
                "exemption",
                "免测情况",
                T.CODE,
                False,
                D.SENSITIVE,
                code_table="fitness_exemption",
                description="免予执行 or 暂缓执行 the standard for illness or disability (a "
                "medical certificate, approved by the school); such a pupil is not scored.",
            ),
            Field(
                "retest",
                "补测",
                T.BOOLEAN,
                False,
                description="The row is the school year's 补测 (a pupil who failed may re-test "
                "once; the re-test is the year's result). Loaded after the first test, it "
                "supersedes it and the first test is kept in the history.",
            ),
        ),
    ),
)
