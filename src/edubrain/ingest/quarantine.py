"""Reason codes, violations, and the quarantine records built from them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.ingest.discover import FileSpec
from edubrain.ingest.readers import RawTable
from edubrain.ingest.records import Records
from edubrain.warehouse.schema import NATURAL_KEY_SEPARATOR, QUARANTINE_SCHEMA


class Reason(StrEnum):
    """Why a row was quarantined. Declaration order is the priority order: a row's records are
    stored most fundamental first, because a later problem is often a consequence of an earlier
    one (a mis-decoded name, a missing grade)."""

    ENCODING_ERROR = "encoding_error"
    MISSING_REQUIRED = "missing_required"
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_DATE = "bad_date"
    BAD_NUMBER = "bad_number"
    UNKNOWN_CODE = "unknown_code"
    OUT_OF_RANGE = "out_of_range"
    IMPLAUSIBLE_BIRTH_DATE = "implausible_birth_date"
    DUPLICATE_ROW = "duplicate_row"
    DUPLICATE_KEY = "duplicate_key"


PRIORITY = {reason.value: rank for rank, reason in enumerate(Reason)}

# When each reason applies: the data office's reading of a quarantine row, and the reason-code
# table of the generated docs/quality-rules.md.
REASON_WHEN: dict[Reason, str] = {
    Reason.ENCODING_ERROR: "a value holds bytes that do not decode in the file's encoding "
    "(e.g. a UTF-8 row inside a GBK export)",
    Reason.MISSING_REQUIRED: "a required field of the standard is empty",
    Reason.BAD_FORMAT: "a value does not have the required shape (学籍号 length, 10-digit "
    "学校标识码, mobile number, a yes/no that is neither, a CSV row with the wrong number of "
    "fields)",
    Reason.BAD_CHECK_DIGIT: "an ID number or the ID inside a G-学籍号 fails the GB 11643 "
    "MOD 11-2 check",
    Reason.BAD_DATE: "a date that does not parse in the mapping's formats, or is not a real "
    "calendar date (also inside an ID number)",
    Reason.BAD_NUMBER: "a numeric field that is not a number",
    Reason.UNKNOWN_CODE: "a value that no code table, label or alias knows (民族, 性别, 年级, "
    "学籍状态, 学科, province of a region code)",
    Reason.OUT_OF_RANGE: "a measure outside the standard's physical range (height, vision, "
    "fitness results, homework minutes, …)",
    Reason.IMPLAUSIBLE_BIRTH_DATE: "a student 4 or more years off the typical age for the grade "
    "on 1 September, or a teacher younger than 18 or older than 70",
    Reason.DUPLICATE_ROW: "an exact copy of an earlier valid row in the same file (the copy is "
    "quarantined)",
    Reason.DUPLICATE_KEY: "the same natural key as an earlier valid row in the same file, with "
    "different content",
}


# The reason codes' names as the data office reads them: Chinese, and English for the cockpit's
# language switch. The browser, the CLI, the downloads and the summaries name reasons from here.
REASON_NAMES: dict[Reason, tuple[str, str]] = {
    Reason.ENCODING_ERROR: ("编码错误", "Encoding error"),
    Reason.MISSING_REQUIRED: ("必填项为空", "Required value missing"),
    Reason.BAD_FORMAT: ("格式错误", "Wrong format"),
    Reason.BAD_CHECK_DIGIT: ("校验位错误", "Wrong check digit"),
    Reason.BAD_DATE: ("日期无效", "Invalid date"),
    Reason.BAD_NUMBER: ("数字无效", "Invalid number"),
    Reason.UNKNOWN_CODE: ("代码未知", "Unknown code"),
    Reason.OUT_OF_RANGE: ("超出范围", "Out of range"),
    Reason.IMPLAUSIBLE_BIRTH_DATE: ("出生日期不合理", "Implausible birth date"),
    Reason.DUPLICATE_ROW: ("重复行", "Duplicate row"),
    Reason.DUPLICATE_KEY: ("主键重复", "Duplicate key"),
}


def reason_name(code: str, lang: str = "zh") -> str:
    """A reason code's name in `lang` ("zh" or "en"); an unknown code as it is."""
    try:
        zh, en = REASON_NAMES[Reason(code)]
    except ValueError:
        return code
    return en if lang == "en" else zh


def reason_code(given: str) -> str:
    """A reason code from a code or a name (Chinese or English); anything else as given."""
    for reason, names in REASON_NAMES.items():
        if given == reason.value or given in names:
            return reason.value
    return given


@dataclass(frozen=True)
class Violation:
    """Records that break one rule: their indices, the field, the reason and a message each."""

    rows: npt.NDArray[np.int64]
    field: str | None
    reason: Reason
    messages: pa.Array  # one string per row


def message(
    prefix: str, values: pa.Array | None, suffix: str, n: int, *, quote: bool = True
) -> pa.Array:
    """prefix + 'value' + suffix for each offending record, built column-wise."""
    if values is None:
        return pa.array(np.full(n, prefix + suffix, dtype=object), pa.string())
    text = pc.fill_null(pc.cast(values, pa.string()), "")
    q = "'" if quote else ""
    return pc.binary_join_element_wise(prefix + q, text, q + suffix, "")


@dataclass(frozen=True)
class Quarantine:
    records: pa.Table  # QUARANTINE_SCHEMA
    bad: npt.NDArray[np.bool_]  # per record: quarantined?
    reasons: dict[str, int]  # reason → records (rows) carrying it
    keys: pa.Table | None = None
    """Per quarantine record, its natural key's typed values (None: the file lacks a key field):
    sealed with the chunk, then written as the `natural_key` column (`with_natural_key`)."""


def key_text(keys: pa.Table | None, n: int) -> pa.Array:
    """The natural key of each row as one text: the values as the warehouse prints them (SQL
    `CAST(… AS VARCHAR)`), joined by NATURAL_KEY_SEPARATOR; null when a value is missing.
    `edubrain.ingest.quarantine_views` builds the same text from the entity tables."""
    if keys is None or keys.num_columns == 0:
        return pa.nulls(n, pa.string())
    parts = []
    for column in keys.columns:
        if pa.types.is_timestamp(column.type):
            parts.append(pc.strftime(column, format="%Y-%m-%d %H:%M:%S"))
        else:
            parts.append(pc.cast(column, pa.string()))
    if len(parts) == 1:
        return parts[0].combine_chunks() if isinstance(parts[0], pa.ChunkedArray) else parts[0]
    joined = pc.binary_join_element_wise(*parts, NATURAL_KEY_SEPARATOR)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def with_natural_key(quarantine: Quarantine, keys: pa.Table | None) -> Quarantine:
    """`quarantine` with its `natural_key` column made from `keys` (e.g. sealed ones)."""
    records = quarantine.records
    i = records.schema.get_field_index("natural_key")
    text = key_text(keys, records.num_rows)
    records = records.set_column(i, records.schema.field(i), text)
    return Quarantine(records, quarantine.bad, quarantine.reasons, keys)


def build_quarantine(
    violations: list[Violation],
    *,
    n_records: int,
    records: Records,
    raw: RawTable,
    spec: FileSpec,
    load_id: str,
    keys: pa.Table | None = None,
) -> Quarantine:
    """The quarantine records of `violations`, most fundamental reason first; `keys` are the
    records' natural-key columns (typed), kept to tell later whether a row was resolved."""
    bad = np.zeros(n_records, dtype=bool)
    violations = [v for v in violations if len(v.rows)]
    by_reason: dict[str, list[npt.NDArray[np.int64]]] = {}
    for v in violations:
        bad[v.rows] = True
        by_reason.setdefault(v.reason.value, []).append(v.rows)
    # A row with the same problem in two fields counts once for that reason.
    reasons = {
        r: len(np.unique(np.concatenate(parts)))
        for r, parts in sorted(by_reason.items(), key=lambda item: PRIORITY[item[0]])
    }
    if not violations:
        return Quarantine(QUARANTINE_SCHEMA.empty_table(), bad, {})
    rows = np.concatenate([v.rows for v in violations])
    ranks = np.concatenate([np.full(len(v.rows), PRIORITY[v.reason]) for v in violations])
    order = np.lexsort((ranks, rows))  # by record, then by priority
    rows, ranks = rows[order], ranks[order]
    fields = np.concatenate([np.full(len(v.rows), v.field, dtype=object) for v in violations])
    reason_names = np.concatenate(
        [np.full(len(v.rows), v.reason.value, dtype=object) for v in violations]
    )
    messages = pa.concat_arrays([v.messages for v in violations]).take(pa.array(order))
    # The raw row once per source row, however many records and reasons point at it.
    source_rows = records.source_row[rows]
    unique_rows, inverse = np.unique(source_rows, return_inverse=True)
    raw_text = np.array(raw.raw_json(unique_rows), dtype=object)[inverse]
    n = len(rows)

    def const(value: str) -> pa.Array:
        return pa.array(np.full(n, value, dtype=object), pa.string())

    table = pa.table(
        [
            const(load_id),
            const(spec.source),
            const(spec.export),
            const(spec.entity),
            const(str(spec.path)),
            const(raw.sha256),
            pa.array(records.row_number[rows], pa.int64()),
            pa.array(fields[order], pa.string()),
            pa.array(reason_names[order], pa.string()),
            messages,
            pa.array(raw_text, pa.string()),
            pa.nulls(n, pa.string()),
        ],
        schema=QUARANTINE_SCHEMA,
    )
    taken = keys.take(pa.array(rows)) if keys is not None else None
    return with_natural_key(Quarantine(table, bad, reasons), taken)
