"""Ingest export files and folders into the warehouse; bad rows go to quarantine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edubrain.ingest import FileReport, ingest_paths, summarise
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
    limit: int = 20,
    summary: bool = False,
) -> Quarantined:
    """Quarantined rows (file, row, field, reason, message), newest loads first, at most
    `limit`; with `summary`, row counts by file and reason instead. `file` matches part of
    the path."""
    with open_warehouse(settings, read_only=True) as wh:
        t = wh.table(QUARANTINE_TABLE)
        if reason:
            t = t.filter(t.reason == reason)
        if file:
            t = t.filter(t.file.contains(file))
        if entity:
            t = t.filter(t.entity == entity)
        if summary:
            grouped = (
                t.group_by(["file", "reason"])
                .aggregate(rows=t.row_number.nunique())
                .order_by(["file", "reason"])
            )
            return Quarantined(["file", "reason", "rows"], grouped.to_pyarrow().to_pylist())
        columns = ["file", "row_number", "field", "reason", "message"]
        ordered = t.order_by([t.load_id.desc(), t.file, t.row_number]).limit(limit)
        return Quarantined(columns, ordered.select(*columns).to_pyarrow().to_pylist())
