"""Quality scorecards per source system × school × load, and 数据互通率 (interoperability rate).

A *record* of a unit is a row of an entity table whose current version came from that load,
attributed to the record's school, or a row the load quarantined at the door. Per dimension,
a record fails when at least one rule of that dimension lists it; quarantined records fail
validity. The score is the share of records that fail nothing, 0–100.

All row-level counting is one Ibis expression executed once; the rows that come back are few
(one per unit and dimension), so they are shaped into `ScoreRow`s in Python. Timeliness is a
property of a whole feed (source × entity): its rule lists every row of a stale feed, so the
scorecard applies the feed's verdict to the unit's records instead of listing them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from edubrain.errors import ConfigError
from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.persons import secondary_sources
from edubrain.govern.quality import (
    UNKNOWN_SCHOOL,
    CachedTables,
    Dimension,
    QualityRule,
    RuleContext,
    carried_columns,
    last_loads,
    rules_for,
    with_school,
)
from edubrain.govern.references import school_reference
from edubrain.standard.entities import entities, entity, person_registry
from edubrain.warehouse import LOADS_TABLE, Warehouse
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

UNIT = ("source", "school_code", "load_id", "entity")
# Pseudo-dimensions in the long count table: all records, and records failing anything.
_RECORDS, _ANY = "records", "any"
GROUPINGS = ("source", "school_code", "load_id", "entity")


@dataclass
class ScoreRow:
    """Counts of one unit (or of a roll-up of units, where the grouped-away fields are '*')."""

    source: str
    school_code: str
    load_id: str
    entity: str
    records: int = 0  # accepted rows currently attributed to the unit + quarantined rows
    quarantined: int = 0
    failed_any: int = 0  # records failing at least one rule (quarantined records included)
    checked: dict[Dimension, int] = field(default_factory=dict)
    failed: dict[Dimension, int] = field(default_factory=dict)

    @property
    def passed(self) -> int:
        return self.records - self.failed_any

    @property
    def score(self) -> float | None:
        return round(100 * self.passed / self.records, 2) if self.records else None

    def dimension_score(self, d: Dimension) -> float | None:
        checked = self.checked.get(d, 0)
        if not checked:
            return None  # no rule of this dimension applies to these records
        return round(100 * (checked - self.failed.get(d, 0)) / checked, 2)

    def worst_dimension(self) -> Dimension | None:
        scored = [(s, d) for d in Dimension if (s := self.dimension_score(d)) is not None]
        worst = min(scored, default=None, key=lambda p: p[0])
        return worst[1] if worst and worst[0] < 100 else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "school_code": self.school_code,
            "load_id": self.load_id,
            "entity": self.entity,
            "records": self.records,
            "quarantined": self.quarantined,
            "passed": self.passed,
            "failed": self.failed_any,
            "score": self.score,
            "dimensions": {
                d.value: {
                    "checked": self.checked[d],
                    "passed": self.checked[d] - self.failed.get(d, 0),
                    "failed": self.failed.get(d, 0),
                    "score": self.dimension_score(d),
                }
                for d in Dimension
                if d in self.checked
            },
        }


# ---- the counting expression ----------------------------------------------------------------


def _units(t: ir.Table) -> dict[str, ir.Value]:
    return {
        "source": t._source,
        "school_code": t.school_code,
        "load_id": t._load_id,
    }


def _entity_counts(
    wh: Tables, entity_name: str, rules: Sequence[QualityRule], ctx: RuleContext
) -> ir.Table:
    """Long counts (unit…, dimension, n) of one entity's current rows."""
    ent = entity(entity_name)
    rows = with_school(wh, ent, wh.table(ent.name))
    counts = rows.group_by(**_units(rows)).aggregate(n=rows.count())
    parts = [counts.mutate(dimension=ibis.literal(_RECORDS))]
    if rules:
        carried = [c for c in carried_columns(ent.name) if c != "detail"]
        failures = ibis.union(
            *(
                r.query(wh, ctx).select(*carried, dimension=ibis.literal(r.dimension.value))
                for r in rules
            ),
            distinct=True,  # a record failing two rules of one dimension fails it once
        )
        # One school lookup for all the entity's rules, not one per rule.
        failures = with_school(wh, ent, failures)
        # The unit's school_code is a column already; a key that contains it needs it once.
        key = [k for k in ent.natural_key if k != "school_code"]
        failures = failures.select(*key, **_units(failures), dimension=failures.dimension)
        unit = ["source", "school_code", "load_id"]
        by_dimension = failures.group_by([*unit, "dimension"]).aggregate(n=failures.count())
        records = failures.select(*key, *unit).distinct()
        any_failure = records.group_by(unit).aggregate(n=records.count())
        parts += [by_dimension, any_failure.mutate(dimension=ibis.literal(_ANY))]
    columns = ["source", "school_code", "load_id", "dimension", "n"]
    return ibis.union(*(p.select(*columns) for p in parts)).mutate(entity=ibis.literal(ent.name))


def current_quarantine(wh: Tables) -> ir.Table:
    """Records quarantined per load, counting only each file's latest content.

    Loading the same bytes again adds no quarantine rows (they stay with the load that first
    saw them); a re-export of a file under the same path supersedes the old rejections.
    """
    loads = wh.table(LOADS_TABLE)
    latest = loads.mutate(
        rank=ibis.row_number().over(group_by="file", order_by=ibis.desc("started_at"))
    )
    current = latest.filter(latest["rank"] == 0).select(cur_file="file", cur_sha="sha256")
    first = loads.mutate(
        rank=ibis.row_number().over(group_by=["file", "sha256"], order_by="started_at")
    )
    first = first.filter(first["rank"] == 0)
    picked = first.semi_join(
        current, [first.file == current.cur_file, first.sha256 == current.cur_sha]
    )
    return picked.select("source", "entity", "load_id", quarantined="rows_quarantined")


def _row_rules(entity_name: str) -> list[QualityRule]:
    return [r for r in rules_for(entity_name) if r.dimension is not Dimension.TIMELINESS]


def _counts_expression(wh: Tables, ctx: RuleContext) -> ir.Table:
    per_entity = [_entity_counts(wh, e.name, _row_rules(e.name), ctx) for e in entities()]
    q = current_quarantine(wh)
    quarantined = q.filter(q.quarantined > 0).select(
        source="source",
        school_code=ibis.literal(UNKNOWN_SCHOOL),
        load_id="load_id",
        dimension=ibis.literal("quarantined"),
        n="quarantined",
        entity="entity",
    )
    columns = ["source", "school_code", "load_id", "dimension", "n", "entity"]
    return ibis.union(*(p.select(*columns) for p in [*per_entity, quarantined]))


def _dimensions_checked(entity_name: str) -> set[Dimension]:
    # Ingestion validated every field of every entity at the door, so validity always applies.
    return {Dimension.VALIDITY} | {r.dimension for r in rules_for(entity_name)}


def scorecard(wh: Tables, ctx: RuleContext) -> list[ScoreRow]:
    """One ScoreRow per source × school × load (and entity: a load feeds one entity)."""
    wh = CachedTables(wh)
    long = _counts_expression(wh, ctx).to_pyarrow().to_pylist()
    stale = {(f["source"], f["entity"]) for f in freshness(wh, ctx) if f["stale"]}
    units: dict[tuple[str, str, str, str], ScoreRow] = {}
    for row in long:
        unit = (row["source"], row["school_code"], row["load_id"], row["entity"])
        score = units.setdefault(unit, ScoreRow(*unit))
        n, dim = int(row["n"]), row["dimension"]
        if dim == _RECORDS:
            score.records += n
        elif dim == _ANY:
            score.failed_any += n
        elif dim == "quarantined":
            score.quarantined += n
        else:
            score.failed[Dimension(dim)] = n
    for score in units.values():
        accepted = score.records
        score.records += score.quarantined
        score.failed_any += score.quarantined
        for d in _dimensions_checked(score.entity):
            score.checked[d] = accepted
        if Dimension.TIMELINESS in score.checked and (score.source, score.entity) in stale:
            # Every accepted record of a stale feed fails timeliness, and quarantined ones
            # fail validity: the whole unit fails.
            score.failed[Dimension.TIMELINESS] = accepted
            score.failed_any = score.records
        score.checked[Dimension.VALIDITY] = score.records
        score.failed[Dimension.VALIDITY] = (
            score.failed.get(Dimension.VALIDITY, 0) + score.quarantined
        )
        if not score.failed[Dimension.VALIDITY]:
            del score.failed[Dimension.VALIDITY]
    return sorted(units.values(), key=lambda s: (s.source, s.school_code, s.load_id, s.entity))


def rollup(rows: Iterable[ScoreRow], by: Sequence[str]) -> list[ScoreRow]:
    """Sum unit rows over the fields not in `by` (they become '*')."""
    unknown = set(by) - set(GROUPINGS)
    if unknown:
        raise ConfigError(f"cannot group by {sorted(unknown)}; use {', '.join(GROUPINGS)}")
    groups: dict[tuple[str, ...], ScoreRow] = {}
    for row in rows:
        source, school, load, ent = (getattr(row, g) if g in by else "*" for g in GROUPINGS)
        key = (source, school, load, ent)
        total = groups.setdefault(key, ScoreRow(source, school, load, ent))
        total.records += row.records
        total.quarantined += row.quarantined
        total.failed_any += row.failed_any
        for d, n in row.checked.items():
            total.checked[d] = total.checked.get(d, 0) + n
        for d, n in row.failed.items():
            total.failed[d] = total.failed.get(d, 0) + n
    return sorted(groups.values(), key=lambda s: tuple(getattr(s, g) for g in GROUPINGS))


def freshness(wh: Tables, ctx: RuleContext) -> list[dict[str, Any]]:
    """Per (source, entity): last load, days before `as_of`, and whether it is within the limit."""
    rows: list[dict[str, Any]] = last_loads(wh, ctx.as_of).to_pyarrow().to_pylist()
    for row in rows:
        row["last_loaded"] = row["last_loaded"].isoformat(timespec="seconds")
        row["stale"] = row["days_since"] > ctx.max_load_age_days
    return rows


# ---- 数据互通率: how many of a source's person records resolve to a registry pupil ---------


def person_bearing() -> tuple[str, ...]:
    """The entities whose records 数据互通率 resolves: every declared person source but the
    registry itself (`govern.persons.secondary_sources`)."""
    return tuple(s.entity for s in secondary_sources())


def _unique_resolver(resolver: ir.Table) -> ir.Table:
    # A written number mapped to two different pupils resolves to neither.
    keys = ["entity", "student_number"] if "entity" in resolver.columns else ["student_number"]
    grouped = resolver.group_by(keys).aggregate(
        person_id=resolver.person_id.min(), persons=resolver.person_id.nunique()
    )
    return grouped.filter(grouped.persons == 1).drop("persons")


# The scorecard is governance's product: stored, so the indicator engine (and anyone else)
# reads it instead of re-running every rule. It is stale as soon as a load lands.
SCORECARD_TABLE = "quality_scorecard"
SCORECARD_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("load_id", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("records", pa.int64()),
        pa.field("quarantined", pa.int64()),
        pa.field("passed", pa.int64()),
        pa.field("failed", pa.int64()),
        pa.field("as_of", pa.date32()),
        pa.field("max_load_age_days", pa.int64()),
        pa.field("loads_fingerprint", pa.string()),
    ]
)
_SCORE_COLUMNS = ("source", "school_code", "load_id", "entity", "records", "quarantined",
                  "passed", "failed")  # fmt: skip


def loads_fingerprint(wh: Tables) -> str:
    """Changes whenever a load is recorded: the number of loads and the newest finish time."""
    loads = wh.table(LOADS_TABLE)
    row = loads.aggregate(n=loads.count(), last=loads.finished_at.max()).to_pyarrow().to_pylist()
    return f"{row[0]['n']}@{row[0]['last']}"


def store_scorecard(wh: Warehouse, units: Sequence[ScoreRow], ctx: RuleContext) -> None:
    """Keep this scorecard with what it was computed from (the loads, the date, the age rule)."""
    fingerprint = loads_fingerprint(wh)
    rows = [
        {**{c: getattr(u, c if c != "failed" else "failed_any") for c in _SCORE_COLUMNS},
         "as_of": ctx.as_of, "max_load_age_days": ctx.max_load_age_days,
         "loads_fingerprint": fingerprint}
        for u in units
    ]  # fmt: skip
    with wh.transaction() as tx:
        tx.replace_table(SCORECARD_TABLE, pa.Table.from_pylist(rows, SCORECARD_SCHEMA))


def scorecard_rows(wh: Warehouse, ctx: RuleContext) -> list[dict[str, Any]]:
    """The scorecard units as plain rows: the stored ones when nothing was loaded since and
    the date and age rule match, else computed now and stored."""
    if wh.has_table(SCORECARD_TABLE):
        stored = wh.to_arrow(SCORECARD_TABLE)
        if stored.num_rows:
            first = stored.slice(0, 1).to_pylist()[0]
            if (
                first["as_of"] == ctx.as_of
                and first["max_load_age_days"] == ctx.max_load_age_days
                and first["loads_fingerprint"] == loads_fingerprint(wh)
            ):
                rows: list[dict[str, Any]] = stored.select(list(_SCORE_COLUMNS)).to_pylist()
                return rows
    units = scorecard(wh, ctx)
    store_scorecard(wh, units, ctx)
    return [{c: getattr(u, c if c != "failed" else "failed_any") for c in _SCORE_COLUMNS}
            for u in units]  # fmt: skip


def linkage_resolver(wh: Warehouse) -> ir.Table | None:
    """Record linkage's answer as an `interop_rates` resolver, or None before `edubrain govern`.

    Each mention's written student_number maps to the 学籍 registry number of the person it was
    linked to (the person's mention in the registry, `person_registry()`), per entity.
    """
    if not wh.has_table(PERSON_MENTION_TABLE):
        return None
    mentions = wh.table(PERSON_MENTION_TABLE)
    registry = person_registry().entity
    registered = mentions.filter(mentions.entity == registry).select(
        reg_person_id="person_id", registry_number="student_number"
    )
    linked = mentions.join(registered, mentions.person_id == registered.reg_person_id)
    return linked.select(
        entity=linked.entity,
        student_number=linked.student_number,
        person_id=linked.registry_number,
    )


def interop_rates(wh: Tables, *, resolver: ir.Table | None = None) -> ir.Table:
    """数据互通率: per source, entity and school, the share of person-bearing records whose
    student_number resolves to a pupil in the 学籍 registry (`person_registry()`).

    A record resolves when its written student_number is a registry pupil, or when `resolver`
    maps it to one. `resolver` (e.g. the result of record linkage) has columns
    `student_number` (as written) and `person_id` (a registry student_number), and optionally
    `entity` to map per entity. The school is the record's own school where it has one (the
    homework's class), else the resolved pupil's, else UNKNOWN_SCHOOL.

    Columns: source, entity, school_code, records, resolved, rate (0–100).
    """
    person = person_registry()
    students = wh.table(person.entity)
    registry = students.select(reg_person=students[person.key], reg_school=students.school_code)
    mapping = _unique_resolver(resolver) if resolver is not None else None
    parts = []
    for name in person_bearing():
        ent = entity(name)
        t = wh.table(name)
        ref = school_reference(name)
        own_school = ref is not None and ref.target != person.entity
        base = with_school(wh, ent, t) if own_school else t.mutate(school_code=ibis.null("string"))
        base = base.select(
            "_source", student_number=base[person.key], own_school_code="school_code"
        )
        if mapping is not None:
            m = mapping.filter(mapping.entity == name) if "entity" in mapping.columns else mapping
            m = m.select(map_number="student_number", map_person="person_id")
            base = base.left_join(m, base.student_number == m.map_number).select(
                *base.columns, "map_person"
            )
            direct = base.left_join(registry, base.student_number == registry.reg_person).select(
                *base.columns, "reg_person"
            )
            base = direct.mutate(candidate=direct.reg_person.fill_null(direct.map_person)).drop(
                "reg_person", "map_person"
            )
        else:
            base = base.mutate(candidate=base.student_number)
        resolved = base.left_join(registry, base.candidate == registry.reg_person).select(
            *base.columns, "reg_person", "reg_school"
        )
        labelled = resolved.mutate(
            school=resolved.own_school_code.fill_null(resolved.reg_school).fill_null(
                UNKNOWN_SCHOOL
            ),
            is_resolved=resolved.reg_person.notnull().cast("int64"),
        )
        parts.append(
            labelled.group_by(source=labelled._source, school_code=labelled.school)
            .aggregate(records=labelled.count(), resolved=labelled.is_resolved.sum())
            .mutate(entity=ibis.literal(name))
        )
    counts = ibis.union(*parts)
    return counts.select(
        "source",
        "entity",
        "school_code",
        "records",
        "resolved",
        rate=(100.0 * counts.resolved / counts.records).round(2),
    ).order_by(["source", "entity", "school_code"])


def interop_summary(rates: Sequence[dict[str, Any]], by: Sequence[str]) -> list[dict[str, Any]]:
    """Roll interop rows (from `interop_rates(...).to_pyarrow().to_pylist()`) up to `by`."""
    totals: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in rates:
        key = tuple(row[g] for g in by)
        totals[key][0] += int(row["records"])
        totals[key][1] += int(row["resolved"])
    return [
        {
            **dict(zip(by, key, strict=True)),
            "records": n,
            "resolved": r,
            "rate": round(100 * r / n, 2) if n else None,
        }
        for key, (n, r) in sorted(totals.items())
    ]
