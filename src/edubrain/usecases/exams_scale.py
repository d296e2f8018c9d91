"""`edubrain exams scale`: IRT calibration and year-to-year scale linking of every exam paper.

Reads each exam's paper from the warehouse (its items with their 题库编号 `bank_item_id`, the
anchors, and every pupil's item scores, pivoted in Arrow/NumPy), calibrates and links them
(`modules.exams.scaling`), and writes three derived tables in one transaction, replacing the
last run's:

- `exam_item_parameter`: per calibrated item its model, a, b (thresholds joined by ';'), their
  standard errors, the fit statistic and p-value, the base year whose scale it is on;
- `exam_scale_score`: per pupil and exam θ (EAP, on the base scale when linked), its standard
  error and the scale score 500 + 100·θ — 敏感, read in scope like the item scores;
- `exam_scale_paper`: per paper its model, status (base / linked / unlinked / not_calibrated),
  the paper it was linked to, the anchors used, the four linking methods' constants and the
  Chinese sentences of what could not be done.

Runs as a job (`scale`), from the CLI in the foreground or queued from the 任务 tab.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from edubrain.errors import InvalidInputError
from edubrain.modules.exams.matrix import read_matrix
from edubrain.modules.exams.scaling import (
    PaperOutcome,
    ScaleOptions,
    ScalePaper,
    item_rows,
    paper_row,
    scale_papers,
    score_columns,
)
from edubrain.psychometrics.linking import METHODS
from edubrain.settings import Settings
from edubrain.usecases.ready import require_loads, require_workspace
from edubrain.warehouse import Warehouse, open_warehouse

ITEM_TABLE = "exam_item_parameter"
SCORE_TABLE = "exam_scale_score"
PAPER_TABLE = "exam_scale_paper"

ITEM_SCHEMA = pa.schema(
    [
        ("exam_id", pa.string()),
        ("item_no", pa.int64()),
        ("bank_item_id", pa.string()),
        ("model", pa.string()),
        ("a", pa.float64()),
        ("b", pa.string()),
        ("se_a", pa.float64()),
        ("se_b", pa.string()),
        ("fit_statistic", pa.float64()),
        ("fit_p", pa.float64()),
        ("linked_to_year", pa.string()),
        ("fitted_at", pa.timestamp("us")),
    ]
)
SCORE_SCHEMA = pa.schema(
    [
        ("exam_id", pa.string()),
        ("student_number", pa.string()),
        ("theta", pa.float64()),
        ("se", pa.float64()),
        ("scale_score", pa.float64()),
    ]
)
PAPER_SCHEMA = pa.schema(
    [
        ("exam_id", pa.string()),
        ("school_year", pa.string()),
        ("subject", pa.string()),
        ("grade_code", pa.string()),
        ("status", pa.string()),
        ("model", pa.string()),
        ("pupils", pa.int64()),
        ("items", pa.int64()),
        ("items_calibrated", pa.int64()),
        ("iterations", pa.int64()),
        ("linked_to_exam", pa.string()),
        ("linked_to_year", pa.string()),
        ("anchors", pa.int64()),
        ("method", pa.string()),
        ("A", pa.float64()),
        ("B", pa.float64()),
        ("step_A", pa.float64()),
        ("step_B", pa.float64()),
        *[(f"{m}_{c}", pa.float64()) for m in METHODS for c in ("A", "B")],
        ("notices", pa.string()),
        ("fitted_at", pa.timestamp("us")),
    ]
)


class NoExamScoresError(InvalidInputError):
    """The warehouse holds no exam with item scores to calibrate."""


def read_papers(
    wh: Warehouse, note: Callable[[str], None] | None = None
) -> tuple[int, Iterator[ScalePaper]]:
    """How many exams have items, and their papers, read one at a time (a pupils × items
    matrix with its items' anchors; exams nobody sat are skipped)."""
    if not all(wh.has_table(t) for t in ("exam", "exam_item", "item_score")):
        raise NoExamScoresError(
            "数据仓中没有考试、试题和小题得分，无法定标：请先导入网络阅卷的导出文件"
            " — no exams with item scores in the warehouse"
        )
    exams = wh.table("exam").order_by(["school_year", "exam_date", "exam_id"]).to_pyarrow()
    items_table = wh.table("exam_item")
    with_bank = "bank_item_id" in items_table.columns
    all_items = items_table.order_by(["exam_id", "item_no"]).to_pyarrow().to_pylist()
    by_exam: dict[str, list[dict[str, Any]]] = {}
    for item in all_items:
        by_exam.setdefault(str(item["exam_id"]), []).append(item)
    planned = [e for e in exams.to_pylist() if by_exam.get(str(e["exam_id"]))]
    scores = wh.table("item_score")

    def papers() -> Iterator[ScalePaper]:
        for exam in planned:
            exam_id = str(exam["exam_id"])
            items = by_exam[exam_id]
            if note is not None:
                note(f"读取 {exam['name']} 的小题得分")
            item_nos = tuple(int(i["item_no"]) for i in items)
            students, matrix = read_matrix(scores.filter(scores.exam_id == exam_id), item_nos)
            if not students:
                continue
            yield ScalePaper(
                exam_id=exam_id,
                name=str(exam["name"]),
                school_year=str(exam["school_year"]),
                subject=str(exam["subject"]),
                grade_code=str(exam["grade_code"]),
                exam_date=str(exam["exam_date"]),
                item_nos=item_nos,
                item_maxima=np.array([float(i["max_score"]) for i in items]),
                bank_ids=tuple(
                    (str(i["bank_item_id"]) if i.get("bank_item_id") else None)
                    if with_bank
                    else None
                    for i in items
                ),
                students=students,
                scores=matrix,
            )

    return len(planned), papers()


def _tables(
    outcomes: list[PaperOutcome], options: ScaleOptions
) -> tuple[pa.Table, pa.Table, pa.Table]:
    fitted_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    items = [row for o in outcomes for row in item_rows(o, fitted_at)]
    papers = [paper_row(o, options, fitted_at) for o in outcomes]
    parts = [
        pa.table(columns, schema=SCORE_SCHEMA)
        for o in outcomes
        if (columns := score_columns(o)) is not None
    ]
    scores = pa.concat_tables(parts) if parts else SCORE_SCHEMA.empty_table()
    return (
        pa.Table.from_pylist(items, schema=ITEM_SCHEMA),
        scores,
        pa.Table.from_pylist(papers, schema=PAPER_SCHEMA),
    )


def scale(
    settings: Settings,
    options: ScaleOptions | None = None,
    *,
    note: Callable[[str], None] | None = None,
    fraction: Callable[[float], None] | None = None,
) -> list[PaperOutcome]:
    """Calibrate and link every exam paper of the warehouse and write the three tables."""
    options = options or ScaleOptions()
    require_workspace(settings)
    kwargs: dict[str, Any] = {"fraction": fraction}
    if note is not None:
        kwargs["note"] = note
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        count, papers = read_papers(wh, note)
        outcomes = scale_papers(papers, options, count=count, **kwargs)
    if not outcomes:
        raise NoExamScoresError("数据仓中没有带小题得分的考试，无法定标 — no exam has item scores")
    items, scores, paper_rows = _tables(outcomes, options)
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table(ITEM_TABLE, items)
        tx.replace_table(SCORE_TABLE, scores)
        tx.replace_table(PAPER_TABLE, paper_rows)
    if fraction is not None:
        fraction(1.0)
    return outcomes


def summary(outcomes: list[PaperOutcome]) -> dict[str, Any]:
    """The job's outcome: counts by status, and each paper's line and sentences."""
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {
        "papers": len(outcomes),
        **{f"papers_{k}": v for k, v in sorted(counts.items())},
        "items_calibrated": sum(
            len(o.calibrated.columns) for o in outcomes if o.calibrated is not None
        ),
        "pupils_scored": sum(len(o.paper.students) for o in outcomes if o.calibrated is not None),
        "notices": [f"{o.paper.name}：{n}" for o in outcomes for n in o.notices],
    }


def options_of(params: Mapping[str, Any]) -> ScaleOptions:
    """The options of a queued job's parameters."""
    return ScaleOptions(
        rasch=bool(params.get("rasch", False)),
        method=str(params.get("method", "stocking_lord")),
        min_anchors=int(params.get("min_anchors", ScaleOptions.min_anchors)),
    )
