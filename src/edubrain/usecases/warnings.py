"""Warnings (预警) raised by indicator rules: list, group, roll up per school, the week's short
list, acknowledge, resolve, history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from edubrain.errors import ConfigError
from edubrain.indicators.definitions import Grain
from edubrain.indicators.warning_triage import (
    SchoolRollup,
    SchoolSize,
    WarningGroup,
    WeekItem,
    group_warnings,
    roll_up_schools,
    week_list,
)
from edubrain.indicators.warnings import IndicatorWarning, Level, Status, WarningStore
from edubrain.service.store import open_store
from edubrain.service.units import school_sizes
from edubrain.settings import Settings
from edubrain.usecases.ready import require_workspace
from edubrain.warehouse import open_warehouse


def _parse(values: Sequence[str], allowed: type[Level] | type[Status], flag: str) -> list[str]:
    out = []
    for v in values:
        try:
            out.append(allowed(v).value)
        except ValueError:
            names = ", ".join(m.value for m in allowed)
            raise ConfigError(f"{flag} {v!r}: use one of {names}") from None
    return out


def list_warnings(
    settings: Settings,
    *,
    statuses: Sequence[str] = (),
    levels: Sequence[str] = (),
    every_status: bool = False,
) -> list[IndicatorWarning]:
    """Warnings, most severe first; with no status given, the open and acknowledged ones (or,
    with `every_status`, all)."""
    chosen = _parse(statuses, Status, "--status") or (
        [] if every_status else [Status.OPEN.value, Status.ACKNOWLEDGED.value]
    )
    wanted = _parse(levels, Level, "--level")
    require_workspace(settings)
    with open_store(settings) as store:
        return WarningStore(store).query(status=chosen, level=wanted)


def acknowledge(settings: Settings, warning_id: str, *, by: str, note: str) -> IndicatorWarning:
    """open → acknowledged: someone has seen it and owns it."""
    with open_store(settings) as store:
        return WarningStore(store).acknowledge(warning_id, by, note, datetime.now())


def resolve(settings: Settings, warning_id: str, *, by: str, note: str) -> IndicatorWarning:
    """→ resolved. If the next computation still finds the condition, it reopens."""
    with open_store(settings) as store:
        return WarningStore(store).resolve(warning_id, by, note, datetime.now())


def history(settings: Settings, warning_id: str) -> tuple[IndicatorWarning, list[dict[str, Any]]]:
    """One warning and every event of it: opened, updated, acknowledged, resolved, reopened."""
    with open_store(settings) as opened:
        store = WarningStore(opened)
        return store.get(warning_id), store.events(warning_id)


def _sizes(settings: Settings) -> dict[str, SchoolSize]:
    with open_warehouse(settings, read_only=True) as wh:
        return school_sizes(wh.table, lambda t: t.to_pyarrow().to_pylist())


def _rows(settings: Settings, statuses: Sequence[str]) -> list[dict[str, Any]]:
    return [w.as_dict() for w in list_warnings(settings, statuses=statuses)]


def warning_groups(settings: Settings, *, statuses: Sequence[str] = ()) -> list[WarningGroup]:
    """The same condition grouped across units (default: open and acknowledged), worst first."""
    return group_warnings(_rows(settings, statuses), _sizes(settings))


def school_rollup(settings: Settings, *, statuses: Sequence[str] = ()) -> list[SchoolRollup]:
    """One line per school: its warnings by level and its worst item."""
    return roll_up_schools(_rows(settings, statuses))


def this_week(
    settings: Settings, *, regions: Sequence[str] = (Grain.COUNTY.value,)
) -> list[WeekItem]:
    """本周待决策: the open 红/橙 conditions a leader must decide, at most 10 — of the schools
    and of the region grains in `regions` (a county bureau's by default, not the city's)."""
    wanted = {Grain.SCHOOL.value, Grain.STAGE_COUNTY.value, *regions}
    return week_list(_rows(settings, []), _sizes(settings), decides=lambda r: r["grain"] in wanted)
