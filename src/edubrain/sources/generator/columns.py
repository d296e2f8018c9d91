"""Column arrays: how generated values are held and turned into standard text.

A table is a dict of equal-length numpy arrays, one per standard field (plus hidden helper
columns whose names start with "_", never written to the standard). Value kinds by field type:
text and codes as numpy StringDType, integers and decimals as float64 (NaN = empty, decimals
already rounded to the precision the source system records), dates as datetime64[D],
datetimes as datetime64[s], booleans as the text "true"/"false"/"".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.dtypes import StringDType

from edubrain.standard.entities import Entity, FieldType

Array = npt.NDArray[Any]
Table = dict[str, Array]
STR = StringDType()


def text(values: Any) -> Array:
    """Any array-like as a StringDType array (no copy when it already is one)."""
    return np.asarray(values).astype(STR, copy=False)


def cat(*parts: Any) -> Array:
    """Element-wise concatenation of text arrays and scalars."""
    out = text(parts[0]) if isinstance(parts[0], np.ndarray) else parts[0]
    for p in parts[1:]:
        out = np.strings.add(out, text(p) if isinstance(p, np.ndarray) else p)
    return text(out)


def zpad(values: Array, width: int) -> Array:
    """Integers as zero-padded text."""
    return np.strings.zfill(text(np.asarray(values, dtype=np.int64)), width)


def _lookup_text(v: Array, scale: int) -> Array | None:
    """Text of numbers that are whole multiples of 1/scale in a small range, by table lookup.

    Converting floats to text one by one costs ~0.4 µs each; most generated measures have one
    or two decimals and a narrow range, so a table of all possible values is much faster.
    """
    k = np.round(v * scale)
    if not np.array_equal(k / scale, v):
        return None
    lo, hi = (k.min(), k.max()) if k.size else (0.0, 0.0)
    if hi - lo > 2_000_000:
        return None
    table = np.arange(lo, hi + 1) / scale if scale > 1 else np.arange(lo, hi + 1).astype(np.int64)
    return text(table)[(k - lo).astype(np.int64)]


def int_text(values: Array) -> Array:
    """Whole numbers held as float (NaN = empty) as text."""
    v = np.asarray(values, dtype=np.float64)
    missing = np.isnan(v)
    whole = np.where(missing, 0, v)
    out = _lookup_text(whole, 1)
    if out is None:
        out = text(whole.astype(np.int64))
    return np.where(missing, "", out).astype(STR) if missing.any() else out


def float_text(values: Array) -> Array:
    """Decimals as their shortest exact text (152.5, 5.0, -1.25); NaN = empty."""
    v = np.asarray(values, dtype=np.float64)
    missing = np.isnan(v)
    v = np.where(missing, 0.0, v)
    out = None
    for scale in (10, 100, 1000):
        out = _lookup_text(v, scale)
        if out is not None:
            break
    if out is None:
        out = text(v)
    return np.where(missing, "", out).astype(STR) if missing.any() else out


def drop_point_zero(values: Array) -> Array:
    """'3.0' → '3', as many systems print whole numbers."""
    t = text(values)
    return np.where(np.strings.endswith(t, ".0"), np.strings.slice(t, 0, -2), t).astype(STR)


def date_parts(values: Array) -> tuple[Array, Array, Array]:
    """Year, month, day of datetime64 values as int64 arrays (NaT gives garbage: mask first)."""
    d = np.asarray(values).astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = (d.astype("datetime64[M]").astype(np.int64) % 12) + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, day


def iso_date(values: Array) -> Array:
    d = np.asarray(values).astype("datetime64[D]")
    out = d.astype("U10").astype(STR)
    return np.where(np.isnat(d), "", out).astype(STR)


def iso_datetime(values: Array) -> Array:
    d = np.asarray(values).astype("datetime64[s]")
    out = d.astype("U19").astype(STR)
    return np.where(np.isnat(d), "", out).astype(STR)


def truth_text(ftype: FieldType, values: Array) -> Array:
    """The normalised standard text of a column: what a perfect ingest holds."""
    if ftype is FieldType.DATE:
        return iso_date(values)
    if ftype is FieldType.DATETIME:
        return iso_datetime(values)
    if ftype is FieldType.INTEGER:
        return int_text(values)
    if ftype is FieldType.DECIMAL:
        return float_text(values)
    return text(values)


def truth_columns(ent: Entity, table: Table) -> list[Array]:
    """The entity's fields in standard order as text (absent fields are empty)."""
    n = len(next(iter(table.values()))) if table else 0
    cols = []
    for f in ent.fields:
        if f.name in table:
            cols.append(truth_text(f.type, table[f.name]))
        else:
            cols.append(np.full(n, "", dtype=STR))
    return cols


def take(table: Table, index: Array) -> Table:
    return {k: v[index] for k, v in table.items()}


def concat(tables: list[Table]) -> Table:
    if not tables:
        return {}
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def length(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def full_width(value: str) -> str:
    return value.translate(_FULL_WIDTH)
