"""The warehouse interface the rest of edubrain programs against (backend-neutral)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, Self

import pyarrow as pa

from edubrain.standard.entities import Entity

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class MergeCounts:
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class LoadRecord:
    """One row of the `loads` table: what one ingested file did."""

    load_id: str
    file: str
    sha256: str
    source: str
    export: str
    entity: str
    started_at: datetime
    finished_at: datetime
    rows_read: int
    rows_accepted: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_quarantined: int
    status: str


class Transaction(Protocol):
    """Writes of one ingested file; all of them land together or none do."""

    def write_quarantine(self, records: pa.Table) -> int:
        """Append quarantine records (QUARANTINE_SCHEMA) not already stored; returns how many."""
        ...

    def merge(
        self, ent: Entity, rows: pa.Table, *, load_id: str, source: str, valid_from: datetime
    ) -> MergeCounts:
        """Merge typed rows (entity_schema, unique natural keys) into the entity table.

        New key → insert; same content → unchanged; changed → the stored version moves to
        `<entity>__history` and the new one replaces it.
        """
        ...

    def record_load(self, load: LoadRecord) -> None: ...

    def replace_table(self, name: str, rows: pa.Table) -> None:
        """Create or replace a derived table (identities, review queue) with exactly `rows`."""
        ...

    def append_rows(self, name: str, rows: pa.Table) -> None:
        """Append to a derived table (events, decisions), creating it from `rows`' schema."""
        ...


class Tables(Protocol):
    """The core read interface: a warehouse's tables as Ibis expressions.

    Analytics (quality rules, scorecards, indicators, scope predicates) type against this, so
    the same code runs on DuckDB (`DuckDBWarehouse`), Spark (`SparkTables`) or a cache in front
    of either (`govern.quality.CachedTables`).
    """

    def table(self, name: str) -> ir.Table: ...


class OptionalTables(Tables, Protocol):
    """Tables of which some may be absent (derived tables govern has not written yet):
    `has_table` says which."""

    def has_table(self, name: str) -> bool: ...


class PreparedRead(Protocol):
    """A read compiled once, run many times with new parameter values, from any thread."""

    def run(self, values: Mapping[str, str]) -> pa.Table: ...


class Warehouse(OptionalTables, Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]:
        """Commit on normal exit; roll back on any exception, KeyboardInterrupt included."""
        ...

    def table(self, name: str) -> ir.Table:
        """An Ibis table expression for analytics (entity, history, quarantine or loads)."""
        ...

    def to_arrow(self, name: str) -> pa.Table:
        """A whole table as Arrow (tests, small tables)."""
        ...

    def count(self, name: str) -> int: ...

    def has_table(self, name: str) -> bool: ...

    def prepare(self, expr: ir.Table, params: Mapping[str, ir.Scalar]) -> PreparedRead:
        """`expr` with its string parameters (`ibis.param("string")`, by name) left open."""
        ...

    def rewrite_strings(
        self,
        pattern: str,
        rewrite: Callable[[pa.Array], pa.Array],
        progress: Callable[[str, int], None] | None = None,
    ) -> int:
        """Replace, in one transaction, every text value matching `pattern` (an RE2 regex) by
        `rewrite` of it, in every table (key rotation, sealing at rest). Returns values replaced."""
        ...

    def close(self) -> None: ...

    def is_current(self) -> bool:
        """False once a writer has published a newer version: a reader should open it."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
