"""Golden records (黄金记录): one best value per field per person, with lineage and conflicts.

Every person mention that wrote a value for a field is a *candidate*. The declared rules of the
field (SURVIVORSHIP) narrow the candidates one after another; the rule after which one value is
left is the rule that decided. Only values a source actually wrote are candidates (a birth date
read out of a 学籍号 is linkage evidence, not a recorded value).

* `source_priority(a > b > …)` keeps the candidates of the best-ranked source present; sources not
  listed rank after the listed ones, all equal.
* `majority` keeps the value(s) written by most mentions.
* `recency` keeps the newest candidates: the record's own date (学年 start, test date, check
  date), then the time its load finished.
* Still tied after all rules: the smallest value (`tie_break`), so a run is deterministic.
  One value from the start: `unanimous`.

A steward's value decision (`steward_value_decision`, append-only, newest wins) replaces the
survivor on every later run, following `person.merged_into` when its person was merged. A field
whose candidates disagree, and that no steward has decided, is a row of `golden_conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edubrain import installed
from edubrain.errors import InvalidInputError
from edubrain.govern.identity import PERSON_TABLE
from edubrain.govern.mentions import row_mention_key
from edubrain.govern.persons import PersonSource, row_sources
from edubrain.standard.entities import entity, person_registry
from edubrain.warehouse import LOADS_TABLE, Transaction, Warehouse, entity_schema

if TYPE_CHECKING:
    from datetime import datetime

    import ibis.expr.types as ir

GOLDEN_TABLE = "golden_student"
LINEAGE_TABLE = "golden_student_lineage"
CONFLICT_TABLE = "golden_conflict"
VALUE_DECISION_TABLE = "steward_value_decision"
STEWARD = "steward"  # the `source` of a value a steward decided


@dataclass(frozen=True)
class SurvivorshipRule:
    """How a golden record picks one value among its sources (not a quality rule)."""

    kind: str  # source_priority | majority | recency
    order: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"{self.kind}({' > '.join(self.order)})" if self.order else self.kind


def source_priority(*entities: str) -> SurvivorshipRule:
    return SurvivorshipRule("source_priority", entities)


# The sources' ranks come from the declared person sources (`source_order`).
SOURCE_PRIORITY = SurvivorshipRule("source_priority")
MAJORITY = SurvivorshipRule("majority")
RECENCY = SurvivorshipRule("recency")

# field of the person registry → rules in order. The registry (学籍) is the system of record for
# who a pupil is: its values rank first, then the other sources' (`source_order`).
SURVIVORSHIP: dict[str, tuple[SurvivorshipRule, ...]] = {
    "student_number": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "name": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "sex": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "birth_date": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "ethnicity": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "id_number": (SOURCE_PRIORITY, MAJORITY, RECENCY),
    "school_code": (SOURCE_PRIORITY, RECENCY),
    "grade_code": (SOURCE_PRIORITY, RECENCY),
    "class_no": (SOURCE_PRIORITY, RECENCY),
}
FIELDS = tuple(SURVIVORSHIP)


def written_fields(source: PersonSource) -> dict[str, str]:
    """field → the source's column: where its written values come from. The registry's key
    (`student_number`) is every mention's written number (阅卷 and 作业 included), taken from
    `person_mention`, not from here."""
    key = person_registry().key
    return {f: c for f, c in source.fields.items() if f in SURVIVORSHIP and f != key}


@installed.per_installation
def source_order(field: str) -> tuple[str, ...]:
    """The sources of `field` from best to worst: the person registry, then every other row
    source that writes it, in registry order (`source_priority(…)`)."""
    registry = person_registry().entity
    writers = [s.entity for s in row_sources() if field in written_fields(s)]
    return (registry, *(w for w in writers if w != registry))


def survivorship(field: str) -> tuple[SurvivorshipRule, ...]:
    """The rules of `field`, the source priority with its order spelled out."""
    return tuple(
        source_priority(*source_order(field)) if r == SOURCE_PRIORITY else r
        for r in SURVIVORSHIP[field]
    )


@installed.per_installation
def _registry_types() -> pa.Schema:
    return entity_schema(entity(person_registry().entity))


@installed.per_installation
def golden_schema() -> pa.Schema:
    """One row per person: the person ID and the registry's fields, typed as the registry."""
    types = _registry_types()
    return pa.schema([pa.field("person_id", pa.string())] + [types.field(f) for f in FIELDS])


LINEAGE_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("source", pa.string()),  # entity, or "steward"
        pa.field("load_id", pa.string()),
        pa.field("mention_key", pa.string()),
        pa.field("rule", pa.string()),
    ]
)
OTHER_VALUE = pa.struct(
    [pa.field("value", pa.string()), pa.field("mention_keys", pa.list_(pa.string()))]
)
CONFLICT_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("chosen_value", pa.string()),
        pa.field("rule", pa.string()),
        pa.field("chosen_mention_keys", pa.list_(pa.string())),
        pa.field("other_values", pa.list_(OTHER_VALUE)),
    ]
)
VALUE_DECISION_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.string()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("decided_by", pa.string()),
        pa.field("decided_at", pa.timestamp("us")),
        pa.field("note", pa.string()),
    ]
)
_CANDIDATE_COLUMNS = ("person_id", "value", "entity", "load_id", "mention_key", "recency")


class GoldenError(InvalidInputError):
    """A value decision that cannot be recorded (unknown person or field, ill-typed value)."""


@dataclass
class Golden:
    student: pa.Table  # golden_schema()
    lineage: pa.Table  # LINEAGE_SCHEMA
    conflicts: pa.Table  # CONFLICT_SCHEMA


# -- candidates ----------------------------------------------------------------------------
def _text(col: ir.Value) -> ir.StringValue:
    if col.type().is_date():
        return col.strftime("%Y-%m-%d")
    out: ir.StringValue = col.cast("string")
    return out.nullif("")


def _as_of(source: PersonSource, t: ir.Table) -> ir.StringValue:
    """The record's own date, for recency (a school year counts from 1 September)."""
    own: ir.StringValue | None = _text(t[source.dated_by]) if source.dated_by else None
    if "school_year" not in t.columns:  # the standard's 学年 (`standard.fields`)
        return own if own is not None else ibis.null().cast("string")
    year_start: ir.StringValue = t.school_year.substr(0, 4) + "-09-01"
    return year_start if own is None else own.fill_null(year_start)


def _candidates(wh: Warehouse, person_mentions: pa.Table) -> dict[str, pa.Table]:
    """field → candidate rows (pidx, _CANDIDATE_COLUMNS, prio)."""
    fetched = {}
    writes = {s.entity: written_fields(s) for s in row_sources()}
    for source in row_sources():
        name = source.entity
        t = wh.table(name)
        cols = {f"v_{f}": _text(t[c]) for f, c in writes[name].items()}
        rows = t.select(mention_key=row_mention_key(name, t), as_of=_as_of(source, t), **cols)
        fetched[name] = rows.to_pyarrow()
    as_of = pa.concat_tables(v.select(["mention_key", "as_of"]) for v in fetched.values())
    # Per mention: newest = latest record date, then latest load (a load's finish time); a
    # dense rank turns that into one integer to compare.
    pm = person_mentions.select(["mention_key", "person_id", "entity", "load_id", "student_number"])
    pm = pm.join(as_of, "mention_key", join_type="left outer")
    loads = wh.table(LOADS_TABLE)
    finished = loads.select(load_id=loads.load_id, loaded=_text(loads.finished_at)).to_pyarrow()
    loaded = pc.take(
        finished.column("loaded"), pc.index_in(pm.column("load_id"), finished.column("load_id"))
    )
    stamp = pc.binary_join_element_wise(
        pc.fill_null(pm.column("as_of"), ""), pc.fill_null(loaded, ""), "|"
    )
    active = pc.unique(person_mentions.column("person_id"))
    pm = pm.append_column("recency", pc.rank(stamp, sort_keys="ascending", tiebreaker="dense"))
    pm = pm.append_column(
        "pidx", pc.index_in(pm.column("person_id"), value_set=active).cast(pa.int32())
    )
    base = ["pidx", "person_id", "entity", "load_id", "mention_key", "recency"]
    parts: dict[str, list[pa.Table]] = {f: [] for f in FIELDS}
    parts["student_number"].append(pm.select(base).append_column("value", pm["student_number"]))
    for name, rows in fetched.items():
        values = rows.join(pm.select(base), "mention_key", join_type="inner")
        for f in writes[name]:
            parts[f].append(values.select(base).append_column("value", values.column(f"v_{f}")))
    out: dict[str, pa.Table] = {}
    for f in FIELDS:
        part = pa.concat_tables(parts[f])
        part = part.filter(pc.is_valid(part.column("value")))
        order = next((r.order for r in survivorship(f) if r.kind == "source_priority"), ())
        rank = pc.fill_null(
            pc.index_in(part.column("entity"), value_set=pa.array(order, pa.string())), len(order)
        )
        out[f] = part.select(["pidx", *_CANDIDATE_COLUMNS]).append_column("prio", rank)
    return out


# -- survivorship --------------------------------------------------------------------------
# Persons are integer codes (`pidx`) here: grouping, joining and sorting on them is much
# cheaper than on ID strings.
def _keep(cands: pa.Table, column: str, how: str) -> pa.Table:
    """The candidates whose `column` is the per-person min or max."""
    best = cands.group_by("pidx").aggregate([(column, how)])
    joined = cands.join(best, "pidx")
    kept = joined.filter(pc.equal(joined.column(column), joined.column(f"{column}_{how}")))
    return kept.drop_columns([f"{column}_{how}"])


def _apply(cands: pa.Table, rule: SurvivorshipRule) -> pa.Table:
    if rule.kind == "source_priority":
        return _keep(cands, "prio", "min")
    if rule.kind == "recency":
        return _keep(cands, "recency", "max")
    # majority: mentions per (person, value) among the candidates still in the running.
    votes = cands.group_by(["pidx", "value"]).aggregate([("mention_key", "count")])
    counted = cands.join(votes.rename_columns(["pidx", "value", "votes"]), ["pidx", "value"])
    return _keep(counted, "votes", "max").drop_columns(["votes"])


def _single_valued(cands: pa.Table) -> pa.Array:
    """Persons whose candidates hold exactly one value."""
    n = cands.group_by("pidx").aggregate([("value", "count_distinct")])
    return n.filter(pc.equal(n.column("value_count_distinct"), 1)).column("pidx")


def _best_mention(cands: pa.Table) -> pa.Table:
    """Per person, the best-ranked, newest candidate: the mention lineage names."""
    ordered = cands.sort_by(
        [("pidx", "ascending"), ("prio", "ascending"), ("recency", "descending"),
         ("mention_key", "ascending")]
    )  # fmt: skip
    if ordered.num_rows == 0:
        return ordered
    pidx = ordered.column("pidx").to_numpy()
    starts = np.flatnonzero(np.concatenate([[True], pidx[1:] != pidx[:-1]]))
    return ordered.take(pa.array(starts))


def survive(cands: pa.Table, rules: tuple[SurvivorshipRule, ...]) -> tuple[pa.Table, pa.Table]:
    """The survivor of every person (candidate columns + `rule`), and the contested candidates.

    `cands` has _CANDIDATE_COLUMNS + pidx + prio (rank of the candidate's source for the field).
    """
    # Most persons' sources agree: only the contested few go through the rules.
    agreed = pc.is_in(cands.column("pidx"), _single_valued(cands))
    unanimous = _best_mention(cands.filter(agreed))
    unanimous = unanimous.append_column("rule", pa.repeat(pa.scalar("unanimous"), len(unanimous)))
    contested = cands.filter(pc.invert(agreed))
    labels = [*(r.kind for r in rules), "tie_break"]
    decided, cur = [], contested
    for rule in rules:
        cur = _apply(cur, rule)
        decided.append(_single_valued(cur))
    chosen = _best_mention(_keep(cur, "value", "min"))  # tie_break: no-op once a rule decided
    steps = pa.concat_tables(
        [pa.table({"pidx": ids, "step": pa.repeat(pa.scalar(i, pa.int64()), len(ids))})
         for i, ids in enumerate(decided)]
        or [pa.table({"pidx": pa.array([], pa.int32()), "step": pa.array([], pa.int64())})]
    )  # fmt: skip
    first = steps.group_by("pidx").aggregate([("step", "min")])
    chosen = chosen.join(first, "pidx", join_type="left outer").sort_by("pidx")
    step = pc.fill_null(chosen.column("step_min"), len(labels) - 1)
    chosen = chosen.drop_columns(["step_min"]).append_column(
        "rule", pc.take(pa.array(labels), step)
    )
    return pa.concat_tables([unanimous, chosen.select(unanimous.column_names)]), contested


def _conflicts(field: str, contested: pa.Table, chosen: pa.Table) -> pa.Table:
    """Persons whose candidates disagree: the survivor and every other value with its mentions."""
    cands = contested
    survivor = chosen.select(["pidx", "value", "rule"]).rename_columns(
        ["pidx", "chosen_value", "rule"]
    )
    # Join before grouping: Arrow joins cannot carry the list columns grouping makes.
    flat = cands.select(["pidx", "person_id", "value", "mention_key"]).join(survivor, "pidx")
    flat = flat.sort_by([("pidx", "ascending"), ("value", "ascending"),
                         ("mention_key", "ascending")])  # fmt: skip
    by_value = flat.group_by(["person_id", "value"], use_threads=False).aggregate(
        [("mention_key", "list"), ("chosen_value", "first"), ("rule", "first")]
    )
    by_value = by_value.rename_columns(
        ["person_id", "value", "mention_key_list", "chosen_value", "rule"]
    )
    is_chosen = pc.equal(by_value.column("value"), by_value.column("chosen_value"))
    others = by_value.filter(pc.invert(is_chosen))
    if others.num_rows == 0:
        return CONFLICT_SCHEMA.empty_table()
    others = others.sort_by([("person_id", "ascending"), ("value", "ascending")])
    pid = others.column("person_id").combine_chunks()
    starts = np.concatenate(
        [[0], np.flatnonzero(pc.not_equal(pid[1:], pid[:-1]).to_numpy(zero_copy_only=False)) + 1]
    )
    offsets = pa.array(np.append(starts, len(pid)), pa.int32())
    items = pa.StructArray.from_arrays(
        [
            others.column("value").combine_chunks(),
            others.column("mention_key_list").combine_chunks(),
        ],
        fields=list(OTHER_VALUE),
    )
    persons = pid.take(pa.array(starts))
    # Every contested person has its survivor row too: both sides line up by person ID.
    head = by_value.filter(is_chosen).sort_by("person_id")
    return pa.table(
        {
            "person_id": persons,
            "field": pa.repeat(pa.scalar(field), len(persons)),
            "chosen_value": head.column("chosen_value"),
            "rule": head.column("rule"),
            "chosen_mention_keys": head.column("mention_key_list"),
            "other_values": pa.ListArray.from_arrays(offsets, items),
        },
        CONFLICT_SCHEMA,
    )


# -- steward value decisions ---------------------------------------------------------------
def _active_id(pid: str, merged_into: dict[str, str]) -> str:
    seen = {pid}
    while pid in merged_into:
        pid = merged_into[pid]
        if pid in seen:  # a cycle cannot be built by assign_ids; never loop on a bad table
            break
        seen.add(pid)
    return pid


def load_value_decisions(
    wh: Warehouse, persons: pa.Table
) -> dict[tuple[str, str], dict[str, object]]:
    """(active person, field) → the newest decision on it, following merges."""
    if not wh.has_table(VALUE_DECISION_TABLE):
        return {}
    merged = persons.filter(pc.is_valid(persons.column("merged_into")))
    merged_into = dict(
        zip(
            merged.column("person_id").to_pylist(),
            merged.column("merged_into").to_pylist(),
            strict=True,
        )
    )
    newest: dict[tuple[str, str], dict[str, object]] = {}
    # Decisions are a steward's handful, not data volume: a Python loop is fine here.
    for row in wh.to_arrow(VALUE_DECISION_TABLE).sort_by("decided_at").to_pylist():
        newest[(_active_id(str(row["person_id"]), merged_into), str(row["field"]))] = row
    return newest


# -- the whole record ----------------------------------------------------------------------
def _pair_key(table: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(table.column("person_id"), table.column("field"), "\x1f")


def build_golden(wh: Warehouse, person_mentions: pa.Table, persons: pa.Table) -> Golden:
    """Golden records of every person that has mentions (PERSON_MENTION_SCHEMA, PERSON_SCHEMA)."""
    candidates = _candidates(wh, person_mentions)
    active = pc.unique(person_mentions.column("person_id"))
    lineage_parts, conflict_parts = [], []
    for f in FIELDS:
        chosen, contested = survive(candidates[f], survivorship(f))
        conflict_parts.append(_conflicts(f, contested, chosen))
        # A field no mention wrote still gets its lineage row, saying so.
        silent = active.filter(pc.invert(pc.is_in(active, chosen.column("person_id"))))
        n = len(silent)
        lineage_parts.append(
            pa.table(
                {"person_id": silent, "field": pa.repeat(pa.scalar(f), n),
                 **{c: pa.nulls(n, pa.string()) for c in ("value", "source", "load_id",
                                                           "mention_key")},
                 "rule": pa.repeat(pa.scalar("no_value"), n)},
                LINEAGE_SCHEMA,
            )
        )  # fmt: skip
        lineage_parts.append(
            pa.table(
                {
                    "person_id": chosen.column("person_id"),
                    "field": pa.repeat(pa.scalar(f), chosen.num_rows),
                    "value": chosen.column("value"),
                    "source": chosen.column("entity"),
                    "load_id": chosen.column("load_id"),
                    "mention_key": chosen.column("mention_key"),
                    "rule": chosen.column("rule"),
                },
                LINEAGE_SCHEMA,
            )
        )
    lineage = pa.concat_tables(lineage_parts)
    conflicts = pa.concat_tables(conflict_parts)
    decisions = {
        k: v
        for k, v in load_value_decisions(wh, persons).items()
        if k[0] in set(active.to_pylist())
    }
    if decisions:
        keys = pa.array(["\x1f".join(k) for k in decisions], pa.string())
        lineage = lineage.filter(pc.invert(pc.is_in(_pair_key(lineage), keys)))
        conflicts = conflicts.filter(pc.invert(pc.is_in(_pair_key(conflicts), keys)))
        steward_rows = [
            {"person_id": pid, "field": f, "value": row["value"], "source": STEWARD,
             "load_id": None, "mention_key": None, "rule": "steward_decision"}
            for (pid, f), row in decisions.items()
        ]  # fmt: skip
        lineage = pa.concat_tables([lineage, pa.Table.from_pylist(steward_rows, LINEAGE_SCHEMA)])
    lineage = lineage.sort_by([("person_id", "ascending"), ("field", "ascending")])
    conflicts = conflicts.sort_by([("person_id", "ascending"), ("field", "ascending")])
    return Golden(_pivot(active, lineage), lineage, conflicts)


def _pivot(active: pa.Array, lineage: pa.Table) -> pa.Table:
    """One row per person, one typed column per field."""
    wide = pa.table({"person_id": active})
    for f in FIELDS:
        part = lineage.filter(pc.equal(lineage.column("field"), f)).select(["person_id", "value"])
        wide = wide.join(part.rename_columns(["person_id", f]), "person_id", join_type="left outer")
    schema = golden_schema()
    wide = wide.sort_by("person_id").select(schema.names)
    return wide.cast(schema)


def write_golden(tx: Transaction, golden: Golden) -> None:
    """Replace the three golden tables inside the caller's transaction."""
    tx.replace_table(GOLDEN_TABLE, golden.student)
    tx.replace_table(LINEAGE_TABLE, golden.lineage)
    tx.replace_table(CONFLICT_TABLE, golden.conflicts)


def resolve_person(wh: Warehouse, person_id: str) -> str:
    """The active ID of `person_id` (itself, or where its merges lead)."""
    if not wh.has_table(PERSON_TABLE):
        raise GoldenError(f"unknown person {person_id}: run `edubrain govern` first")
    persons = wh.to_arrow(PERSON_TABLE)
    if person_id not in set(persons.column("person_id").to_pylist()):
        raise GoldenError(f"unknown person {person_id}")
    merged = persons.filter(pc.is_valid(persons.column("merged_into")))
    merged_into = dict(
        zip(merged.column("person_id").to_pylist(), merged.column("merged_into").to_pylist(),
            strict=True)
    )  # fmt: skip
    return _active_id(person_id, merged_into)


def decide_value(
    wh: Warehouse, person_id: str, field: str, value: str, *, by: str, note: str, now: datetime
) -> str:
    """Record a steward's value for one field; returns the active person it applies to."""
    if field not in SURVIVORSHIP:
        raise GoldenError(f"field must be one of {', '.join(FIELDS)}, not {field!r}")
    if not value.strip():
        raise GoldenError("the value is empty")
    target = _registry_types().field(field).type
    try:
        # The value must fit the golden column it will land in (a date, a class number, …).
        if target == pa.date32():
            date.fromisoformat(value)
        else:
            pa.array([value]).cast(target)
    except (ValueError, pa.ArrowInvalid):
        raise GoldenError(f"{value!r} is not a valid {field} ({target})") from None
    active = resolve_person(wh, person_id)
    row = {
        "person_id": person_id,
        "field": field,
        "value": value,
        "decided_by": by,
        "decided_at": now,
        "note": note,
    }
    with wh.transaction() as tx:
        tx.append_rows(VALUE_DECISION_TABLE, pa.Table.from_pylist([row], VALUE_DECISION_SCHEMA))
    return active
