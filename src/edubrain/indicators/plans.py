"""Plan files: a bureau's baselines, targets and checklists for indicators (`plans/*.yaml`).

Built-in plans (from the seed documents) ship in `edubrain/indicators/plans/`; a bureau puts its
own in `EDUBRAIN_HOME/plans` (setting `plans_dir`) — a file with the same `id` replaces the
built-in one. A target applies to the county grain (or `grain:` in the file).

    id: my-county-2025
    title: 某县教育信息化规划
    document: 《某县教育信息化"十四五"规划》表2
    baseline_year: 2020
    target_year: 2025
    targets:
      - {indicator: info.new_space_school_share, item: "表2-2 …", baseline: 30, target: 100}
    checklist:
      title: 智慧教育样板区 共性要求
      items:
        - {item: "2. 出口带宽达到1000Mbps的学校比例达95%", indicator: info.gigabit_school_share,
           op: ">=", value: 95}
        - {item: "9. 技术部门人员不少于3人", computable: false, reason: "no staffing data"}
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from edubrain.errors import ConfigError
from edubrain.indicators.catalogue import indicators
from edubrain.indicators.definitions import Direction, Grain, Indicator

_OPS = {">=", "<=", ">", "<"}


def _known() -> dict[str, Indicator]:
    return {i.id: i for i in indicators()}


@dataclass(frozen=True)
class Target:
    plan_id: str
    document: str
    indicator_id: str
    item: str
    baseline: float
    baseline_year: int
    target: float
    target_year: int
    grain: Grain

    def expected(self, year: int) -> float:
        """Where a straight line from baseline to target stands in `year` (the target after)."""
        span = self.target_year - self.baseline_year
        share = 1.0 if span <= 0 else min(1.0, max(0.0, (year - self.baseline_year) / span))
        return self.baseline + share * (self.target - self.baseline)

    def progress(self, value: float) -> float | None:
        """Share of the way from baseline to target reached (1.0 = target met)."""
        if self.target == self.baseline:
            return None
        return (value - self.baseline) / (self.target - self.baseline)

    def reached(self, value: float) -> bool:
        ind = _known()[self.indicator_id]
        if ind.direction == Direction.LOWER:
            return value <= self.target
        return value >= self.target


@dataclass(frozen=True)
class ChecklistItem:
    item: str
    indicator_id: str | None
    op: str | None
    value: float | None
    reason: str = ""

    @property
    def computable(self) -> bool:
        return self.indicator_id is not None

    def passes(self, measured: float) -> bool:
        assert self.op is not None and self.value is not None
        return {
            ">=": measured >= self.value,
            "<=": measured <= self.value,
            ">": measured > self.value,
            "<": measured < self.value,
        }[self.op]


@dataclass(frozen=True)
class Plan:
    id: str
    title: str
    document: str
    origin: str  # the file it came from
    targets: tuple[Target, ...]
    checklist_title: str
    checklist: tuple[ChecklistItem, ...]


def _number(raw: Any, where: str, problems: list[str]) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        problems.append(f"{where}: expected a number, got {raw!r}")
        return 0.0
    return float(raw)


def parse_plan(raw: Any, origin: str) -> Plan:
    """Validate a whole plan file, reporting every problem at once."""
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise ConfigError(f"{origin}: a plan file is a mapping (id, title, targets …)")
    for key in ("id", "title", "document"):
        if not isinstance(raw.get(key), str) or not raw.get(key):
            problems.append(f"{key}: required text")
    unknown = set(raw) - {
        "id", "title", "document", "baseline_year", "target_year", "grain", "targets",
        "checklist",
    }  # fmt: skip
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    grain_name = raw.get("grain", "county")
    try:
        grain = Grain(grain_name)
    except ValueError:
        problems.append(f"grain {grain_name!r}: use one of {', '.join(g.value for g in Grain)}")
        grain = Grain.COUNTY
    targets: list[Target] = []
    entries = raw.get("targets") or []
    if entries and not isinstance(raw.get("baseline_year"), int):
        problems.append("baseline_year: required year for targets")
    if entries and not isinstance(raw.get("target_year"), int):
        problems.append("target_year: required year for targets")
    for n, entry in enumerate(entries, 1):
        where = f"targets[{n}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping")
            continue
        ind = entry.get("indicator")
        if ind not in _known():
            problems.append(f"{where}: unknown indicator {ind!r}")
            continue
        if grain not in _known()[ind].grains:
            problems.append(f"{where}: {ind} is not computed at grain {grain.value}")
        targets.append(
            Target(
                plan_id=str(raw.get("id")),
                document=str(raw.get("document")),
                indicator_id=ind,
                item=str(entry.get("item", ind)),
                baseline=_number(entry.get("baseline"), f"{where}.baseline", problems),
                baseline_year=int(raw.get("baseline_year") or 0),
                target=_number(entry.get("target"), f"{where}.target", problems),
                target_year=int(raw.get("target_year") or 0),
                grain=grain,
            )
        )
    checklist = raw.get("checklist") or {}
    items: list[ChecklistItem] = []
    for n, entry in enumerate(checklist.get("items") or [], 1):
        where = f"checklist.items[{n}]"
        if not isinstance(entry, dict) or not entry.get("item"):
            problems.append(f"{where}: expected a mapping with an item text")
            continue
        if entry.get("computable", True) is False:
            items.append(ChecklistItem(str(entry["item"]), None, None, None,
                                       str(entry.get("reason", ""))))  # fmt: skip
            continue
        ind = entry.get("indicator")
        if ind not in _known():
            problems.append(f"{where}: unknown indicator {ind!r}")
            continue
        if entry.get("op") not in _OPS:
            problems.append(f"{where}: op must be one of {sorted(_OPS)}")
            continue
        value = _number(entry.get("value"), f"{where}.value", problems)
        items.append(ChecklistItem(str(entry["item"]), ind, str(entry["op"]), value))
    if problems:
        raise ConfigError(f"{origin}: " + "; ".join(problems))
    return Plan(
        id=raw["id"],
        title=raw["title"],
        document=raw["document"],
        origin=origin,
        targets=tuple(targets),
        checklist_title=str(checklist.get("title", "")),
        checklist=tuple(items),
    )


def load_plan_file(path: Path) -> Plan:
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the plan file: {exc}") from None
    return parse_plan(raw, str(path))


def builtin_plans() -> list[Plan]:
    folder = resources.files("edubrain.indicators") / "plans"
    plans = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            raw = yaml.safe_load(entry.read_text("utf-8"))
            plans.append(parse_plan(raw, f"built-in plans/{entry.name}"))
    return plans


def load_plans(local_dir: Path | None) -> list[Plan]:
    """Built-in plans, replaced or extended by the bureau's own files in `local_dir`."""
    by_id = {p.id: p for p in builtin_plans()}
    if local_dir is not None and local_dir.is_dir():
        for path in sorted(local_dir.glob("*.yaml")):
            plan = load_plan_file(path)
            by_id[plan.id] = plan
    return list(by_id.values())
