"""增值评价's reads for the API and the cockpit: the stored `exam_value_added` rows in scope.

The table's scope rule is by school: a principal reads their school's rows (and its classes),
the bureau and 教研员 their region's; a class or self scope reads nothing. Rows are aggregates
of a school's or a class's pupils; the teacher a class's effect is attributed to is a judgement
about a person, shown only to roles cleared for 敏感 data (the others see that it is withheld).
Bands, never ranks: the rows come sorted by effect for the caterpillar chart, but no rank is
given.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir

from edubrain.modules.exams.value_added_job import VALUE_ADDED_TABLE
from edubrain.psychometrics.value_added import BAND_LABELS_ZH, Band
from edubrain.service.policy import Scope, TableScope, by_school, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.standard.codes import code_table
from edubrain.standard.entities import unit_registry
from edubrain.warehouse.api import OptionalTables

Sheet = tuple[str, tuple[str, ...], list[dict[str, Any]]]
NOT_YET = "尚未计算增值评价：请数据管理员运行增值评价任务（需要上一学年的期末考试成绩）。"
NOTHING_IN_SCOPE = "您权限范围内没有增值评价结果。"
WITHHELD = "仅对可查看敏感信息的角色显示"


def _by_school(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    found = by_school(scope, t, tables)
    return ibis.literal(False) if found is None else found


SCOPE = TableScope(VALUE_ADDED_TABLE, _by_school)


def band_label(band: str) -> str:
    try:
        return BAND_LABELS_ZH[Band(band)]
    except ValueError:
        return band


def _school_names(reader: WarehouseReader) -> dict[str, str]:
    name = unit_registry().school_entity
    if not reader.has_table(name):
        return {}
    with reader.lock:
        expr = reader.table(name).select("school_code", "name")
    return {str(r["school_code"]): str(r["name"]) for r in reader.rows(expr)}


def _exam_names(reader: WarehouseReader, ids: list[str]) -> dict[str, str]:
    if not reader.has_table("exam") or not ids:
        return {}
    with reader.lock:
        e = reader.table("exam")
        expr = e.filter(e.exam_id.isin(ids)).select("exam_id", "name")
    return {str(r["exam_id"]): str(r["name"]) for r in reader.rows(expr)}


def _choice_label(choice: Mapping[str, Any]) -> str:
    grade = code_table("grade").codes.get(str(choice["grade_code"]), str(choice["grade_code"]))
    subject = code_table("subject").codes.get(str(choice["subject"]), str(choice["subject"]))
    return f"{choice['school_year']}学年 {grade} {subject}"


def value_added(
    reader: WarehouseReader,
    scope: Scope,
    *,
    school_year: str | None = None,
    subject: str | None = None,
    grade_code: str | None = None,
    teachers_in_clear: bool = False,
) -> dict[str, Any]:
    """The value-added of one school year × subject × grade in scope (the latest year's first
    when not chosen): the choices, the schools sorted by effect, their classes, notices."""
    empty: dict[str, Any] = {
        "choices": [],
        "selection": None,
        "exam": None,
        "schools": [],
        "classes": [],
        "notices": [],
    }
    if not reader.has_table(VALUE_ADDED_TABLE):
        return empty | {"notices": [NOT_YET]}
    with reader.lock:
        t = reader.table(VALUE_ADDED_TABLE)
        t = t.filter(scope_predicate(scope, VALUE_ADDED_TABLE, t, reader))
        choices_expr = t.select(
            "school_year", "subject", "grade_code", "exam_id", "prior_exam_id"
        ).distinct()
    choices = sorted(
        reader.rows(choices_expr),
        key=lambda c: (-int(str(c["school_year"])[:4]), str(c["subject"]), str(c["grade_code"])),
    )
    if not choices:
        return empty | {"notices": [NOTHING_IN_SCOPE]}
    for c in choices:
        c["label"] = _choice_label(c)
    wanted = [
        c
        for c in choices
        if (school_year is None or c["school_year"] == school_year)
        and (subject is None or c["subject"] == subject)
        and (grade_code is None or c["grade_code"] == grade_code)
    ]
    if not wanted:
        return empty | {"choices": choices, "notices": [NOTHING_IN_SCOPE]}
    chosen = wanted[0]
    with reader.lock:
        rows_expr = t.filter(t.exam_id == chosen["exam_id"])
    rows = reader.rows(rows_expr)
    names = _school_names(reader)
    exams = _exam_names(reader, [str(chosen["exam_id"]), str(chosen["prior_exam_id"])])
    schools = sorted(
        (_shown(r, names, teachers_in_clear) for r in rows if r["level"] == "school"),
        key=lambda r: (r["effect"], r["school_code"]),
    )
    classes = sorted(
        (_shown(r, names, teachers_in_clear) for r in rows if r["level"] == "class"),
        key=lambda r: (r["school_code"], int(r["class_no"]) if r["class_no"].isdigit() else 0),
    )
    notices = []
    if any(r["small_group"] for r in schools + classes):
        notices.append("标注“小样本”的学校或班级不足10人，其增值估计主要向平均水平收缩，仅供参考。")
    return {
        "choices": choices,
        "selection": chosen,
        "exam": {
            "exam_id": chosen["exam_id"],
            "name": exams.get(str(chosen["exam_id"]), str(chosen["exam_id"])),
            "prior_exam_id": chosen["prior_exam_id"],
            "prior_name": exams.get(str(chosen["prior_exam_id"]), str(chosen["prior_exam_id"])),
            "max_score": rows[0]["max_score"] if rows else None,
            "method": rows[0]["method"] if rows else None,
        },
        "schools": schools,
        "classes": classes,
        "notices": notices,
    }


def _shown(row: Mapping[str, Any], names: Mapping[str, str], clear: bool) -> dict[str, Any]:
    school = str(row["school_code"])
    out = {
        "level": row["level"],
        "school_code": school,
        "school_name": names.get(school, school),
        "class_code": "" if row["class_code"] is None else str(row["class_code"]),
        # class_code is school_code/grade_code/class_no
        "class_no": "" if row["class_code"] is None else str(row["class_code"]).rsplit("/")[-1],
        "pupils": int(row["pupils"]),
        "effect": float(row["effect"]),
        "lower": float(row["lower"]),
        "upper": float(row["upper"]),
        "shrinkage": float(row["shrinkage"]),
        "band": str(row["band"]),
        "band_label": band_label(str(row["band"])),
        "small_group": bool(row["small_group"]),
        "progress_score": float(row["progress_score"]),
    }
    if row["level"] == "class":
        out["teacher"] = row["teacher"] if clear else None
        out["teacher_note"] = row["teacher_note"] if clear else WITHHELD
    return out


_BAND_ORDER = {Band.ABOVE: 0, Band.IN_LINE: 1, Band.BELOW: 2}


def _by_band(row: Mapping[str, Any]) -> tuple[int, str]:
    """Tables list by band, then by school name: bands, not ranks."""
    return _BAND_ORDER.get(Band(row["band"]), 3), str(row["school_name"])


def _num(value: float, digits: int = 2) -> str:
    return f"{value:+.{digits}f}" if value == value else "—"


def sheets(found: Mapping[str, Any]) -> list[Sheet]:
    """The schools' and the classes' tables with Chinese headers (the page and the xlsx)."""
    school_header = (
        "学校",
        "人数",
        "增值（分）",
        "95%区间下限",
        "95%区间上限",
        "增值等级",
        "收缩系数",
        "简易进步分",
        "小样本",
    )
    school_rows = [
        dict(
            zip(
                school_header,
                (
                    r["school_name"],
                    r["pupils"],
                    _num(r["effect"]),
                    _num(r["lower"]),
                    _num(r["upper"]),
                    r["band_label"],
                    f"{r['shrinkage']:.2f}",
                    _num(r["progress_score"]),
                    "是" if r["small_group"] else "否",
                ),
                strict=True,
            )
        )
        for r in sorted(found["schools"], key=_by_band)
    ]
    class_header = (
        "学校",
        "班级",
        "人数",
        "增值（分）",
        "95%区间下限",
        "95%区间上限",
        "增值等级",
        "简易进步分",
        "任课教师",
        "教师增值说明",
    )
    class_rows = [
        dict(
            zip(
                class_header,
                (
                    r["school_name"],
                    f"{r['class_no']}班",
                    r["pupils"],
                    _num(r["effect"]),
                    _num(r["lower"]),
                    _num(r["upper"]),
                    r["band_label"],
                    _num(r["progress_score"]),
                    r["teacher"] or "—",
                    r["teacher_note"] or "—",
                ),
                strict=True,
            )
        )
        for r in found["classes"]
    ]
    return [("学校增值", school_header, school_rows), ("班级增值", class_header, class_rows)]
