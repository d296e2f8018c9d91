"""The tables of a report page, as the page shows them and as files: .xlsx and PDF.

A report page (the 教研员's analysis, a school's report, a pupil's progress) is a title, a few
lines saying what it is about, and tables; every chart of the page is drawn from one of them.
This is the one helper that turns such a `Report` into:

- the HTML table under each chart (`shown` formats a cell as the page prints it);
- an .xlsx workbook keeping the page's layout: the title and its lines as merged rows above
  each table, the header in two rows where columns are grouped (the group's cell merged over
  its columns, an ungrouped column's cell merged over both rows), numbers as numbers with the
  page's number format (整数, 两位小数, 百分比), text neutralised against formula injection
  (`spreadsheet.neutralise`), frozen below the header;
- a PDF in A4 with the same layout, in reportlab's built-in Chinese font `STSong-Light` (a CID
  font every PDF reader has: nothing is embedded, nothing fetched); the text is extractable.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from edubrain.service.spreadsheet import neutralise, safe_workbook

Value = str | int | float | None
FONT = "STSong-Light"
XLSX_MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MEDIA = "application/pdf"
EMPTY = "—"


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENT = "percent"  # a share (0.853) shown as 85.3%


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = Kind.TEXT
    group: str = ""  # a header cell merged over the consecutive columns of one group
    digits: int = 2  # decimals of a DECIMAL, of a PERCENT's per cent (1 → 85.3%)


@dataclass(frozen=True)
class Table:
    key: str  # the table's id on the page and in the export's address
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    note: str = ""
    empty: str = "无数据"


@dataclass(frozen=True)
class Report:
    title: str
    lines: tuple[str, ...] = ()
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def only(self, key: str | None) -> Report:
        """The report with one table (`key`), or all of them (None)."""
        if key is None:
            return self
        return Report(self.title, self.lines, tuple(t for t in self.tables if t.key == key))


def shown(column: Column, value: Value) -> str:
    """A cell as the page prints it."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, str):
        return value
    if column.kind is Kind.INTEGER:
        return f"{round(value)}"
    if column.kind is Kind.PERCENT:
        return f"{value * 100:.{column.digits}f}%"
    if column.kind is Kind.DECIMAL:
        return f"{value:.{column.digits}f}"
    return str(value)


@dataclass(frozen=True)
class HeaderCell:
    label: str
    first: int  # first column
    span: int  # columns
    rows: int  # 1, or 2 for an ungrouped column of a two-row header


def header(table: Table) -> tuple[list[HeaderCell], list[HeaderCell]]:
    """The header's top row and, where columns are grouped, its second row (else empty)."""
    grouped = any(c.group for c in table.columns)
    if not grouped:
        return [HeaderCell(c.label, j, 1, 1) for j, c in enumerate(table.columns)], []
    top: list[HeaderCell] = []
    bottom: list[HeaderCell] = []
    j = 0
    columns = table.columns
    while j < len(columns):
        group = columns[j].group
        if not group:
            top.append(HeaderCell(columns[j].label, j, 1, 2))
            j += 1
            continue
        end = j
        while end < len(columns) and columns[end].group == group:
            bottom.append(HeaderCell(columns[end].label, end, 1, 1))
            end += 1
        top.append(HeaderCell(group, j, end - j, 1))
        j = end
    return top, bottom


# ---- xlsx --------------------------------------------------------------------------------------

_FORMATS = {Kind.INTEGER: "0", Kind.DECIMAL: "0.{}", Kind.PERCENT: "0.{}%"}
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def _number_format(column: Column) -> str:
    pattern = _FORMATS.get(column.kind, "@")
    return pattern.format("0" * column.digits) if "{}" in pattern else pattern


def _width(text: str) -> int:
    """Columns' width in characters: a Chinese character is about two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def xlsx(report: Report) -> bytes:
    """The report as a workbook, one sheet per table, each with the title rows above it."""
    out = io.BytesIO()
    book = safe_workbook(out)
    title_fmt = book.add_format({"bold": True, "font_size": 14, "align": "left"})
    line_fmt = book.add_format({"font_color": "#555555", "align": "left"})
    caption_fmt = book.add_format({"bold": True, "font_size": 12})
    head_fmt = book.add_format(
        {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#E8EEF4"}
    )
    note_fmt = book.add_format({"italic": True, "font_color": "#555555"})
    used: set[str] = set()
    for n, table in enumerate(report.tables or (Table("empty", report.title, (), ()),), 1):
        name = _SHEET_NAME.sub("_", table.title)[:28] or f"表{n}"
        if name in used:
            name = f"{name[:25]}_{n}"
        used.add(name)
        sheet = book.add_worksheet(name)
        width = max(len(table.columns), 1)
        cell_fmts = [
            book.add_format({"border": 1, "num_format": _number_format(c)}) for c in table.columns
        ]
        row = 0
        for text, fmt in ((report.title, title_fmt), *((x, line_fmt) for x in report.lines)):
            if width > 1:
                sheet.merge_range(row, 0, row, width - 1, neutralise(text), fmt)
            else:
                sheet.write_string(row, 0, neutralise(text), fmt)
            row += 1
        row += 1
        sheet.write_string(row, 0, neutralise(table.title), caption_fmt)
        row += 1
        top, bottom = header(table)
        depth = 2 if bottom else 1
        for cell in top:
            last_row, last_col = row + cell.rows - 1, cell.first + cell.span - 1
            if (last_row, last_col) != (row, cell.first):
                label = neutralise(cell.label)
                sheet.merge_range(row, cell.first, last_row, last_col, label, head_fmt)
            else:
                sheet.write_string(row, cell.first, neutralise(cell.label), head_fmt)
        for cell in bottom:
            sheet.write_string(row + 1, cell.first, neutralise(cell.label), head_fmt)
        row += depth
        sheet.freeze_panes(row, 0)
        widths = [_width(c.label) + 2 for c in table.columns]
        for values in table.rows:
            for j, (column, value) in enumerate(zip(table.columns, values, strict=True)):
                if value is None or value == "":
                    sheet.write_blank(row, j, None, cell_fmts[j])
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    sheet.write_number(row, j, value, cell_fmts[j])
                    widths[j] = max(widths[j], len(shown(column, value)) + 2)
                else:
                    text = neutralise(str(value))
                    sheet.write_string(row, j, text, cell_fmts[j])
                    widths[j] = max(widths[j], _width(text) + 2)
            row += 1
        if not table.rows:
            sheet.write_string(row, 0, table.empty, note_fmt)
            row += 1
        if table.note:
            sheet.write_string(row + 1, 0, neutralise(table.note), note_fmt)
        for j, w in enumerate(widths):
            sheet.set_column(j, j, min(max(w, 8), 60))
    book.close()
    return out.getvalue()


# ---- PDF ---------------------------------------------------------------------------------------


def pdf(report: Report) -> bytes:
    """The report as an A4 PDF (landscape when a table is wide) in a Chinese font."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    from reportlab.platypus import Table as PdfTable

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    wide = any(len(t.columns) > 7 for t in report.tables)
    size = landscape(A4) if wide else A4
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=size,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=report.title,
        creator="edubrain",
    )
    title_style = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, spaceAfter=4)
    line_style = ParagraphStyle("line", fontName=FONT, fontSize=9, leading=13, textColor="#555555")
    caption_style = ParagraphStyle(
        "caption", fontName=FONT, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4
    )
    cell_style = ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10)
    story: list[object] = [Paragraph(_escape(report.title), title_style)]
    story += [Paragraph(_escape(line), line_style) for line in report.lines]
    for table in report.tables:
        story.append(Paragraph(_escape(table.title), caption_style))
        top, bottom = header(table)
        n = len(table.columns)
        grid: list[list[object]] = [[""] * n for _ in range(2 if bottom else 1)]
        commands: list[tuple[object, ...]] = []
        for cell in top:
            grid[0][cell.first] = Paragraph(_escape(cell.label), cell_style)
            last = (cell.first + cell.span - 1, cell.rows - 1)
            if last != (cell.first, 0):
                commands.append(("SPAN", (cell.first, 0), last))
        for cell in bottom:
            grid[1][cell.first] = Paragraph(_escape(cell.label), cell_style)
        depth = len(grid)
        for values in table.rows:
            grid.append(
                [
                    Paragraph(_escape(shown(c, v)), cell_style)
                    for c, v in zip(table.columns, values, strict=True)
                ]
            )
        if not table.rows and n:
            grid.append([Paragraph(_escape(table.empty), cell_style)] + [""] * (n - 1))
            commands.append(("SPAN", (0, depth), (n - 1, depth)))
        if n:
            usable = size[0] - 30 * mm
            pdf_table = PdfTable(grid, colWidths=[usable / n] * n, repeatRows=depth)
            pdf_table.setStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 8),
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, depth - 1), colors.HexColor("#E8EEF4")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    *commands,
                ]
            )
            story.append(pdf_table)
        if table.note:
            story.append(Spacer(1, 3 * mm))
            story.append(Paragraph(_escape(table.note), line_style))
    doc.build(story)
    return out.getvalue()


def _escape(text: str) -> str:
    """Text for a reportlab Paragraph (which reads a little markup)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def file_name(stem: str, suffix: str) -> str:
    """An ASCII file name for Content-Disposition (the Chinese title is inside the file)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "report"
    return f"{safe}.{suffix}"


def columns(*specs: tuple[str, Kind] | tuple[str, Kind, str] | str) -> tuple[Column, ...]:
    """Columns from short specs: a label (text), (label, kind) or (label, kind, group)."""
    out = []
    for spec in specs:
        if isinstance(spec, str):
            out.append(Column(spec))
        elif len(spec) == 2:
            out.append(Column(spec[0], spec[1], digits=1 if spec[1] is Kind.PERCENT else 2))
        else:
            out.append(Column(spec[0], spec[1], spec[2], 1 if spec[1] is Kind.PERCENT else 2))
    return tuple(out)


def rows(values: Sequence[Sequence[Value]]) -> tuple[tuple[Value, ...], ...]:
    return tuple(tuple(v) for v in values)
