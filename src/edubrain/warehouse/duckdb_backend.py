"""The embedded DuckDB warehouse: the one module that speaks SQL to the analytical store.

A Spark backend would be a sibling module implementing the same `Warehouse` protocol.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.errors import WarehouseError
from edubrain.standard.entities import Entity, entities
from edubrain.warehouse.api import LoadRecord, MergeCounts
from edubrain.warehouse.schema import (
    HISTORY_EXTRA_SCHEMA,
    LINEAGE_COLUMNS,
    LINEAGE_SCHEMA,
    LOAD_UNITS_SCHEMA,
    LOAD_UNITS_TABLE,
    LOADS_SCHEMA,
    LOADS_TABLE,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    ROW_HASH,
    SUPERSEDED_BY,
    VALID_TO,
    entity_schema,
    history_table,
)
from edubrain.warehouse.versions import Version

if TYPE_CHECKING:
    import ibis.expr.types as ir

_SQL_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.uint64(): "UBIGINT",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
    pa.bool_(): "BOOLEAN",
}

# Columns that identify a quarantine record: re-ingesting the same file adds none of them again.
_QUARANTINE_IDENTITY = ("file_sha256", "entity", "row_number", "field", "reason", "message")


def q(name: str) -> str:
    """Quote an identifier (entity names such as `class` are SQL keywords)."""
    return '"' + name.replace('"', '""') + '"'


def _columns_sql(schema: pa.Schema) -> str:
    return ", ".join(f"{q(f.name)} {_SQL_TYPES[f.type]}" for f in schema)


def _register_once(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Make `table` readable as `name` for ONE statement.

    A registered `pa.Table` stays referenced by the open transaction until it commits: a file
    loaded in chunks would keep every chunk's rows in memory. A batch reader is consumed by
    the statement and then held by nothing.
    """
    con.register(name, pa.RecordBatchReader.from_batches(table.schema, table.to_batches()))


def _key_join(ent: Entity, left: str, right: str) -> str:
    # Natural-key fields are required, so plain equality (a fast hash join) is exact.
    return " AND ".join(f"{left}.{q(k)} = {right}.{q(k)}" for k in ent.natural_key)


_ALIASES = itertools.count(1)


def _open_this_version(
    path: Path, config: dict[str, Any]
) -> tuple[duckdb.DuckDBPyConnection, Version | None]:
    """Open the file `path` names now, read-only, and say which version that is.

    DuckDB keeps one database per path in a process: opening the same path again after a
    writer published a new version would give the old one. So the file is opened under a
    name of its own (a hard link, removed once open), which also pins down the version.
    """
    alias = path.with_name(f"{path.name}.{os.getpid()}-{next(_ALIASES)}.reading")
    try:
        os.link(path, alias)
    except OSError:  # no hard links here: the path itself (a version switch reopens late)
        return duckdb.connect(str(path), read_only=True, config=config), Version.of(path)
    wal = path.with_name(path.name + ".wal")
    wal_alias = alias.with_name(alias.name + ".wal")
    try:
        if wal.exists():
            os.link(wal, wal_alias)
        version = Version.of(alias)
        return duckdb.connect(str(alias), read_only=True, config=config), version
    finally:
        alias.unlink(missing_ok=True)
        wal_alias.unlink(missing_ok=True)


class DuckDBWarehouse:
    """The warehouse in one DuckDB file. Use as a context manager; one writer process at a time."""

    def __init__(
        self,
        path: Path,
        *,
        threads: int = 0,
        memory_limit: str | None = None,
        checkpoint_memory_limit: str | None = None,
        wal_size: str | None = None,
        read_only: bool = False,
        on_close: Callable[[], None] | None = None,
        published_as: Path | None = None,
    ) -> None:
        """`on_close` runs after the file is closed (a writer publishes its version there);
        `published_as`: the name readers know this file by, when it is a writer's copy."""
        if read_only and not path.exists():
            # A first start before any ingest: make the empty warehouse, then read it.
            DuckDBWarehouse(path, threads=threads, memory_limit=memory_limit).close()
        config: dict[str, Any] = {
            # Only the built-in extensions work offline; never reach for the network.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        self._published = published_as or path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if read_only:
                self._con, self.version = _open_this_version(path, config)
            else:
                self._con = duckdb.connect(str(path), config=config)
                self.version = Version.of(path)
        except (duckdb.Error, OSError) as exc:
            raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
        self._on_close = on_close
        # DuckDB draws a bar on stdout for queries over 2 s; stdout is for `--json`.
        self._con.execute("SET enable_progress_bar = false")
        if wal_size and not read_only:
            # Fewer checkpoints while a long ingest commits file after file (settings).
            self._con.execute(f"SET checkpoint_threshold = '{wal_size}'")
        self.path = path
        self._read_only = read_only
        self._checkpoint_memory_limit = checkpoint_memory_limit
        self._ibis: Any = None
        self._thread = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        if not read_only:
            self._create_tables()

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> DuckDBWarehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._cursors_lock:
            for cursor in self._cursors:
                cursor.close()
            self._cursors.clear()
        if not self._read_only and self._checkpoint_memory_limit:
            self._bounded_checkpoint(self._checkpoint_memory_limit)
        self._con.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    def is_current(self) -> bool:
        """False once a writer has published a newer version under this warehouse's name."""
        return self._published != self.path or Version.of(self.path) == self.version

    def _bounded_checkpoint(self, limit: str) -> None:
        """Write the last changes into the file under a small buffer limit, before closing.

        DuckDB checkpoints on close with the buffer limit the connection had (by default 80 % of
        RAM, so nothing is evicted): after a large load, e.g. 4.4 M quarantine rows, that
        checkpoint alone took ~800 MiB above the load's own peak. With a lower limit it evicts
        as it writes. If the limit cannot be reached (memory pinned elsewhere) or the checkpoint
        fails, close checkpoints as before; nothing committed is lost either way.
        """
        try:
            self._con.execute(f"SET memory_limit = '{limit}'")
            self._con.execute("CHECKPOINT")
        except duckdb.Error:
            return

    def _create_tables(self) -> None:
        con = self._con
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {q(QUARANTINE_TABLE)} ({_columns_sql(QUARANTINE_SCHEMA)})"
        )
        con.execute(f"CREATE TABLE IF NOT EXISTS {q(LOADS_TABLE)} ({_columns_sql(LOADS_SCHEMA)})")
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {q(LOAD_UNITS_TABLE)} ({_columns_sql(LOAD_UNITS_SCHEMA)})"
        )
        have: dict[str, set[str]] = {}
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal"
        ).fetchall():
            have.setdefault(table, set()).add(column)
        # A column added to the quarantine later becomes a NULL column on old warehouses.
        for f in QUARANTINE_SCHEMA:
            if f.name not in have.get(QUARANTINE_TABLE, set()):
                con.execute(f"ALTER TABLE {q(QUARANTINE_TABLE)} ADD COLUMN {q(f.name)} VARCHAR")
        for ent in entities():
            current = pa.unify_schemas([entity_schema(ent), LINEAGE_SCHEMA])
            history = pa.unify_schemas([current, HISTORY_EXTRA_SCHEMA])
            for name, schema in ((ent.name, current), (history_table(ent.name), history)):
                if name not in have:
                    con.execute(f"CREATE TABLE {q(name)} ({_columns_sql(schema)})")
                    continue
                # A field added to the standard later becomes a NULL column on old warehouses.
                for f in schema:
                    if f.name not in have[name]:
                        con.execute(
                            f"ALTER TABLE {q(name)} ADD COLUMN {q(f.name)} {_SQL_TYPES[f.type]}"
                        )

    # -- reads -----------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self._con)
        table: ir.Table = self._ibis.table(name)
        return table

    def prepare(self, expr: ir.Table, params: Mapping[str, ir.Scalar]) -> _DuckDBPreparedRead:
        """Compile `expr` once; each run binds the named string parameters as SQL parameters.

        Compiling an Ibis expression costs milliseconds of Python; a service answering the same
        query shape with new values (a cursor, a key) pays it once per shape instead.
        """
        if self._ibis is None:
            self._ibis = ibis.duckdb.from_connection(self._con)
        marks = {name: f"edubrain-param-{name}-{uuid.uuid4().hex}" for name in params}
        sql = str(self._ibis.compile(expr, params={p: marks[n] for n, p in params.items()}))
        for name, mark in marks.items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise WarehouseError(f"parameter name {name!r}: letters, digits and _ only")
            if f"'{mark}'" not in sql:
                raise WarehouseError(f"parameter {name!r} is not a string literal of the query")
            sql = sql.replace(f"'{mark}'", f"${name}")
        return _DuckDBPreparedRead(sql, tuple(params), self._thread_cursor)

    def _thread_cursor(self) -> duckdb.DuckDBPyConnection:
        # A DuckDB connection must not be shared between threads mid-query; a cursor per thread
        # lets concurrent reads run in parallel (DuckDB releases the GIL while it works).
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._thread, "cursor", None)
        if cursor is None:
            cursor = self._con.cursor()
            self._thread.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def to_arrow(self, name: str) -> pa.Table:
        result: pa.Table = self._con.execute(f"SELECT * FROM {q(name)}").to_arrow_table()
        return result

    def count(self, name: str) -> int:
        row = self._con.execute(f"SELECT count(*) FROM {q(name)}").fetchone()
        return int(row[0]) if row else 0

    def has_table(self, name: str) -> bool:
        row = self._con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [name]
        ).fetchone()
        return bool(row and row[0])

    def export_parquet(self, name: str, path: Path, *, exclude: tuple[str, ...] = ()) -> None:
        """Write a table to a Parquet file (for the Spark backend or another engine)."""
        cols = [
            c
            for (c,) in self._con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND NOT internal "
                "ORDER BY column_index",
                [name],
            ).fetchall()
            if c not in exclude
        ]
        if not cols:
            raise WarehouseError(f"no table {name!r} to export")
        path.parent.mkdir(parents=True, exist_ok=True)
        target = str(path).replace("'", "''")
        select = ", ".join(q(c) for c in cols)
        self._con.execute(f"COPY (SELECT {select} FROM {q(name)}) TO '{target}' (FORMAT parquet)")

    # -- writes ----------------------------------------------------------------------------
    def rewrite_strings(
        self,
        pattern: str,
        rewrite: Callable[[pa.Array], pa.Array],
        progress: Callable[[str, int], None] | None = None,
    ) -> int:
        """Replace, in one transaction, every text value matching `pattern` (an RE2 regex) by
        `rewrite` of it, in every column of every table, text inside lists and structs too.

        `rewrite` maps an array of distinct values to their replacements, in order. Flat text
        columns are updated in place through a value map; a table with matching nested text is
        rewritten whole. `progress(table, values)` after each table. Returns values replaced.
        """
        con = self._con
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, kind in con.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
            "JOIN duckdb_tables() t USING (table_name) WHERE NOT c.internal "
            "AND NOT t.temporary AND c.data_type LIKE '%VARCHAR%' ORDER BY 1, c.column_index"
        ).fetchall():
            columns.setdefault(table, []).append((column, kind))
        total = 0
        with self.transaction():
            for table, cols in columns.items():
                changed = 0
                nested = False
                for column, kind in cols:
                    if kind != "VARCHAR":
                        row = con.execute(
                            f"SELECT count(*) FROM {q(table)} "
                            f"WHERE regexp_matches(CAST({q(column)} AS VARCHAR), ?)",
                            [pattern],
                        ).fetchone()
                        nested = nested or bool(row and row[0])
                        continue
                    old = con.execute(
                        f"SELECT DISTINCT {q(column)} AS old FROM {q(table)} "
                        f"WHERE regexp_matches({q(column)}, ?)",
                        [pattern],
                    ).to_arrow_table()
                    if not old.num_rows:
                        continue
                    values = old.column("old").combine_chunks()
                    mapping = pa.table({"old": values, "new": rewrite(values)})
                    mapping = mapping.filter(pc.not_equal(mapping["old"], mapping["new"]))
                    if not mapping.num_rows:
                        continue
                    con.register("__rewrite", mapping)
                    try:
                        con.execute(
                            f"UPDATE {q(table)} SET {q(column)} = m.new FROM __rewrite m "
                            f"WHERE {q(table)}.{q(column)} = m.old"
                        )
                    finally:
                        con.unregister("__rewrite")
                    changed += mapping.num_rows
                if nested:
                    whole = con.execute(f"SELECT * FROM {q(table)}").to_arrow_table()
                    arrays = [
                        _rewrite_nested(whole.column(i).combine_chunks(), pattern, rewrite)
                        for i in range(whole.num_columns)
                    ]
                    con.register("__rewrite", pa.Table.from_arrays(arrays, schema=whole.schema))
                    try:
                        con.execute(f"DELETE FROM {q(table)}")
                        con.execute(f"INSERT INTO {q(table)} SELECT * FROM __rewrite")
                    finally:
                        con.unregister("__rewrite")
                    changed += whole.num_rows
                total += changed
                if progress is not None:
                    progress(table, changed)
        return total

    @contextmanager
    def transaction(self) -> Iterator[_DuckDBTransaction]:
        self._con.begin()
        try:
            yield _DuckDBTransaction(self._con)
        except BaseException:
            # KeyboardInterrupt too: the file being loaded leaves no trace.
            self._con.rollback()
            raise
        try:
            self._con.commit()
        except duckdb.Error as exc:
            raise WarehouseError(f"commit to {self.path} failed: {exc}") from None


def _rewrite_nested(
    values: pa.Array, pattern: str, rewrite: Callable[[pa.Array], pa.Array]
) -> pa.Array:
    """`values` with every matching text leaf (inside lists and structs too) rewritten."""
    kind = values.type
    if pa.types.is_string(kind):
        hit = pc.fill_null(pc.match_substring_regex(values, pattern), False)
        if not pc.any(hit).as_py():
            return values
        distinct = pc.unique(pc.filter(values, hit))
        replaced = pc.take(rewrite(distinct), pc.index_in(values, value_set=distinct))
        return pc.if_else(hit, replaced, values)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        flat = values.flatten()
        inner = _rewrite_nested(flat, pattern, rewrite)
        offsets = pc.subtract(values.offsets, values.offsets[0])
        return type(values).from_arrays(offsets, inner, mask=values.is_null())
    if pa.types.is_struct(kind):
        fields = [kind.field(i) for i in range(kind.num_fields)]
        children = [_rewrite_nested(child, pattern, rewrite) for child in values.flatten()]
        return pa.StructArray.from_arrays(children, fields=fields, mask=values.is_null())
    return values


class _DuckDBPreparedRead:
    def __init__(
        self, sql: str, names: tuple[str, ...], cursor: Callable[[], duckdb.DuckDBPyConnection]
    ) -> None:
        self._sql, self._names, self._cursor = sql, names, cursor

    def run(self, values: Mapping[str, str]) -> pa.Table:
        bound = {name: values[name] for name in self._names}
        result: pa.Table = self._cursor().execute(self._sql, bound).to_arrow_table()
        return result


class _DuckDBTransaction:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._fresh: dict[str, int] = {}
        """Per file (SHA-256) that had no quarantine records before this transaction: the
        highest row number this transaction stored for it, all of them without a check."""

    def _scalar(self, sql: str, params: list[Any] | None = None) -> int:
        row = self._con.execute(sql, params or []).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def write_quarantine(self, records: pa.Table) -> int:
        if records.num_rows == 0:
            return 0
        con = self._con
        _register_once(con, "__quarantine_new", records.select(QUARANTINE_SCHEMA.names))
        shas = records.column("file_sha256").unique().to_pylist()
        numbers = records.column("row_number")
        lowest: int | None = None
        highest: int | None = None
        if numbers.null_count == 0:
            lowest, highest = pc.min(numbers).as_py(), pc.max(numbers).as_py()
        # Records are identified with their file's content and row number. A file with none
        # stored before this transaction (the usual case) is inserted without joining on six
        # columns; so are its later chunks, whose rows this transaction has not stored yet:
        # else each chunk of a file of junk rows would be joined with all the earlier ones, in
        # time and memory growing with the file.
        fresh = lowest is not None and all(sha in self._fresh for sha in shas)
        if lowest is not None and fresh and not all(self._fresh[sha] < lowest for sha in shas):
            # Rows among those already stored (a chunk split by shape): look for their numbers.
            _register_once(con, "__quarantine_rows", pa.table({"row_number": pc.unique(numbers)}))
            try:
                fresh = not self._scalar(
                    f"SELECT count(*) FROM (SELECT 1 FROM {q(QUARANTINE_TABLE)} "
                    "WHERE file_sha256 IN (SELECT unnest(?)) "
                    "AND row_number IN (SELECT row_number FROM __quarantine_rows) LIMIT 1)",
                    [shas],
                )
            finally:
                con.unregister("__quarantine_rows")
        if not fresh:
            fresh = not self._scalar(
                f"SELECT count(*) FROM (SELECT 1 FROM {q(QUARANTINE_TABLE)} "
                "WHERE file_sha256 IN (SELECT unnest(?)) LIMIT 1)",
                [shas],
            )
        if fresh:
            try:
                con.execute(f"INSERT INTO {q(QUARANTINE_TABLE)} SELECT * FROM __quarantine_new")
            finally:
                con.unregister("__quarantine_new")
            for sha in shas:
                if highest is None:
                    self._fresh.pop(sha, None)
                else:
                    self._fresh[sha] = max(self._fresh.get(sha, highest), highest)
            return int(records.num_rows)
        for sha in shas:
            self._fresh.pop(sha, None)
        try:
            same = " AND ".join(
                f"e.{q(c)} IS NOT DISTINCT FROM n.{q(c)}" for c in _QUARANTINE_IDENTITY
            )
            before = self._scalar(f"SELECT count(*) FROM {q(QUARANTINE_TABLE)}")
            con.execute(
                f"INSERT INTO {q(QUARANTINE_TABLE)} SELECT n.* FROM __quarantine_new n "
                f"WHERE NOT EXISTS (SELECT 1 FROM {q(QUARANTINE_TABLE)} e WHERE {same})"
            )
            return self._scalar(f"SELECT count(*) FROM {q(QUARANTINE_TABLE)}") - before
        finally:
            con.unregister("__quarantine_new")

    def merge(
        self, ent: Entity, rows: pa.Table, *, load_id: str, source: str, valid_from: datetime
    ) -> MergeCounts:
        con = self._con
        fields = [f.name for f in ent.fields]
        target, history = q(ent.name), q(history_table(ent.name))
        cols = ", ".join(q(f) for f in fields)
        _register_once(con, "__stage", rows.select(fields))
        lineage_cols = ", ".join(q(c) for c in LINEAGE_COLUMNS)
        row_hash = f"hash({', '.join('s.' + q(f) for f in fields)})"
        if self._scalar(f"SELECT count(*) FROM (SELECT 1 FROM {target} LIMIT 1)") == 0:
            # First load of an entity: nothing to compare with, insert straight from Arrow.
            try:
                con.execute(
                    f"INSERT INTO {target} ({cols}, {lineage_cols}) "
                    f"SELECT {cols}, ?, ?, {row_hash}, ?::TIMESTAMP FROM __stage s",
                    [load_id, source, valid_from],
                )
            finally:
                con.unregister("__stage")
            return MergeCounts(rows.num_rows, 0, 0)
        keys = ", ".join(f"s.{q(k)}" for k in ent.natural_key)
        try:
            # Only the rows whose key is stored already: a file of new records (the usual case)
            # is then inserted straight from Arrow, without a copy of every row in between.
            # DuckDB's hash() is a fast 64-bit content hash; it is only compared per key.
            con.execute(
                "CREATE OR REPLACE TEMP TABLE __merge AS "
                f"SELECT {keys}, {row_hash} AS __new_hash, t.{q(ROW_HASH)} AS __old_hash "
                f"FROM __stage s JOIN {target} t ON {_key_join(ent, 't', 's')}"
            )
        finally:
            con.unregister("__stage")
        row = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE __old_hash <> __new_hash) FROM __merge"
        ).fetchone()
        matched, updated = (int(x) for x in row) if row else (0, 0)
        inserted, unchanged = rows.num_rows - matched, matched - updated
        if updated:
            changed = "m.__old_hash <> m.__new_hash"
            lineage = ", ".join(f"t.{q(c)}" for c in LINEAGE_COLUMNS)
            t_cols = ", ".join(f"t.{q(f)}" for f in fields)
            # Columns by name: on a warehouse made before a field was added to the standard,
            # the history table has the new column last (after _valid_to, _superseded_by).
            history_cols = f"{cols}, {lineage_cols}, {q(VALID_TO)}, {q(SUPERSEDED_BY)}"
            con.execute(
                f"INSERT INTO {history} ({history_cols}) "
                f"SELECT {t_cols}, {lineage}, ?::TIMESTAMP, ? "
                f"FROM {target} t JOIN __merge m ON {_key_join(ent, 't', 'm')} WHERE {changed}",
                [valid_from, load_id],
            )
            con.execute(
                f"DELETE FROM {target} t USING __merge m "
                f"WHERE {_key_join(ent, 't', 'm')} AND {changed}"
            )
        if inserted or updated:
            # New and changed rows: all but the unchanged ones.
            skip = (
                f" WHERE NOT EXISTS (SELECT 1 FROM __merge m WHERE {_key_join(ent, 'm', 's')} "
                "AND m.__old_hash = m.__new_hash)"
                if unchanged
                else ""
            )
            _register_once(con, "__stage", rows.select(fields))
            try:
                con.execute(
                    f"INSERT INTO {target} ({cols}, {lineage_cols}) "
                    f"SELECT {cols}, ?, ?, {row_hash}, ?::TIMESTAMP FROM __stage s{skip}",
                    [load_id, source, valid_from],
                )
            finally:
                con.unregister("__stage")
        con.execute("DROP TABLE __merge")
        return MergeCounts(inserted, updated, unchanged)

    def replace_table(self, name: str, rows: pa.Table) -> None:
        """Create or replace a derived table (e.g. identities) with exactly `rows`."""
        self._con.register("__replace", rows)
        try:
            self._con.execute(f"CREATE OR REPLACE TABLE {q(name)} AS SELECT * FROM __replace")
        finally:
            self._con.unregister("__replace")

    def append_rows(self, name: str, rows: pa.Table) -> None:
        """Append `rows` to a derived table, creating it with their schema if it is missing."""
        self._con.register("__append", rows)
        try:
            self._con.execute(
                f"CREATE TABLE IF NOT EXISTS {q(name)} AS SELECT * FROM __append LIMIT 0"
            )
            cols = ", ".join(q(c) for c in rows.column_names)
            self._con.execute(f"INSERT INTO {q(name)} ({cols}) SELECT {cols} FROM __append")
        finally:
            self._con.unregister("__append")

    def record_load(self, load: LoadRecord) -> None:
        values = [getattr(load, name) for name in LOADS_SCHEMA.names]
        marks = ", ".join("?" for _ in values)
        self._con.execute(f"INSERT INTO {q(LOADS_TABLE)} VALUES ({marks})", values)
