"""The job that fits cognitive diagnosis on every exam paper and writes `exam_mastery`.

Reads each exam's whole score matrix (the operator's job, like `edubrain diagnose fit`: the
whole warehouse), fits DINA and G-DINA per paper (`mastery.diagnose_paper`), and writes each
taker's mastery of each attribute of the paper to `MASTERY_TABLE` (exam_id, student_number,
kp_code, mastery, model, fitted_at — interfaces of issue 16). A paper that cannot be diagnosed
keeps no rows and its notice is in the job's outcome. Given exam ids, only those papers are
fitted again; the other papers' rows stay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.errors import NotFoundError
from edubrain.modules.exams.mastery import (
    LEVEL_LABELS,
    MASTERY_TABLE,
    PaperNotDiagnosableError,
    diagnose_paper,
)
from edubrain.modules.exams.reads import scoped_paper
from edubrain.service.reads import WarehouseReader
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

SCHEMA = pa.schema(
    [
        ("exam_id", pa.string()),
        ("student_number", pa.string()),
        ("kp_code", pa.string()),
        ("mastery", pa.float64()),
        ("model", pa.string()),
        ("fitted_at", pa.timestamp("s")),
    ]
)


def _exam_ids(reader: WarehouseReader) -> list[str]:
    if not (reader.has_table("exam") and reader.has_table("item_score")):
        return []
    with reader.lock:
        s = reader.table("item_score")
        expr = s.select("exam_id").distinct().order_by("exam_id")
    return [str(r["exam_id"]) for r in reader.rows(expr)]


def fit_exam_mastery(
    settings: Settings,
    exam_ids: Sequence[str] = (),
    note: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Diagnose the papers (all, or `exam_ids`) and write their mastery; returns a summary
    with one entry per paper: the attributes, both models' fit and the chosen one, notices."""
    say = note or (lambda _line: None)
    fitted_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    papers: list[dict[str, Any]] = []
    tables: list[pa.Table] = []
    with open_warehouse(settings, read_only=True) as wh:
        reader = WarehouseReader(wh)
        known = _exam_ids(reader)
        wanted = list(exam_ids) or known
        unknown = [e for e in wanted if e not in known]
        if unknown:
            raise NotFoundError(f"没有考试 {'、'.join(unknown)} 的小题得分")
        kept = None
        if exam_ids and wh.has_table(MASTERY_TABLE):
            old = wh.to_arrow(MASTERY_TABLE)
            kept = old.filter(pc.invert(pc.is_in(old["exam_id"], pa.array(wanted, pa.string()))))
        for n, exam_id in enumerate(wanted, start=1):
            _, paper = scoped_paper(reader, None, exam_id, whole_exam=True)
            say(f"认知诊断 {n}/{len(wanted)}：{exam_id}（{len(paper.students)}名学生）")
            try:
                found = diagnose_paper(paper)
            except PaperNotDiagnosableError as exc:
                papers.append({"exam_id": exam_id, "pupils": len(paper.students),
                               "chosen": None, "notices": [str(exc)]})  # fmt: skip
                continue
            papers.append(
                {
                    "exam_id": exam_id,
                    "pupils": len(found.students),
                    "items": found.items,
                    "level": LEVEL_LABELS[found.level],
                    "attributes": list(found.attributes),
                    "chosen": found.chosen,
                    "models": [
                        {
                            "model": m.model,
                            "log_likelihood": round(m.log_likelihood, 3),
                            "aic": round(m.aic, 2),
                            "bic": round(m.bic, 2),
                            "parameters": m.parameters,
                            "iterations": m.iterations,
                            "converged": m.converged,
                        }
                        for m in found.models
                    ],
                    "notices": list(found.notices),
                }
            )
            if found.chosen is None:
                continue
            n_s, n_k = found.mastery.shape
            tables.append(
                pa.table(
                    {
                        "exam_id": pa.array([exam_id] * (n_s * n_k), pa.string()),
                        "student_number": pa.array(
                            np.repeat(np.array(found.students, dtype=object), n_k), pa.string()
                        ),
                        "kp_code": pa.array(
                            np.tile(np.array(found.attributes, dtype=object), n_s), pa.string()
                        ),
                        "mastery": pa.array(found.mastery.ravel().astype(np.float64)),
                        "model": pa.array([found.chosen] * (n_s * n_k), pa.string()),
                        "fitted_at": pa.array([fitted_at] * (n_s * n_k), pa.timestamp("s")),
                    },
                    schema=SCHEMA,
                )
            )
    if kept is not None:
        tables.insert(0, kept.select(SCHEMA.names).cast(SCHEMA))
    rows = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table(MASTERY_TABLE, rows)
    diagnosed = sum(1 for p in papers if p["chosen"])
    say(f"完成：{diagnosed}/{len(papers)} 份试卷给出掌握情况，共 {rows.num_rows} 行")
    return {
        "papers": papers,
        "diagnosed": diagnosed,
        "not_diagnosed": len(papers) - diagnosed,
        "mastery_rows": rows.num_rows,
    }
