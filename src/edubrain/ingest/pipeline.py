"""Ingest files into the warehouse: read → normalise → validate → quarantine → merge.

Each file is one transaction: an error or Ctrl-C part-way leaves the warehouse as it was before
that file. A file that cannot be read as declared fails as a whole (UnreadableFileError) and the
other files still load.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa

from edubrain.errors import UnreadableFileError
from edubrain.ingest.discover import FileSpec, discover
from edubrain.ingest.normalise import normalise, null_column
from edubrain.ingest.quarantine import build_quarantine
from edubrain.ingest.readers import read_file
from edubrain.ingest.records import to_records
from edubrain.ingest.report import FileReport
from edubrain.ingest.rules import Context, check_rows, duplicates
from edubrain.ingest.units import by_pupils_last, load_units
from edubrain.sealing import Sealer, check_key, seal_core_fields, seal_text_columns, sealer_for
from edubrain.settings import Settings
from edubrain.sources.mapping import available_mappings
from edubrain.standard.entities import entity
from edubrain.warehouse import (
    LOAD_UNITS_TABLE,
    LoadRecord,
    Warehouse,
    entity_schema,
    open_warehouse,
)


class Progress(Protocol):
    """Receives progress in bytes of input; the CLI draws a bar from it."""

    def start(self, total_bytes: int) -> None: ...

    def advance(self, n_bytes: int) -> None: ...


# Share of a file's bytes reported after each stage (reading dominates small files,
# validation and merging large ones).
_READ_SHARE, _CHECK_SHARE = 0.4, 0.3
# Quarantine columns that may quote an ID number: the message and the raw source row.
_QUARANTINE_TEXT = ("message", "raw")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # the warehouse stores UTC without zone


def ingest_file(
    spec: FileSpec,
    warehouse: Warehouse,
    *,
    as_of: date | None = None,
    progress: Progress | None = None,
    sealer: Sealer | None = None,
) -> FileReport:
    """Ingest one file in one transaction. Raises UnreadableFileError for unreadable files.

    With a `sealer`, ID numbers and G 学籍号 are stored sealed (`edubrain.sealing`).
    """
    clock = time.perf_counter()
    started = _now()
    load_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    size = spec.path.stat().st_size
    raw = read_file(spec)
    if progress:
        progress.advance(int(size * _READ_SHARE))
    ent = entity(spec.entity)
    records = to_records(raw, spec, ent)
    columns = normalise(records, ent)
    ctx = Context(ent, records, columns, raw, as_of or date.today())
    violations = check_rows(ctx)
    rejected = np.zeros(records.num_records, dtype=bool)
    for v in violations:
        rejected[v.rows] = True
    violations += duplicates(ctx, rejected)
    quarantine = build_quarantine(
        violations,
        n_records=records.num_records,
        records=records,
        raw=raw,
        spec=spec,
        load_id=load_id,
    )
    accepted = pa.array(np.flatnonzero(~quarantine.bad))
    rows = pa.table(
        [
            columns[f.name].typed.take(accepted)
            if f.name in columns
            else null_column(f, len(accepted))
            for f in ent.fields
        ],
        schema=entity_schema(ent),
    )
    if sealer is not None:
        # Seal core fields: ID numbers and G 学籍号, in the rows and in quarantined text.
        rows = seal_core_fields(rows, ent, sealer)
        sealed_quarantine = seal_text_columns(quarantine.records, _QUARANTINE_TEXT, sealer)
    else:
        sealed_quarantine = quarantine.records
    if progress:
        progress.advance(int(size * _CHECK_SHARE))
    report = FileReport(
        file=str(spec.path),
        source=spec.source,
        export=spec.export,
        entity=ent.name,
        rows_read=records.num_records,
        rows_accepted=rows.num_rows,
        rows_quarantined=int(quarantine.bad.sum()),
        reasons=quarantine.reasons,
        load_id=load_id,
        sha256=raw.sha256,
    )
    units = load_units(load_id, ent, rows, columns, records, quarantine.records, warehouse)
    with warehouse.transaction() as tx:
        report.quarantine_records_added = tx.write_quarantine(sealed_quarantine)
        tx.append_rows(LOAD_UNITS_TABLE, units)
        counts = tx.merge(ent, rows, load_id=load_id, source=spec.source, valid_from=started)
        report.rows_inserted = counts.inserted
        report.rows_updated = counts.updated
        report.rows_unchanged = counts.unchanged
        report.check_counts()
        tx.record_load(
            LoadRecord(
                load_id=load_id,
                file=report.file,
                sha256=raw.sha256,
                source=spec.source,
                export=spec.export,
                entity=ent.name,
                started_at=started,
                finished_at=_now(),
                rows_read=report.rows_read,
                rows_accepted=report.rows_accepted,
                rows_inserted=counts.inserted,
                rows_updated=counts.updated,
                rows_unchanged=counts.unchanged,
                rows_quarantined=report.rows_quarantined,
                status="loaded",
            )
        )
    if progress:
        progress.advance(size - int(size * _READ_SHARE) - int(size * _CHECK_SHARE))
    report.seconds = round(time.perf_counter() - clock, 3)
    return report


def ingest_paths(
    paths: Sequence[Path | str],
    settings: Settings,
    *,
    source: str | None = None,
    entity: str | None = None,
    progress: Progress | None = None,
    as_of: date | None = None,
) -> list[FileReport]:
    """Ingest files and folders into the warehouse at `settings.warehouse_path`.

    `source` forces a source mapping, `entity` reads standard-format files of that entity.
    Returns one report per file: loaded, failed (with `error`) or skipped (inside a folder,
    matching no export). Per-file failures never raise; usage errors (unknown source or
    entity) do.
    """
    # Absolute paths: the quarantine and the loads table must say which file, wherever it ran.
    found = discover(
        [Path(p).absolute() for p in paths],
        source=source,
        entity_name=entity,
        mappings=available_mappings(settings.local_mappings_dir),
    )
    reports = [FileReport(file=e.path, status="failed", error=e.problem) for e in found.failed] + [
        FileReport(file=str(p), status="skipped") for p in found.skipped
    ]
    if not found.specs:
        return reports
    if progress:
        progress.start(sum(_size(s.path) for s in found.specs))
    sealer = sealer_for(settings)
    with open_warehouse(settings) as warehouse:
        check_key(warehouse, sealer)
        for spec in by_pupils_last(found.specs):
            try:
                reports.append(
                    ingest_file(spec, warehouse, as_of=as_of, progress=progress, sealer=sealer)
                )
            except UnreadableFileError as exc:
                reports.append(
                    FileReport(
                        file=str(spec.path),
                        source=spec.source,
                        export=spec.export,
                        entity=spec.entity,
                        status="failed",
                        error=exc.problem,
                    )
                )
                if progress:
                    progress.advance(_size(spec.path))
    return reports


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
