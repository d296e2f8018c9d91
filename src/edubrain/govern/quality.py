"""Declarative data-quality rules: each rule is a query that returns the offending rows.

The rule kinds live here; which entity and field each applies to is declared by the domain
modules (`NeededField`, `OneIdPerKey`, `Agreement`, `DatesInOrder`, or a whole `QualityRule`),
and referential integrity and timeliness are derived for every installed entity.
Rules are derived from the data standard and from the declared references wherever possible;
every one is an Ibis expression over `wh.table(...)`, so the same catalogue runs on any
warehouse backend. Every rule returns rows of its entity in one shape (see `offending_columns`):
the natural key, the record's school (or UNKNOWN_SCHOOL), its lineage and a `detail` text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

import ibis

from edubrain import installed
from edubrain.errors import ConfigError, NotFoundError
from edubrain.govern.references import Reference, references, school_reference
from edubrain.standard.entities import Entity, entities, entity, person_registry
from edubrain.warehouse import LOADS_TABLE
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir

# A record whose school cannot be derived (no school in the entity, or the referenced row is
# missing) is reported under this school.
UNKNOWN_SCHOOL = "(unknown)"
LINEAGE = ("_source", "_load_id")


class CachedTables:
    """Looks each table up once: many rules read the same tables, and a lookup costs a
    catalogue query."""

    def __init__(self, wh: Tables) -> None:
        self._wh = wh
        self._tables: dict[str, ir.Table] = {}

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            self._tables[name] = self._wh.table(name)
        return self._tables[name]


class UnknownRuleError(NotFoundError):
    """A rule id that is not in the catalogue."""


class Dimension(StrEnum):
    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    UNIQUENESS = "uniqueness"
    CONSISTENCY = "consistency"
    REFERENTIAL_INTEGRITY = "referential_integrity"
    TIMELINESS = "timeliness"


class Severity(StrEnum):
    ERROR = "error"  # the record is wrong or unusable for the indicators that need it
    WARNING = "warning"  # the record is doubtful or incomplete; a steward should look


@dataclass(frozen=True)
class RuleContext:
    """What a rule may depend on besides the warehouse: passed in, so results are reproducible."""

    as_of: date
    max_load_age_days: int = 45


@dataclass(frozen=True)
class QualityRule:
    id: str
    entity: str
    dimension: Dimension
    description_zh: str
    description_en: str
    severity: Severity
    # The offending rows with `carried_columns(entity)`; `offending` adds their school.
    query: Callable[[Tables, RuleContext], ir.Table]

    def offending(self, wh: Tables, ctx: RuleContext) -> ir.Table:
        """The offending rows: `offending_columns(entity)`, one row per offending record."""
        ent = entity(self.entity)
        return with_school(wh, ent, self.query(wh, ctx)).select(*offending_columns(ent.name))


def offending_columns(entity_name: str) -> tuple[str, ...]:
    key = entity(entity_name).natural_key
    return (*key, *(("school_code",) if "school_code" not in key else ()), *LINEAGE, "detail")


def carried_columns(entity_name: str) -> tuple[str, ...]:
    """What a rule's query returns: the natural key, the fields the school is derived from,
    the lineage and `detail`. The school itself is joined on afterwards, once per entity when
    the scorecard unions all rules."""
    ent = entity(entity_name)
    ref = school_reference(entity_name)
    school_fields: tuple[str, ...] = ("school_code",) if "school_code" in ent.field_names else ()
    school_fields += ref.fields if ref else ()
    extra = tuple(dict.fromkeys(f for f in school_fields if f not in ent.natural_key))
    return (*ent.natural_key, *extra, *LINEAGE, "detail")


# ---- shared pieces ------------------------------------------------------------------------


def text(value: ir.Value) -> ir.StringValue:
    """A value as text for a `detail` message; empty shows as ∅."""
    out: ir.StringValue = value.cast("string").fill_null("∅")
    return out


def with_school(wh: Tables, ent: Entity, t: ir.Table) -> ir.Table:
    """`t` (rows of `ent`, maybe with extra columns) plus a non-null `school_code` column."""
    if "school_code" in ent.field_names:
        return t.mutate(school_code=t.school_code.fill_null(UNKNOWN_SCHOOL))
    ref = school_reference(ent.name)
    if ref is None:
        return t.mutate(school_code=ibis.literal(UNKNOWN_SCHOOL))
    target = wh.table(ref.target)
    # Renamed so the join can never collide with the record's own columns.
    lookup = target.select(
        qr_school=target.school_code,
        **{f"qr_ref{i}": target[f] for i, f in enumerate(ref.to_fields)},
    )
    joined = t.left_join(
        lookup, [t[f] == lookup[f"qr_ref{i}"] for i, f in enumerate(ref.fields)]
    ).select(*t.columns, "qr_school")
    return joined.mutate(school_code=joined.qr_school.fill_null(UNKNOWN_SCHOOL)).drop("qr_school")


def finish(ent: Entity, rows: ir.Table, detail: ir.StringValue) -> ir.Table:
    """Offending `rows` of `ent` as a rule's query returns them, `detail` explaining each."""
    return rows.mutate(detail=detail).select(*carried_columns(ent.name))


# ---- completeness: optional fields that an indicator or linkage depends on ------------------


@dataclass(frozen=True)
class NeededField:
    entity: str
    field: str
    why_zh: str
    why_en: str


def _completeness(need: NeededField) -> QualityRule:
    ent = entity(need.entity)
    label = ent.field(need.field).label

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        return finish(ent, t.filter(t[need.field].isnull()), ibis.literal(f"{label}为空"))

    return QualityRule(
        id=f"completeness.{ent.name}.{need.field}",
        entity=ent.name,
        dimension=Dimension.COMPLETENESS,
        description_zh=f"{ent.label}的{label}应填写（{need.why_zh}）",
        description_en=f"{ent.name}.{need.field} should be filled ({need.why_en})",
        severity=Severity.WARNING,
        query=query,
    )


# ---- uniqueness across keys: one ID number, one person --------------------------------------


@dataclass(frozen=True)
class OneIdPerKey:
    """Each value of `entity.id_field` belongs to one natural key (one ID number, one person)."""

    entity: str
    id_field: str


def _one_id_one_key(fact: OneIdPerKey) -> QualityRule:
    ent, id_field = entity(fact.entity), fact.id_field
    (key,) = ent.natural_key  # merging already makes the key unique; the ID must be too

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        t = t.filter(t[id_field].notnull())
        shared = (
            t.group_by(qr_id=t[id_field])
            .aggregate(qr_keys=t[key].nunique())
            .filter(lambda g: g.qr_keys > 1)
        )
        rows = t.inner_join(shared, t[id_field] == shared.qr_id).select(*t.columns, "qr_keys")
        detail = (
            ibis.literal(f"{ent.field(id_field).label}同时出现在 ")
            + text(rows.qr_keys)
            + ibis.literal(f" 个{ent.field(key).label}下")
        )
        return finish(ent, rows, detail)

    return QualityRule(
        id=f"uniqueness.{ent.name}.{id_field}",
        entity=ent.name,
        dimension=Dimension.UNIQUENESS,
        description_zh=f"同一{ent.field(id_field).label}只对应一个{ent.field(key).label}",
        description_en=f"one {ent.name}.{id_field} belongs to exactly one {key}",
        severity=Severity.ERROR,
        query=query,
    )


# ---- consistency: the same pupil in 学籍 and in a secondary system ----------------------------


@dataclass(frozen=True)
class Agreement:
    """`entity.field` must equal the person registry's `registry_field` (学籍) for the same
    person key, compared only where both are filled and the `also_equal` fields match too."""

    entity: str
    field: str
    registry_field: str
    also_equal: tuple[str, ...] = ()


def _agreement(a: Agreement) -> QualityRule:
    ent = entity(a.entity)
    person = person_registry()
    registry = entity(person.entity)

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        s = wh.table(registry.name)
        lookup = s.select(
            qr_sn=s[person.key],
            qr_value=s[a.registry_field],
            **{f"qr_also_{f}": s[f] for f in a.also_equal},
        )
        preds = [t[person.key] == lookup.qr_sn] + [
            t[f] == lookup[f"qr_also_{f}"] for f in a.also_equal
        ]
        j = t.inner_join(lookup, preds).select(*t.columns, "qr_value")
        rows = j.filter(j[a.field].notnull() & j.qr_value.notnull() & (j[a.field] != j.qr_value))
        detail = (
            ibis.literal(f"{ent.field(a.field).label} ")
            + text(rows[a.field])
            + ibis.literal(f" ≠ {person.label_zh} ")
            + text(rows.qr_value)
        )
        return finish(ent, rows, detail)

    return QualityRule(
        id=f"consistency.{ent.name}.{a.field}",
        entity=ent.name,
        dimension=Dimension.CONSISTENCY,
        description_zh=f"{ent.label}的{ent.field(a.field).label}与{person.label_zh}一致",
        description_en=(
            f"{ent.name}.{a.field} equals {registry.name}.{a.registry_field} ({person.label_zh})"
        ),
        severity=Severity.WARNING,
        query=query,
    )


# ---- validity beyond one field (ingestion already checked every single field) --------------


@dataclass(frozen=True)
class DatesInOrder:
    """`entity.then` is after (`strict`) or on or after `entity.first`."""

    entity: str
    first: str
    then: str
    strict: bool


def _dates_in_order(fact: DatesInOrder) -> QualityRule:
    ent, first, then, strict = entity(fact.entity), fact.first, fact.then, fact.strict

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        wrong = t[then] <= t[first] if strict else t[then] < t[first]
        rows = t.filter(wrong)
        detail = (
            ibis.literal(f"{ent.field(then).label} ")
            + text(rows[then])
            + f" 早于{ent.field(first).label} "
            + text(rows[first])
        )
        return finish(ent, rows, detail)

    word_zh = "晚于" if strict else "不早于"
    word_en = "after" if strict else "on or after"
    return QualityRule(
        id=f"validity.{ent.name}.{then}",
        entity=ent.name,
        dimension=Dimension.VALIDITY,
        description_zh=f"{ent.field(then).label}{word_zh}{ent.field(first).label}",
        description_en=f"{ent.name}.{then} is {word_en} {first}",
        severity=Severity.ERROR,
        query=query,
    )


# ---- referential integrity, generated from the declared references -----------------------


def _reference(ref: Reference) -> QualityRule:
    ent, target = entity(ref.entity), entity(ref.target)

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t, tgt = wh.table(ent.name), wh.table(target.name)
        lookup = tgt.select(**{f"qr_ref{i}": tgt[f] for i, f in enumerate(ref.to_fields)})
        filled = t
        for f in ref.fields:
            filled = filled.filter(filled[f].notnull())
        rows = filled.anti_join(
            lookup, [filled[f] == lookup[f"qr_ref{i}"] for i, f in enumerate(ref.fields)]
        )
        # 学生中没有学籍号 G…; 班级中没有学校标识码 …、年级编号 …、班号 …
        detail: ir.StringValue = ibis.literal(f"{target.label}中没有")
        for i, f in enumerate(ref.fields):
            detail = detail + ("" if i == 0 else "、") + f"{ent.field(f).label} " + text(rows[f])
        return finish(ent, rows, detail)

    fields = ", ".join(ref.fields)
    labels = "、".join(ent.field(f).label for f in ref.fields)
    return QualityRule(
        id=f"referential_integrity.{ent.name}.{ref.name}",
        entity=ent.name,
        dimension=Dimension.REFERENTIAL_INTEGRITY,
        description_zh=f"{ent.label}的{labels}在{target.label}中存在",
        description_en=f"{ent.name}.({fields}) exists in {target.name}",
        severity=Severity.ERROR,
        query=query,
    )


# ---- timeliness: the age of the last load of each feed ---------------------------------------


def last_loads(wh: Tables, as_of: date) -> ir.Table:
    """Per (source, entity): when it was last loaded and how many days before `as_of`."""
    loads = wh.table(LOADS_TABLE)
    last = loads.group_by(["source", "entity"]).aggregate(last_loaded=loads.finished_at.max())
    return last.mutate(
        days_since=ibis.literal(as_of).delta(last.last_loaded.date(), unit="day")
    ).order_by(["source", "entity"])


def _timeliness(ent: Entity) -> QualityRule:
    def query(wh: Tables, ctx: RuleContext) -> ir.Table:
        last = last_loads(wh, ctx.as_of)
        stale = last.filter(
            (last.entity == ent.name) & (last.days_since > ctx.max_load_age_days)
        ).select(qr_source="source", qr_days="days_since", qr_last="last_loaded")
        t = wh.table(ent.name)
        rows = t.inner_join(stale, t._source == stale.qr_source).select(
            *t.columns, "qr_days", "qr_last"
        )
        detail = (
            ibis.literal("来源 ")
            + rows._source
            + " 最近一次导入 "
            + text(rows.qr_last.date())
            + "，距今 "
            + text(rows.qr_days)
            + f" 天 (上限 {ctx.max_load_age_days})"
        )
        return finish(ent, rows, detail)

    return QualityRule(
        id=f"timeliness.{ent.name}",
        entity=ent.name,
        dimension=Dimension.TIMELINESS,
        description_zh=f"{ent.label}的来源按时更新（最近一次导入不超过上限天数）",
        description_en=f"the source of each {ent.name} row was loaded within the age limit",
        severity=Severity.WARNING,
        query=query,
    )


# ---- the catalogue --------------------------------------------------------------------------


@installed.per_installation
def rules() -> tuple[QualityRule, ...]:
    """The catalogue: every rule the installed modules declare or imply, by id."""
    found: list[QualityRule] = []
    found += [_completeness(n) for n in installed.declared(NeededField)]
    found += [_one_id_one_key(f) for f in installed.declared(OneIdPerKey)]
    found += [_agreement(a) for a in installed.declared(Agreement)]
    found += installed.declared(QualityRule)
    found += [_dates_in_order(f) for f in installed.declared(DatesInOrder)]
    found += [_reference(r) for r in references()]
    # Code lists and the school calendar change by decree, not by term: their age says nothing.
    found += [_timeliness(e) for e in entities() if not e.reference_data]
    ids = [r.id for r in found]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ConfigError(f"two quality rules share the id {', '.join(twice)}")
    return tuple(sorted(found, key=lambda r: r.id))


@installed.per_installation
def _by_id() -> dict[str, QualityRule]:
    return {r.id: r for r in rules()}


def rule(rule_id: str) -> QualityRule:
    try:
        return _by_id()[rule_id]
    except KeyError:
        raise UnknownRuleError(
            f"unknown quality rule {rule_id!r}; list them with `edubrain quality --rules`"
        ) from None


def rules_for(entity_name: str) -> tuple[QualityRule, ...]:
    return tuple(r for r in rules() if r.entity == entity_name)


def offending_rows(
    wh: Tables,
    rule_id: str,
    ctx: RuleContext,
    *,
    school: str | None = None,
    limit: int | None = None,
) -> ir.Table:
    """Drill-down: the offending rows of one rule, optionally of one school, in key order."""
    r = rule(rule_id)
    rows = r.offending(wh, ctx)
    if school is not None:
        rows = rows.filter(rows.school_code == school)
    rows = rows.order_by(list(entity(r.entity).natural_key))
    return rows.limit(limit) if limit is not None else rows
