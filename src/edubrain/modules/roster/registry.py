"""The 学籍 as the jobs read it: every pupil's rows, the current ones before their history.

`student` holds each pupil's current version, `student__history` the versions it replaced
(earlier school years, or an older version of the same year). A job that wants "where was this
pupil in that school year" keeps the first row it sees for a key, so the current version wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from edubrain.warehouse.api import OptionalTables

REGISTRY_TABLES = ("student", "student__history")


def registry_rows(tables: OptionalTables, columns: Sequence[str]) -> Iterator[dict[str, Any]]:
    """The 学籍's rows (these columns), current versions first; none before it is loaded."""
    for name in REGISTRY_TABLES:
        if tables.has_table(name):
            yield from tables.table(name).select(*columns).to_pyarrow().to_pylist()


def school_by_pupil_year(tables: OptionalTables) -> dict[tuple[str, str], str]:
    """(学籍号, school year) → the school the 学籍 places the pupil in that year (the current
    row winning over its history); a pupil-year the 学籍 does not name is not a key."""
    found: dict[tuple[str, str], str] = {}
    for r in registry_rows(tables, ("student_number", "school_year", "school_code")):
        if r["school_code"] is not None:
            found.setdefault(
                (str(r["student_number"]), str(r["school_year"])), str(r["school_code"])
            )
    return found
