"""A module's derived table rebuilt whole: the job reads the warehouse, the table is replaced.

The fitness scores and the health screening are computed from every raw row each time (so the
stored table always matches the raw results and the packaged standards); both are stored the
same way, here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import pyarrow as pa

from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import open_warehouse
from edubrain.warehouse.api import OptionalTables


class Built(Protocol):
    @property
    def table(self) -> pa.Table: ...


B = TypeVar("B", bound=Built)


def rebuild(settings: Settings, name: str, build: Callable[[OptionalTables, datetime], B]) -> B:
    """Run `build(warehouse, now)` and replace table `name` with its rows (an empty result
    replaces a stored table too, and creates none)."""
    require_workspace(settings)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        outcome = build(wh, now)
        if outcome.table.num_rows or wh.has_table(name):
            with wh.transaction() as tx:
                tx.replace_table(name, outcome.table)
    return outcome
