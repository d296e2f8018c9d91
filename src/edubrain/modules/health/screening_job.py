"""健康筛查 on the warehouse: each `health_check` row classified (`screening`) into `health_status`.

One row per check: the pupil's school year (from the check date: a school year starts on 1
September) and school that year (from the 学籍 and its history), age in months from the 学籍's
birth date (and its sex where the check has none), BMI, weight status by WS/T 586 / WS/T 456,
生长迟缓, vision status, and the mark of an unconfirmed table edge. Checks of pupils without a
birth date in the 学籍 are kept with an empty weight status (vision is classified all the same).
Nothing here writes: the use case (`usecases.health_screening`) stores the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from edubrain.modules.health.screening import screen
from edubrain.modules.roster.registry import registry_rows
from edubrain.warehouse.api import OptionalTables

HEALTH_STATUS_TABLE = "health_status"
SOURCE_TABLE = "health_check"
_MEASURES = ("height_cm", "weight_kg", "vision_left", "vision_right", "se_left", "se_right")

HEALTH_STATUS_SCHEMA = pa.schema(
    [
        pa.field("student_number", pa.string()),
        pa.field("check_date", pa.date32()),
        pa.field("school_year", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("grade_code", pa.string()),
        pa.field("sex", pa.string()),
        pa.field("age_months", pa.int64()),
        pa.field("bmi", pa.float64()),
        pa.field("weight_status", pa.string()),
        pa.field("stunted", pa.bool_()),
        pa.field("malnutrition_classified", pa.bool_()),
        pa.field("vision_status", pa.string()),
        pa.field("uncertain", pa.string()),
        pa.field("screened_at", pa.timestamp("us")),
    ]
)


@dataclass
class Outcome:
    table: pa.Table = field(default_factory=lambda: HEALTH_STATUS_SCHEMA.empty_table())
    notes: list[str] = field(default_factory=list)


def school_year_of(day: date | None) -> str | None:
    """The school year a date falls in (from 1 September)."""
    if day is None:
        return None
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


@dataclass
class _Registry:
    """What the 学籍 says of each pupil (current rows win over their history)."""

    births: dict[str, Any] = field(default_factory=dict)
    sexes: dict[str, str] = field(default_factory=dict)
    places: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    """(学籍号, school year) → (school, grade)."""


def _registry(tables: OptionalTables) -> _Registry:
    found = _Registry()
    columns = ("student_number", "school_year", "school_code", "grade_code", "birth_date", "sex")
    for r in registry_rows(tables, columns):
        number = str(r["student_number"])
        found.births.setdefault(number, r["birth_date"])
        if r["sex"]:
            found.sexes.setdefault(number, str(r["sex"]))
        key = (number, str(r["school_year"]))
        if key not in found.places and r["school_code"] is not None:
            found.places[key] = (str(r["school_code"]), str(r["grade_code"] or ""))
    return found


def screen_health(
    tables: OptionalTables, *, screened_at: datetime, note: Callable[[str], None] | None = None
) -> Outcome:
    """Classify every health check of the warehouse."""
    say = note or (lambda _line: None)
    outcome = Outcome()
    if not tables.has_table(SOURCE_TABLE):
        outcome.notes.append("数据仓中没有体检记录（health_check），未筛查")
        say(outcome.notes[-1])
        return outcome
    raw = (
        tables.table(SOURCE_TABLE)
        .select("student_number", "sex", "check_date", *_MEASURES)
        .to_pyarrow()
    )
    n = raw.num_rows
    say(f"健康筛查：{n}条体检记录")
    registry = _registry(tables)
    numbers = [str(x) for x in raw.column("student_number").to_pylist()]
    checked = raw.column("check_date").to_pylist()
    years = [school_year_of(d) for d in checked]
    place = [registry.places.get((s, y or "")) for s, y in zip(numbers, years, strict=True)]
    # The check's own sex; the 学籍's where the 体检 export leaves it empty (it is optional there).
    sexes = [
        str(x) if x else registry.sexes.get(s, "")
        for x, s in zip(raw.column("sex").to_pylist(), numbers, strict=True)
    ]
    found = screen(
        sexes,
        np.array([registry.births.get(s) for s in numbers], dtype="datetime64[D]"),
        np.array(checked, dtype="datetime64[D]"),
        {m: raw.column(m).cast(pa.float64()).to_numpy(zero_copy_only=False) for m in _MEASURES},
    )

    def text(values: np.ndarray) -> list[str | None]:
        return [str(v) or None for v in values]

    outcome.table = pa.table(
        {
            "student_number": pa.array(numbers, pa.string()),
            "check_date": raw.column("check_date").cast(pa.date32()),
            "school_year": pa.array(years, pa.string()),
            "school_code": pa.array([p[0] if p else None for p in place], pa.string()),
            "grade_code": pa.array([p[1] or None if p else None for p in place], pa.string()),
            "sex": pa.array([x or None for x in sexes], pa.string()),
            "age_months": pa.array(
                [None if m < 0 else int(m) for m in found.age_months], pa.int64()
            ),
            "bmi": pa.array([None if np.isnan(b) else float(b) for b in found.bmi], pa.float64()),
            "weight_status": pa.array(text(found.weight_status), pa.string()),
            "stunted": pa.array(found.stunted, pa.bool_()),
            "malnutrition_classified": pa.array(found.malnutrition_classified, pa.bool_()),
            "vision_status": pa.array(text(found.vision_status), pa.string()),
            "uncertain": pa.array(text(found.uncertain), pa.string()),
            "screened_at": pa.array([screened_at] * n, pa.timestamp("us")),
        },
        schema=HEALTH_STATUS_SCHEMA,
    )
    unborn = sum(registry.births.get(s) is None for s in numbers)
    unplaced = sum(p is None for p in place)
    outcome.notes.append(
        f"已筛查{n}条：{int(np.sum(found.weight_status != ''))}条按年龄与性别判定体重状况，"
        f"{int(np.sum(found.vision_status != ''))}条判定视力"
    )
    if unborn:
        outcome.notes.append(f"{unborn}条在学籍中找不到出生日期，不判定体重状况")
    if unplaced:
        outcome.notes.append(f"{unplaced}条在学籍中找不到该学年所在学校，不计入学校指标")
    for line in outcome.notes:
        say(line)
    return outcome
