"""The database Splink runs its record-linkage SQL on.

Splink needs a DuckDB connection of its own; it lives here so no other package imports duckdb.
It is a separate in-memory database: Splink's many scratch tables never touch the warehouse
file, and the mentions it links are handed over as Arrow.
"""

from __future__ import annotations

from typing import Any

import duckdb
from splink import DuckDBAPI


def splink_database_api(*, threads: int = 0) -> Any:
    """A Splink `DuckDBAPI` on a fresh in-memory DuckDB that never reaches for the network."""
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads:
        config["threads"] = threads
    return DuckDBAPI(connection=duckdb.connect(":memory:", config=config))
