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

    def check_counts(self) -> None:
        """The accounting invariants; a violation is a bug in ingestion, never bad data."""
        if self.rows_read != self.rows_accepted + self.rows_quarantined:
            raise AssertionError(f"{self.file}: rows read ≠ accepted + quarantined: {self}")
        if self.rows_accepted != self.rows_inserted + self.rows_updated + self.rows_unchanged:
            raise AssertionError(f"{self.file}: accepted ≠ inserted + updated + unchanged: {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
