"""增值评价 on the warehouse's exams: pupil rows, the multilevel fit, the `exam_value_added` rows.

For each exam with a prior (docs/psychometrics.md, "Value-added on the warehouse"):

* the **current exam** of a school year, subject and grade is its 期末 (kind QM, the last part
  of the 考试编号) when there is one, else its latest exam;
* its **prior** is the same subject's exam of the previous school year, one grade lower, of
  kind QM (else that year's latest 第二学期 exam); a pupil counts when they sat both;
* a pupil's **school** (and class) is the one the 学籍 gives for the exam's school year; the
  class level is fitted only when the 学籍 holds the classes of that year and some schools have
  two classes or more;
* the model: current total ~ the prior's expected true score given the class (the school when
  classes are not known) + the other core subjects' (语文, 数学, 英语) priors of the same year,
  each as its expected true score's deviation from the class mean (0 when the pupil did not
  sit it) + 女生 + (1|school) [+ (1|school:class)], by REML
  (`psychometrics.value_added.fit_value_added`);
* beside it the Progress-8-style simple score: the current total minus the mean of the pupils
  of the same prior-attainment group (twentieths of the prior total), averaged per school or
  class;
* teacher value-added only where attribution is clear: the class has exactly one teacher of
  the subject in `teaching_assignment` that year; otherwise the reason is written instead.

Effects are in points of the current exam's total. Nothing here writes: the use case
(`usecases.value_added`) stores the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from edubrain.errors import ValueAddedInputError
from edubrain.modules.roster.registry import registry_rows
from edubrain.psychometrics.reliability import omega_total
from edubrain.psychometrics.value_added import (
    GroupEffects,
    ValueAddedFit,
    fit_value_added,
    progress_scores,
)
from edubrain.standard.codes import grade_year_index
from edubrain.warehouse.api import OptionalTables

VALUE_ADDED_TABLE = "exam_value_added"
QM = "QM"  # 期末: the kind value-added uses when a year has several
PRIOR_GROUPS = 20  # Progress-8-style prior-attainment groups: twentieths of the prior total
SMALL_GROUP = 10
PRIOR_SUBJECTS = ("chinese", "math", "english")
"""Last year's subjects every pupil's prior attainment is read from (England's KS2 fine grades
in Progress 8 and CVA likewise use every core subject, not the outcome's alone)."""
METHOD = "reml: total ~ E[true prior | prior, {given}]{others} + female + (1|school){classes}"

VALUE_ADDED_SCHEMA = pa.schema(
    [
        pa.field("school_year", pa.string()),
        pa.field("subject", pa.string()),
        pa.field("grade_code", pa.string()),
        pa.field("exam_id", pa.string()),
        pa.field("prior_exam_id", pa.string()),
        pa.field("level", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("class_code", pa.string()),
        pa.field("pupils", pa.int64()),
        pa.field("effect", pa.float64()),
        pa.field("lower", pa.float64()),
        pa.field("upper", pa.float64()),
        pa.field("shrinkage", pa.float64()),
        pa.field("band", pa.string()),
        pa.field("small_group", pa.bool_()),
        pa.field("progress_score", pa.float64()),
        pa.field("max_score", pa.float64()),
        pa.field("teacher", pa.string()),
        pa.field("teacher_note", pa.string()),
        pa.field("method", pa.string()),
        pa.field("fitted_at", pa.timestamp("us")),
    ]
)


@dataclass(frozen=True)
class ExamPair:
    """A current exam and its prior."""

    exam_id: str
    prior_exam_id: str
    school_year: str
    subject: str
    grade_code: str
    max_score: float


@dataclass(frozen=True)
class PupilRows:
    """One exam pair's pupils: totals, school, class (None when not known) and covariates."""

    pair: ExamPair
    student_number: tuple[str, ...]
    outcome: np.ndarray
    prior: np.ndarray
    school: tuple[str, ...]
    class_no: tuple[str, ...] | None
    female: np.ndarray
    unplaced: int = 0
    """Pupils who sat both exams but whose school that year the 学籍 does not name."""
    other_priors: tuple[tuple[str, np.ndarray, float], ...] = ()
    """The other core subjects' priors: (exam id, totals with NaN where the pupil did not sit
    it, the paper's SEM²)."""


@dataclass
class Outcome:
    """What one run found: the rows to store and a line per exam pair (fitted or why not)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    pairs: int = 0
    fitted: int = 0

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows, VALUE_ADDED_SCHEMA)


def kind_of(exam_id: str) -> str:
    """The exam's kind (QZ 期中, QM 期末 …): the last part of its 考试编号."""
    return exam_id.rsplit("-", 1)[-1] if "-" in exam_id else ""


def _previous_year(school_year: str) -> str | None:
    try:
        start = int(school_year[:4])
    except ValueError:
        return None
    return f"{start - 1}-{start}"


def _grade_before(grade_code: str) -> set[str]:
    """The grade codes one year of schooling lower (六年级 before 七年级)."""
    index = grade_year_index(grade_code)
    if index is None:
        return set()
    return {
        g for g in ("11", "12", "13", "14", "15", "16", "21", "22", "23", "31", "32", "33")
        if grade_year_index(g) == index - 1
    }  # fmt: skip


def exam_pairs(exams: Sequence[Mapping[str, Any]]) -> list[ExamPair]:
    """The current exam of each school year × subject × grade that has a prior (see above)."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for e in exams:
        key = (str(e["school_year"]), str(e["subject"]), str(e["grade_code"]))
        groups.setdefault(key, []).append(e)

    def chosen(found: list[Mapping[str, Any]], *, prior: bool) -> Mapping[str, Any] | None:
        finals = [e for e in found if kind_of(str(e["exam_id"])) == QM]
        if not finals and prior:
            finals = [e for e in found if str(e.get("term")) == "2"]
        pool = finals or ([] if prior else found)
        if not pool:
            return None
        return max(pool, key=lambda e: (str(e["exam_date"]), str(e["exam_id"])))

    pairs = []
    for (year, subject, grade), found in sorted(groups.items()):
        current = chosen(found, prior=False)
        before = _previous_year(year)
        if current is None or before is None:
            continue
        earlier = [
            e for g in sorted(_grade_before(grade)) for e in groups.get((before, subject, g), [])
        ]
        prior = chosen(earlier, prior=True)
        if prior is None:
            continue
        pairs.append(
            ExamPair(
                exam_id=str(current["exam_id"]),
                prior_exam_id=str(prior["exam_id"]),
                school_year=year,
                subject=subject,
                grade_code=grade,
                max_score=float(current["max_score"]),
            )
        )
    return pairs


def _read(expr: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
    return rows


def warehouse_exams(tables: OptionalTables) -> list[dict[str, Any]]:
    if not (tables.has_table("exam") and tables.has_table("item_score")):
        return []
    e = tables.table("exam")
    return _read(
        e.select(
            "exam_id", "school_year", "term", "subject", "grade_code", "exam_date", "max_score"
        )
    )


def _totals(tables: OptionalTables, exam_ids: list[str]) -> dict[str, dict[str, float]]:
    s = tables.table("item_score")
    s = s.filter(s.exam_id.isin(exam_ids))
    totals = s.group_by(["exam_id", "student_number"]).aggregate(total=s.score.sum())
    out: dict[str, dict[str, float]] = {}
    for r in _read(totals):
        if r["total"] is not None:
            out.setdefault(str(r["exam_id"]), {})[str(r["student_number"])] = float(r["total"])
    return out


@dataclass(frozen=True)
class Placement:
    """Where the 学籍 puts a pupil in a school year."""

    school_code: str
    grade_code: str
    class_no: str
    sex: str


Placements = Mapping[str, Mapping[str, Placement]]


def error_variance(
    item_variances: Sequence[float],
    totals: Sequence[float],
    item_total_covariances: Sequence[float] = (),
) -> float:
    """The paper's SEM² = var(total)·(1 − reliability) over its takers (population variances).
    The reliability is McDonald's ω (`psychometrics.reliability.omega_total`) when the items'
    covariances with the total are given and the one-factor solution exists, else Cronbach's
    α = k/(k−1)·(1 − Σ var(item) ÷ var(total)); 0 for a paper of one item (its total is then
    taken as measured without error). α is a lower bound that understates the reliability of
    papers whose items differ in weight (on the synthetic papers by 0.04–0.15, where ω is
    within 0.01 of the truth: docs/psychometrics.md, "The prior's reliability: ω, not α")."""
    k = len(item_variances)
    total_variance = float(np.var(np.asarray(totals, dtype=np.float64))) if totals else 0.0
    if k < 2 or total_variance <= 0:
        return 0.0
    omega = (
        omega_total(item_variances, item_total_covariances, total_variance)
        if len(item_total_covariances) == k
        else None
    )
    if omega is not None:
        return total_variance * max(0.0, 1.0 - omega)
    alpha = k / (k - 1) * (1.0 - float(sum(item_variances)) / total_variance)
    return total_variance * min(1.0, max(0.0, 1.0 - alpha))


@dataclass
class ItemMoments:
    """Per item of a paper: its variance and its covariance with the pupils' totals."""

    variances: list[float] = field(default_factory=list)
    total_covariances: list[float] = field(default_factory=list)


def _item_moments(tables: OptionalTables, exam_ids: list[str]) -> dict[str, ItemMoments]:
    """Each paper's item variances and item–total covariances (population), in one pass."""
    s = tables.table("item_score")
    s = s.filter(s.exam_id.isin(exam_ids) & s.score.notnull())
    t = s.group_by(["exam_id", "student_number"]).aggregate(total=s.score.sum())
    j = s.inner_join(t, ["exam_id", "student_number"])
    per = j.group_by(["exam_id", "item_no"]).aggregate(
        v=j.score.var(how="pop"),
        sxt=(j.score * j.total).mean(),
        sx=j.score.mean(),
        st=j.total.mean(),
    )
    out: dict[str, ItemMoments] = {}
    for r in _read(per.order_by(["exam_id", "item_no"])):
        found = out.setdefault(str(r["exam_id"]), ItemMoments())
        found.variances.append(float(r["v"] or 0.0))
        found.total_covariances.append(float(r["sxt"] - r["sx"] * r["st"]))
    return out


def _sem2(
    moments: Mapping[str, ItemMoments], totals: Mapping[str, Mapping[str, float]], exam_id: str
) -> float:
    found = moments.get(exam_id, ItemMoments())
    return error_variance(
        found.variances, list(totals.get(exam_id, {}).values()), found.total_covariances
    )


def _placements(tables: OptionalTables) -> dict[str, dict[str, Placement]]:
    """school_year → 学籍号 → placement, from the 学籍 and its history (the current row wins
    over an older version of the same year)."""
    found: dict[str, dict[str, Placement]] = {}
    columns = ("student_number", "school_year", "school_code", "grade_code", "class_no", "sex")
    for r in registry_rows(tables, columns):
        place = found.setdefault(str(r["school_year"]), {})
        number = str(r["student_number"])
        if number in place:
            continue
        place[number] = Placement(
            school_code=str(r["school_code"]),
            grade_code=str(r["grade_code"] or ""),
            class_no="" if r["class_no"] is None else str(r["class_no"]),
            sex=str(r["sex"] or ""),
        )
    return found


def _start(school_year: str) -> int | None:
    try:
        return int(school_year[:4])
    except ValueError:
        return None


def placement_then(pair: ExamPair, number: str, placements: Placements) -> Placement | None:
    """The pupil's school and class in the exam's school year.

    The 学籍 of that year when the warehouse holds it; else the latest year's, moved back: a
    class moves up intact (七年级(3)班 becomes 八年级(3)班), so the same school and class number
    when the pupil's latest grade is that many years later in the same 学段. A pupil who has
    changed 学段 since was at a school the 学籍 does not name: None."""
    year = placements.get(pair.school_year)
    if year is not None:
        return year.get(number)
    then = _start(pair.school_year)
    for latest_year in sorted(placements, reverse=True):
        latest = placements[latest_year].get(number)
        if latest is None:
            continue
        now = _start(latest_year)
        grade_now = grade_year_index(latest.grade_code)
        grade_then = grade_year_index(pair.grade_code)
        if None in (then, now, grade_now, grade_then):
            return None
        assert then is not None and now is not None
        assert grade_now is not None and grade_then is not None
        if latest.grade_code[:1] != pair.grade_code[:1] or grade_now - grade_then != now - then:
            return None
        return Placement(latest.school_code, pair.grade_code, latest.class_no, latest.sex)
    return None


def pupil_rows(
    pair: ExamPair, totals: Mapping[str, Mapping[str, float]], placements: Placements
) -> PupilRows:
    """The pupils who sat both exams and whose school that year is known (`placement_then`)."""
    now = totals.get(pair.exam_id, {})
    before = totals.get(pair.prior_exam_id, {})
    places: dict[str, Placement] = {}
    unplaced = 0
    for number in sorted(n for n in now if n in before):
        found = placement_then(pair, number, placements)
        if found is None:
            unplaced += 1
        else:
            places[number] = found
    numbers = sorted(places)
    known_classes = all(places[n].class_no for n in numbers)
    return PupilRows(
        pair=pair,
        student_number=tuple(numbers),
        outcome=np.array([now[n] for n in numbers], dtype=np.float64),
        prior=np.array([before[n] for n in numbers], dtype=np.float64),
        school=tuple(places[n].school_code for n in numbers),
        class_no=tuple(places[n].class_no for n in numbers) if known_classes else None,
        female=np.array([places[n].sex == "2" for n in numbers], dtype=np.float64),
        unplaced=unplaced,
    )


def _teachers(
    tables: OptionalTables,
) -> dict[tuple[str, str, str, str, str], list[str]]:
    """(school, year, grade, class_no, subject) → the staff numbers teaching it."""
    if not tables.has_table("teaching_assignment"):
        return {}
    t = tables.table("teaching_assignment")
    out: dict[tuple[str, str, str, str, str], list[str]] = {}
    for r in _read(
        t.select("staff_number", "school_code", "school_year", "grade_code", "class_no", "subject")
    ):
        key = (
            str(r["school_code"]),
            str(r["school_year"]),
            str(r["grade_code"]),
            str(r["class_no"]),
            str(r["subject"]),
        )
        staff = str(r["staff_number"])
        if staff not in out.setdefault(key, []):
            out[key].append(staff)
    return out


def attribution(staff: Sequence[str]) -> tuple[str | None, str]:
    """The teacher a class's effect is attributed to, or None with the reason."""
    if len(staff) == 1:
        return staff[0], "该班该学科只有一位任课教师"
    if not staff:
        return None, "任课记录中没有该班该学科的教师，不归因到教师"
    return None, f"该班该学科有{len(staff)}位任课教师，无法明确归因，不报告教师增值"


def _prior_groups(prior: np.ndarray) -> np.ndarray:
    """Twentieths of the prior total (ties kept together)."""
    edges = np.quantile(prior, np.linspace(0, 1, PRIOR_GROUPS + 1)[1:-1])
    return np.searchsorted(np.unique(edges), prior, side="right").astype(np.int64)


@dataclass(frozen=True)
class Design:
    """The prior column and covariates of one fit."""

    prior: np.ndarray
    covariates: np.ndarray | None
    names: list[str]
    within_reliability: float


def true_prior(prior: np.ndarray, schools: Sequence[str], error_variance: float) -> Design:
    """E[true prior | observed prior, group] = μ + ρ·(x − μ): the observed prior total
    shrunk towards its group's (school's or class's) mean by the within-group reliability
    ρ = 1 − SEM² ÷ the pooled within-group variance of the prior (kept in 0.05 … 1).
    Regressing on the expected true score, not the noisy one, removes the attenuation that
    measurement error in the prior causes, without estimating a contextual coefficient from a
    handful of school means."""
    if prior.size == 0:
        return Design(prior, None, [], 1.0)
    _, codes = np.unique(np.asarray(schools), return_inverse=True)
    school_mean = (np.bincount(codes, weights=prior) / np.bincount(codes))[codes]
    within = float(np.mean((prior - school_mean) ** 2))
    rho = 1.0 if within <= 0 else min(1.0, max(0.05, 1.0 - error_variance / within))
    expected = school_mean + rho * (prior - school_mean)
    return Design(expected, None, [], rho)


def within_true_prior(
    values: np.ndarray, groups: Sequence[str], error_variance: float
) -> np.ndarray:
    """Another subject's prior as its expected true score's deviation from the group's mean,
    ρ·(x − group mean), over the pupils who sat it; 0 (the group's mean) for the others (NaN).
    The group means of the other subjects are left out: they carry the school's effect of last
    year, which persists, and conditioning on them takes it out of this year's estimate
    (measured: correlation 0.910, coverage 86.6 % with them; docs/psychometrics.md)."""
    out = np.zeros(values.shape[0], dtype=np.float64)
    sat = ~np.isnan(values)
    if not sat.any():
        return out
    labels = np.asarray(groups)[sat]
    expected = true_prior(values[sat], list(labels), error_variance).prior
    _, codes = np.unique(labels, return_inverse=True)
    means = np.bincount(codes, weights=expected) / np.bincount(codes)
    out[sat] = expected - means[codes]
    return out


def design(rows: PupilRows, error_variance: float) -> Design:
    """The prior as its expected true score given the pupil's class (given the school when
    the classes are not known): a class taught together last year carries its own effect in
    its mean prior, as a school does; the other core subjects' priors (`within_true_prior`);
    and 女生 when both sexes are there."""
    groups: Sequence[str] = rows.school
    if rows.class_no is not None:
        groups = [f"{s}/{c}" for s, c in zip(rows.school, rows.class_no, strict=True)]
    found = true_prior(rows.prior, groups, error_variance)
    prior = found.prior
    others = [
        within_true_prior(values, groups, sem2)
        for _, values, sem2 in rows.other_priors
        if np.isfinite(values).any()
    ]
    others = [o for o in others if np.ptp(o) > 0]
    if others:
        prior = np.column_stack([prior, *others])
    if 0 < rows.female.sum() < rows.female.size:
        return Design(prior, rows.female[:, None], ["female"], found.within_reliability)
    return Design(prior, None, [], found.within_reliability)


def _use_classes(rows: PupilRows) -> bool:
    if rows.class_no is None or any(c == "" for c in rows.class_no):
        return False
    per_school: dict[str, set[str]] = {}
    for school, cls in zip(rows.school, rows.class_no, strict=True):
        per_school.setdefault(school, set()).add(cls)
    return sum(len(c) > 1 for c in per_school.values()) >= 2


def fit_pair(rows: PupilRows, error_variance: float = 0.0) -> tuple[ValueAddedFit, bool]:
    """The multilevel fit of one exam pair; the class level when the data allow it (falls back
    to schools only when the class fit cannot be made). `error_variance`: the prior paper's
    SEM² (0: the prior taken as measured without error)."""
    made = design(rows, error_variance)
    covariates, names = made.covariates, made.names
    schools = np.asarray(rows.school)
    if _use_classes(rows):
        assert rows.class_no is not None
        try:
            return (
                fit_value_added(
                    rows.outcome,
                    made.prior,
                    schools,
                    covariates=covariates,
                    covariate_names=names,
                    classes=np.asarray(rows.class_no),
                    small_group_threshold=SMALL_GROUP,
                ),
                True,
            )
        except ValueAddedInputError:
            pass
    fit = fit_value_added(
        rows.outcome,
        made.prior,
        schools,
        covariates=covariates,
        covariate_names=names,
        small_group_threshold=SMALL_GROUP,
    )
    return fit, False


def _mean_by(labels: Sequence[str], values: np.ndarray) -> dict[str, float]:
    keys, codes = np.unique(np.asarray(labels), return_inverse=True)
    means = np.bincount(codes, weights=values) / np.bincount(codes)
    return {str(k): float(m) for k, m in zip(keys, means, strict=True)}


def value_added_rows(
    rows: PupilRows,
    fitted_at: datetime,
    teachers: Mapping[tuple[str, str, str, str, str], Sequence[str]],
    prior_error_variance: float = 0.0,
) -> list[dict[str, Any]]:
    """The `exam_value_added` rows of one exam pair: a row per school and per class."""
    pair = rows.pair
    fit, with_classes = fit_pair(rows, prior_error_variance)
    progress = progress_scores(
        rows.outcome,
        _prior_groups(rows.prior),
        np.asarray(rows.school),
        small_group_threshold=SMALL_GROUP,
    )
    school_progress = dict(zip(progress.school_labels, progress.school_score.tolist(), strict=True))
    method = METHOD.format(
        given="school" if rows.class_no is None else "class",
        others=" + other core subjects' priors" if rows.other_priors else "",
        classes=" + (1|school:class)" if with_classes else "",
    )
    common = {
        "school_year": pair.school_year,
        "subject": pair.subject,
        "grade_code": pair.grade_code,
        "exam_id": pair.exam_id,
        "prior_exam_id": pair.prior_exam_id,
        "max_score": pair.max_score,
        "method": method,
        "fitted_at": fitted_at,
    }
    out = [
        common | _group_row(fit.schools, g, "school") | {
            "progress_score": school_progress[fit.schools.labels[g]],
            "teacher": None,
            "teacher_note": None,
        }
        for g in range(len(fit.schools.labels))
    ]  # fmt: skip
    if with_classes and fit.classes is not None:
        assert rows.class_no is not None
        cells = [f"{s}/{c}" for s, c in zip(rows.school, rows.class_no, strict=True)]
        class_progress = _mean_by(cells, progress.pupil_score)
        classes = fit.classes
        for g in range(len(classes.labels)):
            school, class_no = classes.parent[g], classes.labels[g]
            staff = teachers.get(
                (school, pair.school_year, pair.grade_code, class_no, pair.subject), ()
            )
            teacher, note = attribution(staff)
            out.append(
                common
                | _group_row(classes, g, "class")
                | {
                    "school_code": school,
                    "class_code": f"{school}/{pair.grade_code}/{class_no}",
                    "progress_score": class_progress[f"{school}/{class_no}"],
                    "teacher": teacher,
                    "teacher_note": note,
                }
            )
    return out


def _group_row(effects: GroupEffects, g: int, level: str) -> dict[str, Any]:
    shrinkage = effects.shrinkage
    return {
        "level": level,
        "school_code": effects.labels[g],
        "class_code": None,
        "pupils": int(effects.pupils[g]),
        "effect": float(effects.effect[g]),
        "lower": float(effects.lower[g]),
        "upper": float(effects.upper[g]),
        "shrinkage": float(shrinkage[g]),
        "band": str(effects.bands[g]),
        "small_group": bool(effects.small[g]),
    }


def run_value_added(
    tables: OptionalTables,
    *,
    fitted_at: datetime,
    school_year: str | None = None,
    note: Callable[[str], None] | None = None,
) -> Outcome:
    """Fit every exam pair of the warehouse (of one school year, if given)."""
    say = note or (lambda _line: None)
    outcome = Outcome()
    pairs = exam_pairs(warehouse_exams(tables))
    if school_year is not None:
        pairs = [p for p in pairs if p.school_year == school_year]
    outcome.pairs = len(pairs)
    if not pairs:
        outcome.notes.append("没有可计算增值的考试：需要同一学科上一学年低一年级的期末考试成绩")
        return outcome
    ids = sorted({p.exam_id for p in pairs} | {p.prior_exam_id for p in pairs})
    totals = _totals(tables, ids)
    moments = _item_moments(tables, sorted({p.prior_exam_id for p in pairs}))
    placements = _placements(tables)
    teachers = _teachers(tables)
    priors = {(p.school_year, p.grade_code, p.subject): p.prior_exam_id for p in pairs}
    for pair in pairs:
        rows = pupil_rows(pair, totals, placements)
        others = [
            priors[(pair.school_year, pair.grade_code, subject)]
            for subject in PRIOR_SUBJECTS
            if subject != pair.subject and (pair.school_year, pair.grade_code, subject) in priors
        ]
        rows = replace(
            rows,
            other_priors=tuple(
                (
                    exam_id,
                    np.array(
                        [totals.get(exam_id, {}).get(n, np.nan) for n in rows.student_number],
                        dtype=np.float64,
                    ),
                    _sem2(moments, totals, exam_id),
                )
                for exam_id in others
            ),
        )
        label = f"{pair.exam_id}（先前成绩 {pair.prior_exam_id}）"
        if rows.unplaced:
            outcome.notes.append(
                f"{label}：{rows.unplaced}名学生该学年所在学校不在学籍中（此后升入另一学段），"
                "不计入"
            )
            say(outcome.notes[-1])
        if not rows.student_number:
            outcome.notes.append(f"{label}：没有可计入的学生，未计算")
            say(outcome.notes[-1])
            continue
        try:
            sem2 = _sem2(moments, totals, pair.prior_exam_id)
            found = value_added_rows(rows, fitted_at, teachers, sem2)
        except ValueAddedInputError as exc:
            outcome.notes.append(f"{label}：{len(rows.student_number)}名学生，未计算：{exc}")
            say(outcome.notes[-1])
            continue
        outcome.rows += found
        outcome.fitted += 1
        schools = sum(r["level"] == "school" for r in found)
        outcome.notes.append(f"{label}：{len(rows.student_number)}名学生，{schools}所学校")
        say(outcome.notes[-1])
    return outcome
