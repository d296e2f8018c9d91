"""体测评分: score every fitness test by the 国家学生体质健康标准 (2014) and store `fitness_score`.

Called by `edubrain fitness score` (as a job, recorded like the others), by the runner for a
queued `fitness_scores` job and by the bureau's nightly schedule (before the indicators, which
read the table). The scoring is the fitness module's (`modules.fitness.score_job`); this stores
its rows, replacing the table: every run scores every test again, so the table always matches
the raw results and the packaged standard.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE, Outcome, score_fitness
from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import open_warehouse

__all__ = ["FITNESS_SCORE_TABLE", "Outcome", "fitness_scores"]


def fitness_scores(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Score and store."""
    require_workspace(settings)
    scored_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        outcome = score_fitness(wh, scored_at=scored_at, note=note)
        if outcome.table.num_rows or wh.has_table(FITNESS_SCORE_TABLE):
            with wh.transaction() as tx:
                tx.replace_table(FITNESS_SCORE_TABLE, outcome.table)
    return outcome
