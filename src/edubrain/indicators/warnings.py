"""Warnings (预警): rules over indicator values, graded 红/橙/黄, with a lifecycle.

Three rules run after every computation of the latest school year:

* **threshold** — a value misses a threshold of its indicator at that grain. Its severity
  follows the *size of the gap* and its *trend* since the previous school year (decision 0018,
  `grade`):

  1. the gap is the shortfall relative to the threshold (|value − threshold| ÷ threshold; in
     the indicator's own unit when the threshold is 0);
  2. the gap's band gives the base level: below the threshold's 橙 band → 黄, from the 橙 band
     → 橙, from the 红 band → 红 (`Threshold.bands`, by default 5% and 15% of the threshold);
  3. the trend compares the gap with last year's gap of the same unit at the same threshold:
     it *grew* (恶化) or is *new* (新出现: met last year) when it rose by at least a quarter of
     the 橙 band, *shrank* (好转) when it fell by at least that much, else it is *stable*
     (持平); with no value last year the trend is unknown (无上年数据);
  4. a growing or new gap raises the level one step (黄 → 橙 → 红), a shrinking gap lowers it
     one step (红 → 橙 → 黄); stable or unknown keeps it. A small stable gap stays 黄.

  Worked example (default bands 5%/15%, threshold ≥ 7.5 m²): 7.2 is a 4% gap → 黄; 6.6 a 12%
  gap → 橙; 6.0 a 20% gap → 红. If 6.6 was 7.1 last year (5.3%), the gap grew by 6.7 points
  ≥ 1.25 → 红; if it was 6.0 (20%), it shrank → 黄.
* **trend** — at county and 学段×county grains, a value moved the wrong way since the previous
  school year by ≥ 10% (黄), ≥ 20% (橙), ≥ 30% (红) of the previous value.
* **target_gap** — a plan target (plans/*.yaml) is behind the straight line from baseline to
  target for this year by ≥ 10% (黄), ≥ 25% (橙), ≥ 50% (红) of the planned change.

One condition (rule × indicator × threshold × grain × unit × 学段) keeps one warning: it is
opened once, updated while the condition holds, reopened if it returns after being resolved,
and resolved by the system when a recomputation no longer finds it. People acknowledge and
resolve warnings with a name and a note; every change is an event. Grouping the same
condition across units, the roll-up per school and the short list of the week are in
`indicators.warning_triage`.

The state and its events are kept in a `WarningBook`: the service's operational store, where
people change them while the service runs (the warehouse is read-only to the service).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import pyarrow as pa

from edubrain.errors import ConflictError, NotFoundError
from edubrain.indicators.catalogue import indicator
from edubrain.indicators.definitions import Direction, Grain
from edubrain.indicators.plans import Plan

TREND_BANDS = (0.10, 0.20, 0.30)  # yellow, orange, red: relative worsening in a year
TARGET_BANDS = (0.10, 0.25, 0.50)  # of the planned change still missing
# A gap's change since last year counts as a trend from this share of its 橙 band on.
TREND_SHARE_OF_BAND = 0.25
STAGE_LABELS = {"primary": "小学", "junior": "初中", "senior": "高中", "": ""}
SYSTEM = "system"


class Level(StrEnum):
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"

    @property
    def zh(self) -> str:
        return {"red": "红", "orange": "橙", "yellow": "黄"}[self.value]

    @property
    def rank(self) -> int:
        return {"red": 3, "orange": 2, "yellow": 1}[self.value]


class Trend(StrEnum):
    """How a threshold's gap moved since the previous school year (see `gap_trend`)."""

    NEW = "new"
    WORSE = "worse"
    STABLE = "stable"
    BETTER = "better"
    UNKNOWN = "unknown"

    @property
    def zh(self) -> str:
        return TREND_ZH[self.value]

    @property
    def worsening(self) -> bool:
        return self in (Trend.NEW, Trend.WORSE)


TREND_ZH = {
    "new": "新出现",
    "worse": "差距扩大",
    "stable": "差距持平",
    "better": "差距缩小",
    "unknown": "无上年数据",
    "": "",
}
_LEVELS_UP = (Level.YELLOW, Level.ORANGE, Level.RED)


def gap_trend(gap: float, gap_before: float | None, orange_band: float) -> Trend:
    """The trend of a threshold's gap: `gap_before` is last year's gap of the same unit (0 when
    it met the threshold, None when there is no value); a change counts from a quarter of the
    threshold's 橙 band on."""
    if gap_before is None:
        return Trend.UNKNOWN
    margin = orange_band * TREND_SHARE_OF_BAND
    if gap_before == 0:
        return Trend.NEW if gap >= margin else Trend.STABLE
    if gap - gap_before >= margin:
        return Trend.WORSE
    if gap_before - gap >= margin:
        return Trend.BETTER
    return Trend.STABLE


def grade(gap: float, bands: tuple[float, float], trend: Trend) -> Level:
    """A missed threshold's level: the gap's band (below 橙 → 黄, from 橙 → 橙, from 红 → 红),
    one step up when the gap is new or grew, one step down when it shrank (decision 0018)."""
    orange, red = bands
    base = 2 if gap >= red else 1 if gap >= orange else 0
    step = 1 if trend.worsening else -1 if trend is Trend.BETTER else 0
    return _LEVELS_UP[max(0, min(2, base + step))]


class Status(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class WarningNotFoundError(NotFoundError):
    """A warning id that is not in the warning table."""


class WarningStateError(ConflictError):
    """A lifecycle step that does not apply to the warning's status."""


@dataclass(frozen=True)
class Condition:
    """What a rule found in one evaluation."""

    key: str
    rule: str
    indicator_id: str
    grain: str
    unit_code: str
    unit_name: str
    stage: str
    school_year: str
    level: Level
    value: float
    reference: float
    message: str
    trend: str = ""
    gap: float | None = None


def _level(measure: float, yellow: float, orange: float, red: float) -> Level | None:
    if measure >= red:
        return Level.RED
    if measure >= orange:
        return Level.ORANGE
    if measure >= yellow:
        return Level.YELLOW
    return None


def _where(row: dict[str, Any]) -> str:
    stage = STAGE_LABELS.get(row["stage"], row["stage"])
    return f"{row['unit_name'] or row['unit_code']}{(' ' + stage) if stage else ''}"


def _fmt(v: float) -> str:
    return f"{v:,.2f}".rstrip("0").rstrip(".") if v == v else "—"


def _condition(
    rule: str,
    qualifier: tuple[str, ...],
    row: dict[str, Any],
    level: Level,
    reference: float,
    message: str,
    *,
    trend: str = "",
    gap: float | None = None,
) -> Condition:
    """A rule's finding on one value row; `qualifier` tells conditions of one row apart."""
    key = "|".join((rule, *qualifier, row["grain"], row["unit_code"], row["stage"]))
    return Condition(
        key=key,
        rule=rule,
        indicator_id=row["indicator_id"],
        grain=row["grain"],
        unit_code=row["unit_code"],
        unit_name=row["unit_name"],
        stage=row["stage"],
        school_year=row["school_year"],
        level=level,
        value=row["value"],
        reference=reference,
        message=message,
        trend=trend,
        gap=gap,
    )


def _value_key(r: dict[str, Any]) -> tuple[str, str, str, str]:
    return (r["indicator_id"], r["grain"], r["unit_code"], r["stage"])


def threshold_conditions(
    rows: Iterable[dict[str, Any]], previous: Iterable[dict[str, Any]] = ()
) -> list[Condition]:
    """Every missed threshold, graded by its gap and the gap's trend against `previous` (last
    school year's values; none: every trend unknown)."""
    before = {_value_key(r): r["value"] for r in previous if r["value"] is not None}
    found = []
    for row in rows:
        if row["value"] is None:
            continue
        ind = indicator(row["indicator_id"])
        for n, th in enumerate(ind.thresholds_at(Grain(row["grain"]))):
            limit = th.value_for(row["stage"] or None, row.get("urban_rural"))
            if limit is None or th.met(row["value"], limit):
                continue
            gap = th.shortfall(row["value"], limit)
            old = before.get(_value_key(row))
            trend = gap_trend(gap, None if old is None else th.shortfall(old, limit), th.bands[0])
            level = grade(gap, th.bands, trend)
            since = "" if trend is Trend.UNKNOWN else f"；较上年{trend.zh}"
            message = (
                f"{_where(row)} {ind.name_zh} {_fmt(row['value'])}{ind.unit}，"
                f"未达到{th.label or '要求'}（{th.op} {_fmt(limit)}；{th.source.cite()}）{since}"
            )
            key = (ind.id, str(n))
            found.append(
                _condition("threshold", key, row, level, limit, message, trend=trend, gap=gap)
            )
    return found


def trend_conditions(
    rows: Iterable[dict[str, Any]], previous: Iterable[dict[str, Any]]
) -> list[Condition]:
    def key(r: dict[str, Any]) -> tuple[str, str, str, str]:
        return (r["indicator_id"], r["grain"], r["unit_code"], r["stage"])

    before = {key(r): r for r in previous if r["value"] is not None}
    found = []
    for row in rows:
        if row["grain"] not in (Grain.COUNTY, Grain.STAGE_COUNTY) or row["value"] is None:
            continue
        ind = indicator(row["indicator_id"])
        old = before.get(key(row))
        if ind.direction is None or old is None or old["value"] == 0:
            continue
        change = (row["value"] - old["value"]) / abs(old["value"])
        worse = -change if ind.direction == Direction.HIGHER else change
        level = _level(worse, *TREND_BANDS)
        if level is None:
            continue
        message = (
            f"{_where(row)} {ind.name_zh} 由 {_fmt(old['value'])} ({old['school_year']}) "
            f"变为 {_fmt(row['value'])}{ind.unit} ({row['school_year']})，恶化 {worse:.0%}"
        )
        found.append(
            _condition(
                "trend", (ind.id,), row, level, old["value"], message, trend=Trend.WORSE, gap=worse
            )
        )
    return found


def decline_conditions(
    rows: Iterable[dict[str, Any]], earlier: Sequence[Iterable[dict[str, Any]]]
) -> list[Condition]:
    """Values that moved the wrong way several years running (`Indicator.decline`); `earlier`
    holds the stored values of the previous school years, the latest first."""
    history = [{_value_key(r): r for r in year if r["value"] is not None} for year in earlier]
    found = []
    for row in rows:
        ind = indicator(row["indicator_id"])
        rule = ind.decline
        if rule is None or row["value"] is None or Grain(row["grain"]) not in rule.grains:
            continue
        if ind.direction is None or len(history) < rule.years:
            continue
        chain = [row] + [year.get(_value_key(row)) for year in history[: rule.years]]
        if any(c is None for c in chain):
            continue
        values = [float(c["value"]) for c in chain if c is not None]  # newest first
        sign = 1.0 if ind.direction == Direction.HIGHER else -1.0
        steps = [sign * (values[i + 1] - values[i]) for i in range(rule.years)]
        if min(steps) < rule.min_step:
            continue
        whole = sum(steps)
        unit = rule.years * rule.min_step
        level = _level(whole, unit, 2 * unit, 3 * unit)
        if level is None:
            continue
        years = " → ".join(
            f"{_fmt(c['value'])} ({c['school_year']})" for c in reversed(chain) if c is not None
        )
        moved = "下降" if sign > 0 else "上升"
        message = f"{_where(row)} {ind.name_zh} 连续{rule.years}年{moved}：{years}"
        found.append(
            _condition(
                "decline", (ind.id,), row, level, values[-1], message, trend=Trend.WORSE, gap=whole
            )
        )
    return found


def target_conditions(rows: Iterable[dict[str, Any]], plans: Sequence[Plan]) -> list[Condition]:
    found = []
    by_indicator: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_indicator.setdefault((row["indicator_id"], row["grain"]), []).append(row)
    for plan in plans:
        for target in plan.targets:
            ind = indicator(target.indicator_id)
            for row in by_indicator.get((target.indicator_id, target.grain.value), []):
                if row["value"] is None or target.target == target.baseline:
                    continue
                year = int(row["school_year"][:4])
                expected = target.expected(year)
                behind = (expected - row["value"]) / (target.target - target.baseline)
                level = _level(behind, *TARGET_BANDS)
                if level is None:
                    continue
                message = (
                    f"{_where(row)} {ind.name_zh} {_fmt(row['value'])}{ind.unit}，"
                    f"落后于规划进度 {_fmt(expected)}（{target.baseline_year} 基线 "
                    f"{_fmt(target.baseline)} → {target.target_year} 目标 "
                    f"{_fmt(target.target)}；{target.document}〔本局规划〕）"
                )
                key = (plan.id, ind.id)
                found.append(
                    _condition("target_gap", key, row, level, expected, message, gap=behind)
                )
    return found


# ---- state ----------------------------------------------------------------------------------

STATE_SCHEMA = pa.schema(
    [
        pa.field("warning_id", pa.string()),
        pa.field("condition_key", pa.string()),
        pa.field("rule", pa.string()),
        pa.field("indicator_id", pa.string()),
        pa.field("grain", pa.string()),
        pa.field("unit_code", pa.string()),
        pa.field("unit_name", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("school_year", pa.string()),
        pa.field("level", pa.string()),
        pa.field("status", pa.string()),
        pa.field("message", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("reference", pa.float64()),
        pa.field("opened_at", pa.timestamp("us")),
        pa.field("updated_at", pa.timestamp("us")),
        pa.field("times_opened", pa.int64()),
        pa.field("acknowledged_by", pa.string()),
        pa.field("acknowledged_at", pa.timestamp("us")),
        pa.field("acknowledge_note", pa.string()),
        pa.field("resolved_by", pa.string()),
        pa.field("resolved_at", pa.timestamp("us")),
        pa.field("resolve_note", pa.string()),
        pa.field("trend", pa.string()),
        pa.field("gap", pa.float64()),
    ]
)
EVENT_SCHEMA = pa.schema(
    [
        pa.field("warning_id", pa.string()),
        pa.field("at", pa.timestamp("us")),
        pa.field("event", pa.string()),
        pa.field("level", pa.string()),
        pa.field("status", pa.string()),
        pa.field("who", pa.string()),
        pa.field("note", pa.string()),
        pa.field("value", pa.float64()),
    ]
)


@dataclass(frozen=True)
class IndicatorWarning:
    warning_id: str
    condition_key: str
    rule: str
    indicator_id: str
    grain: str
    unit_code: str
    unit_name: str
    stage: str
    school_year: str
    level: str
    status: str
    message: str
    value: float
    reference: float
    opened_at: datetime
    updated_at: datetime
    times_opened: int = 1
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledge_note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolve_note: str | None = None
    trend: str = ""
    gap: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in STATE_SCHEMA.names}


def warning_id(condition_key: str) -> str:
    return "W" + hashlib.sha1(condition_key.encode("utf-8")).hexdigest()[:10]


@dataclass
class SyncResult:
    opened: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    unchanged: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


class WarningBook(Protocol):
    """Where warning state (rows of `STATE_SCHEMA`) and events (`EVENT_SCHEMA`) are kept."""

    def warning_rows(self) -> list[dict[str, Any]]:
        """Every warning ever opened."""
        ...

    def replace_warnings(
        self, rows: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
    ) -> None:
        """Make `rows` the whole state and append `events`, in one transaction."""
        ...

    def change_warning(self, row: dict[str, Any], was: str, event: dict[str, Any]) -> bool:
        """Replace one warning with `row` if its status is still `was`, and append `event`, in
        one transaction; False if someone changed it first."""
        ...

    def warning_events(self, warning_id: str | None = None) -> list[dict[str, Any]]:
        """Events, oldest first; of one warning if given."""
        ...


class WarningStore:
    """The warning lifecycle over a `WarningBook`."""

    def __init__(self, book: WarningBook) -> None:
        self._book = book

    def all(self) -> list[IndicatorWarning]:
        return [IndicatorWarning(**r) for r in self._book.warning_rows()]

    def query(
        self, *, status: Sequence[str] | None = None, level: Sequence[str] | None = None
    ) -> list[IndicatorWarning]:
        ranked = sorted(
            self.all(),
            key=lambda w: (-Level(w.level).rank, w.indicator_id, w.grain, w.unit_code, w.stage),
        )
        return [
            w
            for w in ranked
            if (not status or w.status in status) and (not level or w.level in level)
        ]

    def get(self, wid: str) -> IndicatorWarning:
        for w in self.all():
            if w.warning_id == wid:
                return w
        raise WarningNotFoundError(f"no warning {wid!r} (edubrain warnings list)")

    def events(self, wid: str | None = None) -> list[dict[str, Any]]:
        return self._book.warning_events(wid)

    # -- lifecycle -----------------------------------------------------------------------------
    def sync(
        self,
        conditions: Sequence[Condition],
        evaluated: set[str],
        now: datetime,
    ) -> SyncResult:
        """Open, update, reopen or auto-resolve warnings to match one evaluation.

        Only warnings of `evaluated` indicators can be auto-resolved (an indicator not
        computed this time says nothing about its conditions).
        """
        state = {w.condition_key: w for w in self.all()}
        result = SyncResult()
        seen = set()
        for c in conditions:
            if c.key in seen:
                continue
            seen.add(c.key)
            old = state.get(c.key)
            fresh: dict[str, Any] = {
                "level": c.level.value, "message": c.message, "value": c.value,
                "reference": c.reference, "school_year": c.school_year,
                "unit_name": c.unit_name, "updated_at": now, "trend": c.trend, "gap": c.gap,
            }  # fmt: skip
            if old is None:
                w = IndicatorWarning(
                    warning_id=warning_id(c.key), condition_key=c.key, rule=c.rule,
                    indicator_id=c.indicator_id, grain=c.grain, unit_code=c.unit_code,
                    stage=c.stage, status=Status.OPEN.value, opened_at=now, **fresh,
                )  # fmt: skip
                result.opened += 1
                result.events.append(_event(w, now, "opened", SYSTEM, ""))
            elif old.status == Status.RESOLVED:
                w = replace(
                    old, **fresh, status=Status.OPEN.value, times_opened=old.times_opened + 1,
                    acknowledged_by=None, acknowledged_at=None, acknowledge_note=None,
                    resolved_by=None, resolved_at=None, resolve_note=None,
                )  # fmt: skip
                result.reopened += 1
                result.events.append(_event(w, now, "reopened", SYSTEM, ""))
            elif (old.level, old.value, old.trend, old.gap) != (
                c.level.value,
                c.value,
                c.trend,
                c.gap,
            ):
                w = replace(old, **fresh)
                result.updated += 1
                result.events.append(_event(w, now, "updated", SYSTEM, f"was {old.level}"))
            else:
                w = replace(old, updated_at=now, school_year=c.school_year)
                result.unchanged += 1
            state[c.key] = w
        for key, w in list(state.items()):
            if key in seen or w.status == Status.RESOLVED or w.indicator_id not in evaluated:
                continue
            state[key] = replace(
                w, status=Status.RESOLVED.value, resolved_by=SYSTEM, resolved_at=now,
                resolve_note="condition cleared on recomputation", updated_at=now,
            )  # fmt: skip
            result.resolved += 1
            result.events.append(_event(state[key], now, "auto_resolved", SYSTEM, ""))
        self._book.replace_warnings([w.as_dict() for w in state.values()], result.events)
        return result

    def acknowledge(self, wid: str, who: str, note: str, now: datetime) -> IndicatorWarning:
        w = self.get(wid)
        if w.status != Status.OPEN:
            raise WarningStateError(f"warning {wid} is {w.status}; only an open one can be "
                                    "acknowledged")  # fmt: skip
        new = replace(w, status=Status.ACKNOWLEDGED.value, acknowledged_by=who,
                      acknowledged_at=now, acknowledge_note=note, updated_at=now)  # fmt: skip
        self._save_one(new, w.status, _event(new, now, "acknowledged", who, note))
        return new

    def resolve(self, wid: str, who: str, note: str, now: datetime) -> IndicatorWarning:
        w = self.get(wid)
        if w.status == Status.RESOLVED:
            raise WarningStateError(f"warning {wid} is already resolved")
        new = replace(w, status=Status.RESOLVED.value, resolved_by=who, resolved_at=now,
                      resolve_note=note, updated_at=now)  # fmt: skip
        self._save_one(new, w.status, _event(new, now, "resolved", who, note))
        return new

    def _save_one(self, w: IndicatorWarning, was: str, event: dict[str, Any]) -> None:
        if not self._book.change_warning(w.as_dict(), was, event):
            raise WarningStateError(f"warning {w.warning_id} was changed meanwhile; look again")


def _event(w: IndicatorWarning, at: datetime, event: str, who: str, note: str) -> dict[str, Any]:
    return {
        "warning_id": w.warning_id, "at": at, "event": event, "level": w.level,
        "status": w.status, "who": who, "note": note, "value": w.value,
    }  # fmt: skip
