"""The exams part of the synthetic region: county exams over three school years, with truth.

The county's unified exams of the plan (`EXAM_PLAN`) are written for the current school year
(期中 and/or 期末 of term 1) and for the two years before it (the 期末 of term 2 only, on shorter
papers), taken by the current pupils who were in that grade then. Each grade and subject's
papers are linked year to year by anchor items (`papers`); scores come from the pupils' true
abilities (`abilities`) through the items' 2PL and graded response models. The generating
parameters, true abilities and true school and class value-added effects are written to
OUT/truth/ (see `README`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edubrain.modules.exams.abilities import GRADES, SCHOOL_YEARS, SUBJECTS, Cohorts, draw_cohorts
from edubrain.modules.exams.papers import (
    Bank,
    Paper,
    expected_total,
    parameter_rows,
    score,
    write_paper,
)
from edubrain.sources.generator.columns import STR, Array, Table
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart, RegionDraw, WideSheet
from edubrain.sources.generator.plan import County
from edubrain.sources.generator.region import GRADE_NAME, YEAR_INDEX, World
from edubrain.sources.generator.render import ExportLook, Wide, csv_lines

_SUBJECT_LABEL = {"chinese": "语文", "math": "数学", "english": "英语", "science": "科学"}
_SUBJECT_ABBR = {"chinese": ("YW", "C"), "math": ("SX", "M"), "english": ("YY", "E")}
_KIND_LABEL = {"QZ": "期中", "QM": "期末"}
# (grades, subjects, kinds this term, full marks) of the county's unified exams.
EXAM_PLAN: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], int], ...] = (
    (("21", "22", "23"), ("chinese", "math", "english"), ("QZ", "QM"), 120),
    (("16",), ("chinese", "math"), ("QM",), 100),
    (("31", "32", "33"), ("chinese", "math", "english"), ("QZ",), 150),
)
# (start year, term, {kind: date}, items per paper [low, high)) of each school year's exams.
_SITTINGS = (
    (2023, "2", {"QM": "2024-06-27"}, (10, 14)),
    (2024, "2", {"QM": "2025-06-26"}, (10, 14)),
    (2025, "1", {"QZ": "2025-11-12", "QM": "2026-01-20"}, (15, 26)),
)
_TERM_LABEL = {"1": "第一学期", "2": "第二学期"}
ABSENT = 0.01  # 缺考: share of a paper's pupils with no score sheet row

TRUTH_FILES: dict[str, tuple[str, ...]] = {
    "exam_item_parameters": ("exam_id", "item_no", "bank_item_id", "a", "b"),
    "exam_abilities": ("exam_id", "student_number", "theta"),
    "school_value_added": (
        "school_code", "school_year", "subject", "grade_code", "exam_id", "effect_theta",
        "effect_score",
    ),
    "class_value_added": (
        "class_code", "school_year", "subject", "grade_code", "exam_id", "effect_theta",
        "effect_score",
    ),
}  # fmt: skip
_PARTS = Path("truth") / ".parts" / "exams-truth"


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
    truth: dict[str, list[Table]] = field(default_factory=dict)  # truth file → row blocks
    papers: dict[str, Paper] = field(default_factory=dict)
    cohorts: Cohorts | None = None


def exam_id(county: str, start: int, term: str, grade: str, subject: str, kind: str) -> str:
    return f"{county}-{start}-{term}-{grade}-{_SUBJECT_ABBR[subject][0]}-{kind}"


def exams(county: County, world: World, rng: np.random.Generator) -> Exams:
    """The county's exams of the three school years, their score sheets and their truth."""
    students, schools = world.students, world.schools
    cohorts = draw_cohorts(students, schools, world.classes, rng)
    school_names = np.asarray(schools["name"]).astype(STR)
    school_codes = np.asarray(schools["school_code"]).astype(STR)
    enrolled = students["status"] == "enrolled"
    made = Exams({}, {}, [], {name: [] for name in TRUTH_FILES}, {}, cohorts)
    ex_rows: list[dict[str, object]] = []
    item_tables: list[Table] = []
    banks: dict[tuple[str, str], Bank] = {}
    last: dict[tuple[str, str], tuple[int, Paper]] = {}  # grade-subject → (year, its QM paper)
    sat_exams: set[tuple[int, str, str]] = set()  # (year, grade, subject) with an exam
    for t, (start, term, days, lengths) in enumerate(_SITTINGS):
        current = t == len(_SITTINGS) - 1
        for grades, subjects, kinds, full in EXAM_PLAN:
            for g in grades:
                pupils = np.flatnonzero((cohorts.grade[t] == g) & enrolled)
                if pupils.size == 0:
                    continue  # nobody now in the roster was in this grade that year
                for subject in subjects:
                    s = SUBJECTS.index(subject)
                    bank = banks.get((g, subject))
                    if bank is None:
                        abbr, kp = _SUBJECT_ABBR[subject]
                        bank = Bank(
                            f"{county.code}-{g}-{abbr}",
                            f"{kp}{YEAR_INDEX[g]}",
                            int(rng.choice([2, 3, 4])),
                            1.0 if subject == "math" else 0.5,
                        )
                        banks[(g, subject)] = bank
                    before = last.get((g, subject))
                    previous = before[1] if before is not None and before[0] == t - 1 else None
                    papers: dict[str, Paper] = {}
                    for kind in kinds if current else ("QM",):
                        eid = exam_id(county.code, start, term, g, subject, kind)
                        title = f"{GRADE_NAME[g]}{_SUBJECT_LABEL[subject]}{_KIND_LABEL[kind]}统考"
                        ex_rows.append(
                            {
                                "exam_id": eid,
                                "name": f"{start}学年{_TERM_LABEL[term]}{title}",
                                "school_year": SCHOOL_YEARS[t],
                                "term": term,
                                "subject": subject,
                                "grade_code": g,
                                "exam_date": days[kind],
                                "max_score": float(full),
                            }
                        )
                        n_items = int(rng.integers(*lengths))
                        paper = write_paper(eid, full, n_items, bank, previous, rng)
                        papers[kind] = paper
                        made.papers[eid] = paper
                        item_tables.append(paper.table())
                        made.truth["exam_item_parameters"].append(parameter_rows(paper))
                        sat = pupils[rng.random(pupils.size) >= ABSENT]
                        theta = cohorts.theta[t, s, sat]
                        scores = score(paper, theta, rng)
                        where = cohorts.school[t, sat]
                        rows: Table = {
                            "exam_id": np.full(sat.size, eid, dtype=STR),
                            "student_number": students["student_number"][sat],
                            "_name": students["name"][sat],
                            "_class_name": cohorts.class_name[t, sat],
                            "_school_name": np.where(
                                where >= 0, school_names[np.maximum(where, 0)], ""
                            ).astype(STR),
                            "_school": where,
                            "_student": sat,
                        }
                        made.sheets.append(
                            ExamSheet(eid, rows, [int(i) for i in paper.item_no], scores)
                        )
                        made.truth["exam_abilities"].append(
                            {
                                "exam_id": rows["exam_id"],
                                "student_number": rows["student_number"],
                                "theta": np.array([f"{x:.4f}" for x in theta], dtype=STR),
                            }
                        )
                    outcome = papers.get("QM") or next(iter(papers.values()))
                    last[(g, subject)] = (t, outcome)
                    sat_exams.add((t, g, subject))
                    prior_grade = GRADES[GRADES.index(g) - 1] if GRADES.index(g) else ""
                    if t > 0 and (t - 1, prior_grade, subject) in sat_exams:
                        _value_added(made, cohorts, outcome, t, s, g, school_codes)
    exam_table: Table = {
        k: np.array([r[k] for r in ex_rows], dtype=STR if k != "max_score" else np.float64)
        for k in ex_rows[0]
    }
    exam_table["exam_date"] = exam_table["exam_date"].astype("datetime64[D]")
    made.exams = exam_table
    made.items = {k: np.concatenate([t[k] for t in item_tables]) for k in item_tables[0]}
    return made


def _value_added(
    made: Exams, cohorts: Cohorts, paper: Paper, t: int, s: int, grade: str, codes: Array
) -> None:
    """True school and class VA rows of an outcome exam (a prior exam exists the year before).

    effect_score = mean over the group's takers of E[total | θ] − E[total | θ − effect].
    """
    sheet = next(x for x in reversed(made.sheets) if x.exam_id == paper.exam_id)
    sat = sheet.rows["_student"]
    theta = cohorts.theta[t, s, sat]
    expected = expected_total(paper, theta)
    for level in ("school", "class"):
        if level == "school":
            unit = cohorts.school[t, sat]
            effect = cohorts.school_va[np.maximum(unit, 0), t, s]
        else:
            unit = cohorts.class_group[t, sat]
            effect = cohorts.class_va[np.maximum(unit, 0), t]
        keep = unit >= 0
        gain = expected - expected_total(paper, theta - effect)
        units, first, inverse = np.unique(unit[keep], return_index=True, return_inverse=True)
        mean_gain = np.bincount(inverse, gain[keep]) / np.bincount(inverse)
        labels = codes[units] if level == "school" else cohorts.class_code[t, sat[keep][first]]
        n = units.size
        made.truth[f"{level}_value_added"].append(
            {
                f"{level}_code": np.asarray(labels).astype(STR),
                "school_year": np.full(n, SCHOOL_YEARS[t], dtype=STR),
                "subject": np.full(n, SUBJECTS[s], dtype=STR),
                "grade_code": np.full(n, grade, dtype=STR),
                "exam_id": np.full(n, paper.exam_id, dtype=STR),
                "effect_theta": np.array([f"{x:.4f}" for x in effect[keep][first]], dtype=STR),
                "effect_score": np.array([f"{x:.4f}" for x in mean_gain], dtype=STR),
            }
        )


def _write_rows(path: Path, header: tuple[str, ...], blocks: list[Table], head: bool) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("wb") as fh:
        if head:
            fh.write((",".join(header) + "\n").encode("utf-8"))
        for block in blocks:
            cols = [np.asarray(block[c]).astype(STR) for c in header]
            if cols[0].size:
                fh.write(("\n".join(csv_lines(cols)) + "\n").encode("utf-8"))
                n += int(cols[0].size)
    return n


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    made = exams(draw.county, world, draw.stream(6))
    draw.tables["exam"] = made.exams
    draw.tables["exam_item"] = made.items
    draw.sheets["item_score"] = [
        WideSheet(s.exam_id, s.rows, Wide(s.item_nos, s.scores)) for s in made.sheets
    ]
    for name, header in TRUTH_FILES.items():
        part = draw.out / _PARTS / name / f"{draw.county.code}.csv"
        _write_rows(part, header, made.truth[name], head=False)


def region(draw: RegionDraw) -> None:
    """Merge the counties' truth parts into OUT/truth/<file>.csv (in county order)."""
    for name, header in TRUTH_FILES.items():
        target = draw.out / "truth" / f"{name}.csv"
        with target.open("wb") as fh:
            fh.write((",".join(header) + "\n").encode("utf-8"))
            for c in draw.counties:
                part = draw.out / _PARTS / name / f"{c.code}.csv"
                if part.exists():
                    fh.write(part.read_bytes())


README = """\
* `truth/exam_*.csv`, `truth/*_value_added.csv` — the exams' generating model
  (`edubrain/modules/exams/abilities.py` and `papers.py`). Exams cover three school years:
  2023-2024 and 2024-2025 (the 期末 of term 2, shorter papers) and 2025-2026 (term 1), taken by
  the current pupils who were in that grade then; a grade's pupils of a past year that no
  current pupil was in (高三 last year) have no exam. Each paper shares 20–30 % of its items
  (at least 3, mostly objective; same `bank_item_id`) with the previous year's 期末 paper of the
  same grade and subject. Scores: objective items 0/full by the 2PL σ(a(θ − b)), subjective
  items by Samejima's graded response model in steps of 1 point (数学) or ½ point.
  - `exam_item_parameters.csv` (exam_id, item_no, bank_item_id, a, b): generating parameters,
    D = 1, on the grade and subject's common θ scale (the base year 2023-2024's pupils of each
    grade are drawn N(0, 1); its takers at the default county: mean −0.06 to −0.12, sd
    0.94–0.99). A chain of papers whose first paper is of a later year (a grade with no exam in
    2023-2024, such as 高二 in 2024-2025: takers' mean −0.19 to +0.09) starts off that origin
    by the cohort's growth and the years' shifts: put an estimated chain on this scale with its
    first paper's takers' true mean and sd. A graded item's `b` is its thresholds
    b₁ … b_{K−1} joined by `;`.
  - `exam_abilities.csv` (exam_id, student_number, theta): each taker's true θ, on the same
    scale; θ_y = 0.85·θ_{y−1} + cohort shift (±0.10–0.30 per year, grade and subject) + school
    VA + class VA + noise, so a grade's mean moves between years (what linking recovers).
  - `school_value_added.csv` (school_code, school_year, subject, grade_code, exam_id,
    effect_theta, effect_score) and `class_value_added.csv` (class_code in place of
    school_code): the true effect on progress of the school (class) the pupils attended that
    year, for every outcome exam whose pupils have a prior exam (same subject, previous year,
    grade one lower, its 期末): years 2024-2025 and 2025-2026; the outcome is the year's 期末
    (期中 where it is the only exam). effect_theta in θ units; effect_score in points, the mean
    over the group's takers of E[total | θ] − E[total | θ − effect_theta]. School effects:
    persistent (sd 0.22) + yearly (sd 0.10) + subject (sd 0.05), drawn independently of the
    school's intake level (sd 0.3 in θ); as they persist, a cohort's prior in its second year
    at a school already carries last year's effect. About 6 % of junior and senior schools
    decline (−0.15 in 2024-2025, −0.30 in 2025-2026 from their persistent level). Class
    effects: persistent (sd 0.06) + yearly (sd 0.04). class_code is
    school_code/grade_code/class_no of the class that year: classes move up intact, so a past
    year's class is the current class of the same school and number one grade higher a year.
    Pupils now in 七年级, 八年级, 高一 or 高二 sat their earlier stage's exams at a feeder
    school (named on that score sheet's 学校 column; the roster does not hold it): their
    rows of those years name that school and its class.
"""

PART = GeneratorPart(
    county,
    region,
    streams=(6,),
    readme=README,
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
