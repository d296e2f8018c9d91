"""The steward's queue from the CLI and the `steward` job: the queue with states and both sides,
decisions and undos in bulk, and putting them into effect (`service.steward_queue` holds the
part the service shares)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from edubrain.govern.steward import (
    APPLIED_TABLE,
    REVIEW_TABLE,
    StewardError,
    check_decision,
    verdicts_from,
)
from edubrain.govern.steward_apply import ApplySummary, apply_decisions
from edubrain.sealing import sealer_for
from edubrain.service.steward_queue import (
    BulkOutcome,
    Decision,
    decide_many,
    side_by_side,
    with_states,
)
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.standard.entities import DataClass, unit_registry
from edubrain.usecases.ready import require_loads, require_workspace
from edubrain.warehouse import LOADS_TABLE, open_warehouse

__all__ = ["BulkOutcome", "Decision", "apply", "decide", "queue"]


# ---- the CLI's entry points ------------------------------------------------------------------


def queue(settings: Settings, *, limit: int) -> list[dict[str, Any]]:
    """The queue with states, pairs to decide first, most impact first; side by side in
    clear (the CLI is the operator's, on the machine that holds the key)."""
    require_workspace(settings)
    with open_warehouse(settings, read_only=True) as wh:
        require_loads(wh, settings)
        review = wh.to_arrow(REVIEW_TABLE).to_pylist() if wh.has_table(REVIEW_TABLE) else []
        applied = wh.to_arrow(APPLIED_TABLE).to_pylist() if wh.has_table(APPLIED_TABLE) else []
        files, schools = {}, {}
        school_table = unit_registry().school_entity
        if wh.has_table(school_table):
            names = wh.to_arrow(school_table).select(["school_code", "name"]).to_pylist()
            schools = {str(r["school_code"]): str(r["name"]) for r in names}
        if wh.has_table(LOADS_TABLE):
            loads = wh.to_arrow(LOADS_TABLE).select(["load_id", "file"]).to_pylist()
            files = {str(r["load_id"]): str(r["file"]) for r in loads}
        sealer = sealer_for(settings)
    with open_store(settings) as store:
        rows = with_states(review, applied, store.steward_decisions())[:limit]
    opener = sealer.open_text if sealer is not None else None
    everything = frozenset(DataClass)
    for row in rows:
        row["fields"] = side_by_side(row, everything, opener, school_names=schools, files=files)
        if opener is not None:  # the keys as typed back (`decide` seals them again)
            for side in ("mention_key_l", "mention_key_r"):
                row[side] = opener(str(row[side]))
    return rows


def decide(settings: Settings, decisions: Sequence[Decision], *, by: str) -> BulkOutcome:
    """Record decisions (or undos) given by mention key or person ID, each on its own."""
    sealer = sealer_for(settings)

    def resolve_one(ref: str) -> str | None:
        try:
            with open_warehouse(settings, read_only=True) as wh:
                a, _ = check_decision(wh, ref, "\x00", "same", sealer)
        except StewardError:
            return None
        return a

    with open_store(settings) as store:
        return decide_many(store, decisions, resolve_one, by=by,
                           at=datetime.now(UTC).replace(tzinfo=None))  # fmt: skip


def apply(settings: Settings) -> ApplySummary:
    """Re-resolve the persons the decisions in force changed since they were last applied
    (the `steward` job)."""
    require_workspace(settings)
    with open_store(settings) as store:
        verdicts = verdicts_from(store.steward_decisions())
    return apply_decisions(settings, verdicts)
