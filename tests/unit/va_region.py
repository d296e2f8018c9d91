"""A hand-made warehouse for value-added: the county of `indicator_region` and two years of
三年级/二年级 mathematics exams.

The 345 三年级 pupils of P1 (one class of 45), P2, P3 and P4 (two classes of 50 each) sat
this year's 期中 (QZ) and 期末 (QM) of grade 13 and, last year in grade 12, a 期中 and a 期末:
value-added takes this year's QM with last year's QM as the prior. Five pupils of P4 class 2
missed last year's QM and do not count. Even-numbered pupils are girls.

Totals (one item of 100 points per paper): prior = 60 + 15·z rounded and kept in 5..100; this
year's QM = 15 + 0.8·prior + school effect (P1 0, P2 +6, P3 −6, P4 0) + class effect (class 2
of P2 +3) + noise of sd 8, rounded and kept in 0..100. The QZ and last year's QZ are noise.

Math teachers: P1 class 1 one (T0001, as in indicator_region), P2 class 1 one (T0201), P2 class
2 two (T0202, T0203), P3 none, P4 class 1 one (T0401).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
from indicator_region import CLASSES, P1, P2, P3, P4, YEAR, load, tables

from edubrain.settings import Settings

LAST = "2024-2025"
SCHOOLS = (P1, P2, P3, P4)
SCHOOL_EFFECT = {P1: 0.0, P2: 6.0, P3: -6.0, P4: 0.0}
CURRENT, PRIOR = "C-2025-1-13-SX-QM", "C-2024-2-12-SX-QM"
MISSED_PRIOR = 5


def pupils() -> list[tuple[str, str, int, str]]:
    """(学籍号, school, class_no, sex) of the 三年级 pupils, in the fixture's order."""
    out = []
    for school in SCHOOLS:
        for grade, class_no, size in CLASSES[school]:
            if grade != "13":
                continue
            for k in range(size):
                number = f"S{school[-2:]}{grade}{class_no:02d}{k:03d}"
                out.append((number, school, class_no, "2" if k % 2 == 0 else "1"))
    return out


def totals() -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, float]]:
    """The four exams' totals by 学籍号: this year's QM and QZ, last year's QM and QZ."""
    rng = np.random.default_rng(16)
    kids = pupils()
    z = rng.standard_normal(len(kids))
    prior = np.clip(np.round(60 + 15 * z), 5, 100)
    school = np.array([SCHOOL_EFFECT[s] for _, s, _, _ in kids])
    cls = np.array([3.0 if (s == P2 and c == 2) else 0.0 for _, s, c, _ in kids])
    now = np.clip(np.round(15 + 0.8 * prior + school + cls + rng.normal(0, 8, len(kids))), 0, 100)
    numbers = [k[0] for k in kids]
    missed = {n for n in numbers if n.startswith("S04" + "1302")}
    missed = set(sorted(missed)[:MISSED_PRIOR])
    qz = np.clip(np.round(rng.normal(60, 15, len(kids))), 0, 100)
    qz_before = np.clip(np.round(rng.normal(60, 15, len(kids))), 0, 100)
    return (
        dict(zip(numbers, now.tolist(), strict=True)),
        dict(zip(numbers, qz.tolist(), strict=True)),
        {n: p for n, p in zip(numbers, prior.tolist(), strict=True) if n not in missed},
        dict(zip(numbers, qz_before.tolist(), strict=True)),
    )


def _exam(exam_id: str, year: str, term: str, grade: str, day: date) -> dict[str, Any]:
    return {
        "exam_id": exam_id, "name": f"数学{exam_id}", "school_year": year, "term": term,
        "subject": "math", "grade_code": grade, "exam_date": day, "max_score": 100.0,
    }  # fmt: skip


def exam_tables() -> dict[str, list[dict[str, Any]]]:
    now, qz, prior, qz_before = totals()
    exams = [
        (CURRENT, YEAR, "1", "13", date(2026, 1, 20), now),
        ("C-2025-1-13-SX-QZ", YEAR, "1", "13", date(2025, 11, 12), qz),
        (PRIOR, LAST, "2", "12", date(2025, 6, 25), prior),
        ("C-2024-2-12-SX-QZ", LAST, "2", "12", date(2025, 4, 20), qz_before),
    ]
    return {
        "exam": [_exam(e, y, t, g, d) for e, y, t, g, d, _ in exams],
        "exam_item": [
            {"exam_id": e, "item_no": 1, "max_score": 100.0, "item_type": "subjective"}
            for e, *_ in exams
        ],
        "item_score": [
            {"exam_id": e, "student_number": n, "item_no": 1, "score": v}
            for e, _, _, _, _, scores in exams
            for n, v in scores.items()
        ],
    }


def teacher_rows() -> list[dict[str, Any]]:
    plan = [(P2, 1, "T0201"), (P2, 2, "T0202"), (P2, 2, "T0203"), (P4, 1, "T0401")]
    return [
        {
            "staff_number": staff,
            "school_code": school,
            "school_year": YEAR,
            "grade_code": "13",
            "class_no": class_no,
            "subject": "math",
            "weekly_periods": 4,
        }
        for school, class_no, staff in plan
    ]


def build(settings: Settings) -> None:
    base = tables()
    sexes = {n: sex for n, _, _, sex in pupils()}
    base["student"] = [
        {**r, "sex": sexes.get(r["student_number"], r["sex"])} for r in base["student"]
    ]
    base["teaching_assignment"] = base["teaching_assignment"] + teacher_rows()
    load(settings, base)
    load(settings, exam_tables(), load_id="VA")
