"""心理筛查 on the warehouse: every sitting of `psych_response` scored by its scale.

One `psych_result` row per pupil × scale × date: the pupil's school in the 学籍 that school year,
the scale's name, the subscale scores with their levels, the total, its level and whether it
raises a warning, the status (完整 / 部分缺答 / 缺答过多 / 无量表) and how many answers were blank
or invalid. A sitting of a scale no file defines is kept with the status 无量表 and no score, so
nothing is silently dropped. Nothing here writes: the use case (`usecases.psych_screening`)
stores the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from edubrain.modules.psych.scale import Scale
from edubrain.modules.psych.scoring import score_responses
from edubrain.modules.roster.registry import school_by_pupil_year
from edubrain.warehouse.api import OptionalTables

PSYCH_RESULT_TABLE = "psych_result"
SOURCE_TABLE = "psych_response"
NO_SCALE = "无量表"

PSYCH_RESULT_SCHEMA = pa.schema(
    [
        pa.field("student_number", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("school_year", pa.string()),
        pa.field("scale_id", pa.string()),
        pa.field("scale_name", pa.string()),
        pa.field("test_date", pa.date32()),
        pa.field("subscales", pa.string()),
        pa.field("total", pa.float64()),
        pa.field("level", pa.string()),
        pa.field("warning", pa.bool_()),
        pa.field("status", pa.string()),
        pa.field("unanswered", pa.int64()),
        pa.field("invalid", pa.int64()),
        pa.field("scored_at", pa.timestamp("us")),
    ]
)


@dataclass
class Outcome:
    """What one run scored."""

    table: pa.Table = field(default_factory=lambda: PSYCH_RESULT_SCHEMA.empty_table())
    notes: list[str] = field(default_factory=list)


def school_year_of(day: date) -> str:
    """The school year a date falls in (September to August)."""
    start = day.year if day.month >= 9 else day.year - 1
    return f"{start}-{start + 1}"


def _subscale_text(
    scale: Scale, scores: dict[str, np.ndarray], levels: dict[str, Any]
) -> list[str | None]:
    out: list[str | None] = []
    n = len(next(iter(scores.values()))) if scores else 0
    for i in range(n):
        parts = []
        for sub in scale.subscales:
            value = float(scores[sub.id][i])
            if np.isnan(value):
                parts.append(f"{sub.name} 缺答过多")
            else:
                level = str(levels[sub.id][i])
                parts.append(f"{sub.name} {value:.2f}" + (f"（{level}）" if level else ""))
        out.append("；".join(parts))
    return out


def score_psych(
    tables: OptionalTables,
    scales: dict[str, Scale],
    *,
    scored_at: datetime,
    note: Callable[[str], None] | None = None,
) -> Outcome:
    """Score every sitting in the warehouse by the scale its 量表编号 names."""
    say = note or (lambda _line: None)
    outcome = Outcome()
    if not tables.has_table(SOURCE_TABLE):
        outcome.notes.append("数据仓中没有心理测评作答（psych_response），未评分")
        say(outcome.notes[-1])
        return outcome
    t = tables.table(SOURCE_TABLE)
    raw = t.select("student_number", "scale_id", "test_date", "item_no", "response").to_pyarrow()
    numbers = np.asarray(raw.column("student_number").to_pylist(), dtype=object).astype(str)
    scale_ids = np.asarray(raw.column("scale_id").to_pylist(), dtype=object).astype(str)
    dates = np.asarray(raw.column("test_date").to_pylist(), dtype=object)
    items = raw.column("item_no").to_numpy(zero_copy_only=False).astype(np.int64)
    answers = raw.column("response").cast(pa.float64()).to_numpy(zero_copy_only=False)
    keys = np.char.add(np.char.add(numbers, "|"), np.char.add(scale_ids, "|"))
    keys = np.char.add(keys, np.asarray([str(d) for d in dates]))
    sittings, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    say(f"心理测评评分：{len(sittings)}人次，{raw.num_rows}条作答")
    places = school_by_pupil_year(tables)
    parts: list[pa.Table] = []
    for scale_id in sorted(set(scale_ids[first].tolist())):
        rows = np.flatnonzero(scale_ids[first] == scale_id)  # sittings of this scale
        scale = scales.get(scale_id)
        at = first[rows]
        years = [school_year_of(d) for d in dates[at]]
        base: dict[str, Any] = {
            "student_number": numbers[at].tolist(),
            "school_code": [
                places.get((n, y)) for n, y in zip(numbers[at].tolist(), years, strict=True)
            ],
            "school_year": years,
            "scale_id": [scale_id] * rows.size,
            "test_date": list(dates[at]),
            "scored_at": [scored_at] * rows.size,
        }
        if scale is None:
            outcome.notes.append(
                f"量表编号「{scale_id}」没有量表文件：{rows.size}人次未评分（状态：{NO_SCALE}）"
            )
            parts.append(
                pa.table(
                    {
                        **base,
                        "scale_name": [None] * rows.size,
                        "subscales": [None] * rows.size,
                        "total": pa.nulls(rows.size, pa.float64()),
                        "level": [None] * rows.size,
                        "warning": [False] * rows.size,
                        "status": [NO_SCALE] * rows.size,
                        "unanswered": pa.nulls(rows.size, pa.int64()),
                        "invalid": pa.nulls(rows.size, pa.int64()),
                    }
                ).select(PSYCH_RESULT_SCHEMA.names)
            )
            continue
        position = {item.no: j for j, item in enumerate(scale.items)}
        matrix = np.full((rows.size, len(scale.items)), np.nan)
        row_of = np.full(len(sittings), -1, dtype=np.int64)
        row_of[rows] = np.arange(rows.size)
        mine = np.flatnonzero(row_of[inverse] >= 0)
        column = np.array([position.get(int(i), -1) for i in items[mine]], dtype=np.int64)
        unknown = int(np.sum(column < 0))
        if unknown:
            outcome.notes.append(f"量表「{scale.name}」没有的题号：{unknown}条作答未计入")
        keep = column >= 0
        matrix[row_of[inverse[mine[keep]]], column[keep]] = answers[mine[keep]]
        scored = score_responses(scale, matrix)
        parts.append(
            pa.table(
                {
                    **base,
                    "scale_name": [scale.name] * rows.size,
                    "subscales": _subscale_text(
                        scale, scored.subscale_scores, scored.subscale_levels
                    ),
                    "total": pa.array(scored.total, mask=np.isnan(scored.total)),
                    "level": [v or None for v in scored.level.tolist()],
                    "warning": scored.warning.tolist(),
                    "status": scored.status.tolist(),
                    "unanswered": scored.unanswered.tolist(),
                    "invalid": scored.invalid.tolist(),
                }
            ).select(PSYCH_RESULT_SCHEMA.names)
        )
        counts = {level.name: int(np.sum(scored.level == level.name)) for level in scale.levels}
        outcome.notes.append(
            f"量表「{scale.name}」：{rows.size}人次，"
            + "，".join(f"{name}{count}" for name, count in counts.items())
            + f"，缺答过多{int(np.sum(np.isnan(scored.total)))}"
        )
    if parts:
        outcome.table = pa.concat_tables(
            [p.cast(PSYCH_RESULT_SCHEMA) for p in parts]
        ).combine_chunks()
    unplaced = sum(1 for s in outcome.table.column("school_code").to_pylist() if s is None)
    if unplaced:
        outcome.notes.append(f"{unplaced}人次在学籍中找不到该学年所在学校，只有全区汇总计入")
    for line in outcome.notes:
        say(line)
    return outcome
