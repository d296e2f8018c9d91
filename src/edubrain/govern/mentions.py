"""Person mentions: every place a source system speaks about a pupil, in one shape.

A mention is one row of a person-bearing entity, keyed by (entity, natural key):
学籍 `student`, 体测 `fitness_test`, 体检 `health_check`. 阅卷 `item_score` and 作业
`homework_submission` carry nothing about the pupil but the 学籍号 they wrote, so all their rows
with one written number are a single mention keyed by (entity, written number): rows that share
every piece of evidence cannot be told apart, and one mention per number keeps linkage at the
scale of people, not of item scores.

Evidence derived from the 学籍号 itself (domain knowledge, not guesswork): a G number is "G" +
the 18-character ID number (region, birth date, sex digit); J and L (temporary) numbers carry
region + birth date. So every mention has at least a birth date, and homework mentions also
get the class of the assignment they answer.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from pypinyin import Style, lazy_pinyin

from edubrain.sealing import MARK as SEALED_MARK

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from edubrain.sealing import Sealer
    from edubrain.warehouse import Warehouse

PERSON_ENTITIES = ("student", "fitness_test", "health_check", "item_score", "homework_submission")
# Entities whose rows are linked one by one (they carry name, sex or birth date).
ROW_MENTION_ENTITIES = ("student", "fitness_test", "health_check")
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
        fill("birth_date", birth, sealed)
        digit = pc.utf8_slice_codeunits(plain, 17, 18)
        odd = pc.is_in(digit, value_set=pa.array(["1", "3", "5", "7", "9"]))
        sex = pc.if_else(odd, "1", "2")
        not_student = pc.not_equal(table.column("entity"), "student")
        fill("sex", sex, pc.and_(sealed, not_student))
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


def row_mention_key(entity: str, t: ir.Table) -> ir.StringValue:
    """The mention key of every row of a row-mention entity (ROW_MENTION_ENTITIES)."""
    if entity == "student":
        return _key("student", t.student_number)
    if entity == "fitness_test":
        return _key("fitness_test", t.student_number, t.school_year)
    if entity == "health_check":
        return _key("health_check", t.student_number, _date_text(t.check_date))
    raise ValueError(f"{entity} has no row mentions")


def mention_expressions(wh: Warehouse) -> list[ir.Table]:
    """One Ibis expression per person-bearing entity, all with MENTION_SCHEMA's columns."""
    s = wh.table("student")
    student = s.select(
        mention_key=row_mention_key("student", s),
        entity=ibis.literal("student"),
        student_number=s.student_number,
        id_key=s.id_number.nullif("").fill_null(_id_from_number(s.student_number)),
        name=s.name,
        sex=s.sex,
        birth_date=_date_text(s.birth_date).fill_null(_birth_from_number(s.student_number)),
        school_code=s.school_code,
        grade_code=s.grade_code,
        class_no=s.class_no.cast("string"),
        load_id=s._load_id,
        rows=ibis.literal(1, "int64"),
    )
    f = wh.table("fitness_test")
    fitness = f.select(
        mention_key=row_mention_key("fitness_test", f),
        entity=ibis.literal("fitness_test"),
        student_number=f.student_number,
        id_key=_id_from_number(f.student_number),
        name=f.student_name,
        sex=f.sex.fill_null(_sex_from_number(f.student_number)),
        birth_date=_date_text(f.birth_date).fill_null(_birth_from_number(f.student_number)),
        school_code=_null_str(),
        grade_code=f.grade_code,
        class_no=_null_str(),
        load_id=f._load_id,
        rows=ibis.literal(1, "int64"),
    )
    h = wh.table("health_check")
    health = h.select(
        mention_key=row_mention_key("health_check", h),
        entity=ibis.literal("health_check"),
        student_number=h.student_number,
        id_key=_id_from_number(h.student_number),
        name=h.student_name,
        sex=h.sex.fill_null(_sex_from_number(h.student_number)),
        birth_date=_birth_from_number(h.student_number),
        school_code=_null_str(),
        grade_code=_null_str(),
        class_no=_null_str(),
        load_id=h._load_id,
        rows=ibis.literal(1, "int64"),
    )
    i = wh.table("item_score")
    items = i.group_by("student_number").aggregate(
        load_id=i._load_id.max(), rows=i.count().cast("int64")
    )
    item_mentions = items.select(
        mention_key=_key("item_score", items.student_number),
        entity=ibis.literal("item_score"),
        student_number=items.student_number,
        id_key=_id_from_number(items.student_number),
        name=_null_str(),
        sex=_sex_from_number(items.student_number),
        birth_date=_birth_from_number(items.student_number),
        school_code=_null_str(),
        grade_code=_null_str(),
        class_no=_null_str(),
        load_id=items.load_id,
        rows=items.rows,
    )
    hw, a = wh.table("homework_submission"), wh.table("homework_assignment")
    joined = hw.left_join(a, hw.assignment_id == a.assignment_id)
    work = joined.group_by("student_number").aggregate(
        # The class of the submitter's assignments: the only context a homework row has.
        school_code=joined.school_code.min(),
        grade_code=joined.grade_code.min(),
        class_no=joined.class_no.cast("string").min(),
        load_id=joined._load_id.max(),
        rows=joined.count().cast("int64"),
    )
    homework = work.select(
        mention_key=_key("homework_submission", work.student_number),
        entity=ibis.literal("homework_submission"),
        student_number=work.student_number,
        id_key=_id_from_number(work.student_number),
        name=_null_str(),
        sex=_sex_from_number(work.student_number),
        birth_date=_birth_from_number(work.student_number),
        school_code=work.school_code,
        grade_code=work.grade_code,
        class_no=work.class_no,
        load_id=work.load_id,
        rows=work.rows,
    )
    return [student, fitness, health, item_mentions, homework]


_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_OR_WORD = re.compile(f"[{_HAN}]|[^\\s{_HAN}]+")  # one character, or a run of other text


def staff_mentions(wh: Warehouse) -> pa.Table:
    """Every 人事 staff record as a mention: key `teacher|<教职工号>`, with its ID number.

    Teaching assignments and head-teacher posts name staff only by 教职工号, so they resolve
    through this mention's person; there is nothing fuzzy to link them by.
    """
    t = wh.table("teacher")
    return t.select(
        mention_key=_key("teacher", t.staff_number),
        entity=ibis.literal("teacher"),
        staff_number=t.staff_number,
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


def load_mentions(wh: Warehouse, sealer: Sealer | None = None) -> pa.Table:
    """Every person mention in the warehouse, with name pinyin (MENTION_SCHEMA + pinyin).

    `sealer` opens sealed G numbers in memory for what they say (birth date, sex, region).
    """
    parts = [expr.to_pyarrow().cast(MENTION_SCHEMA) for expr in mention_expressions(wh)]
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
