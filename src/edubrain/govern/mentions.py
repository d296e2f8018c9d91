"""Person mentions: every place a source system speaks about a pupil, in one shape.

The sources are declared by the domain modules (`govern.persons.PersonSource`). A mention is
one row of a source, keyed by (entity, natural key) — the registry (学籍), 体测, 体检. A source
whose rows carry nothing about the pupil but the 学籍号 they wrote (阅卷, 作业: `by_number`)
gives one mention per written number, keyed by (entity, written number): rows that share
every piece of evidence cannot be told apart, and one mention per number keeps linkage at the
scale of people, not of item scores.

Evidence derived from the 学籍号 itself (domain knowledge, not guesswork): a G number is "G" +
the 18-character ID number (region, birth date, sex digit); J and L (temporary) numbers carry
region + birth date. So every mention has at least a birth date, and homework mentions also
get the class of the assignment they answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, lazy_pinyin

from edubrain.govern.persons import PersonSource, linked_sources, row_sources
from edubrain.sealing import MARK as SEALED_MARK
from edubrain.standard.entities import entity, person_registry, staff_registry

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from edubrain.sealing import Sealer
    from edubrain.warehouse import Warehouse

KEY_SEPARATOR = "|"

MENTION_SCHEMA = pa.schema(
    [
        pa.field("mention_key", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("student_number", pa.string()),
        pa.field("id_key", pa.string()),
        pa.field("name", pa.string()),
        pa.field("sex", pa.string()),
        pa.field("birth_date", pa.string()),
        pa.field("school_code", pa.string()),
        pa.field("grade_code", pa.string()),
        pa.field("class_no", pa.string()),
        pa.field("load_id", pa.string()),
        pa.field("rows", pa.int64()),
        # What the source's natural key holds besides the number (the assignment, the exam
        # item, the school year …), hashed: a pupil appears once per occasion in a source.
        pa.field("occasions", pa.list_(pa.int64())),
    ]
)


def _null_str() -> ir.StringValue:
    return ibis.null().cast("string")


def _readable(sn: ir.StringValue) -> ir.StringValue:
    # A sealed G number ("G" + token) says nothing here; `load_mentions` opens it in memory.
    return ibis.ifelse(sn.startswith("G" + SEALED_MARK), _null_str(), sn)


def _birth_from_number(sn: ir.StringValue) -> ir.StringValue:
    # G: "G" + region(6) + YYYYMMDD + …; J/L: letter + region(6) + YYYYMMDD + 4 digits.
    sn = _readable(sn)
    return sn.substr(7, 4) + "-" + sn.substr(11, 2) + "-" + sn.substr(13, 2)


def _id_from_number(sn: ir.StringValue) -> ir.StringValue:
    return ibis.ifelse(sn.startswith("G"), sn.substr(1), _null_str())


def _sex_from_number(sn: ir.StringValue) -> ir.StringValue:
    # The 17th character of an ID number is odd for men ("1") and even for women ("2").
    sn = _readable(sn)
    digit = sn.substr(17, 1)
    odd = digit.isin(["1", "3", "5", "7", "9"])
    return ibis.ifelse(sn.startswith("G"), ibis.ifelse(odd, "1", "2"), _null_str())


def _reads_from_number(table: pa.Table, field: str) -> pa.ChunkedArray:
    """Which mentions come from a source that reads `field` out of the written number."""
    readers = [s.entity for s in linked_sources() if field in s.from_number]
    return pc.is_in(table.column("entity"), value_set=pa.array(readers, pa.string()))


def _number_evidence(table: pa.Table, sealer: Sealer | None) -> pa.Table:
    """Birth date and sex read out of sealed G numbers (opened in memory, never stored), and
    every mention's number region."""
    numbers = table.column("student_number")
    sealed = pc.fill_null(pc.starts_with(numbers, "G" + SEALED_MARK), False)
    if sealer is not None and pc.any(sealed).as_py():
        plain = sealer.open_column(numbers)

        def fill(name: str, derived: pa.ChunkedArray, where: pa.ChunkedArray) -> None:
            nonlocal table
            i = table.schema.get_field_index(name)
            column = table.column(i)
            take = pc.and_(where, pc.is_null(column))
            table = table.set_column(i, name, pc.if_else(take, derived, column))

        birth = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(plain, 7, 11),
            pc.utf8_slice_codeunits(plain, 11, 13),
            pc.utf8_slice_codeunits(plain, 13, 15),
            "-",
        )
        fill("birth_date", birth, pc.and_(sealed, _reads_from_number(table, "birth_date")))
        digit = pc.utf8_slice_codeunits(plain, 17, 18)
        odd = pc.is_in(digit, value_set=pa.array(["1", "3", "5", "7", "9"]))
        sex = pc.if_else(odd, "1", "2")
        fill("sex", sex, pc.and_(sealed, _reads_from_number(table, "sex")))
    else:
        plain = numbers
    # The region digits every 学籍号 carries (G: the ID number's, J/L: the issuing county's):
    # the locality that keeps blocking at county size however many counties a city has.
    return table.append_column("number_region", pc.utf8_slice_codeunits(plain, 1, 7))


def _key(entity: str, *parts: ir.Value) -> ir.StringValue:
    out: ir.StringValue = ibis.literal(entity)
    for part in parts:
        out = out + KEY_SEPARATOR + part.cast("string")
    return out


def _date_text(value: ir.Value) -> ir.StringValue:
    return value.cast("date").strftime("%Y-%m-%d")


def _as_text(value: ir.Value) -> ir.StringValue:
    if value.type().is_date():
        return _date_text(value)
    out: ir.StringValue = value.cast("string")
    return out


def row_mention_key(entity_name: str, t: ir.Table) -> ir.StringValue:
    """The mention key of every row of a row-mention source (`persons.row_sources`):
    `entity|natural key`, dates as YYYY-MM-DD."""
    if entity_name not in {s.entity for s in row_sources()}:
        raise ValueError(f"{entity_name} has no row mentions")
    key = entity(entity_name).natural_key
    return _key(entity_name, *(_date_text(t[k]) if t[k].type().is_date() else t[k] for k in key))


# Mention column → the person registry field it holds (`PersonSource.fields` names these).
EVIDENCE = {
    "id_key": "id_number",
    "name": "name",
    "sex": "sex",
    "birth_date": "birth_date",
    "school_code": "school_code",
    "grade_code": "grade_code",
    "class_no": "class_no",
}
_READ_FROM_NUMBER = {
    "id_number": _id_from_number,
    "sex": _sex_from_number,
    "birth_date": _birth_from_number,
}


def _evidence(
    source: PersonSource, field: str, value: ir.StringValue | None, number: ir.StringValue
) -> ir.StringValue:
    """One piece of evidence: the source's own value, else what its written number says."""
    if value is not None and field == "id_number":
        value = value.nullif("")  # an empty ID number is no ID number
    if field in source.from_number:
        derived = _READ_FROM_NUMBER[field](number)
        return derived if value is None else value.fill_null(derived)
    return _null_str() if value is None else value


def _mention_expression(
    wh: Warehouse, source: PersonSource, numbers: Sequence[str] | None = None
) -> ir.Table:
    number = person_registry().key
    t = wh.table(source.entity)
    if numbers is not None:  # only the mentions written with these numbers (as stored)
        t = t.filter(t[number].isin(list(numbers)))
    if source.context is not None:
        # The referencing entity's own columns keep their names; the referenced one's are
        # reached by name where they are its alone.
        ref = source.context
        other = wh.table(ref.target)
        on = [t[a] == other[b] for a, b in zip(ref.fields, ref.to_fields, strict=True)]
        t = t.left_join(other, on)
    fields = {m: f for m, f in EVIDENCE.items() if f in source.fields}
    own = {f"e_{m}": _as_text(t[source.fields[f]]) for m, f in fields.items()}
    occasion = _occasion(source, t)
    if source.by_number:
        # All rows with one written number are one mention.
        g = t.group_by(number).aggregate(
            m_load=t._load_id.max(),
            m_rows=t.count().cast("int64"),
            m_occasions=occasion.collect(),
            **{k: v.min() for k, v in own.items()},
        )
        key = _key(source.entity, g[number])
    else:
        g = t.select(
            t[number],
            m_key=row_mention_key(source.entity, t),
            m_load=t._load_id,
            m_rows=ibis.literal(1, "int64"),
            m_occasions=ibis.array([occasion]),
            **own,
        )
        key = g.m_key
    sn = g[number]
    return g.select(
        mention_key=key,
        entity=ibis.literal(source.entity),
        student_number=sn,
        **{
            m: _evidence(source, f, g[f"e_{m}"] if m in fields else None, sn)
            for m, f in EVIDENCE.items()
        },
        load_id=g.m_load,
        rows=g.m_rows,
        occasions=g.m_occasions,
    )


def _occasion(source: PersonSource, t: ir.Table) -> ir.IntegerValue:
    """The row's natural key without the 学籍号, as a 64-bit hash (a city's 阅卷 items are tens
    of millions): one pupil, one row per occasion. The registry's own rows have none (their
    key is the number)."""
    parts = [k for k in entity(source.entity).natural_key if k != person_registry().key]
    if not parts:
        return ibis.null().cast("int64")
    out: ir.StringValue = _as_text(t[parts[0]])
    for part in parts[1:]:
        out = out + KEY_SEPARATOR + _as_text(t[part])
    hashed: ir.IntegerValue = out.hash()
    return hashed


def mention_expressions(wh: Warehouse, numbers: Sequence[str] | None = None) -> list[ir.Table]:
    """One Ibis expression per linked person source, all with MENTION_SCHEMA's columns
    (with `numbers`: only the mentions written with one of them)."""
    return [_mention_expression(wh, source, numbers) for source in linked_sources()]


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_OR_WORD = re.compile(f"[{_HAN}]|[^\\s{_HAN}]+")  # one character, or a run of other text


def staff_mentions(wh: Warehouse) -> pa.Table:
    """Every record of the staff registry (人事) as a mention: key `entity|<key>` (the
    教职工号), with its ID number.

    Teaching assignments and head-teacher posts name staff only by 教职工号, so they resolve
    through this mention's person; there is nothing fuzzy to link them by.
    """
    staff = staff_registry()
    t = wh.table(staff.entity)
    return t.select(
        mention_key=_key(staff.entity, t[staff.key]),
        entity=ibis.literal(staff.entity),
        staff_number=t[staff.key],
        id_key=t.id_number.nullif(""),
        load_id=t._load_id,
    ).to_pyarrow()


@lru_cache(maxsize=1 << 16)
def _reading(token: str) -> str:
    return "".join(lazy_pinyin(token, style=Style.NORMAL))


def name_pinyin(name: str) -> str:
    """Toneless pinyin, syllables joined by spaces: homophones (张伟/章伟) become equal.

    Each character gets its usual reading on its own, not a reading chosen from the words
    around it: the same character then always sounds the same, whatever name it sits in, and
    a city's names cost one lookup per distinct character.
    """
    return " ".join(_reading(token) for token in _HAN_OR_WORD.findall(name))


def _pinyin_column(names: pa.ChunkedArray) -> pa.Array:
    """name_pinyin of every name, computed once per distinct name."""
    distinct = pc.unique(names)
    readings = pa.array([name_pinyin(n) if n else None for n in distinct.to_pylist()], pa.string())
    return pc.take(readings, pc.index_in(names, value_set=distinct))


def load_mentions(
    wh: Warehouse, sealer: Sealer | None = None, *, numbers: Sequence[str] | None = None
) -> pa.Table:
    """Every person mention in the warehouse, with name pinyin (MENTION_SCHEMA + pinyin); with
    `numbers`, only those written with one of these 学籍号 (as stored), whole.

    `sealer` opens sealed G numbers in memory for what they say (birth date, sex, region).
    """
    exprs = mention_expressions(wh, numbers)
    parts = [expr.to_pyarrow().cast(MENTION_SCHEMA) for expr in exprs]
    parts = parts or [MENTION_SCHEMA.empty_table()]
    table = pa.concat_tables(parts).sort_by("mention_key")
    pinyin = _pinyin_column(table.column("name"))
    surname = pc.list_element(pc.split_pattern(pinyin, " ", max_splits=1), 0)
    table = table.append_column("name_pinyin", pinyin)
    table = table.append_column("surname_pinyin", surname)
    table = _number_evidence(table, sealer)
    valid_birth = pc.match_substring_regex(table.column("birth_date"), r"^\d{4}-\d{2}-\d{2}$")
    # A temporary number with a garbled date part says nothing about the birth date.
    birth = pc.if_else(valid_birth, table.column("birth_date"), pa.scalar(None, pa.string()))
    return table.set_column(table.schema.get_field_index("birth_date"), "birth_date", birth)
