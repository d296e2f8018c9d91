"""Ingest export files and folders into the warehouse; bad rows go to quarantine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edubrain.ingest import FileReport, ingest_paths, summarise
from edubrain.settings import Settings
from edubrain.usecases.progress import ByteProgress


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
