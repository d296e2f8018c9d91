"""The attendance part of the synthetic region: exceptions over the homework fortnight."""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Table
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import HOMEWORK_DAYS

ATTENDANCE_REASONS = {
    "sick_leave": ("感冒发烧", "肠胃不适", "咳嗽", "就医复查"),
    "personal_leave": ("家中有事", "外出探亲", "参加比赛"),
    "late": ("", "交通拥堵"),
    "absent": ("",),
}


def attendance(students: Table, rng: np.random.Generator) -> Table:
    """Attendance exceptions over the homework fortnight for ~4% of pupils."""
    enrolled = np.flatnonzero(students["status"] == "enrolled")
    who = enrolled[rng.random(enrolled.size) < 0.04]
    k = rng.integers(1, 4, who.size)
    pick = np.argsort(rng.random((who.size, HOMEWORK_DAYS.size)), axis=1)
    first_k = np.arange(HOMEWORK_DAYS.size)[None, :] < k[:, None]
    rows, cols = np.nonzero(first_k)
    stu = who[rows]
    days = HOMEWORK_DAYS[pick[rows, cols]]
    statuses = np.array(list(ATTENDANCE_REASONS), dtype=STR)
    status = statuses[rng.choice(4, size=stu.size, p=[0.45, 0.25, 0.25, 0.05])]
    reason = np.full(stu.size, "", dtype=STR)
    for st, reasons in ATTENDANCE_REASONS.items():
        mask = status == st
        reason[mask] = np.array(reasons, dtype=STR)[rng.integers(0, len(reasons), int(mask.sum()))]
    order = np.lexsort((days, stu))
    return {
        "student_number": students["student_number"][stu][order],
        "date": days[order],
        "status": status[order],
        "reason": reason[order],
    }


def county(draw: CountyDraw) -> None:
    draw.truth["attendance"] = attendance(draw.shared["world"].students, draw.stream(8))


# No source system exports attendance: its truth is also its standard-format file.
PART = GeneratorPart(county, streams=(8,), standard=("attendance",))
