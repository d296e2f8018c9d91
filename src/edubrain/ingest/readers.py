"""Read an export into an all-string Arrow table, or refuse the whole file with one sentence.

Each reader returns a `RawTable`: the source header, one string column per source column (cells
exactly as the file has them, decoded), and a way to render any source row as JSON for the
quarantine. Parsing is columnar (pyarrow CSV/JSON, calamine); a Python loop over rows only runs
on fallback paths for malformed files and on the rows that go to quarantine.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import python_calamine

from edubrain.errors import UnreadableFileError, WarehouseError
from edubrain.ingest.discover import FileSpec
from edubrain.warehouse import read_json_lines_as_text

MAX_FIELD_BYTES = 1_000_000
"""A larger single cell is not data an export should hold: the file is refused."""

_CSV_BLOCK = 16 << 20  # bytes per parse block: big enough for any allowed field, and parallel
_BINARY_PROBE = 8192


@dataclass(frozen=True)
class RawTable:
    header: list[str]
    table: pa.Table
    """All-string columns, named by `header` (duplicates made unique with a `.N` suffix)."""
    row_numbers: npt.NDArray[np.int64]
    """1-based data-row number of each table row in the file (header excluded)."""
    sha256: str
    size: int
    raw_json: Callable[[npt.NDArray[np.int64]], list[str]]
    """The given table rows as JSON texts, the way the source holds them."""

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


def read_file(spec: FileSpec) -> RawTable:
    """Read `spec.path` as its declared format; raise UnreadableFileError if it cannot be."""
    path = spec.path
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise UnreadableFileError(path, "is empty (no header, no rows)")
    sha = hashlib.sha256(data).hexdigest()
    if spec.format == "csv":
        return _read_csv(spec, data, sha)
    if spec.format == "jsonl":
        return _read_jsonl(spec, data, sha)
    if spec.format == "xlsx":
        return _read_xlsx(spec, data, sha)
    return _read_parquet(spec, data, sha)


# -- shared helpers ------------------------------------------------------------------------


def _unique_names(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n + 1}")
    return out


def _rows_as_json(table: pa.Table) -> Callable[[npt.NDArray[np.int64]], list[str]]:
    def render(indices: npt.NDArray[np.int64]) -> list[str]:
        rows = table.take(pa.array(indices, pa.int64())).to_pylist()
        return [json.dumps(r, ensure_ascii=False) for r in rows]

    return render


def _check_field_sizes(path: Path, table: pa.Table) -> None:
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count == len(column):
            continue
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest > MAX_FIELD_BYTES:
            raise UnreadableFileError(
                path,
                f"column {name!r} holds a field of {longest:,} bytes "
                f"(the limit is {MAX_FIELD_BYTES:,}); the file is not a plain export",
            )


def _looks_binary(data: bytes) -> bool:
    probe = data[:_BINARY_PROBE]
    return b"\x00" in probe


def _is_utf8_family(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _to_utf8(path: Path, data: bytes, encoding: str) -> bytes:
    """Decode as declared (bad bytes become U+FFFD, flagged per row later) into UTF-8 bytes."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnreadableFileError(path, f"declares an unknown encoding {encoding!r}") from None
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        body.decode("utf-8")
        valid_utf8 = True
    except UnicodeDecodeError:
        valid_utf8 = False
    if _is_utf8_family(encoding):
        if valid_utf8:
            return body
        return body.decode("utf-8", errors="replace").encode("utf-8")
    if valid_utf8 and not body.isascii():
        # Chinese text in GBK practically never forms valid UTF-8: the declaration is wrong.
        raise UnreadableFileError(
            path,
            f"is UTF-8 encoded, but its source declares {encoding}; re-export it as {encoding}",
        )
    return data.decode(encoding, errors="replace").encode("utf-8")


# -- CSV -----------------------------------------------------------------------------------


def _read_csv(spec: FileSpec, data: bytes, sha: str) -> RawTable:
    path = spec.path
    if _looks_binary(data):
        raise UnreadableFileError(path, "is binary, not a CSV text file")
    text = _to_utf8(path, data, spec.encoding)
    first_line = text.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    if "\ufffd" in first_line:
        raise UnreadableFileError(
            path, f"its header does not decode as {spec.encoding}; is the file in another encoding?"
        )
    header = next(csv.reader([first_line], delimiter=spec.delimiter), [])
    if not any(h.strip() for h in header):
        raise UnreadableFileError(path, "has no header row")
    names = _unique_names([h.strip() for h in header])
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_CSV_BLOCK),
            parse_options=pacsv.ParseOptions(
                delimiter=spec.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise UnreadableFileError(
                path, f"holds a field larger than {MAX_FIELD_BYTES:,} bytes"
            ) from None
        raise UnreadableFileError(path, f"is not a readable CSV file ({exc})") from None
    if bad_rows:
        # Rows with the wrong number of fields: re-read slowly to keep every row and its number.
        return _read_csv_ragged(spec, text, names, sha, len(data))
    _check_field_sizes(path, table)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return RawTable(names, table, rows, sha, len(data), _rows_as_json(table))


RAGGED_COLUMN = "__ragged__"
"""Extra column set on rows whose field count differs from the header (fallback reader)."""


def _read_csv_ragged(
    spec: FileSpec, text: bytes, names: list[str], sha: str, size: int
) -> RawTable:
    reader = csv.reader(io.StringIO(text.decode("utf-8"), newline=""), delimiter=spec.delimiter)
    next(reader)
    columns: list[list[str | None]] = [[] for _ in names]
    ragged: list[str | None] = []
    raw: list[str] = []
    width = len(names)
    for record in reader:
        if not record:
            continue
        raw.append(json.dumps(record, ensure_ascii=False))
        ragged.append(None if len(record) == width else f"{len(record)} fields, header has {width}")
        padded = (record + [""] * width)[:width]
        for column, value in zip(columns, padded, strict=True):
            column.append(value)
    arrays = [pa.array(c, pa.string()) for c in columns]
    table = pa.table([*arrays, pa.array(ragged, pa.string())], names=[*names, RAGGED_COLUMN])
    _check_field_sizes(spec.path, table)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    raw_array = np.array(raw, dtype=object)
    return RawTable(names, table, rows, sha, size, lambda idx: list(raw_array[idx]))


# -- JSON lines ----------------------------------------------------------------------------


def _flatten(table: pa.Table) -> pa.Table:
    # Nested objects become dotted columns ("school.code"), as the mappings address them.
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_timestamp(kind):
        # pyarrow infers timestamps from ISO text; give the mapping back the text it expects.
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    if pa.types.is_date(kind):
        return pc.strftime(column, format="%Y-%m-%d")
    if pa.types.is_null(kind):
        return pa.chunked_array([pa.nulls(len(column), pa.string())])
    return column.cast(pa.string())


def _json_value_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _flat_dict(obj: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat_dict(value, name + "."))
        else:
            out[name] = value
    return out


def _read_jsonl(spec: FileSpec, data: bytes, sha: str) -> RawTable:
    path = spec.path
    if _looks_binary(data):
        raise UnreadableFileError(path, "is binary, not a JSON-lines text file")
    text = _to_utf8(path, data, spec.encoding)
    lines = [line for line in text.split(b"\n") if line.strip()]

    def raw_json(idx: npt.NDArray[np.int64]) -> list[str]:
        return [lines[i].decode("utf-8").strip() for i in idx]

    try:
        table = pajson.read_json(io.BytesIO(text))
        if _has_temporal(table.schema):
            # Arrow turns "2025-11-04" into a timestamp; read those fields again as the text
            # they are, so the mapping's date formats see what the source wrote.
            options = pajson.ParseOptions(explicit_schema=_temporal_as_text(table.schema))
            table = pajson.read_json(io.BytesIO(text), parse_options=options)
        table = _flatten(table)
        if any(pa.types.is_nested(f.type) for f in table.schema):
            raise pa.ArrowInvalid("nested lists")
        columns = [_as_text(c) for c in table.columns]
        table = pa.table(columns, names=table.column_names)
    except pa.ArrowInvalid:
        table = _read_jsonl_mixed_types(spec, data, text, lines)
    if table.num_rows != len(lines):
        raise UnreadableFileError(path, "has lines that are not JSON objects")
    _check_field_sizes(path, table)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return RawTable(table.column_names, table, rows, sha, len(data), raw_json)


def _is_temporal(kind: pa.DataType) -> bool:
    return bool(pa.types.is_timestamp(kind) or pa.types.is_date(kind))


def _has_temporal(schema: pa.Schema) -> bool:
    return any(_is_temporal(t) for t in _leaf_types(list(schema)))


def _leaf_types(fields: list[pa.Field]) -> list[pa.DataType]:
    out: list[pa.DataType] = []
    for f in fields:
        if pa.types.is_struct(f.type):
            out += _leaf_types([f.type.field(i) for i in range(f.type.num_fields)])
        else:
            out.append(f.type)
    return out


def _temporal_field_as_text(f: pa.Field) -> pa.Field:
    if pa.types.is_struct(f.type):
        children = [_temporal_field_as_text(f.type.field(i)) for i in range(f.type.num_fields)]
        return pa.field(f.name, pa.struct(children))
    return pa.field(f.name, pa.string()) if _is_temporal(f.type) else f


def _temporal_as_text(schema: pa.Schema) -> pa.Schema:
    return pa.schema([_temporal_field_as_text(f) for f in schema])


def _read_jsonl_mixed_types(
    spec: FileSpec, data: bytes, text: bytes, lines: list[bytes]
) -> pa.Table:
    """Values of one field differ in type between lines: read the mapped fields as text."""
    wanted = [r.source for r in (spec.columns or {}).values() if r.source is not None]
    if not wanted:
        return _read_jsonl_slowly(spec.path, lines)
    with tempfile.TemporaryDirectory() as tmp:
        readable = spec.path
        if text != data:  # decoding replaced bytes or changed the encoding: read what we decoded
            readable = Path(tmp) / "decoded.jsonl"
            readable.write_bytes(text)
        try:
            table = read_json_lines_as_text(readable, wanted)
        except WarehouseError:
            return _read_jsonl_slowly(spec.path, lines)
    if table.num_rows != len(lines):
        return _read_jsonl_slowly(spec.path, lines)
    return table


def _read_jsonl_slowly(path: Path, lines: list[bytes]) -> pa.Table:
    """Per-line fallback when value types differ between lines (1 here, "1" there)."""
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            obj = json.loads(line)
        except ValueError:
            raise UnreadableFileError(path, f"line {number} is not valid JSON") from None
        if not isinstance(obj, dict):
            raise UnreadableFileError(path, f"line {number} is not a JSON object")
        records.append(_flat_dict(obj))
    names = list(dict.fromkeys(k for r in records for k in r))
    arrays = [pa.array([_json_value_text(r.get(n)) for r in records], pa.string()) for n in names]
    return pa.table(arrays, names=names)


# -- xlsx ----------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        # Excel stores every number as a float: 21.0 is the grade code "21".
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.time() != time() else "%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _read_xlsx(spec: FileSpec, data: bytes, sha: str) -> RawTable:
    path = spec.path
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if spec.sheet is not None and spec.sheet not in book.sheet_names:
            raise UnreadableFileError(
                path, f"has no sheet {spec.sheet!r} (it has: {', '.join(book.sheet_names)})"
            )
        sheet = book.get_sheet_by_name(spec.sheet or book.sheet_names[0])
        cells: list[list[Any]] = sheet.to_python()
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 — calamine raises several unrelated types
        raise UnreadableFileError(
            path, f"is not a readable xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    if not cells or not any(_cell_text(c).strip() for c in cells[0]):
        raise UnreadableFileError(path, "has no header row in its sheet")
    names = _unique_names([_cell_text(c).strip() for c in cells[0]])
    width = len(names)
    body = [(number, r) for number, r in enumerate(cells[1:], start=1) if any(c != "" for c in r)]
    columns = [
        pa.array([_cell_text(r[i]) if i < len(r) else "" for _, r in body], pa.string())
        for i in range(width)
    ]
    table = pa.table(columns, names=names)
    _check_field_sizes(path, table)
    rows = np.array([number for number, _ in body], dtype=np.int64)
    return RawTable(names, table, rows, sha, len(data), _rows_as_json(table))


# -- Parquet (standard format only) --------------------------------------------------------


def _read_parquet(spec: FileSpec, data: bytes, sha: str) -> RawTable:
    path = spec.path
    try:
        table = pq.read_table(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 — pyarrow raises ArrowInvalid, OSError, ...
        raise UnreadableFileError(path, f"is not a readable Parquet file ({exc})") from None
    table = _flatten(table)
    try:
        table = pa.table([_as_text(c) for c in table.columns], names=table.column_names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UnreadableFileError(path, f"has a column that is not a plain value ({exc})") from None
    _check_field_sizes(path, table)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    names = table.column_names
    return RawTable(names, table, rows, sha, len(data), _rows_as_json(table))
