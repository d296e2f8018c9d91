"""增值评价: fit the value-added of every exam with a prior and store `exam_value_added`.

Called by `edubrain exams value-added` (as a job, recorded like the others), by the runner for a
queued `value_added` job and by the bureau's schedule. The fit is the exams module's
(`modules.exams.value_added_job`); this stores its rows, replacing the table: every run fits
every school year again from the item scores, so the table always matches them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow as pa

from edubrain.modules.exams.value_added_job import (
    VALUE_ADDED_SCHEMA,
    VALUE_ADDED_TABLE,
    Outcome,
    run_value_added,
)
from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import open_warehouse

__all__ = ["VALUE_ADDED_TABLE", "Outcome", "value_added"]


def value_added(
    settings: Settings,
    *,
    school_year: str | None = None,
    note: Callable[[str], None] | None = None,
) -> Outcome:
    """Fit and store; with `school_year`, only that year's rows are refitted (the others kept)."""
    require_workspace(settings)
    fitted_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with open_warehouse(settings) as wh:
        outcome = run_value_added(wh, fitted_at=fitted_at, school_year=school_year, note=note)
        table = outcome.table()
        if school_year is not None and wh.has_table(VALUE_ADDED_TABLE):
            kept = wh.to_arrow(VALUE_ADDED_TABLE).to_pylist()
            others = [r for r in kept if r["school_year"] != school_year]
            table = pa.Table.from_pylist(others + outcome.rows, VALUE_ADDED_SCHEMA)
        if outcome.rows or wh.has_table(VALUE_ADDED_TABLE):
            with wh.transaction() as tx:
                tx.replace_table(VALUE_ADDED_TABLE, table)
    return outcome
