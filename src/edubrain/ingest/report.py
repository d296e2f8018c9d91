"""What ingesting one file did: the per-file report and a summary over many."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["loaded", "failed", "skipped"]


@dataclass
class FileReport:
    file: str
    source: str | None = None
    export: str | None = None
    entity: str | None = None
    status: Status = "loaded"
    rows_read: int = 0
    rows_accepted: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    """Reason code → rows carrying it (a row with two problems counts under both)."""
    quarantine_records_added: int = 0
    load_id: str | None = None
    sha256: str | None = None
    seconds: float = 0.0
    error: str | None = None
    format: str | None = None
    """How the file was read: csv (any text table), xlsx, xls, jsonl, parquet."""
    encoding: str | None = None
    """Text files: the encoding detected (GBK/GB18030, UTF-8, UTF-8 (带 BOM), UTF-16 ...)."""
    header_row: int | None = None
    """The header's row number as a spreadsheet shows it."""
    title_rows: list[int] = field(default_factory=list)
    """Rows above the header (a title such as "XX县2025学年学籍信息导出"), skipped."""
    total_rows: list[int] = field(default_factory=list)
    """Total rows (合计, 总计, 小计) among or below the data, skipped."""
    extra_columns: list[str] = field(default_factory=list)
    """Columns the mapping does not read: not loaded (still in quarantined rows' raw text)."""
    renamed_columns: dict[str, str] = field(default_factory=dict)
    """Header in the file → the mapping's name, where the file used a declared synonym."""
    note: str | None = None
    """Why a file was skipped, or what an unrecognised file looks like."""
    restored_rows: int = 0
    """Rows of a returned 下载被拒绝的行 workbook whose masked cells got their values back."""

    def check_counts(self) -> None:
        """The accounting invariants; a violation is a bug in ingestion, never bad data."""
        if self.rows_read != self.rows_accepted + self.rows_quarantined:
            raise AssertionError(f"{self.file}: rows read ≠ accepted + quarantined: {self}")
        if self.rows_accepted != self.rows_inserted + self.rows_updated + self.rows_unchanged:
            raise AssertionError(f"{self.file}: accepted ≠ inserted + updated + unchanged: {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def layout_notes(self) -> list[str]:
        """What ingest did with the file's shape, one Chinese sentence each (for the CLI)."""
        notes: list[str] = []
        if self.encoding:
            notes.append(f"编码：{self.encoding}")
        if self.title_rows:
            notes.append(
                f"跳过表头上方 {len(self.title_rows)} 行（第 {_rows(self.title_rows)} 行），"
                f"表头在第 {self.header_row} 行"
            )
        if self.total_rows:
            notes.append(f"跳过 {len(self.total_rows)} 个合计行（第 {_rows(self.total_rows)} 行）")
        if self.renamed_columns:
            pairs = "，".join(f"{a} → {b}" for a, b in self.renamed_columns.items())
            notes.append(f"按同义表头读取：{pairs}")
        if self.extra_columns:
            notes.append(
                f"{len(self.extra_columns)} 个未映射的列未导入：{'，'.join(self.extra_columns)}"
            )
        if self.restored_rows:
            notes.append(f"{self.restored_rows} 行按隔离编号补回了下载时隐去的值")
        if self.note:
            notes.append(self.note)
        return notes


def _rows(numbers: list[int], shown: int = 10) -> str:
    text = "、".join(str(n) for n in numbers[:shown])
    return text + (" …" if len(numbers) > shown else "")


_TOTALS = (
    "rows_read",
    "rows_accepted",
    "rows_inserted",
    "rows_updated",
    "rows_unchanged",
    "rows_quarantined",
)


def summarise(reports: list[FileReport]) -> dict[str, Any]:
    """Totals over many files: counts by status, row counts and reasons."""
    summary: dict[str, Any] = {
        "files": len(reports),
        "loaded": sum(r.status == "loaded" for r in reports),
        "failed": sum(r.status == "failed" for r in reports),
        "skipped": sum(r.status == "skipped" for r in reports),
    }
    for name in _TOTALS:
        summary[name] = sum(getattr(r, name) for r in reports)
    reasons: dict[str, int] = {}
    for r in reports:
        for code, count in r.reasons.items():
            reasons[code] = reasons.get(code, 0) + count
    summary["reasons"] = reasons
    summary["seconds"] = round(sum(r.seconds for r in reports), 3)
    return summary
