"""体测评分 on the warehouse: every `fitness_test` row scored by the 2014 standard (`scoring`).

One `fitness_score` row per test row: the pupil's school that school year (from the 学籍 and its
history, as the value-added job places pupils), BMI and its band, every item's score, 附加分,
标准分, 学年总分, 等级, the status (完整 / 缺项 with the missing items named / 免予执行 /
暂缓执行), whether the row is a 补测, the 毕业成绩 at a 学段's last grade, and the reliability
marks of the table columns used. Rows whose grade has no table are kept with an empty status, so
nothing is silently dropped. Nothing here writes: the use case (`usecases.fitness_scores`)
stores the table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from edubrain.modules.fitness.scoring import (
    EXEMPTIONS,
    ITEMS,
    MISSING,
    graduation_score,
    load_standard,
    score_tests,
)
from edubrain.modules.roster.registry import school_by_pupil_year
from edubrain.warehouse.api import OptionalTables

FITNESS_SCORE_TABLE = "fitness_score"
SOURCE_TABLE = "fitness_test"
_MEASURES = ("height_cm", "weight_kg", *ITEMS)

FITNESS_SCORE_SCHEMA = pa.schema(
    [
        pa.field("student_number", pa.string()),
        pa.field("school_year", pa.string()),
        pa.field("grade_code", pa.string()),
        pa.field("sex", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("test_date", pa.date32()),
        pa.field("bmi", pa.float64()),
        pa.field("bmi_category", pa.string()),
        *(pa.field(f"score_{name}", pa.float64()) for name in ("bmi", *ITEMS)),
        pa.field("standard_score", pa.float64()),
        pa.field("bonus", pa.float64()),
        pa.field("total", pa.float64()),
        pa.field("level", pa.string()),
        pa.field("graduation_score", pa.float64()),
        pa.field("status", pa.string()),
        pa.field("retest", pa.bool_()),
        pa.field("missing_items", pa.string()),
        pa.field("uncertain", pa.string()),
        pa.field("scored_at", pa.timestamp("us")),
    ]
)


@dataclass
class Outcome:
    """What one run scored."""

    table: pa.Table = field(default_factory=lambda: FITNESS_SCORE_SCHEMA.empty_table())
    notes: list[str] = field(default_factory=list)


def graduation_scores(
    numbers: Sequence[object],
    years: Sequence[object],
    grade: npt.NDArray[np.str_],
    total: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """毕业成绩 of each row at its 学段's last grade in the standard (六年级, 初三, 高三): the
    graduating year's total and the pupil's totals of the *other* school years of the same
    学段 on record (`graduation_score`); NaN for other grades and rows without a total."""
    last: dict[str, str] = {}
    for g in load_standard().grades:
        last[g[:1]] = max(last.get(g[:1], g), g)
    totals: dict[tuple[str, str], list[tuple[str, float]]] = defaultdict(list)
    for number, year, g, value in zip(numbers, years, grade, total, strict=True):
        if not np.isnan(value):
            totals[(str(number), str(g)[:1])].append((str(year), float(value)))
    out = np.full(len(numbers), np.nan)
    for i, (number, year, g, value) in enumerate(zip(numbers, years, grade, total, strict=True)):
        if np.isnan(value) or last.get(str(g)[:1]) != str(g):
            continue
        others = [v for y, v in totals[(str(number), str(g)[:1])] if y != str(year)]
        out[i] = graduation_score(float(value), others)
    return out


def _nullable(values: np.ndarray) -> pa.Array:
    """A column with nulls where the array holds NaN (numbers) or "" (text)."""
    if values.dtype.kind == "f":
        return pa.array(values, pa.float64(), mask=np.isnan(values))
    text = values.astype(str)
    return pa.array(text, pa.string(), mask=text == "")


def score_fitness(
    tables: OptionalTables,
    *,
    scored_at: datetime,
    note: Callable[[str], None] | None = None,
) -> Outcome:
    """Score every fitness test of the warehouse."""
    say = note or (lambda _line: None)
    outcome = Outcome()
    if not tables.has_table(SOURCE_TABLE):
        outcome.notes.append("数据仓中没有体测成绩（fitness_test），未评分")
        say(outcome.notes[-1])
        return outcome
    t = tables.table(SOURCE_TABLE)
    columns = (
        "student_number", "school_year", "grade_code", "sex", "test_date", "exemption", "retest",
        *_MEASURES,
    )  # fmt: skip
    raw = t.select(*columns).to_pyarrow()
    n = raw.num_rows
    say(f"体测评分：{n}条测试记录")
    grade = np.asarray(raw.column("grade_code").to_pylist(), dtype=object).astype(str)
    sex = np.asarray(raw.column("sex").to_pylist(), dtype=object).astype(str)
    measures = {
        name: raw.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        for name in _MEASURES
    }
    scored = score_tests(
        grade.tolist(), sex.tolist(), measures, exemption=raw.column("exemption").to_pylist()
    )
    places = school_by_pupil_year(tables)
    numbers = raw.column("student_number").to_pylist()
    years = raw.column("school_year").to_pylist()
    graduation = graduation_scores(numbers, years, grade, scored.total)
    school = [places.get((str(s), str(y))) for s, y in zip(numbers, years, strict=True)]
    data: dict[str, Any] = {
        "student_number": numbers,
        "school_year": years,
        "grade_code": raw.column("grade_code"),
        "sex": raw.column("sex"),
        "school_code": school,
        "test_date": raw.column("test_date"),
        "bmi": _nullable(scored.bmi),
        "bmi_category": _nullable(scored.bmi_category),
        **{f"score_{k}": _nullable(v) for k, v in scored.item_scores.items()},
        "standard_score": _nullable(scored.standard_score),
        "bonus": _nullable(np.where(scored.scored, scored.bonus, np.nan)),
        "total": _nullable(scored.total),
        "level": _nullable(scored.level),
        "graduation_score": _nullable(graduation),
        "status": _nullable(scored.status),
        "retest": raw.column("retest"),
        "missing_items": _nullable(scored.missing),
        "uncertain": _nullable(scored.uncertain),
        "scored_at": [scored_at] * n,
    }
    outcome.table = pa.table(
        {
            f.name: data[f.name].cast(f.type)
            if isinstance(data[f.name], (pa.Array, pa.ChunkedArray))
            else pa.array(data[f.name], f.type)
            for f in FITNESS_SCORE_SCHEMA
        },
        schema=FITNESS_SCORE_SCHEMA,
    )
    unscored = int(np.sum(~scored.scored))
    missing = int(np.sum(scored.status == MISSING))
    unplaced = sum(s is None for s in school)
    outcome.notes.append(f"已评分{n - unscored}条，其中{missing}条缺项（不计总分与等级）")
    for status in EXEMPTIONS.values():
        if count := int(np.sum(scored.status == status)):
            outcome.notes.append(f"{count}条{status}，不评分、不计入比率")
    if retests := sum(1 for r in raw.column("retest").to_pylist() if r):
        outcome.notes.append(f"{retests}条为补测成绩（补测即该学年成绩，首次测试留在历史中）")
    if graduating := int(np.sum(~np.isnan(graduation))):
        outcome.notes.append(f"{graduating}条毕业年级成绩算出毕业成绩")
    if unscored:
        outcome.notes.append(f"{unscored}条的年级或性别没有评分标准，未评分（保留原始记录）")
    if unplaced:
        outcome.notes.append(f"{unplaced}条在学籍中找不到该学年所在学校，不计入学校指标")
    for line in outcome.notes:
        say(line)
    return outcome
