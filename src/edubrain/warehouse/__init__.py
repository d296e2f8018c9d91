"""The analytical warehouse: the only package that talks to DuckDB and Spark.

Everything else gets a `Warehouse` from `open_warehouse(settings)` and uses its small interface:
`table(name)` for Ibis analytics (the `Tables` Protocol, what analytics type against) and
`transaction()` for loads. `SparkTables` (optional extra
`spark`) serves the same tables to the same Ibis analytics on Spark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from edubrain.settings import Settings
from edubrain.warehouse.api import (
    LoadRecord,
    MergeCounts,
    OptionalTables,
    PreparedRead,
    Tables,
    Transaction,
    Warehouse,
)
from edubrain.warehouse.duckdb_backend import DuckDBWarehouse
from edubrain.warehouse.json_lines import read_json_lines_as_text
from edubrain.warehouse.schema import (
    LINEAGE_COLUMNS,
    LOAD_UNITS_SCHEMA,
    LOAD_UNITS_TABLE,
    LOADS_TABLE,
    QUARANTINE_SCHEMA,
    QUARANTINE_TABLE,
    entity_schema,
    history_table,
)
from edubrain.warehouse.spark_backend import SparkTables
from edubrain.warehouse.versions import (
    ReadingHold,
    WarehouseBusyError,
    Writing,
    being_read,
    writing_in_this_thread,
)

_log = logging.getLogger("edubrain.warehouse")


def warehouse_in_use(settings: Settings) -> bool:
    """Whether a service or another command holds this workspace's warehouse open to read."""
    return being_read(settings.workspace.warehouse)


def open_warehouse(
    settings: Settings,
    *,
    read_only: bool = False,
    wait_seconds: float | None = None,
    on_wait: Callable[[], None] | None = None,
) -> Warehouse:
    """Open (creating if needed) the warehouse at `settings.workspace.warehouse`.

    Read-only, several processes may hold it at once (the service's workers, a command that
    only reads); they wait up to `wait_seconds` (default `settings.warehouse_wait_seconds`;
    the service passes no limit) for a writer that holds the file in place. To write, a
    process waits for the one writer before it, then writes in place when nobody reads, else
    a copy it publishes when it closes (`edubrain.warehouse.versions`). `on_wait` is called
    once when either has to wait.
    """
    path = settings.workspace.warehouse
    options: dict[str, Any] = {
        "threads": settings.warehouse_threads,
        "memory_limit": settings.warehouse_memory_limit,
    }
    outer = writing_in_this_thread(path)
    if outer is not None:
        # This thread already writes the warehouse: read and write what it writes (DuckDB
        # gives the same database); the outermost hold publishes when it closes.
        outer.enter()
        try:
            return DuckDBWarehouse(outer.target, on_close=outer.leave, published_as=path, **options)
        except BaseException:
            outer.leave()
            raise
    if read_only:
        hold = ReadingHold(
            path,
            wait_seconds=settings.warehouse_wait_seconds if wait_seconds is None else wait_seconds,
            on_wait=on_wait or (lambda: _log.warning("等待正在写入数据仓库的任务完成 …")),
        )
        try:
            return DuckDBWarehouse(path, read_only=True, on_close=hold.release, **options)
        except BaseException:
            hold.release()
            raise
    writing = Writing(
        path, on_wait=on_wait or (lambda: _log.warning("等待上一个写入数据仓库的任务完成 …"))
    )
    try:
        return DuckDBWarehouse(
            writing.target,
            checkpoint_memory_limit=settings.warehouse_checkpoint_memory_limit,
            wal_size=settings.warehouse_wal_size,
            on_close=writing.leave,
            published_as=path,
            **options,
        )
    except BaseException:
        writing.release()
        raise


__all__ = [
    "LINEAGE_COLUMNS",
    "LOADS_TABLE",
    "LOAD_UNITS_SCHEMA",
    "LOAD_UNITS_TABLE",
    "QUARANTINE_SCHEMA",
    "QUARANTINE_TABLE",
    "DuckDBWarehouse",
    "LoadRecord",
    "MergeCounts",
    "OptionalTables",
    "PreparedRead",
    "SparkTables",
    "Tables",
    "Transaction",
    "Warehouse",
    "WarehouseBusyError",
    "entity_schema",
    "history_table",
    "open_warehouse",
    "read_json_lines_as_text",
    "warehouse_in_use",
]
