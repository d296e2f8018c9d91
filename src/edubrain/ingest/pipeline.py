"""Ingest files into the warehouse: read → normalise → validate → quarantine → merge.

Each file is one transaction: an error or Ctrl-C part-way leaves the warehouse as it was before
that file. A file that cannot be read as declared — or goes over a read bound at any chunk —
fails as a whole (UnreadableFileError) and the other files still load.

Files are read in chunks (see `readers`). A worker thread reads, normalises and checks the next
chunk (pyarrow releases the GIL) while this thread writes the current one: the warehouse keeps a
single writer, and at most three chunks are in memory (`READ_AHEAD`).

With a `Sealer` (the default), ID numbers and G 学籍号 are sealed on the worker thread before a
chunk reaches the writer (`edubrain.sealing`, decision 0011): the warehouse never holds them in
clear. Each load records the units it names (`ingest.units`, decision 0012).
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from edubrain.errors import UnreadableFileError, UnrecognisedFileError
from edubrain.ingest.discover import FileSpec, discover
from edubrain.ingest.normalise import Column, normalise, null_column
from edubrain.ingest.quarantine import (
    PRIORITY,
    Quarantine,
    build_quarantine,
    with_natural_key,
)
from edubrain.ingest.quarantine_views import (
    FILE_HEADER,
    REASON_HEADER,
    REF_HEADER,
    ROW_NUMBER_HEADER,
)
from edubrain.ingest.readers import (
    RAGGED_COLUMN,
    RawTable,
    ReadBounds,
    encoding_name,
    read_chunks,
)
from edubrain.ingest.records import Records, column_use, to_records
from edubrain.ingest.report import FileReport
from edubrain.ingest.returned import (
    ReturnedRows,
    is_returned_workbook,
    returned_rows,
)
from edubrain.ingest.rules import Context, EarlierChunks, check_rows, duplicates, ragged_rows
from edubrain.ingest.suggest import likeness, why_skipped
from edubrain.ingest.units import PupilSchools, by_pupils_last, load_units
from edubrain.sealing import Sealer, check_key, seal_core_fields, seal_text_columns, sealer_for
from edubrain.settings import Settings
from edubrain.sources.mapping import SourceMapping, available_mappings
from edubrain.standard.entities import Entity, entity, person_registry
from edubrain.warehouse import (
    LOAD_UNITS_SCHEMA,
    LOAD_UNITS_TABLE,
    LoadRecord,
    Transaction,
    Warehouse,
    entity_schema,
    open_warehouse,
)


class Progress(Protocol):
    """Receives progress in bytes of input; the CLI draws a bar from it."""

    def start(self, total_bytes: int) -> None: ...

    def advance(self, n_bytes: int) -> None: ...


# Quarantine columns that may quote an ID number: the message and the raw source row.
_QUARANTINE_TEXT = ("message", "raw")

QUARANTINE_WRITE_ROWS = 2 * 122_880
"""Quarantine records written to the warehouse at once (two DuckDB row groups): chunks' records
are gathered up to this many. DuckDB writes an insert of whole row groups to the file as it
goes; smaller inserts stay in the transaction's memory until commit, which for a file of junk
rows (millions of records, read in small chunks) grows with the file."""


RETURNED_COLUMNS = frozenset({ROW_NUMBER_HEADER, REASON_HEADER, FILE_HEADER, REF_HEADER})
"""The columns a 下载被拒绝的行 workbook adds: not reported as extra when it comes back."""

READ_AHEAD = 2
"""Chunks the reading thread may have ready before the writer takes them (`_ahead`)."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # the warehouse stores UTC without zone


@dataclass(frozen=True)
class _Chunk:
    """One chunk of a file, read and checked, ready to write."""

    raw: RawTable
    n_records: int
    quarantine: Quarantine
    rows: pa.Table
    """The accepted records, in the entity's schema."""
    records: Records
    columns: Mapping[str, Column]
    """The chunk's records and normalised columns: which school each quarantined row names."""
    restored: int = 0
    """Rows of a returned workbook whose masked cells got their values back (`returned`)."""


@dataclass(frozen=True)
class _FileStart:
    spec: FileSpec
    load_id: str
    started: datetime


@dataclass(frozen=True)
class _FileEnd:
    pass


@dataclass(frozen=True)
class _FileFailed:
    error: UnreadableFileError


_Item = _FileStart | _Chunk | _FileEnd | _FileFailed


def _split(raw: RawTable, keep: npt.NDArray[np.bool_]) -> RawTable:
    """The rows of `raw` where `keep` is true, still rendering their own source rows."""
    positions = np.flatnonzero(keep)
    table = raw.table.filter(pa.array(keep))

    def raw_json(indices: npt.NDArray[np.int64]) -> list[str]:
        return raw.raw_json(positions[indices])

    return replace(raw, table=table, row_numbers=raw.row_numbers[positions], raw_json=raw_json)


def _misshapen_chunk(raw: RawTable, spec: FileSpec, load_id: str, as_of: date) -> _Chunk:
    """Rows with the wrong number of fields: quarantined as bad_format alone, without
    normalising or checking cells that are not in their columns (junk text would otherwise
    cost every rule's messages for every row before they are dropped)."""
    ent = entity(spec.entity)
    records = to_records(raw, spec, ent)
    ctx = Context(ent, records, {}, raw, as_of)
    quarantine = build_quarantine(
        list(ragged_rows(ctx)),
        n_records=records.num_records,
        records=records,
        raw=raw,
        spec=spec,
        load_id=load_id,
    )
    empty = entity_schema(ent).empty_table()
    return _Chunk(raw, records.num_records, quarantine, empty, records, {})


def _check_chunks(
    raw: RawTable, spec: FileSpec, load_id: str, as_of: date, earlier: EarlierChunks
) -> Iterator[_Chunk]:
    if RAGGED_COLUMN in raw.table.column_names:
        misshapen = np.asarray(
            raw.table.column(RAGGED_COLUMN).is_valid().to_numpy(zero_copy_only=False)
        )
        if misshapen.any():
            if not misshapen.all():
                yield _check_chunk(_split(raw, ~misshapen), spec, load_id, as_of, earlier)
            yield _misshapen_chunk(_split(raw, misshapen), spec, load_id, as_of)
            return
    yield _check_chunk(raw, spec, load_id, as_of, earlier)


def _check_chunk(
    raw: RawTable,
    spec: FileSpec,
    load_id: str,
    as_of: date,
    earlier: EarlierChunks,
) -> _Chunk:
    ent = entity(spec.entity)
    records = to_records(raw, spec, ent)
    columns = normalise(records, ent)
    ctx = Context(ent, records, columns, raw, as_of)
    violations = check_rows(ctx)
    rejected = np.zeros(records.num_records, dtype=bool)
    for v in violations:
        rejected[v.rows] = True
    passed = ~rejected
    violations += duplicates(ctx, rejected)
    for v in violations:
        rejected[v.rows] = True
    violations += earlier.duplicates(ctx, rejected)
    earlier.remember(ctx, passed)
    quarantine = build_quarantine(
        violations,
        n_records=records.num_records,
        records=records,
        raw=raw,
        spec=spec,
        load_id=load_id,
        keys=_key_columns(ent, columns),
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
    return _Chunk(raw, records.num_records, quarantine, rows, records, columns)


def _key_columns(ent: Entity, columns: Mapping[str, Column]) -> pa.Table | None:
    """The natural key's typed columns of a chunk's records; None when the file lacks one."""
    if not all(k in columns for k in ent.natural_key):
        return None
    return pa.table([columns[k].typed for k in ent.natural_key], names=list(ent.natural_key))


def _sealed(chunk: _Chunk, ent: Entity, sealer: Sealer | None) -> _Chunk:
    """`chunk` with ID numbers and G 学籍号 sealed, in its rows and in quarantined text (and
    in the quarantined records' natural keys, sealed as the entity table stores them)."""
    if sealer is None:
        return chunk
    keys = chunk.quarantine.keys
    quarantine = replace(
        chunk.quarantine,
        records=seal_text_columns(chunk.quarantine.records, _QUARANTINE_TEXT, sealer),
    )
    if keys is not None:
        quarantine = with_natural_key(quarantine, seal_core_fields(keys, ent, sealer))
    return replace(chunk, rows=seal_core_fields(chunk.rows, ent, sealer), quarantine=quarantine)


def _checked_items(
    specs: Sequence[FileSpec],
    bounds: ReadBounds,
    as_of: date,
    sealer: Sealer | None,
    returned: Mapping[Path, ReturnedRows] | None = None,
) -> Iterator[_Item]:
    """Every file as start, chunks, end — or start, chunks, failed: read errors become items so
    the writer can roll the file back and go on with the next one. Chunks come sealed; the
    rows of a returned workbook get their masked cells back first (`returned`)."""
    for spec in specs:
        started = _now()
        load_id = f"{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        yield _FileStart(spec, load_id, started)
        ent = entity(spec.entity)
        earlier = EarlierChunks(ent)
        try:
            back = (returned or {}).get(spec.path)
            for raw in read_chunks(spec, bounds):
                restored = 0
                if back is not None:
                    raw, restored = back.restore(raw)
                for chunk in _check_chunks(raw, spec, load_id, as_of, earlier):
                    yield replace(_sealed(chunk, ent, sealer), restored=restored)
                    restored = 0
        except UnreadableFileError as exc:
            yield _FileFailed(exc)
            continue
        finally:
            earlier.close()
        yield _FileEnd()


def _one_load_units(load_id: str, parts: list[pa.Table]) -> pa.Table:
    """The units of a load read in several chunks: each unit once; the row with no unit (a file
    that names none) only when no chunk named any."""
    rows = {
        (r["row_number"], r["school_code"], r["region_code"]): r
        for part in parts
        for r in part.to_pylist()
    }
    named = [r for key, r in rows.items() if key != (None, None, None)]
    if not named:
        named = [{"load_id": load_id, "row_number": None, "school_code": None, "region_code": None}]
    return pa.Table.from_pylist(named, schema=LOAD_UNITS_SCHEMA)


def _ahead(items: Iterator[_Item], pool: ThreadPoolExecutor) -> Iterator[_Item]:
    """`items`, computed on the worker thread up to `READ_AHEAD` steps ahead of the caller.

    A step runs up to and including the next chunk (or failure): the markers between two files
    (one's end, the next one's start) cost nothing to make, so they must not use up the
    look-ahead — the next file's first chunk is read and checked while this file commits, the
    writer's longest wait. Two steps rather than one let the reader run on through a file that
    is quick to write (a small score sheet) while the writer is still busy with a slow one; the
    pool's single thread runs the steps in order. Memory follows `READ_AHEAD + 1` chunks.
    """

    def step() -> list[_Item]:
        batch: list[_Item] = []
        for item in items:
            batch.append(item)
            if not isinstance(item, _FileStart | _FileEnd):
                break
        return batch

    futures = deque(pool.submit(step) for _ in range(READ_AHEAD))
    while batch := futures.popleft().result():
        futures.append(pool.submit(step))
        yield from batch


def _write_file(
    start: _FileStart, items: Iterator[_Item], warehouse: Warehouse, pupils: PupilSchools
) -> FileReport:
    """Write one file's chunks in one transaction; raise its read error after rolling back."""
    spec = start.spec
    ent = entity(spec.entity)
    if ent.name == person_registry().entity:
        pupils.forget()  # this file changes the registry the next files' units are read from
    report = FileReport(
        file=str(spec.path),
        source=spec.source,
        export=spec.export,
        entity=ent.name,
        load_id=start.load_id,
    )
    units: list[pa.Table] = []
    held: list[pa.Table] = []  # quarantine records not yet written
    totals: set[int] = set()

    def write_held(tx: Transaction) -> None:
        if held:
            report.quarantine_records_added += tx.write_quarantine(pa.concat_tables(held))
            held.clear()

    with warehouse.transaction() as tx:
        for item in items:
            if isinstance(item, _FileEnd):
                break
            if isinstance(item, _FileFailed):
                raise item.error  # the transaction rolls back every chunk already written
            assert isinstance(item, _Chunk)
            if report.sha256 is None:
                _describe_layout(report, item.raw, spec, ent)
            totals.update(item.raw.total_rows)
            report.sha256 = item.raw.sha256
            report.rows_read += item.n_records
            report.restored_rows += item.restored
            report.rows_accepted += item.rows.num_rows
            report.rows_quarantined += int(item.quarantine.bad.sum())
            for reason, count in item.quarantine.reasons.items():
                report.reasons[reason] = report.reasons.get(reason, 0) + count
            if item.quarantine.records.num_rows:
                held.append(item.quarantine.records)
                if sum(t.num_rows for t in held) >= QUARANTINE_WRITE_ROWS:
                    write_held(tx)
            units.append(
                load_units(
                    start.load_id,
                    ent,
                    item.rows,
                    item.columns,
                    item.records,
                    item.quarantine.records,
                    warehouse,
                    pupils,
                )
            )
            counts = tx.merge(
                ent, item.rows, load_id=start.load_id, source=spec.source, valid_from=start.started
            )
            report.rows_inserted += counts.inserted
            report.rows_updated += counts.updated
            report.rows_unchanged += counts.unchanged
        write_held(tx)
        report.total_rows = sorted(totals)
        report.reasons = dict(sorted(report.reasons.items(), key=lambda r: PRIORITY[r[0]]))
        report.check_counts()
        tx.append_rows(LOAD_UNITS_TABLE, _one_load_units(start.load_id, units))
        tx.record_load(
            LoadRecord(
                load_id=start.load_id,
                file=report.file,
                sha256=report.sha256 or "",
                source=spec.source,
                export=spec.export,
                entity=ent.name,
                started_at=start.started,
                finished_at=_now(),
                rows_read=report.rows_read,
                rows_accepted=report.rows_accepted,
                rows_inserted=report.rows_inserted,
                rows_updated=report.rows_updated,
                rows_unchanged=report.rows_unchanged,
                rows_quarantined=report.rows_quarantined,
                status="loaded",
            )
        )
    return report


def _describe_layout(report: FileReport, raw: RawTable, spec: FileSpec, ent: Entity) -> None:
    """What the report says about the file's shape, from its first chunk."""
    if raw.layout is not None:
        report.format = raw.layout.format
        report.encoding = encoding_name(raw.layout.encoding)
        report.header_row = raw.layout.header_row
        report.title_rows = list(raw.layout.title_rows)
    use = column_use(spec, ent, raw.header)
    report.extra_columns = (
        [c for c in use.extra if c not in RETURNED_COLUMNS]
        if (REF_HEADER in raw.header)
        else use.extra
    )
    report.renamed_columns = use.renamed


def ingest_file(
    spec: FileSpec,
    warehouse: Warehouse,
    *,
    as_of: date | None = None,
    bounds: ReadBounds | None = None,
    sealer: Sealer | None = None,
) -> FileReport:
    """Ingest one file in one transaction. Raises UnreadableFileError for unreadable files.

    With a `sealer`, ID numbers and G 学籍号 are stored sealed (`edubrain.sealing`).
    """
    clock = time.perf_counter()
    items = _checked_items([spec], bounds or ReadBounds.defaults(), as_of or date.today(), sealer)
    start = next(items)
    assert isinstance(start, _FileStart)
    report = _write_file(start, items, warehouse, PupilSchools())
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
    """Ingest files and folders into the warehouse at `settings.workspace.warehouse`.

    `source` forces a source mapping, `entity` reads standard-format files of that entity.
    Returns one report per file: loaded, failed (with `error`) or skipped (inside a folder,
    matching no export). Per-file failures never raise; usage errors (unknown source or
    entity) do.
    """
    # Absolute paths: the quarantine and the loads table must say which file, wherever it ran.
    mappings = available_mappings(settings.workspace.mappings)
    found = discover(
        [Path(p).absolute() for p in paths], source=source, entity_name=entity, mappings=mappings
    )
    reports = [_failed_report(e, mappings) for e in found.failed] + [
        FileReport(file=str(p), status="skipped", note=why_skipped(p, mappings))
        for p in found.skipped
    ]
    if not found.specs:
        return reports
    if progress:
        progress.start(sum(_size(s.path) for s in found.specs))
    sealer = sealer_for(settings)
    bounds = ReadBounds.from_settings(settings)
    returned: dict[Path, ReturnedRows] = {}
    if back := [s for s in found.specs if is_returned_workbook(s.path)]:
        with open_warehouse(settings) as warehouse:
            returned = returned_rows(back, warehouse, sealer, bounds)
    checked = _checked_items(
        by_pupils_last(found.specs), bounds, as_of or date.today(), sealer, returned
    )
    with ThreadPoolExecutor(1, thread_name_prefix="edubrain-ingest") as pool:
        # The first file is being read while the warehouse opens.
        items = _ahead(checked, pool)
        with open_warehouse(settings) as warehouse:
            check_key(warehouse, sealer)
            pupils = PupilSchools()
            for start in items:
                assert isinstance(start, _FileStart)
                spec = start.spec
                clock = time.perf_counter()
                try:
                    report = _write_file(start, items, warehouse, pupils)
                    report.seconds = round(time.perf_counter() - clock, 3)
                    reports.append(report)
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


def _failed_report(error: UnreadableFileError, mappings: dict[str, SourceMapping]) -> FileReport:
    note = None
    if isinstance(error, UnrecognisedFileError):
        found = likeness(Path(error.path), mappings)
        note = found.sentence() if found else None
    return FileReport(file=error.path, status="failed", error=error.problem, note=note)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
