"""Data standard v1: every entity, its fields, keys, code tables and data classes — defined once.

Everything else (ingestion, the warehouse schema, docs/data-standard.md, masking in the API)
reads these definitions; nothing restates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from edubrain.errors import UnknownEntityError


class DataClass(StrEnum):
    """Classification of a field (数据分类分级), used for masking and audit."""

    PUBLIC = "公开"
    INTERNAL = "内部"
    SENSITIVE = "敏感"
    CORE = "核心"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CODE = "code"  # one value of a code table
    CODE_LIST = "code_list"  # several values of a code table joined by ';'


class Check(StrEnum):
    """Named validators for field values whose rule is more than a pattern or range."""

    ID_NUMBER = "id_number"  # GB 11643: 18 chars, real birth date, MOD 11-2 check digit
    STUDENT_NUMBER = "student_number"  # 全国学籍号: G/J/L + 18; a G body is an ID number
    REGION_CODE = "region_code"  # GB/T 2260: 6 digits under a known province


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: FieldType
    required: bool = False
    data_class: DataClass = DataClass.INTERNAL
    code_table: str | None = None
    pattern: str | None = None  # regex the whole normalised value must match
    check: Check | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    description: str = ""


class RowCheck(StrEnum):
    """Checks across fields of one row."""

    BIRTH_DATE_FITS_GRADE = "birth_date_fits_grade"
    TEACHER_WORKING_AGE = "teacher_working_age"


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    description: str
    natural_key: tuple[str, ...]
    fields: tuple[Field, ...]
    row_checks: tuple[RowCheck, ...] = field(default=())

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


T, D = FieldType, DataClass

# Reused field shapes. Each is a function so every entity gets its own label text where needed.
SCHOOL_CODE = r"\d{10}"


def _school_code(required: bool = True) -> Field:
    return Field(
        "school_code",
        "学校标识码",
        T.STRING,
        required,
        D.PUBLIC,
        pattern=SCHOOL_CODE,
        description="10-digit 学校标识码 issued by the 教育部 school registry.",
    )


def _school_year(required: bool = True) -> Field:
    return Field(
        "school_year",
        "学年",
        T.STRING,
        required,
        pattern=r"20\d{2}-20\d{2}",
        description="e.g. 2025-2026; starts on 1 September of the first year.",
    )


def _student_number(required: bool = True) -> Field:
    return Field(
        "student_number",
        "学籍号",
        T.STRING,
        required,
        D.INTERNAL,
        check=Check.STUDENT_NUMBER,
        description="全国中小学生学籍号, 19 characters.",
    )


def _grade(required: bool = True) -> Field:
    return Field("grade_code", "年级编号", T.CODE, required, code_table="grade")


def _class_no(required: bool = True) -> Field:
    return Field("class_no", "班号", T.INTEGER, required, minimum=1, maximum=40)


def _id_number(label: str = "身份证件号", required: bool = False) -> Field:
    return Field(
        "id_number",
        label,
        T.STRING,
        required,
        D.CORE,
        check=Check.ID_NUMBER,
        description="居民身份证号码 (GB 11643), 18 characters, check digit verified.",
    )


def _sex(required: bool = True) -> Field:
    return Field("sex", "性别", T.CODE, required, D.INTERNAL, code_table="sex")


def _measure(
    name: str,
    label: str,
    unit: str,
    lo: float,
    hi: float,
    kind: FieldType = T.DECIMAL,
    required: bool = False,
    data_class: DataClass = D.SENSITIVE,
) -> Field:
    return Field(name, label, kind, required, data_class, minimum=lo, maximum=hi, unit=unit)


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
    ),
    Entity(
        "school",
        "学校",
        "A school (or a 学段 section of a 一贯制 school counted separately).",
        ("school_code",),
        (
            _school_code(),
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
            _school_year(),
            Field("term", "学期", T.CODE, True, D.PUBLIC, code_table="term"),
            Field("start_date", "开始日期", T.DATE, True, D.PUBLIC),
            Field("end_date", "结束日期", T.DATE, True, D.PUBLIC),
        ),
    ),
    Entity(
        "class",
        "班级",
        "A teaching class in one school year.",
        ("school_code", "school_year", "grade_code", "class_no"),
        (
            _school_code(),
            _school_year(),
            _grade(),
            _class_no(),
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
            _student_number(),
            _id_number(),
            Field("name", "姓名", T.STRING, True, D.SENSITIVE),
            _sex(),
            Field("birth_date", "出生日期", T.DATE, True, D.SENSITIVE),
            Field("ethnicity", "民族", T.CODE, False, D.SENSITIVE, code_table="ethnicity"),
            Field(
                "hukou_region", "户口所在地", T.STRING, False, D.SENSITIVE, check=Check.REGION_CODE
            ),
            Field("address", "现住址", T.STRING, False, D.SENSITIVE),
            _school_code(),
            _school_year(),
            _grade(),
            _class_no(),
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
            _student_number(),
            Field("relation", "与学生关系", T.CODE, True, code_table="guardian_relation"),
            Field("name", "监护人姓名", T.STRING, True, D.SENSITIVE),
            Field("phone", "联系电话", T.STRING, False, D.SENSITIVE, pattern=r"1\d{10}"),
            _id_number("监护人身份证件号"),
        ),
    ),
    Entity(
        "teacher",
        "教职工",
        "A member of staff (人事系统).",
        ("staff_number",),
        (
            Field("staff_number", "教职工号", T.STRING, True, D.INTERNAL),
            _id_number(),
            Field("name", "姓名", T.STRING, True, D.INTERNAL),
            _sex(),
            Field("birth_date", "出生日期", T.DATE, True, D.SENSITIVE),
            Field("education", "最高学历", T.CODE, True, code_table="education"),
            Field("title", "专业技术职务", T.CODE, False, code_table="title"),
            Field("subjects", "任教学科", T.CODE_LIST, False, code_table="subject"),
            Field("backbone_level", "骨干教师级别", T.CODE, False, code_table="backbone"),
            _school_code(),
            Field("post", "岗位类别", T.CODE, True, code_table="post"),
            _measure("training_hours", "年度培训学时", "h", 0, 1000, data_class=D.INTERNAL),
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
            _school_code(),
            _school_year(),
            _grade(),
            _class_no(),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            _measure("weekly_periods", "周课时", "节", 0, 40, T.INTEGER, data_class=D.INTERNAL),
        ),
    ),
    Entity(
        "facility_survey",
        "办学条件普查",
        "A school's facilities and equipment in one survey year.",
        ("school_code", "survey_year"),
        (
            _school_code(),
            Field("survey_year", "统计年度", T.INTEGER, True, minimum=2000, maximum=2100),
            _measure(
                "teaching_aux_area_m2",
                "教学及辅助用房面积",
                "m²",
                0,
                500_000,
                data_class=D.INTERNAL,
            ),
            _measure("sports_area_m2", "体育运动场馆面积", "m²", 0, 500_000, data_class=D.INTERNAL),
            _measure("equipment_value_yuan", "教学仪器设备值", "元", 0, 1e9, data_class=D.INTERNAL),
            _measure(
                "multimedia_classrooms",
                "网络多媒体教室数",
                "间",
                0,
                2000,
                T.INTEGER,
                data_class=D.INTERNAL,
            ),
            _measure("computers", "计算机台数", "台", 0, 20_000, T.INTEGER, data_class=D.INTERNAL),
            _measure("books", "图书册数", "册", 0, 5_000_000, T.INTEGER, data_class=D.INTERNAL),
            _measure(
                "outbound_bandwidth_mbps", "出口带宽", "Mbps", 0, 100_000, data_class=D.INTERNAL
            ),
            _measure("wireless_coverage", "无线网络覆盖率", "ratio", 0, 1, data_class=D.INTERNAL),
            Field("ipv6_enabled", "是否支持IPv6", T.BOOLEAN, False),
            _measure(
                "new_type_spaces", "新型教学空间数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL
            ),
            _measure("labs", "实验室数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL),
            _measure(
                "recording_classrooms", "录播教室数", "间", 0, 500, T.INTEGER, data_class=D.INTERNAL
            ),
        ),
    ),
    Entity(
        "exam",
        "考试",
        "An exam sitting (统考, 月考, 期中, 期末) for one subject and grade.",
        ("exam_id",),
        (
            Field("exam_id", "考试编号", T.STRING, True),
            Field("name", "考试名称", T.STRING, True),
            _school_year(),
            Field("term", "学期", T.CODE, True, code_table="term"),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            _grade(),
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
        ),
    ),
    Entity(
        "item_score",
        "小题得分",
        "A student's score on one exam item.",
        ("exam_id", "student_number", "item_no"),
        (
            Field("exam_id", "考试编号", T.STRING, True),
            _student_number(),
            Field("item_no", "题号", T.INTEGER, True, minimum=1, maximum=200),
            Field("score", "得分", T.DECIMAL, True, D.SENSITIVE, minimum=0, maximum=200),
        ),
    ),
    Entity(
        "homework_assignment",
        "作业布置",
        "A homework task set to a class.",
        ("assignment_id",),
        (
            Field("assignment_id", "作业编号", T.STRING, True),
            _school_code(),
            _school_year(),
            _grade(),
            _class_no(),
            Field("subject", "学科", T.CODE, True, code_table="subject"),
            Field("assigned_date", "布置日期", T.DATE, True),
            Field("due_date", "截止日期", T.DATE, False),
            Field("is_written", "是否书面作业", T.BOOLEAN, True),
            _measure("expected_minutes", "预计用时", "min", 0, 300, data_class=D.INTERNAL),
        ),
    ),
    Entity(
        "homework_submission",
        "作业提交",
        "A student's submission of a homework task.",
        ("assignment_id", "student_number"),
        (
            Field("assignment_id", "作业编号", T.STRING, True),
            _student_number(),
            Field("submitted_at", "提交时间", T.DATETIME, False),
            _measure("minutes_spent", "用时", "min", 0, 600, required=True, data_class=D.SENSITIVE),
            _measure("score", "得分率", "ratio", 0, 1),
        ),
    ),
    Entity(
        "fitness_test",
        "体质健康测试",
        "Raw results of the 国家学生体质健康标准 test, one row per student per school year.",
        ("student_number", "school_year"),
        (
            _student_number(),
            _school_year(),
            _grade(),
            _sex(),
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
            _measure("height_cm", "身高", "cm", 80, 230),
            _measure("weight_kg", "体重", "kg", 10, 200),
            _measure("vital_capacity", "肺活量", "ml", 300, 9000, T.INTEGER),
            _measure("run_50m", "50米跑", "s", 5, 25),
            _measure("sit_and_reach", "坐位体前屈", "cm", -40, 45),
            _measure("rope_skip_1min", "1分钟跳绳", "次", 0, 300, T.INTEGER),
            _measure("sit_up_1min", "1分钟仰卧起坐", "次", 0, 100, T.INTEGER),
            _measure("shuttle_run_50x8", "50米×8往返跑", "s", 60, 300),
            _measure("standing_long_jump", "立定跳远", "cm", 50, 350, T.INTEGER),
            _measure("pull_up", "引体向上", "次", 0, 60, T.INTEGER),
            _measure("run_1000m", "1000米跑", "s", 150, 720),
            _measure("run_800m", "800米跑", "s", 150, 720),
        ),
    ),
    Entity(
        "health_check",
        "健康体检",
        "A health examination: growth and uncorrected vision.",
        ("student_number", "check_date"),
        (
            _student_number(),
            Field(
                "student_name",
                "姓名(体检系统)",
                T.STRING,
                False,
                D.SENSITIVE,
                description="The name as the health-check system holds it; for record linkage.",
            ),
            _sex(required=False),
            Field("check_date", "体检日期", T.DATE, True),
            _measure("height_cm", "身高", "cm", 80, 230, required=True),
            _measure("weight_kg", "体重", "kg", 10, 200, required=True),
            _measure("vision_left", "左眼裸眼视力", "5分记录", 3.0, 5.3),
            _measure("vision_right", "右眼裸眼视力", "5分记录", 3.0, 5.3),
            _measure("se_left", "左眼等效球镜", "D", -20, 10),
            _measure("se_right", "右眼等效球镜", "D", -20, 10),
        ),
    ),
    Entity(
        "attendance",
        "考勤",
        "An attendance exception (absence, leave, lateness) on a school day.",
        ("student_number", "date"),
        (
            _student_number(),
            Field("date", "日期", T.DATE, True),
            Field("status", "考勤状态", T.CODE, True, code_table="attendance_status"),
            Field("reason", "原因", T.STRING, False, D.SENSITIVE),
        ),
    ),
)

_BY_NAME = {e.name: e for e in ENTITIES}


def entity(name: str) -> Entity:
    """The entity called `name`, or an error listing the ones that exist."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(_BY_NAME)
        raise UnknownEntityError(f"unknown entity {name!r}; the standard has: {known}") from None
