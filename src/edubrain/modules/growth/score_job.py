"""综合素质评价 on the warehouse: every pupil-term of `growth_record` scored by the scheme into
`growth_score`, one row per pupil × term × domain and one for the total (domain `total`).

Each row carries the pupil's school that year by the 学籍, the scheme, the score (null: 无记录),
its level, the records counted, the previous scored term's score and whether the score fell by
the scheme's decline (成长预警). Records of a kind no rule names are counted nowhere and
reported. Nothing here writes: the use case (`usecases.growth_scores`) stores the table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from edubrain.modules.growth.scheme import Scheme
from edubrain.modules.growth.scoring import TOTAL, TermScores, declines, score_term
from edubrain.modules.roster.registry import school_by_pupil_year
from edubrain.warehouse.api import OptionalTables

GROWTH_SCORE_TABLE = "growth_score"
SOURCE_TABLE = "growth_record"

GROWTH_SCORE_SCHEMA = pa.schema(
    [
        pa.field("student_number", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("school_year", pa.string()),
        pa.field("term", pa.string()),
        pa.field("scheme_id", pa.string()),
        pa.field("domain", pa.string()),
        pa.field("domain_name", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("level", pa.string()),
        pa.field("records", pa.int64()),
        pa.field("previous_score", pa.float64()),
        pa.field("decline", pa.bool_()),
        pa.field("scored_at", pa.timestamp("us")),
    ]
)


@dataclass
class Outcome:
    table: pa.Table = field(default_factory=lambda: GROWTH_SCORE_SCHEMA.empty_table())
    notes: list[str] = field(default_factory=list)


def score_growth(
    tables: OptionalTables,
    scheme: Scheme,
    *,
    scored_at: datetime,
    note: Callable[[str], None] | None = None,
    confirmed: Sequence[Mapping[str, Any]] = (),
) -> Outcome:
    """Score every pupil-term in the warehouse by `scheme`, with `confirmed` records (each with
    student_number, school_year, term, kind, value, level) from outside it."""
    say = note or (lambda _line: None)
    outcome = Outcome()
    if not tables.has_table(SOURCE_TABLE) and not confirmed:
        outcome.notes.append("数据仓中没有综合素质评价记录（growth_record），未评分")
        say(outcome.notes[-1])
        return outcome
    columns_in = ("student_number", "school_year", "term", "kind", "value", "level")
    rows_in: list[Mapping[str, Any]] = []
    if tables.has_table(SOURCE_TABLE):
        rows_in = tables.table(SOURCE_TABLE).select(*columns_in).to_pyarrow().to_pylist()
    if confirmed:
        outcome.notes.append(f"公示后确认的写实记录：{len(confirmed)}条")
    rows_in = [*rows_in, *confirmed]
    known = scheme.domain_of_kind()
    groups: dict[str, dict[tuple[str, str], list[Mapping[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    ignored: Counter[str] = Counter()
    for r in rows_in:
        if r["kind"] not in known:
            ignored[str(r["kind"])] += 1
            continue
        groups[str(r["student_number"])][(str(r["school_year"]), str(r["term"]))].append(r)
    say(f"综合素质评价评分：{len(groups)}名学生，{len(rows_in)}条记录，方案「{scheme.name}」")
    places = school_by_pupil_year(tables)
    names = {d.domain: d.name for d in scheme.domains} | {TOTAL: "综合"}
    columns: dict[str, list[Any]] = {name: [] for name in GROWTH_SCORE_SCHEMA.names}
    declined = 0
    for pupil in sorted(groups):
        terms = sorted(groups[pupil])
        scored: list[tuple[str, TermScores]] = [
            (f"{y}/{t}", score_term(scheme, groups[pupil][(y, t)])) for y, t in terms
        ]
        for (year, term), (_, scores), fell in zip(
            terms, scored, declines(scheme, scored), strict=True
        ):
            for key in [*(d.domain for d in scheme.domains), TOTAL]:
                value = scores.total if key == TOTAL else scores.domains[key]
                previous, dropped = fell[key]
                declined += int(dropped)
                columns["student_number"].append(pupil)
                columns["school_code"].append(places.get((pupil, year)))
                columns["school_year"].append(year)
                columns["term"].append(term)
                columns["scheme_id"].append(scheme.id)
                columns["domain"].append(key)
                columns["domain_name"].append(names[key])
                columns["score"].append(None if value is None else round(value, 2))
                columns["level"].append(None if value is None else scheme.level_of(value))
                columns["records"].append(
                    sum(scores.records.values()) if key == TOTAL else scores.records[key]
                )
                columns["previous_score"].append(None if previous is None else round(previous, 2))
                columns["decline"].append(dropped)
                columns["scored_at"].append(scored_at)
    outcome.table = pa.table(columns, schema=GROWTH_SCORE_SCHEMA)
    if ignored:
        outcome.notes.append(
            "方案中没有计分规则的记录类别（未计分）："
            + "，".join(f"{k} {n}条" for k, n in ignored.most_common())
        )
    outcome.notes.append(f"成长预警：{declined}项（某维度比上一学期下降{scheme.decline:g}分及以上）"
                         if scheme.decline is not None else "方案未设成长预警降幅")  # fmt: skip
    for line in outcome.notes:
        say(line)
    return outcome
