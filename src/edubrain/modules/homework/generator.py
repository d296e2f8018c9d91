"""The homework part of the synthetic region: assignments and submissions on a vendor platform.

Homework time is set per class so that some classes exceed the 双减 limits
(policy_thresholds.md §4).
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat, zpad
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import HOMEWORK_DAYS, County
from edubrain.sources.generator.render import ExportLook

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


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    assignments, submissions = homework(
        draw.county, world.schools, world.classes, world.students, draw.stream(7)
    )
    draw.tables["homework_assignment"] = assignments
    draw.tables["homework_submission"] = submissions
    draw.shared[PLATFORM_SCHOOLS] = np.unique(assignments["_school"])


PLATFORM_SCHOOLS = "homework platform schools"  # the schools on the platform (indices)
PART = GeneratorPart(
    county,
    streams=(7,),
    faults=(
        EntityFaults("homework_assignment", clean=True),
        EntityFaults("homework_submission", old_numbers=True),
    ),
    looks=(
        ExportLook(
            "homework_assignment",
            extras=(("zuoye/assignments", "school.name", "_school_name", "school.code"),),
        ),
        ExportLook(
            "homework_submission",
            extras=(("zuoye/submissions", "student.name", "_name", "student.xjh"),),
        ),
    ),
)
