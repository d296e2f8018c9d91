"""健康筛查: classify each health check (WS/T 586, WS/T 456, screening myopia) into `health_status`.

Called by `edubrain health screen` (as a job, recorded like the others), by the runner for a
queued `health_screening` job and by the nightly schedule (before the indicators, which read the
table). The classification is the health module's (`modules.health.screening_job`); the table
is replaced whole each run (`derived_table.rebuild`), so it always matches the checks and the
packaged tables.
"""

from __future__ import annotations

from collections.abc import Callable

from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE, Outcome, screen_health
from edubrain.settings import Settings
from edubrain.usecases.derived_table import rebuild

__all__ = ["HEALTH_STATUS_TABLE", "Outcome", "health_screening"]


def health_screening(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Classify and store."""
    return rebuild(
        settings,
        HEALTH_STATUS_TABLE,
        lambda wh, now: screen_health(wh, screened_at=now, note=note),
    )
