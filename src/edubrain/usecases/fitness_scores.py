"""体测评分: score every fitness test by the 国家学生体质健康标准 (2014) and store `fitness_score`.

Called by `edubrain fitness score` (as a job, recorded like the others), by the runner for a
queued `fitness_scores` job and by the bureau's nightly schedule (before the indicators, which
read the table). The scoring is the fitness module's (`modules.fitness.score_job`); the table is
replaced whole each run (`derived_table.rebuild`), so it always matches the raw results and the
packaged standard.
"""

from __future__ import annotations

from collections.abc import Callable

from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE, Outcome, score_fitness
from edubrain.settings import Settings
from edubrain.usecases.derived_table import rebuild

__all__ = ["FITNESS_SCORE_TABLE", "Outcome", "fitness_scores"]


def fitness_scores(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Score and store."""
    return rebuild(
        settings,
        FITNESS_SCORE_TABLE,
        lambda wh, now: score_fitness(wh, scored_at=now, note=note),
    )
