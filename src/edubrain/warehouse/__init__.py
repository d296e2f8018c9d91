"""The analytical warehouse: the only package that talks to DuckDB and Spark.

Everything else gets a `Warehouse` from `open_warehouse(settings)` and uses its small interface:
`table(name)` for Ibis analytics (the `Tables` Protocol, what analytics type against) and
`transaction()` for loads. `SparkTables` (optional extra
`spark`) serves the same tables to the same Ibis analytics on Spark.
"""

from __future__ import annotations

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


def open_warehouse(settings: Settings, *, read_only: bool = False) -> Warehouse:
    """Open (creating if needed) the warehouse at `settings.workspace.warehouse`.

    Read-only, several processes may hold it at once (the service's workers), and none may
    write it until they all let go.
    """
    return DuckDBWarehouse(
        settings.workspace.warehouse,
        threads=settings.warehouse_threads,
        memory_limit=settings.warehouse_memory_limit,
        checkpoint_memory_limit=settings.warehouse_checkpoint_memory_limit,
        read_only=read_only,
    )


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
    "entity_schema",
    "history_table",
    "open_warehouse",
    "read_json_lines_as_text",
]
