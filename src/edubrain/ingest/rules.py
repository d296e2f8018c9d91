"""Validation rules. Each rule is a function of the file's normalised columns that returns the
OFFENDING records as `Violation`s (indices, field, reason code, one message each).

All rules run column-wise (pyarrow compute / numpy); identifier checks run once per distinct
value. Duplicate detection runs last, over the records no other rule rejected, so the first
*valid* occurrence of a key is the one that loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.ingest.normalise import Column
from edubrain.ingest.quarantine import Reason, Violation, message
from edubrain.ingest.readers import RAGGED_COLUMN, RawTable
from edubrain.ingest.records import Records
from edubrain.standard.codes import PROVINCE_CODES, code_table, code_tables, grade_year_index
from edubrain.standard.entities import Check, Entity, Field, FieldType, RowCheck
from edubrain.standard.identifiers import id_number_problems, student_number_problems
from edubrain.warehouse.seen_rows import SeenRows

IMPLAUSIBLE_GRADE_AGE_GAP = 4  # years between actual and typical age for the grade
TEACHER_AGE_RANGE = (18, 70)


@dataclass(frozen=True)
class Context:
    entity: Entity
    records: Records
    columns: dict[str, Column]
    raw: RawTable
    as_of: date
    """The survey date for age checks that have no date of their own (teachers)."""

    @property
    def n(self) -> int:
        return self.records.num_records


Rule = Callable[[Context], Iterator[Violation]]


def _indices(mask: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int64]:
    return np.flatnonzero(np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False)))


def _name(f: Field) -> str:
    """A field as the data office knows it: its Chinese label in the data standard."""
    return f"{f.label}"


_STRFTIME_PARTS = {"%Y": "年", "%m": "月", "%d": "日", "%H": "时", "%M": "分", "%S": "秒"}
_EXAMPLE_MOMENT = datetime(2019, 4, 30, 8, 30, 0)


def date_format_hint(formats: list[str] | None) -> str:
    """The date formats a mapping accepts, as people read them: 年-月-日（如 2019-04-30）.

    No strftime codes: each format is spelled with 年/月/日 where its separators allow it,
    and always shown by an example."""
    hints: list[str] = []
    for fmt in [f for f in formats or [] if "%" in f] or ["%Y-%m-%d"]:
        example = _EXAMPLE_MOMENT.strftime(fmt.replace("%f", "")).strip()
        spelled = fmt
        for code, word in _STRFTIME_PARTS.items():
            spelled = spelled.replace(code, word)
        spelled = spelled.replace("日T时", "日 时")  # ISO's date-time joint; the example shows it
        plain = "%" not in spelled and not any(ch in fmt for ch in "年月日时分秒")
        if plain and any(ch in fmt for ch in "-/. :"):
            hints.append(f"{spelled}（如 {example}）")
        elif plain:
            hints.append(f"{spelled}连写（如 {example}）")
        else:
            hints.append(f"如 {example}")
    return "、".join(dict.fromkeys(hints))


def _fields(ctx: Context) -> Iterator[tuple[Field, Column]]:
    for f in ctx.entity.fields:
        if f.name in ctx.columns:
            yield f, ctx.columns[f.name]


def _violation(
    rows: npt.NDArray[np.int64],
    f: Field | None,
    reason: Reason,
    prefix: str,
    values: pa.Array | None,
    suffix: str,
    *,
    quote: bool = True,
) -> Violation:
    taken = values.take(pa.array(rows)) if values is not None else None
    text = message(prefix, taken, suffix, len(rows), quote=quote)
    return Violation(rows, f.name if f else None, reason, text)


def key_labels(ent: Entity) -> str:
    """The natural key of `ent` by its fields' Chinese labels: 学籍号、学年."""
    return "、".join(ent.field(k).label for k in ent.natural_key)


# -- rules ---------------------------------------------------------------------------------


def encoding_errors(ctx: Context) -> Iterator[Violation]:
    """A source cell holds U+FFFD: bytes that did not decode in the file's (detected) encoding."""
    seen = np.zeros(ctx.raw.num_rows, dtype=bool)
    for name in ctx.raw.header:
        column = ctx.raw.table.column(name)
        hit = np.asarray(
            pc.fill_null(pc.match_substring(column, "\ufffd"), False).to_numpy(zero_copy_only=False)
        )
        new = hit & ~seen
        if not new.any():
            continue
        seen |= new
        rows = np.flatnonzero(new[ctx.records.source_row])
        values = column.combine_chunks().take(pa.array(ctx.records.source_row[rows]))
        msg = message(
            f"列“{name}”的值 ", values, " 含有无法按文件编码识别的字符（乱码）", len(rows)
        )
        yield Violation(rows, name, Reason.ENCODING_ERROR, msg)


def ragged_rows(ctx: Context) -> Iterator[Violation]:
    """A CSV row with more or fewer fields than the header."""
    if RAGGED_COLUMN not in ctx.raw.table.column_names:
        return
    problem = (
        ctx.raw.table.column(RAGGED_COLUMN).combine_chunks().take(pa.array(ctx.records.source_row))
    )
    rows = _indices(problem.is_valid())
    yield _violation(rows, None, Reason.BAD_FORMAT, "", problem, "", quote=False)


def missing_required(ctx: Context) -> Iterator[Violation]:
    for f in ctx.entity.fields:
        if not f.required:
            continue
        if f.name not in ctx.columns:
            rows = np.arange(ctx.n, dtype=np.int64)
        else:
            rows = _indices(ctx.columns[f.name].text.is_null())
        yield _violation(rows, f, Reason.MISSING_REQUIRED, _name(f), None, "为必填项，但为空")


_PARSE_REASON = {
    FieldType.DATE: Reason.BAD_DATE,
    FieldType.DATETIME: Reason.BAD_DATE,
    FieldType.INTEGER: Reason.BAD_NUMBER,
    FieldType.DECIMAL: Reason.BAD_NUMBER,
    FieldType.BOOLEAN: Reason.BAD_FORMAT,
}


def unparseable(ctx: Context) -> Iterator[Violation]:
    """Text present but not a value of the field's type (date, number, boolean)."""
    for f, col in _fields(ctx):
        reason = _PARSE_REASON.get(f.type)
        if reason is None:
            continue
        rule = ctx.records.rules[f.name]
        rows = _indices(pc.and_(col.text.is_valid(), col.typed.is_null()))
        if f.type in (FieldType.DATE, FieldType.DATETIME):
            what = "不是有效日期，应为 " + date_format_hint(rule.formats)
        elif f.type is FieldType.BOOLEAN:
            what = "不是“是”或“否”"
        elif rule.parse == "minsec":
            what = "不是有效的用时，应如 3'35\" 或 215（秒）"
        else:
            what = "不是整数" if f.type is FieldType.INTEGER else "不是数字"
        yield _violation(rows, f, reason, _name(f) + " ", col.text, " " + what)


def patterns(ctx: Context) -> Iterator[Violation]:
    for f, col in _fields(ctx):
        if f.pattern is None:
            continue
        ok = pc.match_substring_regex(col.text, f"^(?:{f.pattern})$")
        rows = _indices(pc.invert(ok))
        yield _violation(
            rows,
            f,
            Reason.BAD_FORMAT,
            _name(f) + " ",
            col.text,
            " 格式不对，应为 " + _PATTERN_HINTS.get(f.pattern, "标准规定的格式"),
        )


# What a pattern asks for, in words (a regular expression is no help to the data office).
_PATTERN_HINTS = {
    r"\d{10}": "10 位数字（学校标识码）",
    r"20\d{2}-20\d{2}": "“起始年-结束年”，如 2025-2026",
    r"1\d{10}": "以 1 开头的 11 位手机号码",
}

_ID_RULE = {
    Check.ID_NUMBER: (id_number_problems, "18 位身份证件号"),
    Check.STUDENT_NUMBER: (student_number_problems, "学籍号（G、J 或 L 加 18 位）"),
}
_ID_WHY = {
    "bad_format": "不是",
    "bad_date": "中的出生日期不存在，不是有效的",
    "bad_check_digit": "校验位错误，不是有效的",
}


def identifiers(ctx: Context) -> Iterator[Violation]:
    """ID numbers and 学籍号: shape, embedded birth date, check digit (identifiers.py)."""
    for f, col in _fields(ctx):
        if f.check not in _ID_RULE:
            continue
        check, what = _ID_RULE[f.check]
        distinct = pc.drop_null(pc.unique(col.text))
        if not len(distinct):
            continue
        # NumPy strings are as wide as the longest: a junk cell of kilobytes would make the
        # array gigabytes. Nothing over 19 characters is an ID or 学籍号; "" is bad_format too.
        plausible = pc.if_else(pc.greater(pc.utf8_length(distinct), 19), "", distinct)
        problems = check(np.asarray(plausible.to_numpy(zero_copy_only=False), dtype=np.str_))
        per_record = pc.take(
            pa.array(problems, pa.string()), pc.index_in(col.text, value_set=distinct)
        )
        for code, why in _ID_WHY.items():
            rows = _indices(pc.equal(per_record, code))
            yield _violation(rows, f, Reason(code), _name(f) + " ", col.text, f" {why}{what}")


def region_codes(ctx: Context) -> Iterator[Violation]:
    for f, col in _fields(ctx):
        if f.check is not Check.REGION_CODE:
            continue
        shaped = pc.match_substring_regex(col.text, r"^\d{6}$")
        rows = _indices(pc.invert(shaped))
        yield _violation(
            rows, f, Reason.BAD_FORMAT, _name(f) + " ", col.text, " 不是 6 位行政区划代码"
        )
        province = pc.utf8_slice_codeunits(col.text, 0, 2)
        known = pc.is_in(province, value_set=pa.array(list(PROVINCE_CODES)))
        rows = _indices(pc.and_(shaped, pc.invert(known)))
        yield _violation(
            rows,
            f,
            Reason.UNKNOWN_CODE,
            _name(f) + " ",
            col.text,
            " 不属于任何已知的省份（行政区划代码前两位）",
        )


def codes(ctx: Context) -> Iterator[Violation]:
    for f, col in _fields(ctx):
        if f.code_table is None:
            continue
        known = pa.array(list(code_table(f.code_table).codes), pa.string())
        table = code_table(f.code_table).label
        suffix = f" 不是{table}中的代码或名称"
        if f.type is FieldType.CODE_LIST:
            parts = pc.split_pattern(col.text, ";")
            unknown = pc.invert(pc.is_in(pc.list_flatten(parts), value_set=known))
            parents = pc.filter(pc.list_parent_indices(parts), unknown)
            rows = np.unique(np.asarray(parents.to_numpy())).astype(np.int64)
        else:
            rows = _indices(pc.invert(pc.is_in(col.text, value_set=known)))
            rows = rows[np.asarray(col.text.is_valid().to_numpy(zero_copy_only=False))[rows]]
        yield _violation(rows, f, Reason.UNKNOWN_CODE, _name(f) + " ", col.text, suffix)


# Units of measure as a message names them (the standard writes them as symbols).
_UNIT_NAMES = {
    "s": "秒",
    "min": "分钟",
    "h": "小时",
    "cm": "厘米",
    "kg": "千克",
    "ml": "毫升",
    "D": "屈光度",
    "ratio": "",
}


def ranges(ctx: Context) -> Iterator[Violation]:
    for f, col in _fields(ctx):
        if f.minimum is None and f.maximum is None:
            continue
        low = pc.less(col.typed, f.minimum) if f.minimum is not None else None
        high = pc.greater(col.typed, f.maximum) if f.maximum is not None else None
        outside = low if high is None else high if low is None else pc.or_(low, high)
        rows = _indices(outside)
        unit = _UNIT_NAMES.get(f.unit or "", f.unit or "")
        lo = "-∞" if f.minimum is None else f"{f.minimum:g}"
        hi = "∞" if f.maximum is None else f"{f.maximum:g}"
        yield _violation(
            rows, f, Reason.OUT_OF_RANGE, _name(f) + " ", col.typed, f" 超出范围 {lo}–{hi}{unit}"
        )


def _age_at(
    birth: pa.Array, year: npt.NDArray[np.int64], month: int, day: int
) -> npt.NDArray[np.int64]:
    """Whole years of age on (year, month, day) for each birth date (null → 0)."""
    filled = pc.fill_null(birth, pa.scalar(date(2000, 1, 1), pa.date32()))
    by, bm, bd = (np.asarray(fn(filled).to_numpy()) for fn in (pc.year, pc.month, pc.day))
    before_birthday = (bm > month) | ((bm == month) & (bd > day))
    return np.asarray(year - by - before_birthday, dtype=np.int64)


def implausible_birth_dates(ctx: Context) -> Iterator[Violation]:
    checks = ctx.entity.row_checks
    if RowCheck.BIRTH_DATE_FITS_GRADE in checks:
        yield from _birth_date_fits_grade(ctx)
    if RowCheck.TEACHER_WORKING_AGE in checks:
        yield from _teacher_working_age(ctx)


def _birth_date_fits_grade(ctx: Context) -> Iterator[Violation]:
    cols = ctx.columns
    if not {"birth_date", "school_year", "grade_code"} <= cols.keys():
        return
    birth, year_text, grade = (
        cols["birth_date"].typed,
        cols["school_year"].text,
        cols["grade_code"].text,
    )
    # A missing school year is missing_required's business; here it must not become NaN.
    year_ok = pc.fill_null(pc.match_substring_regex(year_text, r"^\d{4}-\d{4}$"), False)
    grades = list(code_tables()["grade"].codes)
    typical = [5 + (grade_year_index(g) or 0) for g in grades]  # age 6 in year 1
    expected = pc.take(
        pa.array(typical, pa.int64()), pc.index_in(grade, value_set=pa.array(grades))
    )
    usable = pc.and_(pc.and_(birth.is_valid(), year_ok), expected.is_valid())
    start = pc.cast(
        pc.utf8_slice_codeunits(pc.if_else(year_ok, year_text, "2000"), 0, 4), pa.int64()
    )
    age = _age_at(birth, np.asarray(start.to_numpy(zero_copy_only=False)), 9, 1)
    gap = np.abs(age - np.asarray(pc.fill_null(expected, 0).to_numpy()))
    bad = np.asarray(pc.fill_null(usable, False).to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(bad & (gap >= IMPLAUSIBLE_GRADE_AGE_GAP))
    f = ctx.entity.field("birth_date")
    yield _violation(
        rows,
        f,
        Reason.IMPLAUSIBLE_BIRTH_DATE,
        _name(f) + " ",
        birth,
        f" 与年级不符：按学年 9 月 1 日计，年龄与该年级的一般年龄相差 "
        f"{IMPLAUSIBLE_GRADE_AGE_GAP} 岁或以上",
    )


def _teacher_working_age(ctx: Context) -> Iterator[Violation]:
    if "birth_date" not in ctx.columns:
        return
    birth = ctx.columns["birth_date"].typed
    year = np.full(len(birth), ctx.as_of.year, dtype=np.int64)
    age = _age_at(birth, year, ctx.as_of.month, ctx.as_of.day)
    lo, hi = TEACHER_AGE_RANGE
    valid = np.asarray(birth.is_valid().to_numpy(zero_copy_only=False))
    rows = np.flatnonzero(valid & ((age < lo) | (age > hi)))
    f = ctx.entity.field("birth_date")
    yield _violation(
        rows,
        f,
        Reason.IMPLAUSIBLE_BIRTH_DATE,
        _name(f) + " ",
        birth,
        f" 不合理：到 {ctx.as_of.isoformat()} 年龄不在 {lo}–{hi} 岁之间",
    )


RULES: tuple[Rule, ...] = (
    encoding_errors,
    ragged_rows,
    missing_required,
    unparseable,
    patterns,
    identifiers,
    region_codes,
    codes,
    ranges,
    implausible_birth_dates,
)


def check_rows(ctx: Context) -> list[Violation]:
    """Every rule but the duplicate check.

    A CSV row with the wrong number of fields is quarantined as bad_format alone: its cells are
    not in their columns, so what the other rules would say about them is noise — and for a
    file of junk lines it would multiply the quarantine by the number of required fields.
    """
    ragged = [v for v in ragged_rows(ctx) if len(v.rows)]
    others = [v for rule in RULES if rule is not ragged_rows for v in rule(ctx) if len(v.rows)]
    if not ragged:
        return others
    misshapen = np.zeros(ctx.n, dtype=bool)
    for v in ragged:
        misshapen[v.rows] = True
    kept = ragged
    for v in others:
        keep = ~misshapen[v.rows]
        if keep.all():
            kept.append(v)
        elif keep.any():
            kept.append(Violation(v.rows[keep], v.field, v.reason, v.messages.filter(keep)))
    return kept


# -- duplicates ----------------------------------------------------------------------------


def _group_codes(columns: list[pa.Array]) -> npt.NDArray[np.int64]:
    """A group id per record over several columns (nulls compare equal)."""
    combined = np.zeros(len(columns[0]), dtype=np.int64)
    bound = 1  # combined < bound
    for column in columns:
        encoded = pc.dictionary_encode(column, null_encoding="encode")
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        codes_ = np.asarray(encoded.indices.to_numpy(), dtype=np.int64)
        width = len(encoded.dictionary) + 1
        if bound * width >= 2**62:  # compress before the mixed-radix number could overflow
            _, combined = np.unique(combined, return_inverse=True)
            bound = int(combined.max()) + 1 if len(combined) else 1
        combined = combined * width + codes_
        bound *= width
    return combined


def _first_occurrence(
    groups: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """(is the first record of its group, index of its group's first record)."""
    # np.unique reports the first index of each value (stable sort).
    _, first_of_group, inverse = np.unique(groups, return_index=True, return_inverse=True)
    first_index = first_of_group[inverse.reshape(-1)]
    return first_index == np.arange(len(groups)), first_index


def duplicates(ctx: Context, rejected: npt.NDArray[np.bool_]) -> list[Violation]:
    """Later exact copies (duplicate_row) and later different rows with the same natural key
    (duplicate_key) among the records the other rules accepted."""
    keep = np.flatnonzero(~rejected)
    if len(keep) < 2:
        return []
    take = pa.array(keep)
    content = [ctx.columns[f.name].typed.take(take) for f, _ in _fields(ctx)]
    is_first, first = _first_occurrence(_group_codes(content))
    row_number = ctx.records.row_number
    out: list[Violation] = []
    dup = np.flatnonzero(~is_first)
    if len(dup):
        earlier = pa.array(row_number[keep[first[dup]]])
        msg = message("与第 ", earlier, " 行完全相同（重复行）", len(dup), quote=False)
        out.append(Violation(keep[dup], None, Reason.DUPLICATE_ROW, msg))
    distinct = keep[is_first]
    key_cols = [ctx.columns[k].typed.take(pa.array(distinct)) for k in ctx.entity.natural_key]
    key_first, key_first_index = _first_occurrence(_group_codes(key_cols))
    clash = np.flatnonzero(~key_first)
    if len(clash):
        earlier = pa.array(row_number[distinct[key_first_index[clash]]])
        msg = message(
            f"{key_labels(ctx.entity)}与第 ", earlier, " 行相同，但其他内容不同", len(clash),
            quote=False,
        )  # fmt: skip
        out.append(Violation(distinct[clash], None, Reason.DUPLICATE_KEY, msg))
    return out


class EarlierChunks:
    """The rows that earlier chunks of the same file passed (their keys and content hashes),
    so that a later chunk's copies are found as if the file had been read whole.

    A one-chunk file never stores anything: the last chunk is only remembered by reference
    until a next one arrives.
    """

    def __init__(self, ent: Entity) -> None:
        self._key = list(ent.natural_key)
        self._pending: tuple[Context, npt.NDArray[np.bool_]] | None = None
        self._seen: SeenRows | None = None
        self._content: list[str] = []

    def close(self) -> None:
        if self._seen is not None:
            self._seen.close()

    def remember(self, ctx: Context, passed: npt.NDArray[np.bool_]) -> None:
        """This chunk's records that passed the rules (kept by reference until a next chunk)."""
        self._content = [f.name for f, _ in _fields(ctx)]
        self._pending = (ctx, passed)

    def duplicates(self, ctx: Context, rejected: npt.NDArray[np.bool_]) -> list[Violation]:
        """Records not yet rejected whose key an earlier chunk already had: duplicate_row when
        an earlier row has the same content, else duplicate_key."""
        if self._pending is None:
            return []
        earlier_ctx, passed = self._pending
        self._pending = None
        if self._seen is None:
            key = [self._content.index(k) for k in self._key]
            self._seen = SeenRows(key, len(self._content))
        names = [f"c{i}" for i in range(len(self._content))]
        rows = np.flatnonzero(passed)
        take = pa.array(rows)
        self._seen.add(
            pa.table(
                [earlier_ctx.columns[n].typed.take(take) for n in self._content]
                + [pa.array(earlier_ctx.records.row_number[rows], pa.int64())],
                names=[*names, "row_number"],
            )
        )
        keep = np.flatnonzero(~rejected)
        if not len(keep):
            return []
        take = pa.array(keep)
        found = self._seen.earliest(
            pa.table(
                [ctx.columns[n].typed.take(take) for n in self._content]
                + [pa.array(np.arange(len(keep)), pa.int64())],
                names=[*names, "idx"],
            )
        )
        if not found.num_rows:
            return []
        idx = keep[np.asarray(found.column("idx").to_numpy())]
        same_row = found.column("same_row").combine_chunks()
        copy = np.asarray(same_row.is_valid().to_numpy(zero_copy_only=False))
        out: list[Violation] = []
        if copy.any():
            earlier = same_row.filter(pa.array(copy))
            msg = message("与第 ", earlier, " 行完全相同（重复行）", int(copy.sum()), quote=False)
            out.append(Violation(idx[copy], None, Reason.DUPLICATE_ROW, msg))
        if (~copy).any():
            earlier = found.column("same_key").combine_chunks().filter(pa.array(~copy))
            msg = message(
                f"{key_labels(ctx.entity)}与第 ",
                earlier,
                " 行相同，但其他内容不同",
                int((~copy).sum()),
                quote=False,
            )
            out.append(Violation(idx[~copy], None, Reason.DUPLICATE_KEY, msg))
        return out
