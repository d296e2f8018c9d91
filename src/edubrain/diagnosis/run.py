"""Entry points the CLI, the service and the cockpit call: fit a diagnosis on the knowledge
graph and practice responses in the warehouse, open it again, and ask it for a student, a
class or an audit.

The fitted diagnosis is one file, `settings.workspace.diagnosis` (no pickles). Its input is
read from the warehouse (the `diagnosis` module's entities; `edubrain ingest` a knowledge
folder first), as is the roster (class, grade, sex, 城乡 of each student, from the `student`
and `school` tables); students the warehouse's roster does not know are reported as "unknown".
Student numbers are the warehouse's, so a G 学籍号 is sealed (decision 0011): a number given in
clear is sealed to look it up, and numbers are opened again for display.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from edubrain.diagnosis.audit import Audit, Truth, audit, one_step_predictions
from edubrain.diagnosis.diagnose import (
    Diagnosis,
    Heatmap,
    Layers,
    PracticePolicy,
    Recommendation,
    WrongItem,
    class_heatmap,
    diagnose,
    layer_groups,
    recommend,
    wrong_book,
)
from edubrain.diagnosis.graph import (
    UNKNOWN_GRADE,
    ItemBank,
    KnowledgeGraph,
    Practice,
    StrArray,
    read_knowledge,
    read_practice,
)
from edubrain.diagnosis.responses import IntArray, roc_auc
from edubrain.errors import DiagnosisInputError
from edubrain.sealing import Sealer, sealer_for
from edubrain.settings import Settings
from edubrain.warehouse import OptionalTables, Warehouse, open_warehouse

# Each pupil's fitted mastery, a derived table of the warehouse: read in scope (the
# `diagnosis` module declares its scope rule, by the pupil's 学籍号) and masked like scores.
MASTERY_TABLE = "diagnosis_mastery"
SEX_LABEL = {"1": "男", "2": "女"}
UNKNOWN = UNKNOWN_GRADE


@dataclass
class Roster:
    class_key: StrArray  # school_code/grade_code/class_no
    grade_code: StrArray
    sex: StrArray
    urban_rural: StrArray


@dataclass
class FittedDiagnosis:
    """A fitted diagnosis with everything needed to answer questions about it."""

    diagnosis: Diagnosis
    graph: KnowledgeGraph
    items: ItemBank
    practice: Practice
    roster: Roster
    item_grade: StrArray
    sealer: Sealer | None = None  # student numbers are the warehouse's: G 学籍号 sealed

    def student_index(self, student_number: str) -> int:
        """The index of a student given by the 学籍号 in clear (or as stored)."""
        key = self.sealer.seal_student_number(student_number) if self.sealer else student_number
        hits = np.flatnonzero(self.diagnosis.student_numbers == key)
        if hits.size == 0:
            raise DiagnosisInputError(f"student {student_number} has no practice in the diagnosis")
        return int(hits[0])

    def in_clear(self, student_number: str) -> str:
        """A stored student number as the operator knows it."""
        return self.sealer.open_student_number(student_number) if self.sealer else student_number

    def grade_of(self, student: int) -> str:
        """The roster's grade, else the grade of most of the items the student practised."""
        grade = str(self.roster.grade_code[student])
        if grade != UNKNOWN:
            return grade
        log = self.practice.log
        practised = self.item_grade[log.item[log.student == student]]
        if practised.size == 0:
            return UNKNOWN
        values, counts = np.unique(practised, return_counts=True)
        return str(values[np.argmax(counts)])

    def allowed_items(self, student: int) -> IntArray:
        """Items of the student's grade (all items when the grade is unknown)."""
        grade = self.grade_of(student)
        if grade == UNKNOWN:
            return np.arange(self.items.item_ids.size, dtype=np.int64)
        return np.flatnonzero(self.item_grade == grade).astype(np.int64)


def read_roster(wh: OptionalTables, student_numbers: StrArray) -> Roster:
    n = student_numbers.size
    roster = Roster(*(np.full(n, UNKNOWN).astype(np.str_) for _ in range(4)))
    if not (wh.has_table("student") and wh.has_table("school")):
        return roster
    cols = ["student_number", "sex", "school_code", "grade_code", "class_no"]
    students = wh.table("student").select(*cols).to_pyarrow().to_pandas()
    schools = wh.table("school").select("school_code", "urban_rural").to_pyarrow().to_pandas()
    if students.empty:
        return roster
    frame = students.astype(str).merge(schools.astype(str), on="school_code", how="left")
    frame = frame.drop_duplicates("student_number").set_index("student_number")
    found = frame.reindex(pd.Index(student_numbers.astype(str)))
    known = found["school_code"].notna().to_numpy()

    def column(values: pd.Series) -> StrArray:
        text = values.fillna(UNKNOWN).astype(str).to_numpy(dtype=object)
        text[~known] = UNKNOWN
        out: StrArray = text.astype(np.str_)
        return out

    key = found["school_code"] + "/" + found["grade_code"] + "/" + found["class_no"]
    return Roster(
        column(key),
        column(found["grade_code"]),
        column(found["sex"].map(lambda s: SEX_LABEL.get(str(s), str(s)))),
        column(found["urban_rural"]),
    )


def _warehouse(settings: Settings) -> Warehouse:
    if not settings.workspace.warehouse.exists():
        raise DiagnosisInputError(
            "工作区还没有数据：请先运行 edubrain diagnose fit 知识文件夹"
            "（或 edubrain demo 生成示例县）"
            f" — {settings.workspace.warehouse}: no warehouse yet; ingest a knowledge folder first"
        )
    return open_warehouse(settings, read_only=True)


def fit(settings: Settings, seed: int = 20251) -> dict[str, Any]:
    """Fit the diagnosis on the warehouse's knowledge graph and practice, save it, and write
    each pupil's mastery to the warehouse (`MASTERY_TABLE`); returns a summary."""
    started = time.perf_counter()
    with _warehouse(settings) as wh:
        graph, items, item_grade = read_knowledge(wh)
        practice = read_practice(wh, items)
        roster = read_roster(wh, practice.student_numbers)
    diagnosis = diagnose(practice, graph, items, np.random.default_rng(seed))
    diagnosis.settings = {"source": "warehouse", "seed": seed}
    path = settings.workspace.diagnosis
    diagnosis.save(path)
    fitted = FittedDiagnosis(diagnosis, graph, items, practice, roster, item_grade)
    rows = mastery_rows(fitted, datetime.now(UTC).replace(tzinfo=None, microsecond=0))
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table(MASTERY_TABLE, rows)
    p = one_step_predictions(diagnosis, practice, items)
    return {
        "file": str(path),
        "students": int(diagnosis.student_numbers.size),
        "knowledge_points": int(graph.size),
        "items": int(items.item_ids.size),
        "responses": int(practice.log.size),
        "responses_skipped": practice.skipped,
        "mastery_rows": rows.num_rows,
        "one_step_auc": roc_auc(practice.log.correct, p),
        "seconds": time.perf_counter() - started,
    }


def grades(fitted: FittedDiagnosis) -> StrArray:
    """`grade_of` of every student at once."""
    n = fitted.diagnosis.student_numbers.size
    log = fitted.practice.log
    counts = (
        pd.DataFrame({"s": log.student, "g": fitted.item_grade[log.item].astype(str)})
        .value_counts()
        .reset_index(name="n")
        .sort_values(["s", "n", "g"], ascending=[True, False, True])
        .drop_duplicates("s")
    )
    practised = np.full(n, UNKNOWN).astype(object)
    practised[counts["s"].to_numpy()] = counts["g"].to_numpy()
    roster = fitted.roster.grade_code.astype(object)
    out: StrArray = np.where(roster != UNKNOWN, roster, practised).astype(np.str_)
    return out


def mastery_rows(fitted: FittedDiagnosis, fitted_at: datetime) -> pa.Table:
    """Each student's mastery of every point of the items of their grade (all points when the
    grade is unknown) — the points `student_view` lists — as rows of `MASTERY_TABLE`."""
    d = fitted.diagnosis
    grade = grades(fitted)
    students: list[IntArray] = []
    points: list[IntArray] = []
    for g in np.unique(grade):
        who = np.flatnonzero(grade == g)
        if g == UNKNOWN:
            kps = np.arange(d.kp_codes.size, dtype=np.int64)
        else:
            allowed = np.flatnonzero(fitted.item_grade == g)
            kps = np.unique(fitted.items.q_matrix[allowed].indices).astype(np.int64)
        students.append(np.repeat(who, kps.size))
        points.append(np.tile(kps, who.size))
    s = np.concatenate(students) if students else np.zeros(0, np.int64)
    k = np.concatenate(points) if points else np.zeros(0, np.int64)
    return pa.table(
        {
            "student_number": pa.array(d.student_numbers[s].astype(object), pa.string()),
            "kp_code": pa.array(d.kp_codes[k].astype(object), pa.string()),
            "mastery": pa.array(d.mastery[s, k].astype(np.float64)),
            "uncertainty": pa.array(d.uncertainty[s, k].astype(np.float64)),
            "attempts": pa.array(d.attempts[s, k].astype(np.int64)),
            "fitted_at": pa.array(
                np.full(s.size, np.datetime64(fitted_at, "s")), pa.timestamp("s")
            ),
        }
    )


def open_diagnosis(settings: Settings) -> FittedDiagnosis:
    path = settings.workspace.diagnosis
    if not path.exists():
        raise DiagnosisInputError(f"{path}: no diagnosis yet; run `edubrain diagnose fit` first")
    diagnosis = Diagnosis.load(path)
    with _warehouse(settings) as wh:
        graph, items, item_grade = read_knowledge(wh)
        practice = read_practice(wh, items)
        if not np.array_equal(graph.codes, diagnosis.kp_codes) or not np.array_equal(
            practice.student_numbers, diagnosis.student_numbers
        ):
            raise DiagnosisInputError(
                "the warehouse's knowledge graph or practice changed since the diagnosis was "
                "fitted; fit again (`edubrain diagnose fit`)"
            )
        roster = read_roster(wh, diagnosis.student_numbers)
    return FittedDiagnosis(
        diagnosis, graph, items, practice, roster, item_grade, sealer_for(settings)
    )


@dataclass
class StudentView:
    student_number: str
    class_key: str
    mastery: list[dict[str, Any]]  # per point of the student's grade, weakest first
    recommendations: list[Recommendation]
    wrong_items: list[WrongItem]


def student_view(
    fitted: FittedDiagnosis, student_number: str, policy: PracticePolicy
) -> StudentView:
    s = fitted.student_index(student_number)
    d = fitted.diagnosis
    allowed = fitted.allowed_items(s)
    points = np.unique(fitted.items.q_matrix[allowed].indices) if allowed.size else np.zeros(0, int)
    mastery = [
        {
            "kp_code": str(d.kp_codes[k]),
            "name": str(fitted.graph.names[k]),
            "mastery": float(d.mastery[s, k]),
            "uncertainty": float(d.uncertainty[s, k]),
            "attempts": int(d.attempts[s, k]),
        }
        for k in points
    ]
    mastery.sort(key=lambda r: (r["mastery"], r["kp_code"]))
    success = d.success(fitted.items, np.array([s]))[0]
    log = fitted.practice.log
    right = log.item[(log.student == s) & (log.correct == 1)]
    excluded = np.union1d(np.setdiff1d(np.arange(fitted.items.item_ids.size), allowed), right)
    recs = recommend(d.mastery[s], success, fitted.graph, fitted.items, policy, excluded)
    wrong = wrong_book(fitted.practice, s, fitted.items, success)
    return StudentView(student_number, str(fitted.roster.class_key[s]), mastery, recs, wrong)


@dataclass
class ClassView:
    class_key: str
    students: StrArray
    heatmap: Heatmap
    layers: Layers
    points: IntArray


def class_view(
    fitted: FittedDiagnosis, class_key: str, n_groups: int = 3, min_size: int = 4
) -> ClassView:
    members = np.flatnonzero(fitted.roster.class_key == class_key)
    if members.size == 0:
        raise DiagnosisInputError(f"class {class_key} has no students in the diagnosis")
    practised = np.flatnonzero(fitted.diagnosis.attempts[members].sum(axis=0) > 0)
    heat = class_heatmap(fitted.diagnosis, fitted.roster.class_key, practised)
    row = np.flatnonzero(heat.classes == class_key)
    one = Heatmap(heat.classes[row], heat.kp_codes, heat.mean_mastery[row], heat.students[row])
    layers = layer_groups(fitted.diagnosis.mastery[np.ix_(members, practised)], n_groups, min_size)
    return ClassView(class_key, fitted.diagnosis.student_numbers[members], one, layers, practised)


def read_truth(truth_dir: Path, fitted: FittedDiagnosis) -> Truth:
    """True mastery and item parameters from a generator truth folder."""
    mastery_file = Path(truth_dir) / "knowledge_mastery.csv"
    item_file = Path(truth_dir) / "practice_item_parameters.csv"
    for f in (mastery_file, item_file):
        if not f.exists():
            raise DiagnosisInputError(f"{f}: missing (not a generator truth folder?)")
    m = pd.read_csv(mastery_file, dtype=str)
    if fitted.sealer is not None:  # the truth names pupils in clear, the warehouse sealed
        numbers = pa.array(m["student_number"].to_numpy(dtype=object), pa.string())
        sealed = fitted.sealer.seal_student_number_column(numbers)
        m["student_number"] = sealed.to_numpy(zero_copy_only=False)
    student = pd.Series(np.arange(fitted.diagnosis.student_numbers.size),
                        index=fitted.diagnosis.student_numbers.astype(str))  # fmt: skip
    s = m["student_number"].map(student)
    k = fitted.graph.index(m["kp_code"].to_numpy())
    keep = s.notna().to_numpy() & (k >= 0)
    mastered = np.full(fitted.diagnosis.mastery.shape, np.nan)
    mastered[s[keep].astype(int).to_numpy(), k[keep]] = m["mastered_end"][keep].astype(float)
    params = pd.read_csv(item_file, dtype={"item_id": str}).set_index("item_id")
    params = params.reindex(pd.Index(fitted.items.item_ids.astype(str)))
    return Truth(mastered, params["guess"].to_numpy(float), params["slip"].to_numpy(float))


def run_audit(
    fitted: FittedDiagnosis, policy: PracticePolicy, truth_dir: Path | None = None
) -> Audit:
    truth = read_truth(truth_dir, fitted) if truth_dir else None
    groups = {"urban_rural": fitted.roster.urban_rural, "sex": fitted.roster.sex}
    allowed = [fitted.allowed_items(s) for s in range(fitted.diagnosis.student_numbers.size)]
    return audit(
        fitted.diagnosis, fitted.practice, fitted.graph, fitted.items, groups, policy,
        item_allowed=allowed, truth=truth,
    )  # fmt: skip
