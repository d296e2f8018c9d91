"""综合素质评价: score every pupil-term of `growth_record` by the scheme into `growth_score`.

Called by `edubrain growth score` (as a job, recorded like the others) and by the runner for a
queued `growth_scores` job. The scheme is the bureau's file in `home/schemes/` or the packaged
example; a broken scheme file stops the run before anything is scored (`SchemeFileError`:
file, line, reason). The table is replaced whole each run (`derived_table.rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable

from edubrain.modules.growth.scheme import active_scheme
from edubrain.modules.growth.score_job import GROWTH_SCORE_TABLE, Outcome, score_growth
from edubrain.settings import Settings
from edubrain.usecases.derived_table import rebuild

__all__ = ["GROWTH_SCORE_TABLE", "Outcome", "growth_scores"]


def growth_scores(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Check the scheme file, then score and store."""
    scheme = active_scheme(settings.workspace.schemes)
    return rebuild(
        settings,
        GROWTH_SCORE_TABLE,
        lambda wh, now: score_growth(wh, scheme, scored_at=now, note=note),
    )
