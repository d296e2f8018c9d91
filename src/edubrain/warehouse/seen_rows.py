"""Rows already seen in one input file, for duplicate checks across the file's chunks.

A private in-memory DuckDB (never the warehouse file): a file of millions of rows keeps its
natural keys and 64-bit content hashes there instead of its rows in Python. Content is compared
by DuckDB's `hash()` over the typed values, as the merge compares row versions.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa


class SeenRows:
    """Keys, content hashes and row numbers of the rows added so far.

    Tables passed in have content columns `c0 … cN` (typed values, the same columns each time)
    plus `row_number` (for `add`) or `idx` (for `earliest`); `key` lists the positions of the
    natural-key columns among the `c` columns.
    """

    def __init__(self, key: list[int], n_content: int) -> None:
        self._key = key
        self._n_content = n_content
        self._content = ", ".join(f"c{i}" for i in range(n_content))
        self._con: duckdb.DuckDBPyConnection | None = None

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def add(self, rows: pa.Table) -> None:
        keys = ", ".join(f"c{k} AS k{i}" for i, k in enumerate(self._key))
        select = f"SELECT {keys}, row_number, hash({self._content}) AS content FROM __rows"
        if self._con is None:
            self._con = duckdb.connect(config={"autoinstall_known_extensions": False})
            statement = f"CREATE TABLE seen AS {select}"
        else:
            statement = f"INSERT INTO seen {select}"
        self._con.register("__rows", rows)
        try:
            self._con.execute(statement)
        finally:
            self._con.unregister("__rows")

    def earliest(self, candidates: pa.Table) -> pa.Table:
        """Per candidate whose key was seen (`idx`): the first seen row with the same content
        (`same_row`, null if none) and the first with the same key (`same_key`)."""
        if self._con is None:
            return pa.table({"idx": pa.array([], pa.int64())})
        on = " AND ".join(f"s.k{i} = c.c{k}" for i, k in enumerate(self._key))
        content = ", ".join(f"c.c{i}" for i in range(self._n_content))
        self._con.register("__candidates", candidates)
        try:
            found: pa.Table = self._con.execute(
                "SELECT c.idx, min(s.row_number) FILTER (WHERE s.content = "
                f"hash({content})) AS same_row, min(s.row_number) AS same_key "
                f"FROM __candidates c JOIN seen s ON {on} GROUP BY c.idx ORDER BY c.idx"
            ).to_arrow_table()
        finally:
            self._con.unregister("__candidates")
        return found
