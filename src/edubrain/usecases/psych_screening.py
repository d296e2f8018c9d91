"""心理筛查: score every sitting of `psych_response` by its scale into `psych_result`.

Called by `edubrain psych screen` (as a job, recorded like the others) and by the runner for a
queued `psych_screening` job. The scales are the packaged example and the bureau's own files in
`home/scales/`; a broken scale file stops the run before anything is scored (`ScaleFileError`:
file, line, reason). The table is replaced whole each run (`derived_table.rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable

from edubrain.modules.psych.scale import available_scales
from edubrain.modules.psych.score_job import PSYCH_RESULT_TABLE, Outcome, score_psych
from edubrain.settings import Settings
from edubrain.usecases.derived_table import rebuild

__all__ = ["PSYCH_RESULT_TABLE", "Outcome", "psych_screening"]


def psych_screening(settings: Settings, *, note: Callable[[str], None] | None = None) -> Outcome:
    """Check the scale files, then score and store."""
    scales = available_scales(settings.workspace.scales)
    return rebuild(
        settings,
        PSYCH_RESULT_TABLE,
        lambda wh, now: score_psych(wh, scales, scored_at=now, note=note),
    )
