"""One person one ID (一人一码): link persons, the steward's review queue and golden records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from edubrain.govern.golden import (
    CONFLICT_TABLE,
    FIELDS,
    LINEAGE_TABLE,
    VALUE_DECISION_TABLE,
    resolve_person,
)
from edubrain.govern.golden import decide_value as _decide_value
from edubrain.govern.linkage import Verdict
from edubrain.govern.run import GovernSummary
from edubrain.govern.run import govern as _govern
from edubrain.govern.steward import verdicts_from
from edubrain.sealing import sealer_for
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import Warehouse, open_warehouse


def stored_verdicts(settings: Settings) -> list[Verdict]:
    """The steward's decisions kept in the operational store, the newest on each pair."""
    with open_store(settings) as store:
        return verdicts_from(store.steward_decisions())


def link_persons(settings: Settings, *, truth: Path | None = None) -> GovernSummary:
    """Link every person mention, keep IDs stable, record merges/splits, refresh the review
    queue; the steward's decisions win. `truth`: a generator truth folder to evaluate against."""
    require_workspace(settings)  # no pupil mentions in it: the same one line (`govern.run`)
    return _govern(settings, verdicts=stored_verdicts(settings), truth=truth)


@dataclass(frozen=True)
class GoldenRecord:
    person_id: str
    """The active ID (a merged one is followed)."""
    lineage: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


def golden_record(settings: Settings, person_id: str) -> GoldenRecord:
    """One golden record: every field with its value, source, load, mention and deciding rule."""
    with open_warehouse(settings, read_only=True) as wh:
        active = resolve_person(wh, person_id)
        lineage = _rows(wh, LINEAGE_TABLE, active)
        conflicts = _rows(wh, CONFLICT_TABLE, active)
        decisions = _rows(wh, VALUE_DECISION_TABLE, active)
    order = {f: i for i, f in enumerate(FIELDS)}
    lineage.sort(key=lambda r: order.get(str(r["field"]), len(order)))
    return GoldenRecord(active, lineage, conflicts, decisions)


def _rows(wh: Warehouse, name: str, person_id: str) -> list[dict[str, Any]]:
    if not wh.has_table(name):
        return []
    t = wh.table(name)
    rows: list[dict[str, Any]] = t.filter(t.person_id == person_id).to_pyarrow().to_pylist()
    return rows


def value_conflicts(settings: Settings, *, limit: int) -> list[dict[str, Any]]:
    """Fields whose sources disagree and no steward has decided (the value review queue)."""
    with open_warehouse(settings, read_only=True) as wh:
        if not wh.has_table(CONFLICT_TABLE):
            return []
        t = wh.table(CONFLICT_TABLE)
        rows: list[dict[str, Any]] = (
            t.order_by([t.person_id, t.field]).limit(limit).to_pyarrow().to_pylist()
        )
        return rows


def decide_value(
    settings: Settings, person_id: str, field: str, value: str, *, by: str, note: str
) -> str:
    """Record a field's value (an ID number is sealed); it beats survivorship on every later
    linkage run. Returns the active person ID."""
    sealer = sealer_for(settings)
    stored = sealer.seal_text(value) if sealer is not None else value
    with open_warehouse(settings) as wh:
        return _decide_value(wh, person_id, field, stored, by=by, note=note, now=datetime.now())
