"""Ingest export files and folders into the warehouse; bad rows go to quarantine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edubrain.ingest import FileReport, ingest_paths, summarise
from edubrain.ingest.quarantine import reason_code, reason_name
from edubrain.ingest.quarantine_views import (
    OPEN,
    RESOLVED,
    filtered,
    status_name,
    with_status,
)
from edubrain.settings import Settings
from edubrain.usecases.progress import ByteProgress
from edubrain.warehouse import QUARANTINE_TABLE, open_warehouse


@dataclass(frozen=True)
class IngestResult:
    """One report per file: loaded, failed (with its error) or skipped."""

    reports: list[FileReport]

    @property
    def failed(self) -> list[FileReport]:
        return [r for r in self.reports if r.status == "failed"]

    @property
    def rows_read(self) -> int:
        return sum(r.rows_read for r in self.reports)

    @property
    def rows_accepted(self) -> int:
        return sum(r.rows_accepted for r in self.reports)

    @property
    def rows_quarantined(self) -> int:
        return sum(r.rows_quarantined for r in self.reports)

    @property
    def balanced(self) -> bool:
        """Every file's rows read = rows accepted + rows quarantined (anything else is a bug)."""
        return all(r.rows_read == r.rows_accepted + r.rows_quarantined for r in self.reports)

    def summary(self) -> dict[str, Any]:
        return summarise(self.reports)


def ingest(
    settings: Settings,
    paths: Sequence[Path | str],
    *,
    source: str | None = None,
    entity: str | None = None,
    progress: ByteProgress | None = None,
) -> IngestResult:
    """Validate, normalise and load exports; `source` forces a mapping, `entity` reads
    standard-format files. Per-file failures are in the result; usage errors raise."""
    return IngestResult(
        ingest_paths(paths, settings, source=source, entity=entity, progress=progress)
    )


@dataclass(frozen=True)
class Quarantined:
    columns: list[str]
    rows: list[dict[str, Any]]


def quarantined(
    settings: Settings,
    *,
    reason: str | None = None,
    file: str | None = None,
    entity: str | None = None,
    status: str | None = None,
    limit: int = 20,
    summary: bool = False,
) -> Quarantined:
    """Quarantined rows (file, row, field, reason and its name, status, message), newest loads
    first, at most `limit`; with `summary`, row counts by file, main reason and status instead.
    `file` matches part of the path; `reason` is a code or its Chinese name; `status` is open
    (未处理), resolved (已解决) or None for both (`ingest.quarantine_views`)."""
    code = reason_code(reason) if reason else None
    with open_warehouse(settings, read_only=True) as wh:
        t = wh.table(QUARANTINE_TABLE)
        if file:
            t = t.filter(t.file.contains(file))
        names = [r["entity"] for r in wh_rows(t.select("entity").distinct())]
        t = filtered(with_status(t, wh, [n for n in names if n]), reason=code, entity=entity,
                     status=status)  # fmt: skip
        if summary:
            distinct = t.select("file", "load_id", "row_number", "reason", "resolved").distinct()
            per_file = (
                distinct.group_by(["file", "reason", "resolved"])
                .aggregate(rows=distinct.count())
                .order_by(["file", "reason", "resolved"])
            )
            rows = [
                {
                    "file": r["file"],
                    "reason": r["reason"],
                    "原因": reason_name(r["reason"]),
                    "status": status_name(RESOLVED if r["resolved"] else OPEN),
                    "rows": r["rows"],
                }
                for r in wh_rows(per_file)
            ]
            return Quarantined(["file", "reason", "原因", "status", "rows"], rows)
        columns = ["file", "row_number", "field", "reason", "message"]
        ordered = t.order_by([t.load_id.desc(), t.file, t.row_number]).limit(limit)
        found = wh_rows(ordered.select(*columns, "resolved"))
        rows = [
            {
                **{c: r[c] for c in columns},
                "原因": reason_name(r["reason"]),
                "status": status_name(RESOLVED if r["resolved"] else OPEN),
            }
            for r in found
        ]
        return Quarantined(["file", "row_number", "field", "原因", "status", "message"], rows)


def wh_rows(expr: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
    return rows
