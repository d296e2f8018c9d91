"""Field shapes the standard reuses across domains: 学校标识码, 学年, 学籍号, ID number.

Each is a function so every entity gets its own copy (and its own label where needed). The
entities themselves are declared by the domain modules (`edubrain.modules.<name>.entities`).
"""

from __future__ import annotations

from edubrain.standard.entities import Check, DataClass, Field, FieldType

T, D = FieldType, DataClass

# Reused field shapes. Each is a function so every entity gets its own label text where needed.
SCHOOL_CODE = r"\d{10}"


def school_code_field(required: bool = True) -> Field:
    return Field(
        "school_code",
        "学校标识码",
        T.STRING,
        required,
        D.PUBLIC,
        pattern=SCHOOL_CODE,
        description="10-digit 学校标识码 issued by the 教育部 school registry.",
    )


def school_year_field(required: bool = True) -> Field:
    return Field(
        "school_year",
        "学年",
        T.STRING,
        required,
        pattern=r"20\d{2}-20\d{2}",
        description="e.g. 2025-2026; starts on 1 September of the first year.",
    )


def student_number_field(required: bool = True) -> Field:
    return Field(
        "student_number",
        "学籍号",
        T.STRING,
        required,
        D.INTERNAL,
        check=Check.STUDENT_NUMBER,
        description="全国中小学生学籍号, 19 characters.",
    )


def grade_field(required: bool = True) -> Field:
    return Field("grade_code", "年级编号", T.CODE, required, code_table="grade")


def class_no_field(required: bool = True) -> Field:
    return Field("class_no", "班号", T.INTEGER, required, minimum=1, maximum=40)


def id_number_field(label: str = "身份证件号", required: bool = False) -> Field:
    return Field(
        "id_number",
        label,
        T.STRING,
        required,
        D.CORE,
        check=Check.ID_NUMBER,
        description="居民身份证号码 (GB 11643), 18 characters, check digit verified.",
    )


def sex_field(required: bool = True) -> Field:
    return Field("sex", "性别", T.CODE, required, D.INTERNAL, code_table="sex")


def measure_field(
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
