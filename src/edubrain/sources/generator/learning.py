"""County exams (papers with knowledge points, item scores) and homework on a vendor platform.

Scores come from a latent ability per student (correlated across subjects and between the
mid-term and the final) plus a school effect, through a 2-parameter logistic item model, so
item difficulty and discrimination vary. Homework time is set per class so that some classes
exceed the 双减 limits (policy_thresholds.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat, zpad
from edubrain.sources.generator.plan import SCHOOL_YEAR, County
from edubrain.sources.generator.region import GRADE_NAME, YEAR_INDEX

_SUBJECT_LABEL = {"chinese": "语文", "math": "数学", "english": "英语", "science": "科学"}
_SUBJECT_ABBR = {"chinese": ("YW", "C"), "math": ("SX", "M"), "english": ("YY", "E")}
_KIND = {"QZ": ("期中", "2025-11-12"), "QM": ("期末", "2026-01-20")}
# (grades, subjects, kinds, full marks) of the county's unified exams this term.
EXAM_PLAN: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int], ...] = (
    (("21", "22", "23"), ("chinese", "math", "english"), ("QZ", "QM"), 120),
    (("16",), ("chinese", "math"), ("QM",), 100),
    (("31", "32", "33"), ("chinese", "math", "english"), ("QZ",), 150),
)


@dataclass
class ExamSheet:
    """One exam's wide score sheet: a row per student, a column per item."""

    exam_id: str
    rows: Table  # exam_id, student_number + hidden extras (_name, _class_name, _school_name)
    item_nos: list[int]
    scores: Array  # float64 [students × items]


@dataclass
class Exams:
    exams: Table
    items: Table
    sheets: list[ExamSheet]


def exams(county: County, students: Table, school_names: Array, rng: np.random.Generator) -> Exams:
    n = len(students["sex"])
    n_schools = int(students["_school"].max()) + 1 if n else 1
    school_effect = rng.normal(0, 0.4, n_schools)[students["_school"]]
    general = rng.standard_normal(n)
    enrolled = students["status"] == "enrolled"
    ex_rows: list[dict[str, object]] = []
    item_tables: list[Table] = []
    sheets: list[ExamSheet] = []
    for grades, subjects, kinds, full in EXAM_PLAN:
        for g in grades:
            in_grade = np.flatnonzero((students["grade_code"] == g) & enrolled)
            for subject in subjects:
                theta = (0.7 * general + 0.55 * rng.standard_normal(n) + school_effect)[in_grade]
                for kind in kinds:
                    abbr, kp = _SUBJECT_ABBR[subject]
                    exam_id = f"{county.code}-2025-1-{g}-{abbr}-{kind}"
                    label, day = _KIND[kind]
                    title = f"{GRADE_NAME[g]}{_SUBJECT_LABEL[subject]}{label}统考"
                    ex_rows.append(
                        {
                            "exam_id": exam_id,
                            "name": f"2025学年第一学期{title}",
                            "school_year": SCHOOL_YEAR,
                            "term": "1",
                            "subject": subject,
                            "grade_code": g,
                            "exam_date": day,
                            "max_score": float(full),
                        }
                    )
                    items = _paper(exam_id, full, f"{kp}{YEAR_INDEX[g]}", rng)
                    item_tables.append(items)
                    sat = in_grade[rng.random(in_grade.size) > 0.01]  # 缺考
                    t = theta[np.searchsorted(in_grade, sat)] + rng.normal(0, 0.3, sat.size)
                    scores = _scores(t, items, subject, rng)
                    rows: Table = {
                        "exam_id": np.full(sat.size, exam_id, dtype=STR),
                        "student_number": students["student_number"][sat],
                        "_name": students["name"][sat],
                        "_class_name": students["_class_name"][sat],
                        "_school_name": school_names[students["_school"][sat]],
                        "_school": students["_school"][sat],
                        "_student": sat,
                    }
                    sheets.append(
                        ExamSheet(exam_id, rows, [int(i) for i in items["item_no"]], scores)
                    )
    exam_table: Table = {
        k: np.array([r[k] for r in ex_rows], dtype=STR if k != "max_score" else np.float64)
        for k in ex_rows[0]
    }
    exam_table["exam_date"] = exam_table["exam_date"].astype("datetime64[D]")
    item_table = {k: np.concatenate([t[k] for t in item_tables]) for k in item_tables[0]}
    return Exams(exam_table, item_table, sheets)


def _paper(exam_id: str, full: int, kp_prefix: str, rng: np.random.Generator) -> Table:
    n_items = int(rng.integers(15, 26))
    obj_pts = int(rng.choice([2, 3, 4]))
    n_obj = min(n_items - 4, int(full * rng.uniform(0.3, 0.45)) // obj_pts)
    n_sub = n_items - n_obj
    rest = full - n_obj * obj_pts
    sub = 4 + np_allocate(rest - 4 * n_sub, rng.uniform(0.5, 1.5, n_sub))
    max_score = np.concatenate([np.full(n_obj, obj_pts), sub]).astype(np.float64)
    chapter = np.sort(rng.integers(1, 7, n_items))
    kp1 = cat(kp_prefix, ".", chapter.astype(STR), ".", rng.integers(1, 6, n_items).astype(STR))
    kp2 = cat(kp_prefix, ".", chapter.astype(STR), ".", rng.integers(6, 9, n_items).astype(STR))
    two = rng.random(n_items) < 0.2
    return {
        "exam_id": np.full(n_items, exam_id, dtype=STR),
        "item_no": np.arange(1, n_items + 1, dtype=np.float64),
        "max_score": max_score,
        "item_type": np.where(np.arange(n_items) < n_obj, "objective", "subjective").astype(STR),
        "knowledge_points": np.where(two, cat(kp1, ";", kp2), kp1).astype(STR),
        "_b": rng.normal(-0.8, 0.9, n_items),
        "_a": rng.uniform(0.7, 1.8, n_items),
    }


def np_allocate(total: int, weights: Array) -> Array:
    from edubrain.sources.generator.plan import allocate

    return allocate(max(total, 0), weights)


def _scores(theta: Array, items: Table, subject: str, rng: np.random.Generator) -> Array:
    a, b, top = items["_a"], items["_b"], items["max_score"]
    p = 1 / (1 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    objective = items["item_type"] == "objective"
    correct = rng.random(p.shape) < p
    frac = np.clip(p + rng.normal(0, 0.12, p.shape), 0, 1)
    step = 1.0 if subject == "math" else 0.5
    partial = np.round(frac * top[None, :] / step) * step
    out: Array = np.where(objective[None, :], correct * top[None, :], partial)
    return out


# Homework: two school weeks in November on the platform some schools use.
HOMEWORK_DAYS = np.array(
    [
        d
        for d in np.arange("2025-11-03", "2025-11-15", dtype="datetime64[D]")
        if (d.astype(np.int64) + 3) % 7 < 5
    ]
)
_DAILY = {  # grade band → (subject, share of days, written, expected minutes range)
    "low": (("chinese", 1.0, False, (10, 15)), ("math", 0.3, False, (5, 10))),
    "mid": (
        ("chinese", 1.0, True, (15, 25)),
        ("math", 1.0, True, (15, 25)),
        ("english", 0.6, True, (8, 15)),
    ),
    # ~70 written minutes a day on average: most junior classes keep within the 90-minute
    # limit; heavy-homework classes and slow pupils push some over it.
    "junior": (
        ("chinese", 1.0, True, (12, 22)),
        ("math", 1.0, True, (12, 22)),
        ("english", 1.0, True, (10, 18)),
        ("science", 0.8, True, (12, 20)),
        ("history", 0.4, True, (8, 12)),
        ("politics", 0.4, True, (8, 12)),
    ),
}


def _band(grade: str) -> str:
    if grade in ("11", "12"):
        return "low"
    return "junior" if grade.startswith("2") else "mid"


def homework(
    county: County, schools: Table, classes: Table, students: Table, rng: np.random.Generator
) -> tuple[Table, Table]:
    n_s = len(schools["school_code"])
    on_platform = (rng.random(n_s) < 0.3) & (schools["stages"] != "senior")
    for stage in ("primary", "junior"):  # at least one school of each stage uses it
        cands = np.flatnonzero(schools["stages"] == stage)
        if cands.size and not on_platform[cands].any():
            on_platform[cands[0]] = True
    cls = np.flatnonzero(on_platform[classes["_school"]])
    load = rng.lognormal(0, 0.2, len(classes["_school"]))
    load[rng.random(load.size) < 0.12] *= 1.6  # heavy-homework classes
    a_cls: list[Array] = []
    a_day: list[Array] = []
    a_subj: list[Array] = []
    a_written: list[Array] = []
    a_min: list[Array] = []
    for c in cls:
        grade = str(classes["grade_code"][c])
        for subject, share, written, (lo, hi) in _DAILY[_band(grade)]:
            days = HOMEWORK_DAYS[rng.random(HOMEWORK_DAYS.size) < share]
            k = days.size
            a_cls.append(np.full(k, c))
            a_day.append(days)
            a_subj.append(np.full(k, subject, dtype=STR))
            # A few 一二年级 classes still set written homework (a 双减 violation to detect).
            w = written or (grade in ("11", "12") and load[c] > 1.5)
            a_written.append(np.full(k, "true" if w else "false", dtype=STR))
            a_min.append(np.round(rng.uniform(lo, hi, k) * load[c]))
    ac = np.concatenate(a_cls) if a_cls else np.zeros(0, dtype=np.int64)
    day = np.concatenate(a_day) if a_day else np.zeros(0, dtype="datetime64[D]")
    m = ac.size
    due = day + np.where((day.astype(np.int64) + 3) % 7 == 4, 3, 1).astype("timedelta64[D]")
    assignments: Table = {
        "assignment_id": cat("HW", county.code, zpad(np.arange(1, m + 1), 7)),
        "school_code": classes["school_code"][ac],
        "school_year": classes["school_year"][ac],
        "grade_code": classes["grade_code"][ac],
        "class_no": classes["class_no"][ac],
        "subject": np.concatenate(a_subj) if a_subj else np.zeros(0, dtype=STR),
        "assigned_date": day,
        "due_date": due,
        "is_written": np.concatenate(a_written) if a_written else np.zeros(0, dtype=STR),
        "expected_minutes": np.concatenate(a_min) if a_min else np.zeros(0),
        "_school": classes["_school"][ac],
        "_school_name": schools["name"][classes["_school"][ac]],
    }
    return assignments, _submissions(assignments, ac, students, rng)


def _submissions(
    assignments: Table, a_cls: Array, students: Table, rng: np.random.Generator
) -> Table:
    enrolled = np.flatnonzero(students["status"] == "enrolled")
    s_cls = students["_class"][enrolled]
    order = np.argsort(s_cls, kind="stable")
    members = enrolled[order]
    sorted_cls = s_cls[order]
    start = np.searchsorted(sorted_cls, a_cls, "left")
    stop = np.searchsorted(sorted_cls, a_cls, "right")
    counts = stop - start
    a_idx = np.repeat(np.arange(a_cls.size), counts)
    offset = np.arange(a_idx.size) - np.repeat(np.cumsum(counts) - counts, counts)
    stu = members[np.repeat(start, counts) + offset]
    keep = rng.random(stu.size) < 0.94
    a_idx, stu = a_idx[keep], stu[keep]
    n = stu.size
    pace = rng.lognormal(0, 0.25, len(students["sex"]))[stu]
    minutes = np.maximum(
        1.0, assignments["expected_minutes"][a_idx] * pace * rng.lognormal(0, 0.15, n)
    )
    minutes = np.round(minutes * 10) / 10  # the platform records whole seconds; 6 s = 0.1 min
    seconds = rng.integers(16 * 3600 + 1800, 21 * 3600, n) + np.round(minutes * 60).astype(np.int64)
    submitted = assignments["assigned_date"][a_idx].astype("datetime64[s]") + seconds.astype(
        "timedelta64[s]"
    )
    written = assignments["is_written"][a_idx] == "true"
    skill = rng.standard_normal(len(students["sex"]))[stu]
    rate = np.round(1 / (1 + np.exp(-(1.3 + skill + rng.normal(0, 0.6, n)))), 2)
    return {
        "assignment_id": assignments["assignment_id"][a_idx],
        "student_number": students["student_number"][stu],
        "submitted_at": submitted,
        "minutes_spent": minutes,
        "score": np.where(written, rate, np.nan),
        "_school": students["_school"][stu],
        "_name": students["name"][stu],
        "_student": stu,
    }


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
