"""True abilities of the synthetic region's pupils over three school years, with value-added.

Every pupil has a true ability θ per subject (语文, 数学, 英语) and school year, on the common
scale of the grade and subject: in the base year (2023-2024) each grade's pupils are N(0, 1)
(approximately: a mixture over schools), and later years follow

    θ_y = ρ·θ_{y−1} + g(y, grade, subject) + u(school, y, subject) + v(class, y) + e,
    e ~ N(0, σ_e²),  ρ = 0.8,  σ_e chosen so that Var θ stays about 1,

- g: the cohort shift of that year's grade and subject (a cohort better or worse than the
  one before it, ±0.10–0.30: what scale linking across years has to recover);
- u: the school's value-added (VA) effect, a persistent part (sd 0.15) plus a yearly change
  (sd 0.08) plus a persistent subject part (sd 0.05), drawn independently of the school's
  level; a few junior and senior schools (about 6 %, at least one) decline: their yearly
  change is −0.15 in 2024-2025 and −0.30 in 2025-2026 (falling two years running);
- v: the class's VA effect, persistent (sd 0.06) plus a yearly change (sd 0.04).

The base year's θ = (0.7·general + 0.55·subject-specific + level(school)) / 0.976, level ~
N(0, 0.4) the school's intake level (the pupil's current school), general shared by the
subjects. A pupil attends, in a past year, the school and class he is in now when that year's
grade is of the same stage (classes move up intact: 七年级(3)班 becomes 八年级(3)班); a pupil who
has since changed stage (now in 七年级 or 八年级, 高一 or 高二) attended a *feeder* school of
the earlier stage, drawn for him among the county's schools of that stage in proportion to
their pupils of that grade, in one class of it (the same school and class number in both
years of that stage).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat, text
from edubrain.sources.generator.region import GRADE_NAME

SCHOOL_YEARS = ("2023-2024", "2024-2025", "2025-2026")  # base year first, current year last
SUBJECTS = ("chinese", "math", "english")
GRADES = tuple(GRADE_NAME)  # 11 … 16, 21 … 23, 31 … 33: a pupil moves one step a year
STAGE_OF_DIGIT = {"1": "primary", "2": "junior", "3": "senior"}

RHO = 0.8
LEVEL_SD = 0.4
SCHOOL_VA_SD, SCHOOL_VA_YEAR_SD, SCHOOL_SUBJECT_SD = 0.15, 0.08, 0.05
CLASS_VA_SD, CLASS_VA_YEAR_SD = 0.06, 0.04
DECLINE = 0.15  # a declining school's yearly change: −DECLINE, then −2·DECLINE
DECLINING_SHARE = 0.06
SHIFT_RANGE = (0.10, 0.30)
_BASE_SCALE = float(np.sqrt(0.7**2 + 0.55**2 + LEVEL_SD**2))
NOISE_SD = float(
    np.sqrt(
        1
        - RHO**2
        - SCHOOL_VA_SD**2
        - SCHOOL_VA_YEAR_SD**2
        - SCHOOL_SUBJECT_SD**2
        - CLASS_VA_SD**2
        - CLASS_VA_YEAR_SD**2
    )
)


@dataclass
class Cohorts:
    """The county's pupils' true abilities and where they were, per school year."""

    theta: Array  # float64 [year, subject, pupil]
    grade: Array  # STR [year, pupil]: the grade that year ("" before school)
    school: Array  # int64 [year, pupil]: school index that year (−1: none)
    class_group: Array  # int64 [year, pupil]: class group (a class moving up; −1: none)
    class_code: Array  # STR [year, pupil]: school_code/grade_code/class_no that year
    class_name: Array  # STR [year, pupil]: 七年级(3)班
    school_va: Array  # float64 [school, year, subject] (year 0 unused: 0)
    class_va: Array  # float64 [class group, year] (year 0 unused: 0)
    shift: Array  # float64 [year, grade index, subject]
    declining: Array  # int64: indices of the declining schools


def _feeders(
    students: Table, schools: Table, classes: Table, rng: np.random.Generator
) -> tuple[Array, Array]:
    """Each pupil's feeder school (of his stage before this one) and class number there."""
    n = students["grade_code"].size
    school = np.full(n, -1, dtype=np.int64)
    class_no = np.zeros(n, dtype=np.int64)
    stage_of_school = np.asarray(schools["stages"]).astype(STR)
    grade_idx = np.array([GRADES.index(str(g)) for g in students["grade_code"]], dtype=np.int64)
    for now in ("21", "22", "31", "32"):
        first = GRADES.index(now[0] + "1")
        earlier = GRADES[first - 1]  # the last grade of the earlier stage (16, 23)
        who = np.flatnonzero(grade_idx == GRADES.index(now))
        candidates = np.flatnonzero(stage_of_school == STAGE_OF_DIGIT[earlier[0]])
        if who.size == 0 or candidates.size == 0:
            continue
        in_grade = np.asarray(classes["grade_code"]).astype(STR) == earlier
        sizes = np.array(
            [classes["_size"][in_grade & (classes["_school"] == s)].sum() for s in candidates],
            dtype=np.float64,
        )
        weights = sizes + 1.0
        pick = candidates[rng.choice(candidates.size, size=who.size, p=weights / weights.sum())]
        n_classes = np.array(
            [max(1, int((in_grade & (classes["_school"] == s)).sum())) for s in candidates]
        )
        per = dict(zip(candidates.tolist(), n_classes.tolist(), strict=True))
        school[who] = pick
        class_no[who] = 1 + np.floor(
            rng.random(who.size) * np.array([per[int(s)] for s in pick])
        ).astype(np.int64)
    return school, class_no


def draw_cohorts(
    students: Table, schools: Table, classes: Table, rng: np.random.Generator
) -> Cohorts:
    """True abilities of every pupil of the county in each school year (see the module)."""
    n = students["grade_code"].size
    n_schools = int(np.asarray(schools["school_code"]).size)
    n_classes = int(np.asarray(classes["_size"]).size)
    n_years, n_subjects = len(SCHOOL_YEARS), len(SUBJECTS)
    grade_idx = np.array([GRADES.index(str(g)) for g in students["grade_code"]], dtype=np.int64)
    feeder_school, feeder_class = _feeders(students, schools, classes, rng)

    # Where each pupil was each year.
    grades_arr = np.array([*GRADES, ""], dtype=STR)
    grade = np.empty((n_years, n), dtype=STR)
    school = np.full((n_years, n), -1, dtype=np.int64)
    group = np.full((n_years, n), -1, dtype=np.int64)
    class_no = np.zeros((n_years, n), dtype=np.int64)
    # Feeder class groups: one per (feeder school, current grade, class number).
    feeder_key = (feeder_school * 100 + grade_idx) * 100 + feeder_class
    keys, feeder_group = np.unique(
        np.where(feeder_school >= 0, feeder_key, -1), return_inverse=True
    )
    feeder_group = np.where(feeder_school >= 0, n_classes + feeder_group, -1)
    n_groups = n_classes + keys.size
    now_stage = np.array([str(g)[0] for g in students["grade_code"]])
    for t in range(n_years):
        back = n_years - 1 - t
        idx = grade_idx - back
        valid = idx >= 0
        grade[t] = grades_arr[np.where(valid, idx, len(GRADES))]
        then_stage = np.array([str(g)[:1] for g in grade[t]])
        same = valid & (then_stage == now_stage)
        other = valid & ~same & (feeder_school >= 0)
        school[t] = np.where(same, students["_school"], np.where(other, feeder_school, -1))
        group[t] = np.where(same, students["_class"], np.where(other, feeder_group, -1))
        class_no[t] = np.where(same, students["class_no"].astype(np.int64), feeder_class)
    codes = np.asarray(schools["school_code"]).astype(STR)
    school_code = np.where(school >= 0, codes[np.maximum(school, 0)], "").astype(STR)
    class_code = cat(school_code, "/", grade, "/", text(class_no)).astype(STR)
    class_code = np.where(school >= 0, class_code, "").astype(STR)
    name_of = {**GRADE_NAME, "": ""}
    class_name = np.empty((n_years, n), dtype=STR)
    for t in range(n_years):
        label = np.array([name_of[str(g)] for g in grade[t]], dtype=STR)
        class_name[t] = np.where(
            school[t] >= 0, cat(label, "(", text(class_no[t]), ")班"), ""
        ).astype(STR)

    # Value-added effects, drawn independently of the schools' levels.
    persistent = rng.normal(0, SCHOOL_VA_SD, n_schools)
    subject_part = rng.normal(0, SCHOOL_SUBJECT_SD, (n_schools, n_subjects))
    change = rng.normal(0, SCHOOL_VA_YEAR_SD, (n_schools, n_years))
    stages = np.asarray(schools["stages"]).astype(STR)
    eligible = np.flatnonzero((stages == "junior") | (stages == "senior"))
    declining = np.zeros(0, dtype=np.int64)
    if eligible.size:
        k = max(1, round(DECLINING_SHARE * eligible.size))
        declining = np.sort(rng.choice(eligible, k, replace=False))
        change[declining, 1] = -DECLINE
        change[declining, 2] = -2 * DECLINE
    school_va = persistent[:, None, None] + change[:, :, None] + subject_part[:, None, :]
    school_va[:, 0, :] = 0.0
    class_va = rng.normal(0, CLASS_VA_SD, n_groups)[:, None] + rng.normal(
        0, CLASS_VA_YEAR_SD, (n_groups, n_years)
    )
    class_va[:, 0] = 0.0
    signs = rng.choice([-1.0, 1.0], (n_years, len(GRADES), n_subjects))
    shift = signs * rng.uniform(*SHIFT_RANGE, (n_years, len(GRADES), n_subjects))
    shift[0] = 0.0

    level = rng.normal(0, LEVEL_SD, max(n_schools, 1))[students["_school"]]
    general = rng.standard_normal(n)
    theta = np.empty((n_years, n_subjects, n), dtype=np.float64)
    for s in range(n_subjects):
        theta[0, s] = (0.7 * general + 0.55 * rng.standard_normal(n) + level) / _BASE_SCALE
    for t in range(1, n_years):
        at = school[t] >= 0
        g_then = np.where(grade_idx - (n_years - 1 - t) >= 0, grade_idx - (n_years - 1 - t), 0)
        for s in range(n_subjects):
            u = np.where(at, school_va[np.maximum(school[t], 0), t, s], 0.0)
            v = np.where(group[t] >= 0, class_va[np.maximum(group[t], 0), t], 0.0)
            theta[t, s] = (
                RHO * theta[t - 1, s] + shift[t, g_then, s] + u + v + rng.normal(0, NOISE_SD, n)
            )
    theta = np.round(theta, 4)  # as the truth prints it: the scores come from these values
    return Cohorts(
        theta, grade, school, group, class_code, class_name, school_va, class_va, shift, declining
    )
