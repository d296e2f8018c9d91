"""The exams' reads for the API, the CLI and the cockpit: in the caller's scope, masked, audited.

An exam's item scores are read through the declared scope rule of `item_score` (a teacher: the
pupils of their classes; a school admin: the school; the bureau: its region), so every report
is about pupils the caller may see. Individual scores are 敏感: a pupil's own scores are shown
only to roles cleared for 敏感 data; the reports are aggregates. A pupil's rank band is their
place among all the exam's takers (a 统考's population), which is never shown itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from edubrain.errors import NotFoundError
from edubrain.modules.exams.analysis import (
    Paper,
    item_report,
    knowledge_points,
    rank_band,
    score_report,
)
from edubrain.modules.exams.matrix import read_matrix
from edubrain.service.masking import in_clear
from edubrain.service.policy import Actor, Scope, clearance, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.standard.entities import DataClass

SCORE_CLASS = DataClass.SENSITIVE
POINT_TABLE = "knowledge_point"
# Reports of fewer pupils than this are withheld from roles not cleared for 敏感 scores.
SMALLEST_GROUP = 5


class ExamNotFoundError(NotFoundError):
    """No exam with this id has scores in the caller's scope."""


def scores_in_clear(actor: Actor) -> bool:
    return in_clear(SCORE_CLASS, clearance(actor.role))


def exam_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """An exam's own fields as the reads give them (date as text, 满分 as a number)."""
    return {
        "exam_id": row["exam_id"],
        "name": row["name"],
        "subject": row["subject"],
        "grade_code": row["grade_code"],
        "exam_date": str(row["exam_date"]),
        "max_score": float(row["max_score"]),
    }


def exams_in_scope(reader: WarehouseReader, scope: Scope | None) -> list[dict[str, Any]]:
    """The exams with item scores of pupils in the scope (None: the operator's whole
    warehouse, for the CLI), newest first, with the mean 得分率 of those pupils (for a teacher,
    the class's trend across its exams)."""
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        return []
    with reader.lock:
        s = reader.table("item_score")
        if scope is not None:
            s = s.filter(scope_predicate(scope, "item_score", s, reader))
        totals = s.group_by(["exam_id", "student_number"]).aggregate(total=s.score.sum())
        taken = totals.group_by("exam_id").aggregate(
            pupils=totals.student_number.count(), mean_total=totals.total.mean()
        )
        e = reader.table("exam")
        expr = e.inner_join(taken, "exam_id").order_by([e.exam_date.desc(), e.exam_id])
    return [
        {
            **exam_fields(r),
            "pupils": int(r["pupils"]),
            # the trend of the caller's pupils (a teacher's class) across exams: mean 得分率
            "mean_rate": float(r["mean_total"]) / float(r["max_score"]),
        }
        for r in reader.rows(expr)
    ]


def scoped_paper(
    reader: WarehouseReader,
    scope: Scope | None,
    exam_id: str,
    *,
    school_code: str | None = None,
    class_no: int | None = None,
    student_number: str | None = None,
    whole_exam: bool = False,
) -> tuple[dict[str, Any], Paper]:
    """The exam and its score matrix for the pupils in scope (or, `whole_exam`, all takers —
    only for the rank band, never shown), narrowed to a school, a class or one pupil."""
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        raise ExamNotFoundError(f"no exam {exam_id}")
    with reader.lock:
        e = reader.table("exam")
        exam_expr = e.filter(e.exam_id == exam_id)
        it = reader.table("exam_item")
        items_expr = it.filter(it.exam_id == exam_id).order_by("item_no")
        s = reader.table("item_score")
        s = s.filter(s.exam_id == exam_id)
        if scope is not None and not whole_exam:
            s = s.filter(scope_predicate(scope, "item_score", s, reader))
        if student_number is not None:
            s = s.filter(s.student_number == student_number)
        if school_code is not None or class_no is not None:
            st = reader.table("student")
            if school_code is not None:
                st = st.filter(st.school_code == school_code)
            if class_no is not None:
                st = st.filter(st.class_no == class_no)
            s = s.filter(s.student_number.isin(st.student_number))
        scores_expr = s.select("student_number", "item_no", "score")
    exams = reader.rows(exam_expr)
    items = reader.rows(items_expr)
    item_nos = tuple(int(i["item_no"]) for i in items)
    with reader.lock:
        students, matrix = read_matrix(scores_expr, item_nos)
    if not exams or (not students and not whole_exam and student_number is None):
        raise ExamNotFoundError(f"no exam {exam_id} with scores in your scope")
    paper = _paper(exam_id, float(exams[0]["max_score"]), items, students, matrix)
    return exams[0], replace(paper, point_names=_point_names(reader))


def exam_totals(reader: WarehouseReader, exam_id: str) -> NDArray[np.float64]:
    """Every taker's total on the exam, summed in the warehouse (only to place a pupil in a
    rank band: the totals are never shown)."""
    if not reader.has_table("item_score"):
        return np.zeros(0)
    with reader.lock:
        s = reader.table("item_score")
        s = s.filter(s.exam_id == exam_id)
        expr = s.group_by("student_number").aggregate(total=s.score.sum())
        totals: pa.Table = expr.select("total").to_pyarrow()
    column = pc.fill_null(totals.column("total").combine_chunks(), 0.0)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _point_names(reader: WarehouseReader) -> dict[str, str]:
    """The names of the knowledge points, when the warehouse holds the knowledge graph (学情
    诊断's `knowledge_point`): the page then shows 一元一次方程, not a code."""
    if not reader.has_table(POINT_TABLE):
        return {}
    with reader.lock:
        expr = reader.table(POINT_TABLE).select("kp_code", "name")
    return {str(r["kp_code"]): str(r["name"]) for r in reader.rows(expr) if r["name"]}


def _paper(
    exam_id: str,
    maximum: float,
    items: list[dict[str, Any]],
    students: tuple[str, ...],
    matrix: NDArray[np.float64],
) -> Paper:
    """The paper of a pupils × items matrix pivoted in Arrow/NumPy (`matrix.read_matrix`)."""
    item_nos = tuple(int(i["item_no"]) for i in items)
    return Paper(
        exam_id=exam_id,
        maximum=maximum,
        item_nos=item_nos,
        item_maxima=np.array([float(i["max_score"]) for i in items]),
        item_types=tuple(i.get("item_type") for i in items),
        knowledge_points=tuple(knowledge_points(i.get("knowledge_points")) for i in items),
        students=students,
        scores=matrix,
    )


def exam_report(
    reader: WarehouseReader,
    scope: Scope | None,
    exam_id: str,
    *,
    school_code: str | None = None,
    class_no: int | None = None,
    smallest_group: int = 0,
) -> dict[str, Any]:
    """The score report of an exam for the pupils in scope, of a school or a class.

    A group smaller than `smallest_group` gets no figures (a mean of two pupils is nearly their
    scores): what a role not cleared for 敏感 scores is given (`smallest_group_for`)."""
    exam, paper = scoped_paper(reader, scope, exam_id, school_code=school_code, class_no=class_no)
    pupils = len(paper.students)
    if pupils < smallest_group:
        nobody = np.zeros(pupils, dtype=np.bool_)
        report = asdict(score_report(paper.rows(nobody)))
        report["pupils"] = pupils
        report["notices"] = (
            f"只有{pupils}名学生，少于{smallest_group}人：为保护学生个人信息，不显示统计结果。",
        )
        return {"exam": exam_fields(exam), "report": report}
    return {"exam": exam_fields(exam), "report": asdict(score_report(paper))}


def smallest_group_for(actor: Actor) -> int:
    """The smallest group whose report the caller sees: any for roles cleared for 敏感 scores
    (they may see each pupil's), `SMALLEST_GROUP` for the others."""
    return 0 if scores_in_clear(actor) else SMALLEST_GROUP


def exam_items(
    reader: WarehouseReader, scope: Scope | None, exam_id: str, *, school_code: str | None = None
) -> dict[str, Any]:
    """The CTT item analysis of an exam's paper over the pupils in scope (or a school's)."""
    exam, paper = scoped_paper(reader, scope, exam_id, school_code=school_code)
    return {"exam": exam_fields(exam), "analysis": asdict(item_report(paper))}


def pupil_exams(
    reader: WarehouseReader, scope: Scope, number: str, *, clear: bool
) -> list[dict[str, Any]]:
    """A pupil's exams (the caller has already opened the pupil in scope): total, 得分率 and
    rank band, oldest first (the trend); the scores are masked (None) unless `clear`."""
    out = []
    for exam in sorted(exams_taken(reader, scope, number), key=lambda e: str(e["exam_date"])):
        _, mine = scoped_paper(reader, scope, exam["exam_id"], student_number=number)
        if not mine.students:
            continue
        everyone = exam_totals(reader, exam["exam_id"])
        total = float(mine.totals()[0])
        out.append(
            {
                **exam_fields(exam),
                "total": total if clear else None,
                "rate": total / mine.maximum if clear else None,
                "rank_band": rank_band(total, everyone) if clear else None,
            }
        )
    return out


def exams_taken(reader: WarehouseReader, scope: Scope, number: str) -> list[dict[str, Any]]:
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        return []
    with reader.lock:
        s = reader.table("item_score")
        s = s.filter(scope_predicate(scope, "item_score", s, reader))
        s = s.filter(s.student_number == number).select("exam_id").distinct()
        e = reader.table("exam")
        expr = e.inner_join(s, "exam_id")
    return reader.rows(expr)
