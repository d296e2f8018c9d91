"""Quality rules across an exam's tables: what the data standard alone cannot say."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.govern.quality import (
    Dimension,
    QualityRule,
    RuleContext,
    Severity,
    finish,
    text,
)
from edubrain.modules.exams.entities import ENTITIES
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

EXAM, _EXAM_ITEM, ITEM_SCORE = ENTITIES


def _exam_max_equals_items(wh: Tables, _ctx: RuleContext) -> ir.Table:
    exam, items = wh.table("exam"), wh.table("exam_item")
    sums = items.group_by(qr_exam=items.exam_id).aggregate(qr_sum=items.max_score.sum())
    j = exam.inner_join(sums, exam.exam_id == sums.qr_exam).select(*exam.columns, "qr_sum")
    # Scores are decimals; a rounding difference is not an inconsistency.
    rows = j.filter((j.max_score - j.qr_sum).abs() > 0.001)
    detail = ibis.literal("满分 ") + text(rows.max_score) + " ≠ 小题分值之和 " + text(rows.qr_sum)
    return finish(EXAM, rows, detail)


EXAM_MAX_EQUALS_ITEMS = QualityRule(
    id="consistency.exam.max_score",
    entity="exam",
    dimension=Dimension.CONSISTENCY,
    description_zh="考试满分等于各小题分值之和",
    description_en="exam.max_score equals the sum of its items' max_score",
    severity=Severity.WARNING,
    query=_exam_max_equals_items,
)


def _item_score_within_item_max(wh: Tables, _ctx: RuleContext) -> ir.Table:
    t, items = wh.table("item_score"), wh.table("exam_item")
    lookup = items.select(qr_exam=items.exam_id, qr_item=items.item_no, qr_max=items.max_score)
    j = t.inner_join(lookup, [t.exam_id == lookup.qr_exam, t.item_no == lookup.qr_item]).select(
        *t.columns, "qr_max"
    )
    rows = j.filter(j.score > j.qr_max)
    detail = ibis.literal("得分 ") + text(rows.score) + " > 分值 " + text(rows.qr_max)
    return finish(ITEM_SCORE, rows, detail)


ITEM_SCORE_WITHIN_ITEM_MAX = QualityRule(
    id="validity.item_score.score",
    entity="item_score",
    dimension=Dimension.VALIDITY,
    description_zh="小题得分不超过该题分值",
    description_en="item_score.score is at most the item's max_score",
    severity=Severity.ERROR,
    query=_item_score_within_item_max,
)
