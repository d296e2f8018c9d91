"""学情 of a teacher's classes: mastery heatmap, 分层 groups, recommended practice, 错题本.

Everything is read in the caller's scope (the declared scope rules of `student`,
`exam_mastery`, `item_score` and the practice diagnosis's `diagnosis_mastery`): a class-scoped
teacher reads her class, a school's staff the school's classes. The outputs are the diagnosis
outputs of `edubrain.diagnosis.diagnose`, computed one way whatever the evidence:

- **Mastery** (pupils × points): the exam's cognitive diagnosis (`exam_mastery`, one row per
  attribute of the paper: a knowledge point, or a chapter when the paper's points were rolled
  up), and, where the practice diagnosis (`diagnosis_mastery`) has the same pupils, their
  practice mastery of the points under each attribute that they practised (their mean; an
  unpractised point's mastery is only the model's prior), as rows of their own marked 练习.
- **Heatmap**: points × pupils (the matrix itself) and points × groups (`group_means`).
- **分层 groups**: `layer_groups` on the mastery (a pupil's missing value: the class's mean of
  that point, so it does not move them).
- **Recommended practice** per group: `recommend` on the group's mean mastery, over the exam's
  own items (their knowledge points the Q-matrix; an item's success chance the share of the
  group who got it right), for 订正与变式练习 on the group's weakest points; and, when the
  practice diagnosis is fitted (its model file and the warehouse's knowledge graph agree), over
  the practice item bank of the exam's grade, with the practice model's success chances
  (`item_success`) on the group's mastery of each graph point — its practice mastery where it
  has one, else the exam's mastery of the point or of its chapter.
- **错题本**: `most_missed` on the class's right/wrong answers (right: at least 60 % of the
  item's 分值, the cognitive diagnosis's rule), with each item's knowledge points.

Mastery is 敏感 like the scores it comes from: a pupil's values and name are shown only to
roles cleared for 敏感 data; groups' means are aggregates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edubrain.diagnosis.diagnose import (
    LAYER_NAMES,
    Diagnosis,
    PracticePolicy,
    group_means,
    item_success,
    layer_groups,
    most_missed,
    recommend,
)
from edubrain.diagnosis.graph import ItemBank, KnowledgeGraph, StrArray, read_knowledge
from edubrain.diagnosis.run import MASTERY_TABLE as PRACTICE_MASTERY
from edubrain.errors import EdubrainError, NotFoundError
from edubrain.modules.exams.mastery import MASTERY_TABLE, dichotomise, parent
from edubrain.modules.exams.reads import POINT_TABLE, scoped_paper
from edubrain.service.masking import mask_name
from edubrain.service.policy import Scope, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.standard.codes import code_tables

SOURCE_EXAM = "考试"
SOURCE_PRACTICE = "练习"
# Recommended practice from the exam's items: the items a part of the group got right
# (30–80 %), on points the group has not yet mastered (below 80 %).
EXAM_PRACTICE = PracticePolicy(band=(0.3, 0.8), ready_at=0.0, mastered_at=0.8, count=4)
WRONG_ITEMS = 10


class ClassNotFoundError(NotFoundError):
    """No class with this key has pupils in the caller's scope."""


@dataclass(frozen=True)
class PracticeBank:
    """The practice diagnosis's graph, items and fitted parameters, when they agree."""

    graph: KnowledgeGraph
    items: ItemBank
    item_grade: StrArray
    point_parameters: NDArray[np.float64]
    item_offset: NDArray[np.float64]


def practice_bank(reader: WarehouseReader, model: Path | None) -> PracticeBank | None:
    """The fitted practice diagnosis over the warehouse's knowledge graph, or None (no model
    file, no graph, or a graph changed since the fit)."""
    if model is None or not model.exists() or not reader.has_table("practice_item"):
        return None
    try:
        with reader.lock:
            graph, items, item_grade = read_knowledge(reader)
        fitted = Diagnosis.load(model)
    except EdubrainError:
        return None
    if not (
        np.array_equal(fitted.kp_codes, graph.codes)
        and np.array_equal(fitted.item_ids, items.item_ids)
    ):
        return None
    return PracticeBank(graph, items, item_grade, fitted.point_parameters(), fitted.item_offset)


def _bank_practice(
    bank: PracticeBank,
    grade: str,
    known: Mapping[str, float],
) -> list[dict[str, Any]]:
    """Practice items of the grade for a group whose mastery of graph points is `known` (a
    point without evidence counts as mastered: neither targeted nor blocking)."""
    graph = bank.graph
    mastery = np.array([known.get(str(c), 1.0) for c in graph.codes])
    success = item_success(mastery[None, :], bank.items.primary, bank.point_parameters,
                           bank.item_offset)[0]  # fmt: skip
    exclude = np.flatnonzero(bank.item_grade != grade).astype(np.int64)
    chosen = recommend(mastery, success, graph, bank.items, PracticePolicy(), exclude)
    return [
        {
            "item_id": str(bank.items.item_ids[r.item]),
            "point": str(graph.names[r.target_point]),
            "success": round(r.success, 3),
            "point_mastery": round(r.target_mastery, 3),
        }
        for r in chosen
    ]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    source: str


def class_key(school_code: str, grade_code: str, class_no: int) -> str:
    return f"{school_code}-{grade_code}-{int(class_no)}"


def classes_in_scope(reader: WarehouseReader, scope: Scope) -> list[dict[str, Any]]:
    """The classes whose pupils the scope covers, with a name people read."""
    if not reader.has_table("student"):
        return []
    with reader.lock:
        st = reader.table("student")
        st = st.filter(scope_predicate(scope, "student", st, reader))
        expr = st.group_by(["school_code", "grade_code", "class_no"]).aggregate(
            pupils=st.student_number.count()
        )
    schools = _school_names(reader)
    grades = code_tables()["grade"].codes
    several = len({r["school_code"] for r in reader.rows(expr)}) > 1
    out = []
    for r in sorted(reader.rows(expr), key=lambda r: (r["school_code"], r["grade_code"],
                                                       int(r["class_no"]))):  # fmt: skip
        label = f"{grades.get(r['grade_code'], '')}{int(r['class_no'])}班"
        if several:
            label = f"{schools.get(r['school_code'], '')} {label}"
        out.append(
            {
                "class_key": class_key(r["school_code"], r["grade_code"], r["class_no"]),
                "school_code": r["school_code"],
                "grade_code": r["grade_code"],
                "class_no": int(r["class_no"]),
                "label": label,
                "pupils": int(r["pupils"]),
            }
        )
    return out


def _school_names(reader: WarehouseReader) -> dict[str, str]:
    if not reader.has_table("school"):
        return {}
    with reader.lock:
        expr = reader.table("school").select("school_code", "name")
    return {str(r["school_code"]): str(r["name"]) for r in reader.rows(expr)}


def _pupils(
    reader: WarehouseReader, scope: Scope, klass: Mapping[str, Any]
) -> list[dict[str, Any]]:
    with reader.lock:
        st = reader.table("student")
        st = st.filter(scope_predicate(scope, "student", st, reader))
        st = st.filter(
            (st.school_code == klass["school_code"])
            & (st.grade_code == klass["grade_code"])
            & (st.class_no == klass["class_no"])
        )
        expr = st.select("student_number", "name").order_by("student_number")
    return reader.rows(expr)


def _class_exams(
    reader: WarehouseReader, scope: Scope, numbers: Sequence[str]
) -> list[dict[str, Any]]:
    if not (reader.has_table(MASTERY_TABLE) and reader.has_table("exam")) or not numbers:
        return []
    with reader.lock:
        m = reader.table(MASTERY_TABLE)
        m = m.filter(scope_predicate(scope, MASTERY_TABLE, m, reader))
        m = m.filter(m.student_number.isin(list(numbers)))
        taken = m.group_by("exam_id").aggregate(model=m.model.max(), fitted_at=m.fitted_at.max())
        e = reader.table("exam")
        expr = e.inner_join(taken, "exam_id").order_by([e.exam_date.desc(), e.exam_id])
    return [
        {
            "exam_id": r["exam_id"],
            "name": r["name"],
            "subject": r["subject"],
            "exam_date": str(r["exam_date"]),
            "model": r["model"],
            "fitted_at": str(r["fitted_at"]),
        }
        for r in reader.rows(expr)
    ]


def _mastery_rows(
    reader: WarehouseReader, scope: Scope, table: str, numbers: Sequence[str], exam_id: str | None
) -> list[dict[str, Any]]:
    """Mastery rows of these pupils: of one exam, or (`exam_id` None: the practice diagnosis)
    of the points each pupil practised — an unpractised point's mastery is only its prior."""
    with reader.lock:
        m = reader.table(table)
        m = m.filter(scope_predicate(scope, table, m, reader))
        m = m.filter(m.student_number.isin(list(numbers)))
        m = m.filter(m.attempts > 0 if exam_id is None else m.exam_id == exam_id)
        expr = m.select("student_number", "kp_code", "mastery")
    return reader.rows(expr)


def _point_names(reader: WarehouseReader) -> tuple[dict[str, str], dict[str, str]]:
    """Names of knowledge points and of chapters (a point's parent code), where the warehouse
    holds the knowledge graph."""
    if not reader.has_table(POINT_TABLE):
        return {}, {}
    with reader.lock:
        expr = reader.table(POINT_TABLE).select("kp_code", "name", "chapter_name")
    points: dict[str, str] = {}
    chapters: dict[str, str] = {}
    for r in reader.rows(expr):
        code = str(r["kp_code"])
        if r["name"]:
            points[code] = str(r["name"])
        if r["chapter_name"]:
            chapters.setdefault(parent(code), str(r["chapter_name"]))
    return points, chapters


_CHAPTER = re.compile(r"\.(\d+)$")


def point_label(code: str, points: Mapping[str, str], chapters: Mapping[str, str], n: int) -> str:
    """What people read for an attribute: its name, its chapter's name, 第N章 for a chapter
    code without a known name, else 知识点N (codes are not for people to read)."""
    if code in points:
        return points[code]
    if code in chapters:
        return chapters[code]
    found = _CHAPTER.search(code)
    if found and code.count(".") == 1:
        return f"第{int(found.group(1))}章"
    return f"知识点{n}"


def _matrix(
    rows: list[dict[str, Any]], pupil: Mapping[str, int], columns: Mapping[str, int], n: int
) -> NDArray[np.float64]:
    out = np.full((n, len(columns)), np.nan)
    for r in rows:
        i, k = pupil.get(str(r["student_number"])), columns.get(str(r["kp_code"]))
        if i is not None and k is not None and r["mastery"] is not None:
            out[i, k] = float(r["mastery"])
    return out


def _practice_columns(
    rows: list[dict[str, Any]], attributes: Sequence[str], pupil: Mapping[str, int], n: int
) -> tuple[list[int], NDArray[np.float64]]:
    """Per exam attribute: each pupil's mean practice mastery of the points under it."""
    sums = np.zeros((n, len(attributes)))
    counts = np.zeros((n, len(attributes)))
    for r in rows:
        i = pupil.get(str(r["student_number"]))
        code = str(r["kp_code"])
        if i is None or r["mastery"] is None:
            continue
        for k, a in enumerate(attributes):
            if code == a or code.startswith(a + "."):
                sums[i, k] += float(r["mastery"])
                counts[i, k] += 1
    keep = [k for k in range(len(attributes)) if counts[:, k].any()]
    means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return keep, means[:, keep]


def class_learning(
    reader: WarehouseReader,
    scope: Scope,
    key: str,
    *,
    exam_id: str | None = None,
    clear: bool,
    groups: int = 3,
    practice_model: Path | None = None,
) -> dict[str, Any]:
    """The 学情 of one class in scope (see the module docstring); `clear`: whether the caller
    sees pupils' mastery and names in clear."""
    klass = next((c for c in classes_in_scope(reader, scope) if c["class_key"] == key), None)
    if klass is None:
        raise ClassNotFoundError(f"no class {key} in your scope")
    pupils = _pupils(reader, scope, klass)
    numbers = [str(p["student_number"]) for p in pupils]
    exams = _class_exams(reader, scope, numbers)
    out: dict[str, Any] = {
        "class": klass,
        "exams": exams,
        "exam": None,
        "mastery_masked": not clear,
    }
    if not exams:
        out["notices"] = ["本班还没有考试认知诊断结果：请数据管理员运行考试认知诊断任务。"]
        return out
    exam = next((e for e in exams if e["exam_id"] == exam_id), exams[0])
    out["exam"] = exam
    rows = _mastery_rows(reader, scope, MASTERY_TABLE, numbers, exam["exam_id"])
    attributes = sorted({str(r["kp_code"]) for r in rows})
    took = sorted({str(r["student_number"]) for r in rows})
    pupil = {s: i for i, s in enumerate(took)}
    exam_m = _matrix(rows, pupil, {a: k for k, a in enumerate(attributes)}, len(took))
    point_names, chapter_names = _point_names(reader)
    labels = [point_label(a, point_names, chapter_names, k + 1) for k, a in enumerate(attributes)]
    columns = [Column(a, lab, SOURCE_EXAM) for a, lab in zip(attributes, labels, strict=True)]
    blocks = [exam_m]
    practice: list[dict[str, Any]] = []
    if reader.has_table(PRACTICE_MASTERY):
        practice = _mastery_rows(reader, scope, PRACTICE_MASTERY, took, None)
        keep, means = _practice_columns(practice, attributes, pupil, len(took))
        columns += [Column(attributes[k], labels[k], SOURCE_PRACTICE) for k in keep]
        blocks.append(means)
    mastery = np.hstack(blocks)
    filled = np.where(np.isnan(mastery), np.nanmean(mastery, axis=0)[None, :], mastery)
    filled = np.nan_to_num(filled, nan=0.5)
    layers = layer_groups(filled, n_groups=groups, min_size=min(4, max(1, len(took) // groups)))
    n_groups = layers.mean_mastery.shape[0]
    names_by_number = {str(p["student_number"]): str(p["name"] or "") for p in pupils}
    shown = [names_by_number.get(s, "") for s in took]
    shown = [n if clear else mask_name(n) for n in shown]
    _, class_mean, _ = group_means(filled, np.full(len(took), "class"))
    column_labels = [_column_label(c) for c in columns]
    missing = len(numbers) - len(took)
    notices = []
    if missing:
        notices.append(f"本班有{missing}名学生没有本次考试的诊断结果（缺考或未参加），不在下表中。")
    _, paper = scoped_paper(reader, scope, exam["exam_id"])
    paper = paper.rows(np.isin(np.array(paper.students), took))
    right = dichotomise(paper.scores, paper.item_maxima)
    row_of = {s: i for i, s in enumerate(paper.students)}
    order = np.lexsort((layers.score, layers.group))
    bank = practice_bank(reader, practice_model)
    by_point: dict[str, NDArray[np.float64]] = {}
    for r in practice:
        i = pupil.get(str(r["student_number"]))
        if i is not None and r["mastery"] is not None:
            by_point.setdefault(str(r["kp_code"]), np.full(len(took), np.nan))[i] = r["mastery"]
    exam_grade = str(klass["grade_code"])
    groups_out = []
    for j in range(n_groups):
        members = np.flatnonzero(layers.group == j)
        answers = right[[row_of[took[i]] for i in members if took[i] in row_of]]
        bank_practice: list[dict[str, Any]] = []
        if bank is not None:
            known = _group_points(bank.graph.codes, by_point, attributes, exam_m, members)
            bank_practice = _bank_practice(bank, exam_grade, known)
        groups_out.append(
            {
                "layer": LAYER_NAMES[j],
                "size": int(members.size),
                "members": [shown[i] for i in members],
                "mean_mastery": round(float(layers.mean_mastery[j].mean()), 3),
                "focus": [column_labels[int(k)] for k in layers.focus[j]],
                "by_point": [round(float(v), 3) for v in layers.mean_mastery[j]],
                "practice": _group_practice(
                    paper.item_nos,
                    paper.knowledge_points,
                    attributes,
                    labels,
                    layers.mean_mastery[j][: len(attributes)],
                    answers,
                ),
                "bank_practice": bank_practice,
            }
        )
    out |= {
        "columns": [
            {"key": c.key, "label": lab, "source": c.source}
            for c, lab in zip(columns, column_labels, strict=True)
        ],
        # pupils by group (基础层 first), then along the class's mastery axis
        "pupils": [shown[i] for i in order],
        "heat_pupils": [
            [None if (np.isnan(v) or not clear) else round(float(v), 3) for v in mastery[order, k]]
            for k in range(len(columns))
        ],
        "class_mean": [round(float(v), 3) for v in class_mean[0]],
        "groups": groups_out,
        "wrong_items": _wrong_items(
            paper.item_nos,
            paper.knowledge_points,
            paper.item_maxima,
            paper.scores,
            right,
            attributes,
            labels,
        ),
        "notices": notices,
    }
    return out


def _group_points(
    codes: StrArray,
    by_point: Mapping[str, NDArray[np.float64]],
    attributes: Sequence[str],
    exam: NDArray[np.float64],
    members: NDArray[np.int64],
) -> dict[str, float]:
    """A group's mastery of each graph point: its practice mastery, else the exam's mastery of
    the point or of the point's chapter (means over the members with a value)."""
    index = {a: k for k, a in enumerate(attributes)}
    out: dict[str, float] = {}
    for code in (str(c) for c in codes):
        values = by_point[code][members] if code in by_point else np.array([np.nan])
        if np.isnan(values).all():
            k = _attribute_of(code, index)
            values = exam[members, k] if k is not None else values
        if not np.isnan(values).all():
            out[code] = float(np.nanmean(values))
    return out


def _column_label(c: Column) -> str:
    return c.label if c.source == SOURCE_EXAM else f"{c.label}（{SOURCE_PRACTICE}）"


def _attribute_of(code: str, index: Mapping[str, int]) -> int | None:
    if code in index:
        return index[code]
    return index.get(parent(code))


def _item_points(tags: Sequence[Sequence[str]], attributes: Sequence[str]) -> list[list[int]]:
    index = {a: k for k, a in enumerate(attributes)}
    out = []
    for t in tags:
        found = [k for k in (_attribute_of(p, index) for p in t) if k is not None]
        out.append(sorted(set(found), key=found.index))
    return out


def _group_practice(
    item_nos: Sequence[int],
    tags: Sequence[Sequence[str]],
    attributes: Sequence[str],
    labels: Sequence[str],
    mastery: NDArray[np.float64],
    right: NDArray[np.float64],
) -> list[dict[str, Any]]:
    """The exam's items to practise again for a group: `recommend` over the paper's own Q-matrix
    (no prerequisites among its attributes), success = the share of the group who got it."""
    from scipy import sparse

    points = _item_points(tags, attributes)
    usable = [j for j, p in enumerate(points) if p]
    if not usable or right.shape[0] == 0:
        return []
    rows = [j for j in usable for _ in points[j]]
    cols = [k for j in usable for k in points[j]]
    q = sparse.csr_array(
        (np.ones(len(rows)), (np.array(rows), np.array(cols))),
        shape=(len(item_nos), len(attributes)),
    )
    graph = KnowledgeGraph(
        np.array(attributes, dtype=np.str_),
        np.array(labels, dtype=np.str_),
        np.full(len(attributes), "", dtype=np.str_),
        np.full(len(attributes), "", dtype=np.str_),
        tuple(np.zeros(0, dtype=np.int64) for _ in attributes),
    )
    primary = np.array([p[0] if p else 0 for p in points], dtype=np.int64)
    bank = ItemBank(np.array([str(n) for n in item_nos], dtype=np.str_), q, primary)
    success = right.mean(axis=0)
    exclude = np.array([j for j, p in enumerate(points) if not p], dtype=np.int64)
    chosen = recommend(mastery, success, graph, bank, EXAM_PRACTICE, exclude)
    return [
        {
            "item_no": int(item_nos[r.item]),
            "point": labels[r.target_point],
            "points": "、".join(labels[k] for k in points[r.item]),
            "success": round(r.success, 3),
            "point_mastery": round(r.target_mastery, 3),
        }
        for r in chosen
    ]


def _wrong_items(
    item_nos: Sequence[int],
    tags: Sequence[Sequence[str]],
    maxima: NDArray[np.float64],
    scores: NDArray[np.float64],
    right: NDArray[np.float64],
    attributes: Sequence[str],
    labels: Sequence[str],
) -> list[dict[str, Any]]:
    points = _item_points(tags, attributes)
    out = []
    for m in most_missed(right, WRONG_ITEMS):
        j = m.item
        out.append(
            {
                "item_no": int(item_nos[j]),
                "points": "、".join(labels[k] for k in points[j]) or "未标注",
                "maximum": float(maxima[j]),
                "rate": round(float(scores[:, j].mean() / maxima[j]), 3),
                "wrong": m.wrong,
                "answered": m.answered,
                "share": round(m.share, 3),
            }
        )
    return out


Sheet = tuple[str, tuple[str, ...], list[dict[str, Any]]]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def learning_sheets(view: Mapping[str, Any]) -> list[Sheet]:
    """The page's tables, as shown under each chart and written to xlsx (in this order:
    掌握度（学生）, 分层分组, 各层掌握度, 推荐练习, 错题本)."""
    columns = [c["label"] for c in view.get("columns", [])]
    heat = view.get("heat_pupils", [])
    layer_of = {m: g["layer"] for g in view.get("groups", []) for m in g["members"]}
    pupil_header = ("学生", "层", *columns)
    pupil_rows = [
        {"学生": name, "层": layer_of.get(name, ""),
         **{c: _pct(heat[k][i]) for k, c in enumerate(columns)}}
        for i, name in enumerate(view.get("pupils", []))
    ]  # fmt: skip
    groups = view.get("groups", [])
    group_header = ("层", "人数", "平均掌握度", "重点知识点", "学生")
    group_rows = [
        {"层": g["layer"], "人数": g["size"], "平均掌握度": _pct(g["mean_mastery"]),
         "重点知识点": "、".join(g["focus"]), "学生": "、".join(g["members"])}
        for g in groups
    ]  # fmt: skip
    layer_header = ("知识点", "全班", *(g["layer"] for g in groups))
    layer_rows = [
        {"知识点": c, "全班": _pct(view["class_mean"][k]),
         **{g["layer"]: _pct(g["by_point"][k]) for g in groups}}
        for k, c in enumerate(columns)
    ]  # fmt: skip
    practice_header = ("层", "题号", "练习知识点", "本题知识点", "本层答对率", "本层掌握度")
    practice_rows = [
        {"层": g["layer"], "题号": p["item_no"], "练习知识点": p["point"],
         "本题知识点": p["points"], "本层答对率": _pct(p["success"]),
         "本层掌握度": _pct(p["point_mastery"])}
        for g in groups
        for p in g["practice"]
    ]  # fmt: skip
    wrong_header = ("题号", "知识点", "分值", "得分率", "答错人数", "答错比例")
    wrong_rows = [
        {"题号": w["item_no"], "知识点": w["points"], "分值": w["maximum"],
         "得分率": _pct(w["rate"]), "答错人数": w["wrong"], "答错比例": _pct(w["share"])}
        for w in view.get("wrong_items", [])
    ]  # fmt: skip
    bank_header = ("层", "练习题编号", "练习知识点", "预计答对率", "本层掌握度")
    bank_rows = [
        {"层": g["layer"], "练习题编号": p["item_id"], "练习知识点": p["point"],
         "预计答对率": _pct(p["success"]), "本层掌握度": _pct(p["point_mastery"])}
        for g in groups
        for p in g.get("bank_practice", [])
    ]  # fmt: skip
    sheets: list[Sheet] = [
        ("知识点掌握度（学生）", pupil_header, pupil_rows),
        ("分层分组", group_header, group_rows),
        ("各层知识点掌握度", layer_header, layer_rows),
        ("推荐练习", practice_header, practice_rows),
        ("错题本", wrong_header, wrong_rows),
    ]
    if bank_rows:
        sheets.append(("练习题推荐", bank_header, bank_rows))
    return sheets
