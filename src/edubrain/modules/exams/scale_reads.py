"""The IRT scaling's reads for the API and the cockpit: item parameters, linking constants, and
the scale scores of the pupils in the caller's scope.

An exam's item parameters and its paper's link are facts about the paper (calibrated on all its
takers, nobody's score): they are shown to a caller who has pupils of the exam in scope, like
the item analysis. The scale scores (`exam_scale_score`) are 敏感, read through their declared
scope rule (the pupils the caller may see): the page shows their aggregate — withheld below
`SMALLEST_GROUP` pupils for roles not cleared for 敏感 scores — and a pupil's own θ and scale
score are masked (None) unless the caller is cleared. The routes audit every read.

The tables are written by `edubrain exams scale` (the `scale` job); before it ran the reads
give an empty state with a Chinese sentence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from edubrain.modules.exams.reads import ExamNotFoundError, exam_fields
from edubrain.modules.exams.scaling import (
    METHOD_LABELS,
    MODEL_LABELS,
    SCALE_MEAN,
    SCALE_SD,
    STATUS_LABELS,
    item_flags,
)
from edubrain.modules.exams.tables import Sheet
from edubrain.service.policy import Scope, scope_predicate
from edubrain.service.reads import WarehouseReader

ITEM_TABLE = "exam_item_parameter"
SCORE_TABLE = "exam_scale_score"
PAPER_TABLE = "exam_scale_paper"
NOT_YET = (
    "这份试卷尚未进行项目反应理论定标：请数据管理员在“任务”页运行“考试项目反应理论定标与等值”。"
)
METHODS = ("stocking_lord", "haebara", "mean_mean", "mean_sigma")


def _in_scope(reader: WarehouseReader, scope: Scope | None, exam_id: str) -> dict[str, Any]:
    """The exam, if pupils of the scope sat it (else 404, as for an exam that does not exist)."""
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        raise ExamNotFoundError(f"no exam {exam_id}")
    with reader.lock:
        e = reader.table("exam")
        exams = e.filter(e.exam_id == exam_id)
        s = reader.table("item_score")
        s = s.filter(s.exam_id == exam_id)
        if scope is not None:
            s = s.filter(scope_predicate(scope, "item_score", s, reader))
        taken = s.select("student_number").limit(1)
    found = reader.rows(exams)
    if not found or not reader.rows(taken):
        raise ExamNotFoundError(f"no exam {exam_id} with scores in your scope")
    return found[0]


def _rows(reader: WarehouseReader, table: str, exam_id: str) -> list[dict[str, Any]]:
    if not reader.has_table(table):
        return []
    with reader.lock:
        t = reader.table(table)
        expr = t.filter(t.exam_id == exam_id)
        if "item_no" in t.columns:
            expr = expr.order_by("item_no")
    return reader.rows(expr)


def _score_summary(
    reader: WarehouseReader, scope: Scope | None, exam_id: str, smallest_group: int
) -> dict[str, Any]:
    """The scale scores of the pupils in scope: how many, mean, SD, lowest and highest."""
    empty = {"pupils": 0, "mean": None, "sd": None, "lowest": None, "highest": None}
    if not reader.has_table(SCORE_TABLE):
        return empty | {"notices": []}
    with reader.lock:
        t = reader.table(SCORE_TABLE)
        t = t.filter(t.exam_id == exam_id)
        if scope is not None:
            t = t.filter(scope_predicate(scope, SCORE_TABLE, t, reader))
        values: pa.Table = t.select("scale_score").to_pyarrow()
    scores = np.asarray(values.column("scale_score").to_numpy(zero_copy_only=False), float)
    scores = scores[np.isfinite(scores)]
    pupils = int(scores.size)
    if pupils == 0:
        return empty | {"notices": []}
    if pupils < smallest_group:
        return empty | {
            "pupils": pupils,
            "notices": [
                f"只有{pupils}名学生，少于{smallest_group}人：为保护学生个人信息，不显示统计结果。"
            ],
        }
    return {
        "pupils": pupils,
        "mean": float(scores.mean()),
        "sd": float(scores.std(ddof=1)) if pupils > 1 else None,
        "lowest": float(scores.min()),
        "highest": float(scores.max()),
        "notices": [],
    }


def exam_scale(
    reader: WarehouseReader, scope: Scope | None, exam_id: str, *, smallest_group: int = 0
) -> dict[str, Any]:
    """An exam's calibration: the paper's model, status and link constants, each item's
    parameters with its flags, and the scale scores of the pupils in scope (aggregate)."""
    exam = _in_scope(reader, scope, exam_id)
    papers = _rows(reader, PAPER_TABLE, exam_id)
    items = _rows(reader, ITEM_TABLE, exam_id)
    paper = papers[0] if papers else None
    notices = [NOT_YET] if paper is None else [n for n in paper["notices"].split("\n") if n]
    linked_to_name = None
    if paper is not None and paper["linked_to_exam"]:
        with reader.lock:
            e = reader.table("exam")
            linked = reader.rows(e.filter(e.exam_id == paper["linked_to_exam"]).select("name"))
        linked_to_name = linked[0]["name"] if linked else paper["linked_to_exam"]
    return {
        "exam": exam_fields(exam),
        "paper": None if paper is None else _paper(paper, linked_to_name),
        "items": [_item(r) for r in items],
        "scores": _score_summary(reader, scope, exam_id, smallest_group),
        "notices": notices,
        "scale": {"mean": SCALE_MEAN, "sd": SCALE_SD},
    }


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _paper(row: dict[str, Any], linked_to_name: str | None) -> dict[str, Any]:
    return {
        "status": row["status"],
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "model": row["model"],
        "model_label": MODEL_LABELS.get(row["model"] or "", "—"),
        "pupils": row["pupils"],
        "items": row["items"],
        "items_calibrated": row["items_calibrated"],
        "linked_to_exam": row["linked_to_exam"],
        "linked_to_name": linked_to_name,
        "linked_to_year": row["linked_to_year"],
        "anchors": row["anchors"],
        "method": row["method"],
        "method_label": METHOD_LABELS.get(row["method"] or "", "—"),
        "A": _number(row["A"]),
        "B": _number(row["B"]),
        "constants": [
            {
                "method": m,
                "label": METHOD_LABELS[m],
                "A": _number(row.get(f"{m}_A")),
                "B": _number(row.get(f"{m}_B")),
            }
            for m in METHODS
        ],
        "fitted_at": str(row["fitted_at"]),
    }


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "item_no": row["item_no"],
        "bank_item_id": row["bank_item_id"],
        "model": row["model"],
        "model_label": MODEL_LABELS.get(row["model"], row["model"]),
        "a": _number(row["a"]),
        "b": row["b"],
        "se_a": _number(row["se_a"]),
        "se_b": row["se_b"],
        "fit_statistic": _number(row["fit_statistic"]),
        "fit_p": _number(row["fit_p"]),
        "linked_to_year": row["linked_to_year"],
        "flags": list(item_flags(row)),
    }


def pupil_scale_scores(
    reader: WarehouseReader, scope: Scope, number: str, *, clear: bool
) -> list[dict[str, Any]]:
    """A pupil's scale scores (the caller has opened the pupil in scope), oldest exam first;
    θ, its SE and the scale score are masked (None) unless `clear`."""
    if not (reader.has_table(SCORE_TABLE) and reader.has_table("exam")):
        return []
    with reader.lock:
        t = reader.table(SCORE_TABLE)
        t = t.filter(scope_predicate(scope, SCORE_TABLE, t, reader))
        t = t.filter(t.student_number == number)
        e = reader.table("exam")
        expr = e.inner_join(t, "exam_id").order_by([e.exam_date, e.exam_id])
    return [
        {
            **exam_fields(r),
            "theta": r["theta"] if clear else None,
            "se": r["se"] if clear else None,
            "scale_score": r["scale_score"] if clear else None,
        }
        for r in reader.rows(expr)
    ]


def _fmt(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _thresholds(text: str | None) -> str:
    return "—" if not text else "； ".join(f"{float(v):.2f}" for v in text.split(";"))


def scale_sheets(found: dict[str, Any]) -> list[Sheet]:
    """The page's tables (and the xlsx exports): item parameters, then the link constants."""
    header = ("题号", "题库编号", "模型", "区分度参数", "难度参数", "区分度标准误", "难度标准误",
              "拟合统计量", "拟合显著性", "提示")  # fmt: skip
    items = [
        dict(
            zip(
                header,
                (
                    i["item_no"],
                    i["bank_item_id"] or "—",
                    i["model_label"],
                    _fmt(i["a"]),
                    _thresholds(i["b"]),
                    _fmt(i["se_a"]),
                    _thresholds(i["se_b"]),
                    _fmt(i["fit_statistic"], 2),
                    _fmt(i["fit_p"]),
                    "；".join(i["flags"]),
                ),
                strict=True,
            )
        )
        for i in found["items"]
    ]
    paper = found["paper"]
    link_header = ("等值方法", "斜率常数", "截距常数", "说明")
    links: list[dict[str, Any]] = []
    if paper is not None and paper["status"] == "linked":
        for c in paper["constants"]:
            links.append(
                {
                    "等值方法": c["label"],
                    "斜率常数": _fmt(c["A"], 4),
                    "截距常数": _fmt(c["B"], 4),
                    "说明": f"本卷量尺到{paper['linked_to_name']}的量尺",
                }
            )
        links.append(
            {
                "等值方法": paper["method_label"],
                "斜率常数": _fmt(paper["A"], 4),
                "截距常数": _fmt(paper["B"], 4),
                "说明": f"本卷量尺到{paper['linked_to_year']}学年基准量尺（逐年链接）",
            }
        )
    return [("项目参数", header, items), ("等值常数", link_header, links)]
