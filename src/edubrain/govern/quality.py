"""Declarative data-quality rules: each rule is a query that returns the offending rows.

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
from typing import TYPE_CHECKING, Protocol

import ibis

from edubrain.errors import NotFoundError
from edubrain.govern.references import REFERENCES, Reference, school_reference
from edubrain.standard.entities import ENTITIES, Entity, entity
from edubrain.warehouse import LOADS_TABLE

if TYPE_CHECKING:
    import ibis.expr.types as ir

# A record whose school cannot be derived (no school in the entity, or the referenced row is
# missing) is reported under this school.
UNKNOWN_SCHOOL = "(unknown)"
LINEAGE = ("_source", "_load_id")


class Tables(Protocol):
    """All a rule needs of a warehouse: its tables as Ibis expressions."""

    def table(self, name: str) -> ir.Table: ...


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


NEEDED_FIELDS: tuple[NeededField, ...] = (
    NeededField("student", "id_number", "一人一码比对依赖身份证件号", "one-person-one-ID linkage"),
    NeededField("student", "hukou_region", "招生片区核验依赖户口所在地", "enrolment zone checks"),
    NeededField("guardian", "phone", "家校联系与预警通知", "reaching the family for warnings"),
    NeededField("teacher", "id_number", "教职工身份核验", "staff identity"),
    NeededField("teacher", "title", "职称结构指标", "professional-title indicators"),
    NeededField("school", "longitude", "教育一张图定位", "the education map"),
    NeededField("school", "latitude", "教育一张图定位", "the education map"),
    NeededField("school", "enrolment_zone", "按片区招生", "enrolment by zone"),
    NeededField("class", "head_teacher_staff_number", "班主任视图", "head-teacher views"),
    NeededField("fitness_test", "birth_date", "体测与学籍比对", "linking 体测 to 学籍"),
    NeededField("fitness_test", "test_date", "体测时间序列", "fitness time series"),
    NeededField("health_check", "sex", "近视/肥胖分性别统计", "myopia/obesity by sex"),
    NeededField("health_check", "vision_left", "近视率指标", "myopia indicator"),
    NeededField("health_check", "vision_right", "近视率指标", "myopia indicator"),
    NeededField("exam_item", "knowledge_points", "学情诊断 Q 矩阵", "learning diagnosis Q-matrix"),
    NeededField("homework_submission", "submitted_at", "双减作业时长统计", "homework timing"),
)


def _completeness(need: NeededField) -> QualityRule:
    ent = entity(need.entity)
    label = ent.field(need.field).label

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        return finish(ent, t.filter(t[need.field].isnull()), ibis.literal(f"{need.field} 为空"))

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


def _one_id_one_key(entity_name: str, id_field: str) -> QualityRule:
    ent = entity(entity_name)
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
            ibis.literal(f"{id_field} 同时出现在 ")
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
    """`entity.field` must equal the 学籍 `student.registry_field` of the same student_number,
    compared only where both are filled and the `also_equal` fields match too."""

    entity: str
    field: str
    registry_field: str
    also_equal: tuple[str, ...] = ()


AGREEMENTS: tuple[Agreement, ...] = (
    Agreement("fitness_test", "sex", "sex"),
    Agreement("fitness_test", "birth_date", "birth_date"),
    Agreement("fitness_test", "student_name", "name"),
    Agreement("fitness_test", "grade_code", "grade_code", also_equal=("school_year",)),
    Agreement("health_check", "sex", "sex"),
    Agreement("health_check", "student_name", "name"),
)


def _agreement(a: Agreement) -> QualityRule:
    ent = entity(a.entity)
    registry = entity("student")

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        s = wh.table(registry.name)
        lookup = s.select(
            qr_sn=s.student_number,
            qr_value=s[a.registry_field],
            **{f"qr_also_{f}": s[f] for f in a.also_equal},
        )
        preds = [t.student_number == lookup.qr_sn] + [
            t[f] == lookup[f"qr_also_{f}"] for f in a.also_equal
        ]
        j = t.inner_join(lookup, preds).select(*t.columns, "qr_value")
        rows = j.filter(j[a.field].notnull() & j.qr_value.notnull() & (j[a.field] != j.qr_value))
        detail = (
            ibis.literal(f"{a.field} ")
            + text(rows[a.field])
            + ibis.literal(" ≠ 学籍 ")
            + text(rows.qr_value)
        )
        return finish(ent, rows, detail)

    return QualityRule(
        id=f"consistency.{ent.name}.{a.field}",
        entity=ent.name,
        dimension=Dimension.CONSISTENCY,
        description_zh=f"{ent.label}的{ent.field(a.field).label}与学籍一致",
        description_en=f"{ent.name}.{a.field} equals student.{a.registry_field} (学籍)",
        severity=Severity.WARNING,
        query=query,
    )


def _exam_max_equals_items() -> QualityRule:
    ent = entity("exam")

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        exam, items = wh.table("exam"), wh.table("exam_item")
        sums = items.group_by(qr_exam=items.exam_id).aggregate(qr_sum=items.max_score.sum())
        j = exam.inner_join(sums, exam.exam_id == sums.qr_exam).select(*exam.columns, "qr_sum")
        # Scores are decimals; a rounding difference is not an inconsistency.
        rows = j.filter((j.max_score - j.qr_sum).abs() > 0.001)
        detail = (
            ibis.literal("满分 ") + text(rows.max_score) + " ≠ 小题分值之和 " + text(rows.qr_sum)
        )
        return finish(ent, rows, detail)

    return QualityRule(
        id="consistency.exam.max_score",
        entity="exam",
        dimension=Dimension.CONSISTENCY,
        description_zh="考试满分等于各小题分值之和",
        description_en="exam.max_score equals the sum of its items' max_score",
        severity=Severity.WARNING,
        query=query,
    )


# ---- validity beyond one field (ingestion already checked every single field) --------------


def _item_score_within_item_max() -> QualityRule:
    ent = entity("item_score")

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t, items = wh.table("item_score"), wh.table("exam_item")
        lookup = items.select(qr_exam=items.exam_id, qr_item=items.item_no, qr_max=items.max_score)
        j = t.inner_join(lookup, [t.exam_id == lookup.qr_exam, t.item_no == lookup.qr_item]).select(
            *t.columns, "qr_max"
        )
        rows = j.filter(j.score > j.qr_max)
        detail = ibis.literal("得分 ") + text(rows.score) + " > 分值 " + text(rows.qr_max)
        return finish(ent, rows, detail)

    return QualityRule(
        id="validity.item_score.score",
        entity="item_score",
        dimension=Dimension.VALIDITY,
        description_zh="小题得分不超过该题分值",
        description_en="item_score.score is at most the item's max_score",
        severity=Severity.ERROR,
        query=query,
    )


def _dates_in_order(entity_name: str, first: str, then: str, strict: bool) -> QualityRule:
    ent = entity(entity_name)

    def query(wh: Tables, _ctx: RuleContext) -> ir.Table:
        t = wh.table(ent.name)
        wrong = t[then] <= t[first] if strict else t[then] < t[first]
        rows = t.filter(wrong)
        detail = ibis.literal(f"{then} ") + text(rows[then]) + f" 早于 {first} " + text(rows[first])
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


# ---- referential integrity, generated from REFERENCES --------------------------------------


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
        detail: ir.StringValue = ibis.literal(f"{target.name} 中没有 ")
        for i, f in enumerate(ref.fields):
            detail = detail + ("" if i == 0 else ", ") + f"{f}=" + text(rows[f])
        return finish(ent, rows, detail)

    fields = ", ".join(ref.fields)
    return QualityRule(
        id=f"referential_integrity.{ent.name}.{ref.name}",
        entity=ent.name,
        dimension=Dimension.REFERENTIAL_INTEGRITY,
        description_zh=f"{ent.label}的 {fields} 在{target.label}中存在",
        description_en=f"{ent.name}.({fields}) exists in {target.name}",
        severity=Severity.ERROR,
        query=query,
    )


# ---- timeliness: the age of the last load of each feed ---------------------------------------

# Code lists and the school calendar change by decree, not by term: their age says nothing.
REFERENCE_DATA = frozenset({"region", "term"})


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


def _catalogue() -> tuple[QualityRule, ...]:
    rules: list[QualityRule] = []
    rules += [_completeness(n) for n in NEEDED_FIELDS]
    rules += [_one_id_one_key("student", "id_number"), _one_id_one_key("teacher", "id_number")]
    rules += [_agreement(a) for a in AGREEMENTS]
    rules.append(_exam_max_equals_items())
    rules.append(_item_score_within_item_max())
    rules.append(_dates_in_order("term", "start_date", "end_date", strict=True))
    rules.append(_dates_in_order("homework_assignment", "assigned_date", "due_date", strict=False))
    rules += [_reference(r) for r in REFERENCES]
    rules += [_timeliness(e) for e in ENTITIES if e.name not in REFERENCE_DATA]
    return tuple(sorted(rules, key=lambda r: r.id))


RULES: tuple[QualityRule, ...] = _catalogue()
_BY_ID = {r.id: r for r in RULES}


def rule(rule_id: str) -> QualityRule:
    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise UnknownRuleError(
            f"unknown quality rule {rule_id!r}; list them with `edubrain quality --rules`"
        ) from None


def rules_for(entity_name: str) -> tuple[QualityRule, ...]:
    return tuple(r for r in RULES if r.entity == entity_name)


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
