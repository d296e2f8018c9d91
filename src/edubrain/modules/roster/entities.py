"""The entities of this domain, as the data standard declares them."""

from __future__ import annotations

from edubrain.standard.entities import Check, DataClass, Entity, Field, FieldType, RowCheck
from edubrain.standard.fields import (
    class_no_field,
    grade_field,
    id_number_field,
    measure_field,
    school_code_field,
    school_year_field,
    sex_field,
    student_number_field,
)

T, D = FieldType, DataClass

# A class is named by its school, school year, grade and number.
CLASS_KEY = ("school_code", "school_year", "grade_code", "class_no")

ENTITIES: tuple[Entity, ...] = (
    Entity(
        "region",
        "行政区划",
        "Administrative divisions the bureau covers (GB/T 2260).",
        ("region_code",),
        (
            Field("region_code", "行政区划代码", T.STRING, True, D.PUBLIC, check=Check.REGION_CODE),
            Field("name", "名称", T.STRING, True, D.PUBLIC),
            Field("level", "级别", T.CODE, True, D.PUBLIC, code_table="region_level"),
            Field(
                "parent_code", "上级区划代码", T.STRING, False, D.PUBLIC, check=Check.REGION_CODE
            ),
        ),
        reference_data=True,
    ),
    Entity(
        "school",
        "学校",
        "A school (or a 学段 section of a 一贯制 school counted separately).",
        ("school_code",),
        (
            school_code_field(),
            Field("name", "学校名称", T.STRING, True, D.PUBLIC),
            Field("stages", "办学学段", T.CODE_LIST, True, D.PUBLIC, code_table="stage"),
            Field("urban_rural", "城乡类型", T.CODE, True, D.PUBLIC, code_table="urban_rural"),
            Field("region_code", "所在区县", T.STRING, True, D.PUBLIC, check=Check.REGION_CODE),
            Field("enrolment_zone", "招生片区", T.STRING, False, D.PUBLIC),
            Field("address", "学校地址", T.STRING, False, D.PUBLIC),
            Field("longitude", "经度", T.DECIMAL, False, D.PUBLIC, minimum=73, maximum=136),
            Field("latitude", "纬度", T.DECIMAL, False, D.PUBLIC, minimum=3, maximum=54),
            Field("is_boarding", "是否寄宿制", T.BOOLEAN, False, D.PUBLIC),
        ),
    ),
    Entity(
        "term",
        "学年学期",
        "School years and terms: the periods every time series is keyed on.",
        ("school_year", "term"),
        (
            school_year_field(),
            Field("term", "学期", T.CODE, True, D.PUBLIC, code_table="term"),
            Field("start_date", "开始日期", T.DATE, True, D.PUBLIC),
            Field("end_date", "结束日期", T.DATE, True, D.PUBLIC),
        ),
        reference_data=True,
    ),
    Entity(
        "class",
        "班级",
        "A teaching class in one school year.",
        ("school_code", "school_year", "grade_code", "class_no"),
        (
            school_code_field(),
            school_year_field(),
            grade_field(),
            class_no_field(),
            Field("class_name", "班级名称", T.STRING, False),
            Field("stage", "学段", T.CODE, True, code_table="stage"),
            Field("head_teacher_staff_number", "班主任教职工号", T.STRING, False),
        ),
    ),
    Entity(
        "student",
        "学生",
        "A pupil's registry record (学籍) in a school year.",
        ("student_number",),
        (
            student_number_field(),
            id_number_field(),
            Field("name", "姓名", T.STRING, True, D.SENSITIVE),
            sex_field(),
            Field("birth_date", "出生日期", T.DATE, True, D.SENSITIVE),
            Field("ethnicity", "民族", T.CODE, False, D.SENSITIVE, code_table="ethnicity"),
            Field(
                "hukou_region", "户口所在地", T.STRING, False, D.SENSITIVE, check=Check.REGION_CODE
            ),
            Field("address", "现住址", T.STRING, False, D.SENSITIVE),
            school_code_field(),
            school_year_field(),
            grade_field(),
            class_no_field(),
            Field("enrol_year", "入学年份", T.INTEGER, False, minimum=2000, maximum=2100),
            Field("status", "学籍状态", T.CODE, True, code_table="student_status"),
        ),
        row_checks=(RowCheck.BIRTH_DATE_FITS_GRADE,),
    ),
    Entity(
        "guardian",
        "监护人",
        "A student's guardian (家庭成员/监护人).",
        ("student_number", "relation"),
        (
            student_number_field(),
            Field("relation", "与学生关系", T.CODE, True, code_table="guardian_relation"),
            Field("name", "监护人姓名", T.STRING, True, D.SENSITIVE),
            Field("phone", "联系电话", T.STRING, False, D.SENSITIVE, pattern=r"1\d{10}"),
            id_number_field("监护人身份证件号"),
        ),
    ),
    Entity(
        "teacher",
        "教职工",
        "A member of staff (人事系统).",
        ("staff_number",),
        (
            Field("staff_number", "教职工号", T.STRING, True, D.INTERNAL),
            id_number_field(),
            Field("name", "姓名", T.STRING, True, D.INTERNAL),
            sex_field(),
            Field("birth_date", "出生日期", T.DATE, True, D.SENSITIVE),
            Field("education", "最高学历", T.CODE, True, code_table="education"),
            Field("title", "专业技术职务", T.CODE, False, code_table="title"),
            Field("subjects", "任教学科", T.CODE_LIST, False, code_table="subject"),
            Field("backbone_level", "骨干教师级别", T.CODE, False, code_table="backbone"),
            school_code_field(),
            Field("post", "岗位类别", T.CODE, True, code_table="post"),
            measure_field("training_hours", "年度培训学时", "h", 0, 1000, data_class=D.INTERNAL),
        ),
        row_checks=(RowCheck.TEACHER_WORKING_AGE,),
    ),
    Entity(
        "teaching_assignment",
        "任课安排",
        "Which teacher teaches which subject to which class.",
        ("staff_number", "school_code", "school_year", "grade_code", "class_no", "subject"),
        (
            Field("staff_number", "教职工号", T.STRING, True),
            school_code_field(),
            school_year_field(),
            grade_field(),
            class_no_field(),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            measure_field(
                "weekly_periods", "周课时", "节", 0, 40, T.INTEGER, data_class=D.INTERNAL
            ),
        ),
    ),
)
