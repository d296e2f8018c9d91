"""健康筛查: classify each health check (WS/T 586, WS/T 456, screening myopia) into `health_status`.

Called by `edubrain health screen` (as a job, recorded like the others), by the runner for a
queued `health_screening` job and by the nightly schedule (before the indicators, which read the
table). The classification is the health module's (`modules.health.screening_job`); this stores
its rows, replacing the table, so it always matches the checks and the packaged tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE, Outcome, screen_health
from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import open_warehouse

__all__ = ["HEALTH_STATUS_TABLE", "Outcome", "health_screening"]


def health_screening(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Classify and store."""
    require_workspace(settings)
    screened_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        outcome = screen_health(wh, screened_at=screened_at, note=note)
        if outcome.table.num_rows or wh.has_table(HEALTH_STATUS_TABLE):
            with wh.transaction() as tx:
                tx.replace_table(HEALTH_STATUS_TABLE, outcome.table)
    return outcome
