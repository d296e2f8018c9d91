"""Read an export as all-string Arrow chunks, or refuse the whole file with one sentence.

Each reader yields `RawTable` chunks: the source header, one string column per source column
(cells exactly as the file has them, decoded), and a way to render any source row as JSON for the
quarantine. Parsing is columnar (pyarrow CSV/JSON, calamine); a Python loop over rows only runs
on fallback paths for malformed chunks and on the rows that go to quarantine.

Every file is read within `ReadBounds` (the `ingest_max_*` settings): its size, what an xlsx
inflates to (counted while inflating, since a zip's size fields can lie), its rows, columns and
longest field. CSV is cut into row-aligned chunks of about `CSV_CHUNK_BYTES` and xlsx rows are
turned into Arrow `XLSX_CHUNK_ROWS` at a time, so memory follows the chunk, not the file.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq
import python_calamine

from edubrain.errors import FileBoundError, UnreadableFileError, WarehouseError
from edubrain.ingest.discover import FileSpec
from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.warehouse import read_json_lines_as_text

CSV_CHUNK_BYTES = 16 << 20
"""UTF-8 text per CSV chunk (~100k rows): big enough that most of a county's exports are one
chunk (one merge), small enough that a chunk of junk rows — each with several quarantine
records carrying the raw row — stays a few hundred MB, even with the next chunk being read."""
XLSX_CHUNK_ROWS = 50_000
EXCEL_MAX_ROWS = 1_048_576
"""Rows an Excel sheet can hold; a workbook claiming more was not written by a spreadsheet."""

_READ_BLOCK = 16 << 20  # bytes read from disk at a time
_CSV_PARSE_BLOCK = 16 << 20  # pyarrow block: a row must fit in one
_BINARY_PROBE = 8192
_INFLATE_STEP = 16 << 20  # most bytes one zlib call may produce while counting an xlsx
_ENCODING_PROBE = 64 << 10  # bytes looked at to tell GB18030 text from broken UTF-8

_BLANK_BYTES = b" \t\r\n\x00" + codecs.BOM_UTF8 + codecs.BOM_UTF16_LE  # a BOM alone is blank

HEADER_SCAN_ROWS = 20
"""Rows looked at for the header: an export may put a title (and blank rows) above it."""

TOTAL_ROW = r"^\s*(合\s*计|总\s*计|小\s*计)"
_TOTAL_MARK = "计".encode()
"""A row whose first cell (or second, after an empty first) starts so is a total, not data."""

GB_ENCODINGS = ("gbk", "gb2312", "gb18030", "hz")
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (带 BOM)",
    "utf-16": "UTF-16 (Unicode 文本)",
    "gb18030": "GBK/GB18030",
}
"""How a report names the encodings ingest detects (others: their codec name)."""


@dataclass(frozen=True)
class ReadBounds:
    """How much of a file ingest accepts; over a bound the file is refused whole."""

    max_file_bytes: int
    max_uncompressed_bytes: int
    max_rows: int
    max_columns: int
    max_field_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ReadBounds:
        return cls(
            max_file_bytes=settings.ingest_max_file_mb << 20,
            max_uncompressed_bytes=settings.ingest_max_uncompressed_mb << 20,
            max_rows=settings.ingest_max_rows,
            max_columns=settings.ingest_max_columns,
            max_field_bytes=settings.ingest_max_field_bytes,
        )

    @classmethod
    def defaults(cls) -> ReadBounds:
        """The documented defaults, without reading the environment."""
        return cls.from_settings(Settings.model_construct())


@dataclass(frozen=True)
class Layout:
    """What the reader found around a file's rows: how it is encoded and where the header is."""

    format: str
    encoding: str | None = None
    """Text files: the codec the file was decoded with (detected, see `detect_encoding`)."""
    delimiter: str | None = None
    header_row: int = 1
    """The header's row number as a spreadsheet shows it (1 unless rows sit above it)."""
    title_rows: tuple[int, ...] = ()
    """Non-blank rows above the header (a title such as "XX县2025学年学籍信息导出"): skipped."""


@dataclass(frozen=True)
class RawTable:
    header: list[str]
    table: pa.Table
    """All-string columns, named by `header` (duplicates made unique with a `.N` suffix)."""
    row_numbers: npt.NDArray[np.int64]
    """Row number of each table row as the file shows it: for CSV and spreadsheets the row a
    spreadsheet shows (header and title rows counted, so the first data row under a header in
    row 1 is 2); for JSON lines the line; for Parquet the 1-based row."""
    sha256: str
    size: int
    raw_json: Callable[[npt.NDArray[np.int64]], list[str]]
    """The given table rows as JSON texts, the way the source holds them."""
    layout: Layout | None = None
    total_rows: tuple[int, ...] = ()
    """Row numbers of this chunk's total rows (合计, 总计, 小计), left out of `table`."""
    may_hold_totals: bool = True
    """False when the chunk's text holds no 计 at all: no total row to look for."""

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)


@dataclass(frozen=True)
class _Scan:
    """One streaming pass over the file's bytes, before any parsing."""

    sha256: str
    size: int
    blank: bool
    binary: bool
    utf8: bool
    ascii: bool
    bom: str | None = None
    """"utf-8" or "utf-16" when the file starts with that byte-order mark."""
    head: bytes = b""
    """The file's first bytes (up to `_ENCODING_PROBE`)."""


def _scan(path: Path, *, text: bool) -> _Scan:
    sha = hashlib.sha256()
    size, blank, binary, utf8, ascii_ = 0, True, False, True, True
    bom: str | None = None
    head = b""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            while block := fh.read(_READ_BLOCK):
                if size == 0:
                    head = block[:_ENCODING_PROBE]
                    if block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                        bom, utf8, ascii_ = "utf-16", False, False  # Excel's "Unicode 文本"
                    elif block.startswith(codecs.BOM_UTF8):
                        bom = "utf-8"
                    binary = bom != "utf-16" and b"\x00" in block[:_BINARY_PROBE]
                sha.update(block)
                size += len(block)
                blank = blank and not block.strip(_BLANK_BYTES)
                if text and not binary and bom != "utf-16":
                    ascii_ = ascii_ and block.isascii()
                    if utf8 and not block.isascii():
                        try:
                            decoder.decode(block)
                        except UnicodeDecodeError:
                            utf8 = False
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return _Scan(sha.hexdigest(), size, blank, binary, utf8, ascii_, bom, head)


def read_chunks(spec: FileSpec, bounds: ReadBounds) -> Iterator[RawTable]:
    """Read `spec.path` as its declared format, chunk by chunk.

    Raises UnreadableFileError (FileBoundError over a bound) if it cannot be read; that may
    happen at any chunk, so a caller loading chunks must undo the earlier ones.
    """
    path = spec.path
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    if size > bounds.max_file_bytes:
        raise FileBoundError(
            path,
            f"is {size:,} bytes, over the limit of {bounds.max_file_bytes:,} "
            "(EDUBRAIN_INGEST_MAX_FILE_MB)",
        )
    scan = _scan(path, text=spec.format in ("csv", "jsonl"))
    if scan.size > bounds.max_file_bytes:  # grew since stat
        raise FileBoundError(path, f"is over the limit of {bounds.max_file_bytes:,} bytes")
    if scan.blank:
        raise UnreadableFileError(path, "is empty (no header, no rows)")
    if spec.format == "csv":
        yield from _without_totals(_csv_chunks(spec, bounds, scan))
    elif spec.format == "jsonl":
        yield _read_jsonl(spec, _read_bytes(path), scan, bounds)
    elif spec.format in ("xlsx", "xls"):
        yield from _without_totals(_xlsx_chunks(spec, bounds, scan))
    else:
        yield _read_parquet(spec, scan.sha256, scan.size, bounds)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot be read ({exc.strerror or exc})") from None


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


def _check_field_sizes(path: Path, table: pa.Table, limit: int) -> None:
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count == len(column):
            continue
        longest = pc.max(pc.binary_length(column)).as_py()
        if longest is not None and longest > limit:
            raise FileBoundError(
                path,
                f"column {name!r} holds a field of {longest:,} bytes, over the limit of "
                f"{limit:,} (EDUBRAIN_INGEST_MAX_FIELD_BYTES); the file is not a plain export",
            )


def _check_shape(path: Path, columns: int, rows: int, bounds: ReadBounds) -> None:
    if columns > bounds.max_columns:
        raise FileBoundError(
            path,
            f"has {columns:,} columns, over the limit of {bounds.max_columns:,} "
            "(EDUBRAIN_INGEST_MAX_COLUMNS)",
        )
    if rows > bounds.max_rows:
        raise FileBoundError(
            path,
            f"has more than {bounds.max_rows:,} rows, the limit (EDUBRAIN_INGEST_MAX_ROWS)",
        )


def _is_utf8_family(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def detect_encoding(path: Path, declared: str, scan: _Scan) -> str:
    """The codec to decode a text file with, from its first bytes and the one streaming pass.

    A byte-order mark decides (UTF-16 is Excel's "Unicode 文本", UTF-8 with BOM is what Excel and
    Notepad write as "UTF-8"); a file that is valid UTF-8 is UTF-8 whatever the mapping
    declares; otherwise the declared encoding, GBK read as its superset GB18030 (names with rare
    characters). A UTF-8 declaration on text that is not UTF-8 but reads as GB18030 is GB18030.
    """
    if scan.bom == "utf-16":
        return "utf-16"
    if scan.bom == "utf-8" and scan.utf8:
        return "utf-8-sig"
    if scan.utf8:
        return "utf-8"
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise UnreadableFileError(
            path, f"其映射声明了未知编码 {declared!r} (declares an unknown encoding)"
        ) from None
    if codec in GB_ENCODINGS or codec == "cp936":
        return "gb18030"
    if codec in ("utf-8", "utf-8-sig") and scan.bom is None:
        try:
            codecs.getincrementaldecoder("gb18030")().decode(scan.head)
        except UnicodeDecodeError:
            return "utf-8"  # broken UTF-8: bad bytes become U+FFFD, flagged per row
        return "gb18030"
    return codec


def encoding_name(codec: str | None) -> str | None:
    """How a report names a detected codec."""
    return None if codec is None else ENCODING_NAMES.get(codec, codec)


def _utf8_blocks(fh: IO[bytes], encoding: str, scan: _Scan) -> Iterator[bytes]:
    """The file as UTF-8, block by block: decoded as `encoding` (detected), bad bytes as U+FFFD
    (flagged per row later), a byte-order mark dropped."""
    if _is_utf8_family(encoding) and scan.utf8:
        first = True
        while block := fh.read(_READ_BLOCK):
            yield block[3:] if first and block.startswith(codecs.BOM_UTF8) else block
            first = False
        return
    codec = "utf-8-sig" if _is_utf8_family(encoding) else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    gb = codec == "gb18030"
    while block := fh.read(_READ_BLOCK):
        out = decoder.decode(block).encode("utf-8")
        yield _user_defined_as_bad(out) if gb and b"\xee" in out else out
    out = decoder.decode(b"", final=True).encode("utf-8")
    yield _user_defined_as_bad(out) if gb and b"\xee" in out else out


_USER_DEFINED = re.compile(b"\xee[\x80-\xbf][\x80-\xbf]")  # U+E000..U+EFFF in UTF-8


def _user_defined_as_bad(text: bytes) -> bytes:
    """GB18030 maps GBK's user-defined areas to private-use characters (U+E000...): no export
    writes them, but UTF-8 text in a GBK file decodes to them, so they count as bad bytes
    (U+FFFD), as GBK would have it. Only a block holding such a character pays for this."""
    return _USER_DEFINED.sub("\ufffd".encode(), text)


def _row_boundary(text: bytes, end: int) -> int | None:
    """Offset just after the last newline of `text[:end]` that is outside a quoted field.

    `text` starts at a row boundary, so a newline ends a row when an even number of quote
    characters precede it (RFC 4180 quoting, doubled quotes included).
    """
    parity = text.count(b'"', 0, end) & 1
    while (newline := text.rfind(b"\n", 0, end)) >= 0:
        parity ^= text.count(b'"', newline, end) & 1
        if parity == 0:
            return newline + 1
        end = newline
    return None


def _row_aligned_chunks(blocks: Iterator[bytes], first: bytes, target: int) -> Iterator[bytes]:
    """Cut a text stream into pieces of at most about `target` bytes that end at a row's end."""
    text = first
    for block in blocks:
        text += block
        while len(text) >= target:
            cut = _row_boundary(text, target)
            if cut is None:
                if len(text) < 2 * target:
                    break  # a long quoted field (or stray quotes): read on before cutting
                cut = text.rfind(b"\n", 0, 2 * target) + 1 or len(text)
            yield text[:cut]
            text = text[cut:]
    if text.strip():
        yield text


def _expected_headers(spec: FileSpec) -> tuple[set[str], re.Pattern[str] | None]:
    """Header names the file's mapping reads (synonyms included), and its item-column regex."""
    if spec.columns is None:
        return set(entity(spec.entity).field_names), None
    known = {h for r in spec.columns.values() if r.source for h in (r.source, *r.aliases)}
    return known, re.compile(spec.unpivot.columns) if spec.unpivot else None


def _header_index(spec: FileSpec, rows: Sequence[Sequence[str]]) -> int:
    """Which of a file's first rows is the header: the one naming most of the columns the
    mapping reads (the earliest on a tie), else the first non-blank row."""
    known, items = _expected_headers(spec)
    best, best_score = -1, 0
    for i, cells in enumerate(rows):
        names = [c.strip() for c in cells]
        score = sum(1 for c in names if c and (c in known or (items and items.search(c))))
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        best = next((i for i, cells in enumerate(rows) if any(c.strip() for c in cells)), 0)
    return best


def _title_rows(rows: Sequence[Sequence[str]], header: int, first_row: int) -> tuple[int, ...]:
    return tuple(first_row + i for i in range(header) if any(c.strip() for c in rows[i]))


def _sniff_delimiter(declared: str, head: bytes) -> str:
    """Excel's "Unicode 文本" (and .txt/.tsv exports) separate by tabs, whatever is declared."""
    if declared != "\t" and head.count(b"\t") > head.count(declared.encode()):
        return "\t"
    return declared


def _cells(line: bytes, delimiter: str) -> list[str]:
    """One of the first lines as cells (a line the csv module cannot split: one cell)."""
    text = line.decode("utf-8", "replace").rstrip("\r")
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return [text]


def _csv_chunks(spec: FileSpec, bounds: ReadBounds, scan: _Scan) -> Iterator[RawTable]:
    path = spec.path
    if scan.binary:
        raise UnreadableFileError(
            path,
            "是二进制文件，不是 CSV 文本；Excel 工作簿请保存为 .xlsx "
            "(is binary, not a CSV text file)",
        )
    encoding = detect_encoding(path, spec.encoding, scan)
    header_limit = max(1 << 16, bounds.max_columns * (bounds.max_field_bytes + 3))
    with path.open("rb") as fh:
        blocks = _utf8_blocks(fh, encoding, scan)
        head, exhausted = b"", False
        while head.count(b"\n") < HEADER_SCAN_ROWS and len(head) <= header_limit:
            block = next(blocks, None)
            if block is None:
                exhausted = True
                break
            head += block
        lines: list[tuple[int, int]] = []  # where the first rows start and end in `head`
        start = 0
        while len(lines) < HEADER_SCAN_ROWS:
            newline = head.find(b"\n", start)
            if newline < 0:
                if exhausted and start < len(head) and len(head) - start <= header_limit:
                    lines.append((start, len(head)))
                break
            if newline - start > header_limit:
                break
            lines.append((start, newline))
            start = newline + 1
        if not lines:
            raise FileBoundError(
                path,
                f"its first line (the header) is longer than {header_limit:,} bytes; "
                "the file is not a plain export",
            )
        delimiter = _sniff_delimiter(spec.delimiter, head[: lines[-1][1]])
        if delimiter != spec.delimiter:
            spec = replace(spec, delimiter=delimiter)
        rows = [_cells(head[a:b], delimiter) for a, b in lines]
        header = _header_index(spec, rows)
        names = _csv_header(spec, encoding, rows[header])
        _check_shape(path, len(names), 0, bounds)
        layout = Layout(
            "csv", encoding, delimiter, header + 1, _title_rows(rows, header, first_row=1)
        )
        first_data = first_number = header + 2  # rows as a spreadsheet numbers them
        for text in _row_aligned_chunks(blocks, head[lines[header][1] + 1 :], CSV_CHUNK_BYTES):
            may_hold_totals = _TOTAL_MARK in text  # a byte search: most chunks have none
            for raw in _parse_csv_chunk(spec, text, names, first_number, scan, bounds):
                first_number += raw.num_rows
                _check_shape(path, len(names), first_number - first_data, bounds)
                yield replace(raw, layout=layout, may_hold_totals=may_hold_totals)
        if first_number == first_data:  # a header and no rows: still one (empty) chunk
            empty = pa.table([pa.array([], pa.string()) for _ in names], names=names)
            no_rows = np.zeros(0, dtype=np.int64)
            yield RawTable(
                names, empty, no_rows, scan.sha256, scan.size, _rows_as_json(empty), layout
            )


def _csv_header(spec: FileSpec, encoding: str, header: list[str]) -> list[str]:
    path = spec.path
    if any("\ufffd" in h for h in header):
        raise UnreadableFileError(
            path,
            f"表头无法按 {encoding_name(encoding)} 解码，文件是否为其他编码？"
            f" (its header does not decode as {encoding})",
        )
    if not any(h.strip() for h in header):
        raise UnreadableFileError(path, "没有表头行 (has no header row)")
    return _unique_names([h.strip() for h in header])


def _as_mask(flags: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(pc.fill_null(flags, False).to_numpy(zero_copy_only=False), dtype=bool)


def _blank_rows(raw: RawTable) -> npt.NDArray[np.bool_]:
    """Rows whose every cell is empty (",,,,": Excel saving a sheet's formatted empty rows)."""
    blank = _as_mask(pc.equal(raw.table.column(0), ""))
    for name in raw.header[1:]:
        if not blank.any():
            break
        blank &= _as_mask(pc.equal(raw.table.column(name), ""))
    return blank


def _without_totals(chunks: Iterator[RawTable]) -> Iterator[RawTable]:
    """Chunks with their total rows (合计, 总计, 小计 in the first cell, or in the second
    after an empty first) left out and named in `total_rows`, and rows of empty cells left
    out (as a workbook's empty rows are). Vectorised over the first columns: no Python work
    per row."""
    for raw in chunks:
        table = raw.table
        if table.num_rows == 0 or table.num_columns == 0:
            yield raw
            continue
        totals = np.zeros(table.num_rows, dtype=bool)
        if raw.may_hold_totals:
            first = table.column(0)
            total = pc.match_substring_regex(first, TOTAL_ROW)
            if len(raw.header) > 1:
                second = pc.match_substring_regex(table.column(1), TOTAL_ROW)
                total = pc.or_(total, pc.and_(pc.equal(first, ""), second))
            totals = _as_mask(total)
        mask = totals | _blank_rows(raw)
        if not mask.any():
            yield raw
            continue
        keep = np.flatnonzero(~mask)
        render = raw.raw_json

        def raw_json(
            indices: npt.NDArray[np.int64],
            keep: npt.NDArray[np.int64] = keep,
            render: Callable[[npt.NDArray[np.int64]], list[str]] = render,
        ) -> list[str]:
            return render(keep[indices])

        yield replace(
            raw,
            table=table.take(pa.array(keep)),
            row_numbers=raw.row_numbers[keep],
            raw_json=raw_json,
            total_rows=tuple(int(n) for n in raw.row_numbers[totals]),
        )


def _parse_csv_chunk(
    spec: FileSpec,
    text: bytes,
    names: list[str],
    first_number: int,
    scan: _Scan,
    bounds: ReadBounds,
) -> Iterator[RawTable]:
    """The rows of one row-aligned piece of text: one `RawTable`, or several when the piece
    holds many rows with the wrong number of fields (see `RAGGED_PART_ROWS`)."""
    path = spec.path
    bad_rows: list[str] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(column_names=names, block_size=_CSV_PARSE_BLOCK),
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
            raise FileBoundError(
                path,
                f"holds a row longer than {_CSV_PARSE_BLOCK:,} bytes, so a field over the limit "
                f"of {bounds.max_field_bytes:,} (EDUBRAIN_INGEST_MAX_FIELD_BYTES)",
            ) from None
        raise UnreadableFileError(path, f"is not a readable CSV file ({exc})") from None
    if not bad_rows:
        _check_field_sizes(path, table, bounds.max_field_bytes)
        rows = np.arange(first_number, first_number + table.num_rows, dtype=np.int64)
        yield RawTable(names, table, rows, scan.sha256, scan.size, _rows_as_json(table))
        return
    # Rows with the wrong number of fields: re-read this chunk slowly to keep every row and its
    # number.
    del table
    bad_rows.clear()
    for part, raw_json in _read_csv_ragged(spec, text, names):
        _check_field_sizes(path, part, bounds.max_field_bytes)
        rows = np.arange(first_number, first_number + part.num_rows, dtype=np.int64)
        first_number += part.num_rows
        yield RawTable(names, part, rows, scan.sha256, scan.size, raw_json)


RAGGED_COLUMN = "__ragged__"
"""Extra column set on rows whose field count differs from the header (fallback reader)."""


RAGGED_PART_ROWS = 50_000
"""Rows with the wrong number of fields after which the fallback reader hands on what it has
read as a part of its own. Such rows cost Python objects while read and a quarantine record
each, so a chunk of junk text (~370,000 such rows in 16 MB) would otherwise hold gigabytes at
once; a real export with a few broken rows stays one part."""


def _read_csv_ragged(
    spec: FileSpec, text: bytes, names: list[str]
) -> Iterator[tuple[pa.Table, Callable[[npt.NDArray[np.int64]], list[str]]]]:
    """The rows of `text` in parts of at most `RAGGED_PART_ROWS` misshapen rows, in order."""
    # Decoded as it is read, not whole: a str of the chunk inside a StringIO would cost up to
    # four bytes a character.
    lines = io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", newline="")
    reader = csv.reader(lines, delimiter=spec.delimiter)
    width = len(names)
    columns: list[list[str | None]] = [[] for _ in names]
    ragged: list[str | None] = []
    raw: list[str] = []
    misshapen = 0
    parts = 0
    for record in reader:
        if not record:
            continue
        raw.append(json.dumps(record, ensure_ascii=False))
        if len(record) == width:
            ragged.append(None)
        else:
            ragged.append(f"该行有 {len(record)} 列，表头有 {width} 列")
            misshapen += 1
        padded = (record + [""] * width)[:width]
        for column, value in zip(columns, padded, strict=True):
            column.append(value)
        if misshapen == RAGGED_PART_ROWS:
            part = _ragged_part(names, columns, ragged, raw)
            # The Python lists go before the part is handed on, not when the reader resumes.
            columns, ragged, raw, record, padded = [[] for _ in names], [], [], [], []
            misshapen = 0
            parts += 1
            yield part
    if ragged or not parts:
        yield _ragged_part(names, columns, ragged, raw)


def _ragged_part(
    names: list[str], columns: list[list[str | None]], ragged: list[str | None], raw: list[str]
) -> tuple[pa.Table, Callable[[npt.NDArray[np.int64]], list[str]]]:
    arrays = [pa.array(c, pa.string()) for c in columns]
    table = pa.table([*arrays, pa.array(ragged, pa.string())], names=[*names, RAGGED_COLUMN])
    # Held as Arrow, not a list of Python strings: a chunk of junk lines keeps its raw rows
    # until its quarantine is built, and Python strings would cost ~3x (and stay allocated).
    raw_array = pa.array(raw, pa.string())

    def raw_json(indices: npt.NDArray[np.int64]) -> list[str]:
        rows: list[str] = raw_array.take(pa.array(indices, pa.int64())).to_pylist()
        return rows

    return table, raw_json


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


def _read_jsonl(spec: FileSpec, data: bytes, scan: _Scan, bounds: ReadBounds) -> RawTable:
    path = spec.path
    if scan.binary:
        raise UnreadableFileError(path, "is binary, not a JSON-lines text file")
    encoding = detect_encoding(path, spec.encoding, scan)
    text = b"".join(_utf8_blocks(io.BytesIO(data), encoding, scan))
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
    _check_shape(path, table.num_columns, table.num_rows, bounds)
    _check_field_sizes(path, table, bounds.max_field_bytes)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    layout = Layout("jsonl", encoding)
    return RawTable(table.column_names, table, rows, scan.sha256, len(data), raw_json, layout)


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


def _count_rows(text: bytes) -> int:
    """`<row>` elements in a piece of sheet XML (with or without a namespace prefix)."""
    return sum(text.count(tag) for tag in (b"<row ", b"<row>", b":row ", b":row>"))


def _inflated_size(
    path: Path, raw: IO[bytes], info: zipfile.ZipInfo, budget: int, row_limit: int | None
) -> int:
    """Bytes one zip member really inflates to, counted by inflating it (its size fields are
    not trusted), stopping as soon as it passes `budget`; for a worksheet (`row_limit` set),
    refuse it as soon as it holds more rows than that."""
    raw.seek(info.header_offset)
    local = raw.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise UnreadableFileError(path, f"is not a readable xlsx workbook ({info.filename} is cut)")
    start = info.header_offset + 30 + int.from_bytes(local[26:28], "little")
    raw.seek(start + int.from_bytes(local[28:30], "little"))
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise UnreadableFileError(
            path,
            f"is not a readable xlsx workbook ({info.filename}: compression {info.compress_type})",
        )
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total, rows, tail = 0, 0, b""
    while not inflater.eof:
        pending = inflater.unconsumed_tail or raw.read(1 << 20)
        if not pending:
            break  # the member ends with the file: what came out is what calamine would see
        try:
            out = inflater.decompress(pending, _INFLATE_STEP)
        except zlib.error as exc:
            raise UnreadableFileError(
                path, f"is not a readable xlsx workbook ({info.filename}: {exc})"
            ) from None
        total += len(out)
        if total > budget:
            break
        if row_limit is not None:
            rows += _count_rows(tail + out)
            tail = out[-4:]  # a tag cut at the boundary is counted once, in the next piece
            if rows > row_limit:
                return -rows
    return total


def check_workbook_size(path: Path, bounds: ReadBounds) -> None:
    """Refuse an xlsx (a zip) whose members inflate past the bound or whose sheets hold more
    rows than allowed, before calamine builds the sheet in memory."""
    limit = bounds.max_uncompressed_bytes
    bound = f"over the limit of {limit:,} (EDUBRAIN_INGEST_MAX_UNCOMPRESSED_MB)"
    row_limit = min(bounds.max_rows, EXCEL_MAX_ROWS - 1) + 1  # data rows + the header
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            members = archive.infolist()
            declared = sum(m.file_size for m in members)
            if declared > limit:
                raise FileBoundError(path, f"declares {declared:,} bytes uncompressed, {bound}")
            total = 0
            for info in members:
                sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(
                    ".xml"
                )
                size = _inflated_size(path, raw, info, limit - total, row_limit if sheet else None)
                if size < 0:
                    if bounds.max_rows >= EXCEL_MAX_ROWS - 1:  # Excel's limit binds
                        raise FileBoundError(
                            path,
                            f"has more than {EXCEL_MAX_ROWS:,} rows in {info.filename}, more "
                            "than an Excel sheet can hold",
                        )
                    raise FileBoundError(
                        path,
                        f"has more than {bounds.max_rows:,} rows in {info.filename}, the limit "
                        "(EDUBRAIN_INGEST_MAX_ROWS)",
                    )
                total += size
                if total > limit:
                    raise FileBoundError(path, f"inflates to more than {limit:,} bytes, {bound}")
    except UnreadableFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(
            path, f"is not a readable xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None


def _xlsx_chunks(spec: FileSpec, bounds: ReadBounds, scan: _Scan) -> Iterator[RawTable]:
    """An .xlsx (a zip, its inflated size checked first) or .xls (Excel 97-2003, a compound
    file that is not compressed: its size is bounded by the file's) workbook, read by calamine."""
    path = spec.path
    kind = "xlsx"
    if spec.format == "xls" or not zipfile.is_zipfile(path):
        if spec.format == "xlsx":
            raise UnreadableFileError(
                path, "不是可读的 xlsx 工作簿 (is not a readable xlsx workbook: not a zip file)"
            )
        kind = "xls"
        if scan.size > bounds.max_uncompressed_bytes:  # not compressed: its size is its data
            raise FileBoundError(
                path,
                f"is {scan.size:,} bytes, over the limit of {bounds.max_uncompressed_bytes:,} "
                "(EDUBRAIN_INGEST_MAX_UNCOMPRESSED_MB)",
            )
    else:
        check_workbook_size(path, bounds)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        name = spec.sheet
        if name is not None and name not in book.sheet_names:
            if len(book.sheet_names) != 1:
                raise UnreadableFileError(
                    path,
                    f"没有名为 {name!r} 的工作表 (has no sheet {name!r}; it has: "
                    f"{', '.join(book.sheet_names)})",
                )
            name = None  # a workbook of one sheet: that sheet, whatever it is called
        sheet = book.get_sheet_by_name(name or book.sheet_names[0])
        _check_shape(path, sheet.width, max(sheet.height - 1, 0), bounds)
        rows = iter(sheet.iter_rows())
        top: list[list[Any]] = [row for _, row in zip(range(HEADER_SCAN_ROWS), rows, strict=False)]
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 — calamine raises several unrelated types
        what = (
            "xlsx 工作簿 (xlsx workbook"
            if kind == "xlsx"
            else ("Excel 97-2003 (.xls) 工作簿，请在 Excel 中另存为 .xlsx 后再导入 (.xls workbook")
        )
        raise UnreadableFileError(
            path, f"不是可读的 {what}: {type(exc).__name__}: {exc})"
        ) from None
    texts = [[_cell_text(c) for c in row] for row in top]
    first_row = _first_row_number(sheet.start, texts)
    index = _header_index(spec, texts)
    header = texts[index] if texts else []
    if not any(c.strip() for c in header):
        raise UnreadableFileError(path, "工作表没有表头行 (has no header row in its sheet)")
    layout = Layout(kind, None, None, first_row + index, _title_rows(texts, index, first_row))
    names = _unique_names([c.strip() for c in header])
    width = len(names)
    batch: list[tuple[int, list[Any]]] = []
    chunks = 0
    body = itertools.chain(top[index + 1 :], rows)
    for number, row in enumerate(body, start=first_row + index + 1):
        if any(c != "" for c in row):
            batch.append((number, row))
        if len(batch) == XLSX_CHUNK_ROWS:
            yield replace(_xlsx_chunk(spec, names, width, batch, scan, bounds), layout=layout)
            batch, chunks = [], chunks + 1
    if batch or not chunks:
        yield replace(_xlsx_chunk(spec, names, width, batch, scan, bounds), layout=layout)


def _first_row_number(start: tuple[int, int] | None, rows: list[list[str]]) -> int:
    """The sheet row number of the first row calamine yields. Its range starts at the first
    row holding data (`start`); some versions yield from the sheet's row 1 (blank rows up to
    `start`), others from `start`: a blank first row tells which."""
    offset = start[0] if start else 0
    if offset and rows and not any(c.strip() for c in rows[0]):
        return 1
    return offset + 1


def _xlsx_chunk(
    spec: FileSpec,
    names: list[str],
    width: int,
    body: list[tuple[int, list[Any]]],
    scan: _Scan,
    bounds: ReadBounds,
) -> RawTable:
    columns = [
        pa.array([_cell_text(r[i]) if i < len(r) else "" for _, r in body], pa.string())
        for i in range(width)
    ]
    table = pa.table(columns, names=names)
    _check_field_sizes(spec.path, table, bounds.max_field_bytes)
    rows = np.array([number for number, _ in body], dtype=np.int64)
    return RawTable(names, table, rows, scan.sha256, scan.size, _rows_as_json(table))


# -- Parquet (standard format only) --------------------------------------------------------


def _read_parquet(spec: FileSpec, sha: str, size: int, bounds: ReadBounds) -> RawTable:
    path = spec.path
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        _check_shape(path, meta.num_columns, meta.num_rows, bounds)
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if declared > bounds.max_uncompressed_bytes:
            raise FileBoundError(
                path,
                f"declares {declared:,} bytes uncompressed, over the limit of "
                f"{bounds.max_uncompressed_bytes:,} (EDUBRAIN_INGEST_MAX_UNCOMPRESSED_MB)",
            )
        table = parquet.read()
    except UnreadableFileError:
        raise
    except Exception as exc:  # noqa: BLE001 — pyarrow raises ArrowInvalid, OSError, ...
        raise UnreadableFileError(path, f"is not a readable Parquet file ({exc})") from None
    table = _flatten(table)
    try:
        table = pa.table([_as_text(c) for c in table.columns], names=table.column_names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise UnreadableFileError(path, f"has a column that is not a plain value ({exc})") from None
    _check_shape(path, table.num_columns, table.num_rows, bounds)
    _check_field_sizes(path, table, bounds.max_field_bytes)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    names = table.column_names
    return RawTable(names, table, rows, sha, size, _rows_as_json(table), Layout("parquet"))
