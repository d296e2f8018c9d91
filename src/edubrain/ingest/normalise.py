"""Normalise source text into standard values, column at a time (pyarrow compute + numpy).

Per field: NFKC (full-width → half-width), trim, empty → null, the mapping's `values` map, the
code table's labels (`labels: true`), then parsing by type: booleans, dates by the mapping's
formats in order (`excel_serial` included), `minsec` times, numbers, `scale`. The result keeps
both the normalised text (what the rules and messages talk about) and the typed value (null where
the text did not parse: the parse rules turn that into bad_date / bad_number / bad_format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.errors import ConfigError
from edubrain.ingest.records import Records
from edubrain.sources.mapping import ColumnRule
from edubrain.standard.codes import code_table
from edubrain.standard.entities import Check, Entity, Field, FieldType
from edubrain.standard.identifiers import real_dates
from edubrain.warehouse.schema import arrow_type

CODE_LIST_SEPARATORS = "[;、,]"  # after NFKC, full-width ；and ，are ; and ,
BOOLEAN_WORDS = {
    "是": True, "否": False, "true": True, "false": False, "1": True, "0": False,
    "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
}  # fmt: skip
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# 3'35"  3′35″ (NFKC turns ″ into ′′)  3:35  3分35秒.
_MINSEC = r"^(?P<m>\d+)\s*(?:['′’:]|分)\s*(?P<s>\d+(?:\.\d+)?)\s*(?:\"|″|”|′′|''|秒)?$"
_EXCEL_SERIAL = r"^\d+(\.\d+)?$"
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
_EXCEL_MAX_SERIAL = 2958466  # 9999-12-31


@dataclass(frozen=True)
class Column:
    text: pa.Array
    """Normalised text (after value and label maps); null where the source is empty."""
    typed: pa.Array
    """The standard-typed value; null where empty or not parseable."""


def clean_text(values: pa.Array) -> pa.Array:
    """NFKC, trim, and empty → null."""
    if len(values) and not pc.all(pc.string_is_ascii(values)).as_py():
        # ASCII is already NFKC; skipping it saves a pass on most numeric columns.
        values = pc.utf8_normalize(values, "NFKC")
    values = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def map_values(values: pa.Array, mapping: dict[str, str]) -> pa.Array:
    """Replace values that are keys of `mapping`; leave the others as they are."""
    if not mapping:
        return values
    keys = pa.array(list(mapping), pa.string())
    index = pc.index_in(values, value_set=keys)
    replaced = pc.take(pa.array(list(mapping.values()), pa.string()), index)
    return pc.coalesce(replaced, values)


def _lookup_for(f: Field, rule: ColumnRule) -> dict[str, str]:
    """Local value → standard value, NFKC-normalised like the data it is applied to."""
    lookup: dict[str, str] = {}
    if rule.labels and f.code_table:
        lookup.update(code_table(f.code_table).label_lookup())
    lookup.update(rule.values or {})  # the mapping's own values win over table labels
    normal = pc.utf8_normalize(pa.array(list(lookup), pa.string()), "NFKC").to_pylist()
    return dict(zip(normal, lookup.values(), strict=True))


def normalise(records: Records, ent: Entity) -> dict[str, Column]:
    """Every mapped field of `records` as a normalised `Column`."""
    return {
        name: _normalise_field(ent.field(name), records.rules[name], values)
        for name, values in records.values.items()
    }


def _normalise_field(f: Field, rule: ColumnRule, values: pa.Array) -> Column:
    text = clean_text(values)
    if f.type is FieldType.CODE_LIST:
        text = _normalise_code_list(text, _lookup_for(f, rule))
    else:
        text = map_values(text, _lookup_for(f, rule))
    if f.check in (Check.ID_NUMBER, Check.STUDENT_NUMBER):
        text = pc.utf8_upper(text)  # the check character x, a lower-case g/j/l prefix
    return Column(text, _typed(f, rule, text))


def _normalise_code_list(text: pa.Array, lookup: dict[str, str]) -> pa.Array:
    parts = pc.split_pattern_regex(text, CODE_LIST_SEPARATORS)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    keep = pc.not_equal(flat, "")
    parents = pc.filter(pc.list_parent_indices(parts), keep).to_numpy()
    flat = map_values(pc.filter(flat, keep), lookup)
    counts = np.bincount(parents, minlength=len(text))
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, flat), ";")
    return pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)


def _typed(f: Field, rule: ColumnRule, text: pa.Array) -> pa.Array:
    kind = f.type
    if kind in (FieldType.STRING, FieldType.CODE, FieldType.CODE_LIST):
        return text
    if kind is FieldType.BOOLEAN:
        words = pc.utf8_lower(text)
        index = pc.index_in(words, value_set=pa.array(list(BOOLEAN_WORDS)))
        return pc.take(pa.array(list(BOOLEAN_WORDS.values()), pa.bool_()), index)
    if kind in (FieldType.DATE, FieldType.DATETIME):
        formats = rule.formats or (["%Y-%m-%d"] if kind is FieldType.DATE else [])
        return parse_datetimes(text, formats, with_time=kind is FieldType.DATETIME)
    seconds = parse_minsec(text) if rule.parse == "minsec" else parse_numbers(text)
    if rule.scale is not None:
        seconds = pc.multiply(seconds, rule.scale)
    if kind is FieldType.INTEGER:
        integral = pc.equal(pc.floor(seconds), seconds)
        return pc.cast(pc.if_else(integral, seconds, None), pa.int64(), safe=False)
    return seconds


def parse_numbers(text: pa.Array) -> pa.Array:
    ok = pc.match_substring_regex(text, _NUMBER)
    return pc.cast(pc.if_else(ok, text, None), pa.float64())


def parse_minsec(text: pa.Array) -> pa.Array:
    """3'35" / 3′35″ / 3:35 / 3分35秒 → 215.0 seconds; a plain number is seconds already."""
    parts = pc.extract_regex(text, _MINSEC)
    minutes = pc.cast(pc.struct_field(parts, "m"), pa.float64())
    seconds = pc.cast(pc.struct_field(parts, "s"), pa.float64())
    as_minsec = pc.add(pc.multiply(minutes, 60.0), seconds)
    return pc.coalesce(as_minsec, parse_numbers(text))


# -- dates ---------------------------------------------------------------------------------

_DIRECTIVES = {"Y": r"\d{4}", "m": r"\d{1,2}", "d": r"\d{1,2}", "H": r"\d{1,2}",
               "M": r"\d{1,2}", "S": r"\d{1,2}"}  # fmt: skip


def format_regex(fmt: str) -> str:
    """A strftime pattern as an anchored RE2 regex with one named group per directive.

    Separated fields may be unpadded (2015.3.7); adjacent ones (%Y%m%d) must be two digits.
    """
    out = ["^"]
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d not in _DIRECTIVES:
                raise ConfigError(f"date format {fmt!r}: %{d} is not supported")
            adjacent = fmt[i + 2 : i + 3] == "%" or (i >= 2 and fmt[i - 2] == "%")
            width = r"\d{4}" if d == "Y" else (r"\d{2}" if adjacent else _DIRECTIVES[d])
            out.append(f"(?P<{d}>{width})")
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return "".join([*out, "$"])


def _ints(parts: pa.StructArray, name: str, default: int) -> npt.NDArray[np.int64]:
    if parts.type.get_field_index(name) < 0:
        return np.full(len(parts), default, dtype=np.int64)
    field = pc.struct_field(parts, name)
    return np.asarray(pc.cast(pc.fill_null(field, str(default)), pa.int64()).to_numpy())


def parse_datetimes(text: pa.Array, formats: list[str], *, with_time: bool) -> pa.Array:
    """Try `formats` in order; the first that gives a real date wins. Null where none does."""
    n = len(text)
    out = np.zeros(n, dtype="datetime64[s]")
    done = np.zeros(n, dtype=bool)
    present = np.asarray(text.is_valid().to_numpy(zero_copy_only=False))
    for fmt in formats:
        todo = np.flatnonzero(present & ~done)
        if not len(todo):
            break
        sub = text.take(pa.array(todo))
        if fmt == "excel_serial":
            ok, stamps = _excel_serials(sub, with_time)
        else:
            ok, stamps = _strptime(sub, format_regex(fmt))
        out[todo[ok]] = stamps[ok]
        done[todo[ok]] = True
    if with_time:
        return pa.array(out.astype("datetime64[us]"), pa.timestamp("us"), mask=~done)
    return pa.array(out.astype("datetime64[D]"), pa.date32(), mask=~done)


def _strptime(
    text: pa.Array, regex: str
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.datetime64]]:
    parts = pc.extract_regex(text, regex)
    matched = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False))
    year, month, day = _ints(parts, "Y", 1970), _ints(parts, "m", 1), _ints(parts, "d", 1)
    hour, minute, second = _ints(parts, "H", 0), _ints(parts, "M", 0), _ints(parts, "S", 0)
    ok = matched & real_dates(year, month, day) & (hour < 24) & (minute < 60) & (second < 60)
    ok &= year <= 9999
    year, month, day = np.where(ok, year, 1970), np.where(ok, month, 1), np.where(ok, day, 1)
    months = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    stamps = months.astype("datetime64[s]") + (
        (day - 1) * 86400 + hour * 3600 + minute * 60 + second
    ).astype("timedelta64[s]")
    return ok, stamps


def _excel_serials(
    text: pa.Array, with_time: bool
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.datetime64]]:
    shaped = pc.match_substring_regex(text, _EXCEL_SERIAL)
    serial = pc.cast(pc.if_else(shaped, text, None), pa.float64()).to_numpy(zero_copy_only=False)
    serial = np.nan_to_num(np.asarray(serial, dtype=np.float64), nan=-1.0)
    ok = (serial >= 1) & (serial < _EXCEL_MAX_SERIAL)
    if not with_time:
        ok &= serial == np.floor(serial)  # a date column holding a time of day is not a date
    seconds = np.where(ok, np.round(serial * 86400), 0).astype(np.int64)
    return ok, _EXCEL_EPOCH + seconds.astype("timedelta64[s]")


def null_column(f: Field, n: int) -> pa.Array:
    return pa.nulls(n, arrow_type(f.type))
