"""The exams part of the synthetic region: county exams (papers with knowledge points, scores).

Scores come from a latent ability per student (correlated across subjects and between the
mid-term and the final) plus a school effect, through a 2-parameter logistic item model, so
item difficulty and discrimination vary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart, WideSheet
from edubrain.sources.generator.plan import SCHOOL_YEAR, County
from edubrain.sources.generator.region import GRADE_NAME, YEAR_INDEX
from edubrain.sources.generator.render import ExportLook, Wide

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


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    made = exams(draw.county, world.students, world.schools["name"], draw.stream(6))
    draw.tables["exam"] = made.exams
    draw.tables["exam_item"] = made.items
    draw.sheets["item_score"] = [
        WideSheet(s.exam_id, s.rows, Wide(s.item_nos, s.scores)) for s in made.sheets
    ]


PART = GeneratorPart(
    county,
    streams=(6,),
    faults=(EntityFaults("exam", clean=True), EntityFaults("exam_item", clean=True)),
    looks=(
        ExportLook(
            "item_score",
            extras=(
                ("yuejuan/scores", "姓名", "_name", "学籍号"),
                ("yuejuan/scores", "学校", "_school_name", "姓名"),
                ("yuejuan/scores", "班级", "_class_name", "学校"),
            ),
        ),
    ),
)
