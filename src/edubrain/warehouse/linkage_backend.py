"""The database Splink runs its record-linkage SQL on.

Splink needs a DuckDB connection of its own; it lives here so no other package imports duckdb.
It is a separate in-memory database: Splink's many scratch tables never touch the warehouse
file, and the mentions it links are handed over as Arrow.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from splink import DuckDBAPI


@contextmanager
def splink_database(
    *, threads: int = 0, memory_limit: str | None = None, spill_dir: Path | None = None
) -> Iterator[Any]:
    """A Splink `DuckDBAPI` on a fresh in-memory DuckDB that never reaches for the network.

    An in-memory DuckDB spills to `.tmp` in the current directory; `spill_dir` puts that in
    the workspace instead, and closing the database on exit removes what it spilled.
    """
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if spill_dir is not None:
        config["temp_directory"] = str(spill_dir)
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(":memory:", config=config)
    try:
        yield DuckDBAPI(connection=con)
    finally:
        con.close()
