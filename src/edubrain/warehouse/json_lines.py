"""Reading JSON lines whose value types vary from line to line, with DuckDB's JSON reader.

Arrow's JSON reader infers one type per field and gives up on a file where a numeric field holds
a string on some line (`"duration_sec": "9O24"` — exactly the rows quarantine exists for). A
per-line Python parse is 25× slower. DuckDB reads such files at full speed when every wanted
field is declared VARCHAR: numbers and booleans come back as their JSON text.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from edubrain.errors import WarehouseError

_Tree = dict[str, "_Tree | None"]


def _tree(paths: Sequence[str]) -> _Tree:
    root: _Tree = {}
    for dotted in paths:
        node = root
        *parents, leaf = dotted.split(".")
        for name in parents:
            child = node.get(name)
            if child is None:
                child = node[name] = {}
            node = child
        node.setdefault(leaf, None)
    return root


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_type(node: _Tree | None) -> str:
    if node is None:
        return "VARCHAR"
    return "STRUCT(" + ", ".join(f"{_quote(k)} {_duck_type(v)}" for k, v in node.items()) + ")"


def read_json_lines_as_text(path: Path, paths: Sequence[str]) -> pa.Table:
    """The given dotted paths of every line of `path`, as string columns named by the paths.

    Lines keep their order; a key absent from a line is null. Raises WarehouseError when DuckDB
    cannot read the file (invalid JSON, invalid UTF-8), so the caller can fall back.
    """
    columns = ", ".join(
        f"'{name.replace(chr(39), chr(39) * 2)}': '{_duck_type(node)}'"
        for name, node in _tree(paths).items()
    )
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    try:
        table = con.execute(
            f"SELECT * FROM read_json(?, format='newline_delimited', columns={{{columns}}})",
            [str(path)],
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise WarehouseError(f"{path}: {exc}") from exc
    finally:
        con.close()
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table.select(list(dict.fromkeys(paths)))
