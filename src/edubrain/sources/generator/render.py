"""Render standard rows into a source system's own export layout, driven by its mapping.

Each ColumnRule is applied in reverse: a code becomes one of the code table's Chinese labels
or aliases (`labels: true`) or the local value of `values`, a number is divided by `scale`,
dates are written in one of the rule's `formats` (chosen per school, as each school's clerk
has a habit), `minsec` becomes m'ss", an unpivot becomes one column per item and a dotted
JSON path a nested object. A new mapping file therefore mostly needs no generator change.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edubrain.sources.generator import xlsx
from edubrain.sources.generator.columns import (
    STR,
    Array,
    Table,
    cat,
    date_parts,
    drop_point_zero,
    float_text,
    int_text,
    length,
    text,
    zpad,
)
from edubrain.sources.mapping import ColumnRule, Export
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import Entity, Field, FieldType, entity

EXCEL_EPOCH = np.datetime64("1899-12-30")
_STYLES = 16  # per-school style buckets for label choice


@dataclass(frozen=True)
class ExportLook:
    """How the source systems print an entity's exports beyond its mapping: realism only.

    A module's generator part declares one for each of its entities that needs it.
    """

    entity: str
    # Measures printed with their decimal even when it is zero (152.0 cm, 5.0).
    keep_decimal: tuple[str, ...] = ()
    # Columns a system has that the standard does not map: (export as "source/name", header,
    # hidden column, the header it follows). Ingestion ignores them.
    extras: tuple[tuple[str, str, str, str], ...] = ()


@dataclass
class Sheet:
    """An export's cells as text, ready for fault injection and writing."""

    headers: list[str]
    cells: list[Array]
    kinds: list[str]  # "text", "number" or "bool": how a clean cell is typed in xlsx/JSON
    fields: list[Field | None]  # the standard field behind each column (None for extras)
    items: list[str]  # unpivot key of an item column, "" otherwise
    rules: list[ColumnRule | None]
    formats: list[Array | None]  # per-row date format of date columns
    forced_text: list[Array] = field(default_factory=list)  # cells to write as text anyway
    utf8_rows: set[int] = field(default_factory=set)  # rows written in the wrong encoding
    keep_decimal: tuple[str, ...] = ()  # measures printed with their decimal (ExportLook)

    @property
    def rows(self) -> int:
        return len(self.cells[0]) if self.cells else 0


def school_pick(school: Array, salt: int, weights: list[float]) -> Array:
    """A deterministic choice per school: the same school always gets the same option."""
    h = (school.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)) % np.uint64(2**32)
    u = h.astype(np.float64) / 2**32
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    return np.minimum(np.searchsorted(cum / cum[-1], u, side="right"), len(weights) - 1)


def _salt(base: int, name: str) -> int:
    return (base + zlib.crc32(name.encode())) % 2**32


# ---- dates ------------------------------------------------------------------------------


def format_ymd(
    y: Array, m: Array, d: Array, fmt: str, hms: tuple[Array, Array, Array] | None = None
) -> Array:
    """Dates from parts in a strftime pattern; a '.'-separated pattern is written unpadded."""
    unpadded = "." in fmt
    pieces: list[Array | str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "Y":
                pieces.append(zpad(y, 4))
            elif code in "md":
                v = m if code == "m" else d
                pieces.append(text(np.asarray(v, dtype=np.int64)) if unpadded else zpad(v, 2))
            elif code in "HMS" and hms is not None:
                pieces.append(zpad(hms["HMS".index(code)], 2))
            else:
                raise ValueError(f"unsupported date format {fmt!r}")
            i += 2
        else:
            pieces.append(fmt[i])
            i += 1
    return (
        cat(*pieces)
        if isinstance(pieces[0], np.ndarray)
        else cat(np.full(len(y), "", dtype=STR), *pieces)
    )


def format_dates(values: Array, fmt: str) -> Array:
    if fmt == "excel_serial":
        days = (values.astype("datetime64[D]") - EXCEL_EPOCH).astype(np.int64)
        return text(days)
    y, m, d = date_parts(values)
    hms = None
    if "%H" in fmt:
        secs = (values.astype("datetime64[s]") - values.astype("datetime64[D]")).astype(np.int64)
        hms = (secs // 3600, secs // 60 % 60, secs % 60)
    return format_ymd(y, m, d, fmt, hms)


def _date_weights(formats: list[str]) -> list[float]:
    """The first format is the usual one; Excel day numbers are rare."""
    w = [0.55 if i == 0 else 0.45 / max(1, len(formats) - 1) for i in range(len(formats))]
    return [x * 0.25 if f == "excel_serial" else x for x, f in zip(w, formats, strict=True)]


# ---- codes ------------------------------------------------------------------------------


def code_spellings(table_name: str, rule: ColumnRule) -> dict[str, list[str]]:
    """code → local spellings a system may write, preferred first."""
    table = code_tables()[table_name]
    out: dict[str, list[str]] = {}
    if rule.values:
        for local, code in rule.values.items():
            out.setdefault(code, []).append(local)
    if rule.labels:
        for alias, code in table.aliases.items():
            out.setdefault(code, []).append(alias)
        for code, label in table.codes.items():
            out.setdefault(code, []).append(label)
    return out


def render_codes(
    values: Array, style: Array, spellings: dict[str, list[str]], is_list: bool
) -> Array:
    """Codes → spellings; the style bucket of each row picks among a code's spellings."""
    if not spellings:
        return text(values)
    uniq, inverse = np.unique(values, return_inverse=True)
    key = inverse.astype(np.int64) * _STYLES + style
    ukeys, kinv = np.unique(key, return_inverse=True)
    out: list[str] = []
    for k in ukeys:
        code, s = str(uniq[k // _STYLES]), int(k % _STYLES)
        parts = code.split(";") if is_list else [code]
        out.append(";".join(_spell(p, s, spellings) for p in parts))
    return np.array(out, dtype=STR)[kinv]


def _spell(code: str, style: int, spellings: dict[str, list[str]]) -> str:
    if not code:
        return ""
    options = spellings.get(code)
    if not options:
        return code
    # Mostly the first spellings (aliases, the short forms clerks type), sometimes the label.
    return options[style % len(options)] if style % 4 else options[-1]


# ---- numbers ----------------------------------------------------------------------------


def minsec(seconds: Array) -> Array:
    """215 → 3'35"; 105.3 → 1'45.3"."""
    s = np.asarray(seconds, dtype=np.float64)
    missing = np.isnan(s)
    s = np.where(missing, 0, s)
    m = np.floor(s / 60).astype(np.int64)
    rest = np.round(s - 60 * m, 1)
    whole = np.floor(rest).astype(np.int64)
    tenth = np.round((rest - whole) * 10).astype(np.int64)
    sec = np.where(tenth > 0, cat(zpad(whole, 2), ".", text(tenth)), zpad(whole, 2))
    out = cat(text(m), "'", sec, '"')
    return np.where(missing, "", out).astype(STR)


def number_text(
    f: Field, values: Array, scale: float | None, keep_decimal: tuple[str, ...] = ()
) -> Array:
    v = np.asarray(values, dtype=np.float64)
    if scale:
        v = np.round(v / scale, 6)
        return drop_point_zero(float_text(v))
    if f.type is FieldType.INTEGER:
        return int_text(v)
    t = float_text(v)
    return t if f.name in keep_decimal else drop_point_zero(t)


# ---- a whole export ---------------------------------------------------------------------


@dataclass
class Wide:
    """The item part of an unpivoted export: keys and a rows × items score matrix."""

    keys: list[int]
    values: Array


def render(
    export: Export,
    key: str,
    table: Table,
    salt: int,
    wide: Wide | None = None,
    look: ExportLook | None = None,
) -> Sheet:
    ent = entity(export.entity)
    look = look or ExportLook(export.entity)
    n = length(table)
    school = table.get("_school", np.zeros(n, dtype=np.int64)).astype(np.int64)
    sheet = Sheet([], [], [], [], [], [], [], keep_decimal=look.keep_decimal)
    for name, rule in export.columns.items():
        if rule.source is None:  # const: the value is implied, the column not written
            continue
        f = ent.field(name)
        cells, kind, fmt = _render_column(
            f, rule, table.get(name), n, school, _salt(salt, name), export.format == "jsonl", look
        )
        _append(sheet, rule.source, cells, kind, f, "", rule, fmt)
    for of_export, header, hidden, after in look.extras:
        if of_export == key and hidden in table:
            pos = sheet.headers.index(after) + 1 if after in sheet.headers else len(sheet.headers)
            _insert(sheet, pos, header, text(table[hidden]))
    if wide is not None and export.unpivot is not None:
        f = ent.field(export.unpivot.value)
        for j, k in enumerate(wide.keys):
            header = export.unpivot.render_format.format(key=k)
            _append(
                sheet,
                header,
                number_text(f, wide.values[:, j], None),
                "number",
                f,
                str(k),
                None,
                None,
            )
        _append(
            sheet,
            "总分",
            drop_point_zero(float_text(np.round(wide.values.sum(axis=1), 1))),
            "number",
            None,
            "",
            None,
            None,
        )
    sheet.forced_text = [np.zeros(n, dtype=bool) for _ in sheet.headers]
    return sheet


def _append(
    sheet: Sheet,
    header: str,
    cells: Array,
    kind: str,
    f: Field | None,
    item: str,
    rule: ColumnRule | None,
    fmt: Array | None,
) -> None:
    sheet.headers.append(header)
    sheet.cells.append(cells)
    sheet.kinds.append(kind)
    sheet.fields.append(f)
    sheet.items.append(item)
    sheet.rules.append(rule)
    sheet.formats.append(fmt)


def _insert(sheet: Sheet, pos: int, header: str, cells: Array) -> None:
    for attr, value in (
        ("headers", header),
        ("cells", cells),
        ("kinds", "text"),
        ("fields", None),
        ("items", ""),
        ("rules", None),
        ("formats", None),
    ):
        getattr(sheet, attr).insert(pos, value)


def _render_column(
    f: Field,
    rule: ColumnRule,
    values: Array | None,
    n: int,
    school: Array,
    salt: int,
    json: bool,
    look: ExportLook,
) -> tuple[Array, str, Array | None]:
    if values is None:
        return np.full(n, "", dtype=STR), "text", None
    if f.type in (FieldType.CODE, FieldType.CODE_LIST) and f.code_table:
        style = school_pick(school, salt, [1.0] * _STYLES)
        spell = code_spellings(f.code_table, rule)
        return render_codes(text(values), style, spell, f.type is FieldType.CODE_LIST), "text", None
    if rule.parse in ("date", "datetime"):
        choice = school_pick(school, salt, _date_weights(rule.formats))
        out = np.full(n, "", dtype=STR)
        fmts = np.array(rule.formats, dtype=STR)[choice]
        missing = np.isnat(values)
        for i, fmt in enumerate(rule.formats):
            rows = np.flatnonzero((choice == i) & ~missing)
            if rows.size:
                out[rows] = format_dates(values[rows], fmt)
        kind = "number" if "excel_serial" in rule.formats else "text"
        return out, kind, fmts
    if rule.parse == "minsec":
        return minsec(values), "text", None
    if f.type in (FieldType.INTEGER, FieldType.DECIMAL):
        return number_text(f, values, rule.scale, look.keep_decimal), "number", None
    if f.type is FieldType.BOOLEAN:
        if json:
            return text(values), "bool", None
        return (
            np.where(values == "true", "是", np.where(values == "false", "否", "")).astype(STR),
            "text",
            None,
        )
    return text(values), "text", None


# ---- writers ----------------------------------------------------------------------------


_SEP = "\x1f"  # joins cells while building lines; never occurs in data


def csv_lines(cells: list[Array], delimiter: str = ",") -> list[str]:
    """CSV lines (no line ends); a cell with the delimiter or a quote is quoted."""
    joined = cells[0]
    for col in cells[1:]:
        joined = cat(joined, _SEP, col)
    block = "\n".join(joined.tolist())
    if delimiter not in block and '"' not in block:  # the usual case: nothing to quote
        return block.replace(_SEP, delimiter).split("\n") if len(joined) else []
    lines = block.replace(_SEP, delimiter).split("\n")
    need = (np.strings.find(joined, delimiter) >= 0) | (np.strings.find(joined, '"') >= 0)
    for i in np.flatnonzero(need):
        lines[i] = delimiter.join(_quote(v, delimiter) for v in str(joined[i]).split(_SEP))
    return lines


def _quote(value: str, delimiter: str) -> str:
    if delimiter in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(
    path: Path,
    headers: list[str],
    cells: list[Array],
    encoding: str,
    delimiter: str = ",",
    utf8_rows: set[int] | None = None,
    chunk: int = 500_000,
) -> None:
    """CSV with the system's encoding; `utf8_rows` (0-based data rows) are written as UTF-8."""
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    n = len(cells[0]) if cells else 0
    with path.open("wb") as out:
        if encoding == "utf-8-sig":
            out.write(b"\xef\xbb\xbf")
        out.write((delimiter.join(headers) + "\r\n").encode(codec))
        for lo in range(0, n, chunk):
            lines = csv_lines([c[lo : lo + chunk] for c in cells], delimiter)
            bad = sorted(r - lo for r in (utf8_rows or ()) if lo <= r < lo + chunk)
            start = 0
            for b in [*bad, len(lines)]:
                if b > start:
                    out.write(("\r\n".join(lines[start:b]) + "\r\n").encode(codec))
                if b < len(lines):
                    out.write((lines[b] + "\r\n").encode("utf-8"))
                start = b + 1


def write_jsonl(
    path: Path,
    headers: list[str],
    cells: list[Array],
    kinds: list[str],
    forced: list[Array],
    chunk: int = 500_000,
) -> None:
    """JSON lines; dotted headers become nested objects, empty cells null."""
    n = len(cells[0]) if cells else 0
    groups: dict[str, list[int]] = {}
    for j, h in enumerate(headers):
        groups.setdefault(h.split(".", 1)[0], []).append(j)
    with path.open("wb") as out:
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            vals = [
                _json_value(cells[j][lo:hi], kinds[j], forced[j][lo:hi])
                for j in range(len(headers))
            ]
            members: list[Array | str] = []
            for g, (top, cols) in enumerate(groups.items()):
                members.append(("{" if g == 0 else ",") + f'"{top}":')
                if len(cols) == 1 and "." not in headers[cols[0]]:
                    members.append(vals[cols[0]])
                    continue
                for i, j in enumerate(cols):
                    members.append(("{" if i == 0 else ",") + f'"{headers[j].split(".", 1)[1]}":')
                    members.append(vals[j])
                members.append("}")
            members.append("}")
            line = (
                cat(*members)
                if isinstance(members[0], np.ndarray)
                else cat(np.full(hi - lo, "", dtype=STR), *members)
            )
            out.write(("\n".join(line.tolist()) + "\n").encode("utf-8"))


def _json_value(values: Array, kind: str, forced: Array) -> Array:
    if kind != "text" and not forced.any():
        return np.where(values == "", "null", values).astype(STR)
    esc = values
    if (np.strings.find(values, "\\") >= 0).any() or (np.strings.find(values, '"') >= 0).any():
        esc = np.strings.replace(np.strings.replace(values, "\\", "\\\\"), '"', '\\"')
    as_str = cat('"', esc, '"')
    out = as_str if kind == "text" else np.where(forced, as_str, values).astype(STR)
    return np.where(values == "", "null", out).astype(STR)


def write_sheet(path: Path, export: Export, sheet: Sheet, order: Array) -> None:
    """Write the sheet's rows in `order` (duplicates repeat a row index)."""
    cells = [c[order] for c in sheet.cells]
    forced = [m[order] for m in sheet.forced_text]
    if export.format == "csv":
        write_csv(path, sheet.headers, cells, export.encoding, export.delimiter, sheet.utf8_rows)
    elif export.format == "jsonl":
        write_jsonl(path, sheet.headers, cells, sheet.kinds, forced)
    else:
        numeric: list[Array | None] = [
            (~m) & (c != "") if k == "number" else None
            for c, m, k in zip(cells, forced, sheet.kinds, strict=True)
        ]
        if any(k == "number" for k in sheet.kinds):
            numeric = [_numeric_mask(c, m) for c, m in zip(cells, numeric, strict=True)]
        xlsx.write_xlsx(path, export.sheet or "Sheet1", sheet.headers, cells, numeric)


def _numeric_mask(cells: Array, mask: Array | None) -> Array | None:
    """Only cells that really read as plain numbers become numeric cells."""
    if mask is None:
        return None
    ok = np.strings.isdecimal(np.strings.replace(np.strings.replace(cells, ".", ""), "-", ""))
    return mask & ok & (np.strings.count(cells, ".") <= 1)


def entity_of(export: Export) -> Entity:
    return entity(export.entity)
