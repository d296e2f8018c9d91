"""Export files that are safe to open in Excel, WPS or LibreOffice (CSV injection).

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` (and, after a tab or a
carriage return, what follows) as a formula: `=HYPERLINK("http://x","y")` in a pupil's address
becomes a link that sends the sheet's data away when clicked. Following OWASP's rule, every
*text* cell that starts with one of those characters (or their full-width forms, which some
spreadsheets read the same way) is prefixed with a single quote `'`, which the spreadsheet
shows as text. Numbers in numeric columns stay numbers, negative ones included: a value of an
integer or decimal field that is a plain number is written as a number, anything else in it is
text and neutralised like any other.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter

from edubrain.standard.entities import Entity, FieldType

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NUMERIC = (FieldType.INTEGER, FieldType.DECIMAL)


def neutralise(text: str) -> str:
    """A text cell as a spreadsheet must show it: `'` before a leading formula character."""
    return "'" + text if text.startswith(FORMULA_START) else text


Cell = str | int | float | bool | None


def cell(ent: Entity, field: str, value: Any) -> Cell:
    """One exported value: None, a number (numeric fields only), a boolean, or safe text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    numeric = ent.field(field).type in _NUMERIC
    if numeric and isinstance(value, int | float | Decimal):
        return value if isinstance(value, int) else float(value)
    text = value.isoformat() if isinstance(value, datetime | date) else str(value)
    if numeric and _NUMBER.fullmatch(text):
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    return neutralise(text)


def rows_for_export(
    ent: Entity, fields: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> list[list[Cell]]:
    return [[cell(ent, f, row.get(f)) for f in fields] for row in rows]


def csv_bytes(ent: Entity, fields: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """UTF-8 CSV of safe cells."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(f) for f in fields])
    for values in rows_for_export(ent, fields, rows):
        writer.writerow(["" if v is None else v for v in values])
    return buffer.getvalue().encode("utf-8")


def safe_workbook(out: io.BytesIO) -> xlsxwriter.Workbook:
    """A workbook that writes text as text: never parsed as a formula, a number or a URL (with
    `neutralise` for what a spreadsheet would still read as one)."""
    return xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )


def _workbook(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """An .xlsx workbook of safe cells: text is always written as a string (never parsed as a
    formula, a number or a URL), numbers as numbers; None leaves the cell empty."""
    out = io.BytesIO()
    book = safe_workbook(out)
    sheet = book.add_worksheet(title[:31])
    for col, name in enumerate(header):
        sheet.write_string(0, col, neutralise(name))
    for r, values in enumerate(rows, start=1):
        for col, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, bool):
                sheet.write_boolean(r, col, value)
            elif isinstance(value, int | float):
                sheet.write_number(r, col, value)
            else:
                sheet.write_string(r, col, value)
    book.close()
    return out.getvalue()


def xlsx_bytes(ent: Entity, fields: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """An .xlsx workbook of an entity's rows, each value as `cell` exports it."""
    return _workbook(ent.name, fields, rows_for_export(ent, fields, rows))


def _any_cell(value: Any) -> Cell:
    if value is None or value == "":
        return None
    if isinstance(value, bool | int | float):
        return value
    return neutralise(str(value))


def xlsx_sheet(title: str, header: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    """An .xlsx workbook of any rows (no entity: e.g. rejected source rows as their file had
    them): numbers as numbers, everything else as neutralised text."""
    return _workbook(title, header, ([_any_cell(row.get(n)) for n in header] for row in rows))
