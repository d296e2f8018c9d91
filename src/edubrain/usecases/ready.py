"""Whether a workspace holds data yet: commands on an empty or missing one say what to do first.

A use case that reads loaded data calls `require_workspace` before it opens the warehouse (a
missing home is not created by asking) and `require_loads` on the warehouse it opened (a
warehouse another command created holds nothing loaded yet), so an empty `EDUBRAIN_HOME` ends
in one line (`EmptyWorkspaceError`, exit 2) rather than an engine's traceback. Neither opens a
second connection: a command waits for a job writing the warehouse as it always did.
"""

from __future__ import annotations

from edubrain.errors import EmptyWorkspaceError
from edubrain.settings import Settings
from edubrain.warehouse import LOADS_TABLE, Warehouse, WarehouseBusyError, open_warehouse

FIRST = "edubrain ingest 文件夹"


def require_workspace(settings: Settings, first: str = FIRST) -> None:
    """Before opening anything: no warehouse file yet is an empty workspace."""
    if not settings.workspace.warehouse.exists():
        raise EmptyWorkspaceError(settings.home, first)


def require_loads(wh: Warehouse, settings: Settings, first: str = FIRST) -> None:
    """On an open warehouse: nothing ever loaded into it is an empty workspace."""
    if not wh.has_table(LOADS_TABLE) or wh.count(LOADS_TABLE) == 0:
        raise EmptyWorkspaceError(settings.home, first)


def has_data(settings: Settings) -> bool:
    """Whether anything was loaded into this workspace (never waits: a warehouse a job is
    writing has data)."""
    if not settings.workspace.warehouse.exists():
        return False
    try:
        with open_warehouse(settings, read_only=True, wait_seconds=0) as wh:
            return wh.has_table(LOADS_TABLE) and wh.count(LOADS_TABLE) > 0
    except WarehouseBusyError:
        return True
