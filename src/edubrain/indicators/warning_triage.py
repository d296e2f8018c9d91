"""What a leader reads of the warnings (预警研判): the same condition grouped across units, a
roll-up per school, and the short list of what needs a decision this week (本周待决策).

All three are pure functions over warning rows (dicts with the fields of
`warnings.STATE_SCHEMA`, as the store and the API return them), so the API, the cockpit and the
CLI show the same numbers.

* **Group** — one condition (rule × indicator × threshold × 学段, at one grain) across its units:
  the condition key without its unit. The group's level is its worst unit's.
* **Roll-up per school** — one line per school: its count of warnings by level and its worst
  item (highest level, then largest gap); the school's level is its worst item's. The map
  colours schools by it.
* **The week's list** (decision 0018) — the items a leader must decide, at most
  `WEEK_LIMIT`, one per group:

  1. only warnings still *open* (an acknowledged warning has an owner) at 红 or 橙, of the
     units the reader decides on (its own region and schools: a county bureau does not decide
     the city's warning);
  2. a group of such warnings is one item (one decision: the same condition at 12 schools is
     one programme, not 12), its level the worst of them;
  3. items are ordered by level (红 first), then *new or worsening* first (a gap that is new or
     grew since last year), then by the pupils affected (the pupils of the schools concerned;
     for a regional warning, of its schools of the 学段 that hold a warning of the same
     indicator, or of all of them when the indicator has no school threshold), then by the
     largest gap;
  4. the first `WEEK_LIMIT` are the list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from edubrain.indicators.catalogue import indicator
from edubrain.indicators.definitions import Grain
from edubrain.indicators.warnings import STAGE_LABELS, TREND_ZH, Level, Status, Trend

WEEK_LIMIT = 10
OP_SIGNS = {">=": "≥", "<=": "≤", ">": "＞", "<": "＜"}
DECIDING_LEVELS = (Level.RED.value, Level.ORANGE.value)


@dataclass(frozen=True)
class SchoolSize:
    """What the triage needs of a school: its pupils (在校生), 学段 and region."""

    pupils: int
    stage: str
    region_code: str


def group_key(row: Mapping[str, Any]) -> str:
    """The condition key without its unit: rule | qualifier… | grain | 学段."""
    parts = str(row["condition_key"]).split("|")
    rule_and_qualifier, grain, stage = parts[:-3], parts[-3], parts[-1]
    return "|".join((*rule_and_qualifier, grain, stage))


def _rank(row: Mapping[str, Any]) -> tuple[int, float]:
    return (Level(row["level"]).rank, float(row.get("gap") or 0.0))


def condition_title(row: Mapping[str, Any]) -> str:
    """The condition in words, without the unit (小学 生均体育运动场馆面积 未达到…)."""
    ind = indicator(row["indicator_id"])
    stage = STAGE_LABELS.get(row["stage"], row["stage"])
    prefix = f"{stage} " if stage else ""
    if row["rule"] == "threshold":
        n = int(str(row["condition_key"]).split("|")[2])
        thresholds = ind.thresholds_at(Grain(row["grain"]))
        if n < len(thresholds):
            th = thresholds[n]
            return (
                f"{prefix}{ind.name_zh} 未达到{th.label or '要求'}"
                f"（{OP_SIGNS.get(th.op, th.op)} {_number(row['reference'])}{ind.unit}）"
            )
    if row["rule"] == "trend":
        return f"{prefix}{ind.name_zh} 较上年明显恶化"
    return f"{prefix}{ind.name_zh} 落后于规划进度"


def _number(v: float | None) -> str:
    return "—" if v is None else f"{v:,.2f}".rstrip("0").rstrip(".")


@dataclass
class WarningGroup:
    key: str
    title: str
    rule: str
    indicator_id: str
    grain: str
    stage: str
    level: str
    units: list[dict[str, Any]] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    pupils: int = 0
    worsening: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "group_key": self.key,
            "title": self.title,
            "rule": self.rule,
            "indicator_id": self.indicator_id,
            "grain": self.grain,
            "stage": self.stage,
            "level": self.level,
            "count": len(self.units),
            "levels": dict(self.levels),
            "pupils": self.pupils,
            "worsening": self.worsening,
            "units": list(self.units),
        }


def schools_with_warning(rows: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Indicator → the schools holding a warning of it (any level or status given)."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row["grain"] == Grain.SCHOOL.value:
            found[row["indicator_id"]].add(row["unit_code"])
    return found


def pupils_affected(
    row: Mapping[str, Any],
    schools: Mapping[str, SchoolSize],
    warned: Mapping[str, set[str]] | None = None,
) -> int:
    """A school's pupils. For a regional warning, the pupils of the region's schools of its
    学段 (every 学段 when it has none) that hold a warning of the same indicator themselves
    (`warned`: the county's 超大班额 affects the schools with such classes); when none does (an
    indicator without a school threshold), of all the region's schools of that 学段."""
    if row["grain"] == Grain.SCHOOL.value:
        size = schools.get(row["unit_code"])
        return size.pupils if size else 0
    prefix = _region_prefix(str(row["unit_code"]))
    region = {
        code: s
        for code, s in schools.items()
        if s.region_code.startswith(prefix) and (not row["stage"] or s.stage == row["stage"])
    }
    concerned = (warned or {}).get(row["indicator_id"], set()) & set(region)
    return sum(s.pupils for code, s in region.items() if not concerned or code in concerned)


def _region_prefix(code: str) -> str:
    """330100 → 3301, 339901 → 339901: the leading digits a region's schools share."""
    prefix = code
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def _unit_line(row: Mapping[str, Any], pupils: int) -> dict[str, Any]:
    return {
        "warning_id": row["warning_id"],
        "unit_code": row["unit_code"],
        "unit_name": row["unit_name"],
        "level": row["level"],
        "status": row["status"],
        "value": row["value"],
        "gap": row.get("gap"),
        "trend": row.get("trend") or "",
        "trend_zh": TREND_ZH.get(row.get("trend") or "", ""),
        "pupils": pupils,
    }


def _is_worsening(row: Mapping[str, Any]) -> bool:
    trend = row.get("trend") or ""
    return trend in (Trend.NEW.value, Trend.WORSE.value)


def group_warnings(
    rows: Iterable[Mapping[str, Any]],
    schools: Mapping[str, SchoolSize] | None = None,
    warned: Mapping[str, set[str]] | None = None,
) -> list[WarningGroup]:
    """The same condition across units, worst group first (level, then units, then pupils);
    inside a group, worst unit first. `warned` (default: from `rows`) says which schools a
    regional warning concerns (`pupils_affected`)."""
    sizes = schools or {}
    rows = list(rows)
    concerned = schools_with_warning(rows) if warned is None else warned
    groups: dict[str, WarningGroup] = {}
    members: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        members[group_key(row)].append(row)
    for key, found in members.items():
        found = sorted(found, key=lambda r: (_rank(r), r["unit_code"]), reverse=True)
        first = found[0]
        levels = {lv.value: sum(1 for r in found if r["level"] == lv.value) for lv in Level}
        lines = [_unit_line(r, pupils_affected(r, sizes, concerned)) for r in found]
        groups[key] = WarningGroup(
            key=key,
            title=condition_title(first),
            rule=first["rule"],
            indicator_id=first["indicator_id"],
            grain=first["grain"],
            stage=first["stage"],
            level=first["level"],
            units=lines,
            levels=levels,
            pupils=sum(line["pupils"] for line in lines),
            worsening=sum(1 for r in found if _is_worsening(r)),
        )
    return sorted(
        groups.values(),
        key=lambda g: (-Level(g.level).rank, -len(g.units), -g.pupils, g.key),
    )


@dataclass
class SchoolRollup:
    school_code: str
    school_name: str
    level: str
    levels: dict[str, int]
    total: int
    worst: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "school_code": self.school_code,
            "school_name": self.school_name,
            "level": self.level,
            "levels": dict(self.levels),
            "total": self.total,
            "worst": dict(self.worst),
        }


def roll_up_schools(rows: Iterable[Mapping[str, Any]]) -> list[SchoolRollup]:
    """One line per school with school-grain warnings: counts by level and the worst item;
    worst school first (level, then red, orange and yellow counts)."""
    by_school: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["grain"] == Grain.SCHOOL.value:
            by_school[row["unit_code"]].append(row)
    out = []
    for code, found in by_school.items():
        worst = max(found, key=lambda r: (_rank(r), r["warning_id"]))
        levels = {lv.value: sum(1 for r in found if r["level"] == lv.value) for lv in Level}
        out.append(
            SchoolRollup(
                school_code=code,
                school_name=str(worst["unit_name"] or code),
                level=worst["level"],
                levels=levels,
                total=len(found),
                worst={
                    "warning_id": worst["warning_id"],
                    "indicator_id": worst["indicator_id"],
                    "title": condition_title(worst),
                    "message": worst["message"],
                    "level": worst["level"],
                    "trend": worst.get("trend") or "",
                    "gap": worst.get("gap"),
                },
            )
        )
    return sorted(
        out,
        key=lambda s: (
            -Level(s.level).rank,
            *(-s.levels[lv.value] for lv in Level),
            s.school_code,
        ),
    )


@dataclass(frozen=True)
class WeekItem:
    """One decision of the week: a condition at the units where it is open at 红 or 橙."""

    group: WarningGroup
    new_or_worse: bool
    largest_gap: float

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.group.as_dict(),
            "new_or_worse": self.new_or_worse,
            "largest_gap": self.largest_gap,
        }


def week_list(
    rows: Sequence[Mapping[str, Any]],
    schools: Mapping[str, SchoolSize] | None = None,
    limit: int = WEEK_LIMIT,
    decides: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[WeekItem]:
    """本周待决策: open 红/橙 warnings, one item per condition, by level, new-or-worsening,
    pupils affected and gap; at most `limit` (the module's docstring gives the rule).
    `decides` keeps only the warnings the reader decides on (a county bureau: its county and
    schools, not the city's)."""
    deciding = [
        r
        for r in rows
        if r["status"] == Status.OPEN.value
        and r["level"] in DECIDING_LEVELS
        and (decides is None or decides(r))
    ]
    warned = schools_with_warning(rows)
    items = [
        WeekItem(
            group=g,
            new_or_worse=g.worsening > 0,
            largest_gap=max(float(u["gap"] or 0.0) for u in g.units),
        )
        for g in group_warnings(deciding, schools, warned)
    ]
    items.sort(
        key=lambda i: (
            -Level(i.group.level).rank,
            not i.new_or_worse,
            -i.group.pupils,
            -i.largest_gap,
            i.group.key,
        )
    )
    return items[:limit]
