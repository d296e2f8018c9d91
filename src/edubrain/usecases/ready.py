"""Whether a workspace holds data yet: commands on an empty or missing one say what to do first.

Every use case that reads loaded data calls `require_data` before it opens anything for
writing, so an empty `EDUBRAIN_HOME` ends in one line (`EmptyWorkspaceError`, exit 2) rather
than an engine's traceback, and a missing home is not created by asking.
"""

from __future__ import annotations

from edubrain.errors import EmptyWorkspaceError
from edubrain.settings import Settings
from edubrain.warehouse import LOADS_TABLE, open_warehouse


def has_data(settings: Settings) -> bool:
    """Whether anything was ever loaded into this workspace's warehouse."""
    if not settings.workspace.warehouse.exists():
        return False
    with open_warehouse(settings, read_only=True) as wh:
        return wh.has_table(LOADS_TABLE) and wh.count(LOADS_TABLE) > 0


def require_data(settings: Settings, first: str = "edubrain ingest 文件夹") -> None:
    """Raise `EmptyWorkspaceError` (saying to run `first`) when nothing was loaded yet."""
    if not has_data(settings):
        raise EmptyWorkspaceError(settings.home, first)
