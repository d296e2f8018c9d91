"""Entry points the CLI, the service and the cockpit call: fit a diagnosis for a knowledge
folder, open it again, and ask it for a student, a class or an audit.

The fitted diagnosis is one file, `settings.workspace.diagnosis` (no pickles). The roster
(class, grade, sex, 城乡 of each student) is read from the warehouse's `student` and `school`
tables when they are there; students the warehouse does not know are reported as "unknown".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

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
    ItemBank,
    KnowledgeGraph,
    Practice,
    StrArray,
    load_knowledge,
    load_practice,
)
from edubrain.diagnosis.responses import IntArray, roc_auc
from edubrain.errors import DiagnosisInputError
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

SEX_LABEL = {"1": "男", "2": "女"}
UNKNOWN = "unknown"


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

    def student_index(self, student_number: str) -> int:
        hits = np.flatnonzero(self.diagnosis.student_numbers == student_number)
        if hits.size == 0:
            raise DiagnosisInputError(f"student {student_number} has no practice in the diagnosis")
        return int(hits[0])

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


def read_roster(settings: Settings, student_numbers: StrArray) -> Roster:
    n = student_numbers.size
    roster = Roster(*(np.full(n, UNKNOWN).astype(np.str_) for _ in range(4)))
    if not settings.workspace.warehouse.exists():
        return roster
    with open_warehouse(settings) as wh:
        if not (wh.has_table("student") and wh.has_table("school")):
            return roster
        cols = ["student_number", "sex", "school_code", "grade_code", "class_no"]
        students = wh.table("student").select(*cols).to_pyarrow().to_pandas()
        schools = wh.table("school").select("school_code", "urban_rural").to_pyarrow().to_pandas()
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


def fit(settings: Settings, knowledge_dir: Path, seed: int = 20251) -> dict[str, Any]:
    """Fit the diagnosis on a knowledge folder and save it; returns a summary."""
    started = time.perf_counter()
    graph, items = load_knowledge(knowledge_dir)
    practice = load_practice(knowledge_dir, items)
    diagnosis = diagnose(practice, graph, items, np.random.default_rng(seed))
    diagnosis.settings = {"knowledge_dir": str(Path(knowledge_dir).resolve()), "seed": seed}
    path = settings.workspace.diagnosis
    diagnosis.save(path)
    p = one_step_predictions(diagnosis, practice, items)
    return {
        "file": str(path),
        "students": int(diagnosis.student_numbers.size),
        "knowledge_points": int(graph.size),
        "items": int(items.item_ids.size),
        "responses": int(practice.log.size),
        "one_step_auc": roc_auc(practice.log.correct, p),
        "seconds": time.perf_counter() - started,
    }


def open_diagnosis(settings: Settings) -> FittedDiagnosis:
    path = settings.workspace.diagnosis
    if not path.exists():
        raise DiagnosisInputError(f"{path}: no diagnosis yet; run `edubrain diagnose fit` first")
    diagnosis = Diagnosis.load(path)
    folder = Path(str(diagnosis.settings["knowledge_dir"]))
    graph, items = load_knowledge(folder)
    practice = load_practice(folder, items)
    if not np.array_equal(graph.codes, diagnosis.kp_codes) or not np.array_equal(
        practice.student_numbers, diagnosis.student_numbers
    ):
        raise DiagnosisInputError(f"{folder} changed since the diagnosis was fitted; fit again")
    item_file = pd.read_csv(folder / "practice_item.csv", dtype=str, keep_default_na=False)
    item_grade = (
        item_file["grade_code"].to_numpy(dtype=np.str_)
        if "grade_code" in item_file
        else np.full(items.item_ids.size, UNKNOWN).astype(np.str_)
    )
    roster = read_roster(settings, diagnosis.student_numbers)
    return FittedDiagnosis(diagnosis, graph, items, practice, roster, item_grade)


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
