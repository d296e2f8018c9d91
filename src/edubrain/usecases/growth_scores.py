"""综合素质评价: score every pupil-term of `growth_record` by the scheme into `growth_score`.

Called by `edubrain growth score` (as a job, recorded like the others) and by the runner for a
queued `growth_scores` job. The scheme is the bureau's file in `home/schemes/` or the packaged
example; a broken scheme file stops the run before anything is scored (`SchemeFileError`:
file, line, reason). Records confirmed after 公示 in the cockpit (the operational store's
submissions) are scored with the warehouse's. The table is replaced whole each run
(`derived_table.rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edubrain.modules.growth.scheme import active_scheme
from edubrain.modules.growth.score_job import GROWTH_SCORE_TABLE, Outcome, score_growth
from edubrain.modules.growth.workflow import TOPIC
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases.derived_table import rebuild

__all__ = ["GROWTH_SCORE_TABLE", "Outcome", "growth_scores"]


def growth_scores(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Check the scheme file, then score the warehouse's records and the records confirmed
    after 公示 in the cockpit, and store."""
    scheme = active_scheme(settings.workspace.schemes)
    with open_store(settings) as store:
        confirmed: list[dict[str, Any]] = [
            {"student_number": s["subject"], **s["payload"]}
            for s in store.submissions(TOPIC, statuses=["confirmed"])
        ]
    return rebuild(
        settings,
        GROWTH_SCORE_TABLE,
        lambda wh, now: score_growth(wh, scheme, scored_at=now, note=note, confirmed=confirmed),
    )
