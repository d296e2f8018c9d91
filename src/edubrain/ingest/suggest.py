"""What an unrecognised file looks like: the mapping whose headers it shares most.

Only the first bytes of a text file (and the first rows of a workbook's first sheet, for a
workbook within `SUGGEST_MAX_WORKBOOK_BYTES` that inflates to at most four times that) are
read, so a folder of large unrelated files costs little.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import python_calamine

from edubrain.ingest.readers import HEADER_SCAN_ROWS, ReadBounds, check_workbook_size
from edubrain.sources.mapping import TABLE_SUFFIXES, Export, SourceMapping

SUGGEST_PROBE_BYTES = 64 << 10
SUGGEST_MAX_WORKBOOK_BYTES = 32 << 20
INGESTED_SUFFIXES = (*TABLE_SUFFIXES, ".jsonl", ".parquet")
_SUGGEST_BOUNDS = replace(
    ReadBounds.defaults(), max_uncompressed_bytes=SUGGEST_MAX_WORKBOOK_BYTES * 4
)


@dataclass(frozen=True)
class Likeness:
    mapping: SourceMapping
    export: Export
    matched: int
    unknown: list[str]

    def sentence(self) -> str:
        patterns = "、".join(self.export.files)
        return (
            f"看起来像 {self.mapping.label} 导出（{self.mapping.source} {self.export.name}），"
            f"表头有 {self.matched} 列相符，有 {len(self.unknown)} 个未知列"
            + (f"（{'、'.join(self.unknown[:5])}{' …' if len(self.unknown) > 5 else ''}）")
            * bool(self.unknown)
            + f"；文件名应符合 {patterns}，可改名或用 --source {self.mapping.source} 导入"
        )


def _text_rows(path: Path) -> list[list[str]]:
    with path.open("rb") as fh:
        head = fh.read(SUGGEST_PROBE_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head.decode("utf-16", "replace")
    elif b"\x00" in head[:8192]:
        return []
    else:
        try:
            text = codecs.getincrementaldecoder("utf-8-sig")().decode(head)
        except UnicodeDecodeError:
            text = head.decode("gb18030", "replace")
    lines = text.splitlines()[:HEADER_SCAN_ROWS]
    delimiter = "\t" if text.count("\t") > text.count(",") else ","
    return [next(csv.reader([line], delimiter=delimiter), []) for line in lines]


def _workbook_rows(path: Path) -> list[list[str]]:
    if path.stat().st_size > SUGGEST_MAX_WORKBOOK_BYTES:
        return []
    try:
        if zipfile.is_zipfile(path):  # what it inflates to is counted before calamine sees it
            check_workbook_size(path, _SUGGEST_BOUNDS)
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_name(book.sheet_names[0])
        rows = []
        for _, row in zip(range(HEADER_SCAN_ROWS), sheet.iter_rows(), strict=False):
            rows.append([str(c) for c in row])
    except Exception:  # noqa: BLE001 — an unreadable workbook simply looks like nothing
        return []
    return rows


def first_rows(path: Path) -> list[list[str]]:
    """The first rows of a table file (cells stripped), or [] if it is not one."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xls"):
            rows = _workbook_rows(path)
        elif suffix in (".csv", ".txt", ".tsv"):
            rows = _text_rows(path)
        else:
            return []
    except OSError:
        return []
    return [[c.strip() for c in row] for row in rows]


def likeness(path: Path, mappings: dict[str, SourceMapping]) -> Likeness | None:
    """The export whose headers one of the file's first rows shares most (two at least)."""
    rows = first_rows(path)
    best: Likeness | None = None
    for mapping in mappings.values():
        for export in mapping.exports:
            known = export.known_headers
            items = re.compile(export.unpivot.columns) if export.unpivot else None
            for row in rows:
                cells = [c for c in row if c]
                matched = [c for c in cells if c in known or (items and items.search(c))]
                if len(matched) < 2 or (best is not None and len(matched) <= best.matched):
                    continue
                unknown = [c for c in cells if c not in matched]
                best = Likeness(mapping, export, len(matched), unknown)
    return best


def why_skipped(path: Path, mappings: dict[str, SourceMapping]) -> str:
    """One sentence (Chinese first) on why a file in a folder was not ingested."""
    suffix = path.suffix.lower()
    if suffix not in INGESTED_SUFFIXES:
        return (
            f"不是可导入的文件类型（{suffix or '无扩展名'}），只导入 "
            f"{'、'.join(INGESTED_SUFFIXES)} (not a table file)"
        )
    found = likeness(path, mappings)
    if found is not None:
        return found.sentence()
    return (
        "文件名不符合任何映射的 files 模式，表头也不像已知导出；可用 --source 或 --standard "
        "指定 (its name matches no export and its header looks like none)"
    )
