"""Quality rules on the knowledge graph that the standard and the declared references cannot
say: every code an item lists names a knowledge point, and the prerequisites form no cycle.

Both are queries that return the offending rows, like every rule (`govern.quality`).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import ibis

from edubrain.govern.quality import Dimension, QualityRule, RuleContext, Severity, finish
from edubrain.modules.diagnosis.entities import (
    KNOWLEDGE_POINT,
    KNOWLEDGE_PREREQUISITE,
    PRACTICE_ITEM,
)
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

SEPARATOR = ";"


def item_codes(items: ir.Table) -> ir.Table:
    """One row per (item, listed code), codes trimmed, empty ones dropped: `qr_item`, `qr_code`."""
    codes = items.select(
        qr_item=items.item_id, qr_code=items.knowledge_points.split(SEPARATOR).unnest()
    )
    codes = codes.mutate(qr_code=codes.qr_code.strip())
    return codes.filter(codes.qr_code.notnull() & (codes.qr_code != ""))


def _item_points_known(wh: Tables, _ctx: RuleContext) -> ir.Table:
    items, points = wh.table(PRACTICE_ITEM.name), wh.table(KNOWLEDGE_POINT.name)
    codes = item_codes(items)
    named = codes.group_by("qr_item").aggregate(qr_named=codes.qr_code.count())
    unknown = codes.anti_join(points, codes.qr_code == points.kp_code)
    first = unknown.group_by(qr_bad_item=unknown.qr_item).aggregate(
        qr_first=unknown.qr_code.min(), qr_unknown=unknown.qr_code.count()
    )
    j = items.left_join(named, items.item_id == named.qr_item).select(*items.columns, "qr_named")
    j = j.left_join(first, j.item_id == first.qr_bad_item).select(
        *j.columns, "qr_first", "qr_unknown"
    )
    rows = j.filter(j.qr_named.isnull() | j.qr_first.notnull())
    # Messages for people: the entities by their Chinese labels, the codes as written.
    points = KNOWLEDGE_POINT.label
    detail = ibis.ifelse(
        rows.qr_named.isnull(),
        ibis.literal(f"未标注{points}"),
        ibis.literal(f"{points}中没有 ")
        + rows.qr_first.fill_null("")
        + "（共 "
        + rows.qr_unknown.cast("string").fill_null("0")
        + " 个未知编码）",
    )
    return finish(PRACTICE_ITEM, rows, detail)


ITEM_POINTS_KNOWN = QualityRule(
    id="referential_integrity.practice_item.knowledge_points",
    entity=PRACTICE_ITEM.name,
    dimension=Dimension.REFERENTIAL_INTEGRITY,
    description_zh="练习题至少标注一个知识点，且每个知识点编码都在知识点中存在",
    description_en=(
        "practice_item.knowledge_points lists at least one code, each an existing knowledge_point"
    ),
    severity=Severity.ERROR,
    query=_item_points_known,
)


def edges_on_cycles(edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges (point, prerequisite) that lie on a cycle: the prerequisite leads back to the
    point. Points no cycle can pass through (only needed, or only needing, among the rest) are
    pruned first; then each remaining edge is checked by a breadth-first walk."""
    live = set(edges)
    while True:
        needing = {k for k, _ in live}
        needed = {p for _, p in live}
        kept = {(k, p) for k, p in live if k in needed and p in needing}
        if kept == live:
            break
        live = kept
    pre: dict[str, list[str]] = {}
    for k, p in live:
        pre.setdefault(k, []).append(p)
    found: set[tuple[str, str]] = set()
    for k, p in live:
        seen, queue = {p}, deque([p])
        while queue:
            node = queue.popleft()
            if node == k:
                found.add((k, p))
                break
            for nxt in pre.get(node, ()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    return found


def _prerequisites_acyclic(wh: Tables, _ctx: RuleContext) -> ir.Table:
    # The graph is reference content of a few hundred edges: read whole, its cycles found
    # here, and the edges on them returned as the offending rows of the table itself.
    t = wh.table(KNOWLEDGE_PREREQUISITE.name)
    pairs = t.select("kp_code", "prerequisite_code").to_pyarrow().to_pylist()
    bad = sorted(
        f"{k}\x1f{p}"
        for k, p in edges_on_cycles([(r["kp_code"], r["prerequisite_code"]) for r in pairs])
    )
    pair = t.kp_code + "\x1f" + t.prerequisite_code
    rows = t.filter(pair.isin(bad)) if bad else t.filter(ibis.literal(False))
    detail = (
        ibis.literal(f"{KNOWLEDGE_PREREQUISITE.label}成环：")
        + rows.prerequisite_code
        + " 最终又以 "
        + rows.kp_code
        + " 为先修"
    )
    return finish(KNOWLEDGE_PREREQUISITE, rows, detail)


PREREQUISITES_ACYCLIC = QualityRule(
    id="consistency.knowledge_prerequisite.cycle",
    entity=KNOWLEDGE_PREREQUISITE.name,
    dimension=Dimension.CONSISTENCY,
    description_zh="知识点先修关系不成环（先修的先修不会回到该知识点）",
    description_en="the prerequisite edges contain no cycle",
    severity=Severity.ERROR,
    query=_prerequisites_acyclic,
)
