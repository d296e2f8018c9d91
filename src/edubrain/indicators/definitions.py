"""What an indicator is: its names, unit, grains, formula, direction and thresholds.

An indicator is data. Its formula is one of two shapes over a *base* table of units (schools,
classes, teachers …) built from the warehouse as an Ibis expression:

* `Ratio` — value = scale × Σ numerator ÷ Σ denominator over the units of each group (a share,
  a per-100-students rate, a pooled per-student value, a mean, or a plain sum).
* `WeightedCV` — the enrolment-weighted 差异系数 across the schools of each group.

The engine groups every base by each grain the indicator declares. Every threshold keeps the
document it comes from and the reliability mark of shared/reference/policy_thresholds.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum, auto
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from edubrain.indicators.inputs import Inputs

# Columns every base table carries, so that every grain can group it.
UNIT_COLUMNS = ("school_code", "stage", "county_code", "city_code")


class Grain(StrEnum):
    """The units a value is computed for; the value is the member's name in lower case
    ("school", "stage_county", …), as stored and shown. A school is a unit of the unit
    registry's school table (`standard.entities.unit_registry`)."""

    SCHOOL = auto()
    STAGE_COUNTY = auto()  # 学段 × 区县
    COUNTY = auto()
    CITY = auto()


GRAIN_LABELS = {
    Grain.SCHOOL: "学校",
    Grain.STAGE_COUNTY: "学段×区县",
    Grain.COUNTY: "区县",
    Grain.CITY: "市",
}


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better
    LOWER = "lower"  # lower is better


class Reliability(StrEnum):
    """Marks of shared/reference/policy_thresholds.md, plus a bureau's own plan."""

    VERIFIED = "V"  # seen in a retrieved copy of the document itself
    SECONDARY = "S"  # seen only in secondary pages, numbers agree
    UNVERIFIED = "U"  # found in no retrieved source
    PLAN = "plan"  # a target the bureau set in its own plan file


RELIABILITY_LABELS: dict[Reliability, str] = {
    Reliability.VERIFIED: "已核对原文",
    Reliability.SECONDARY: "据二手资料",
    Reliability.UNVERIFIED: "未找到出处",
    Reliability.PLAN: "本局规划",
}


@dataclass(frozen=True)
class Source:
    document: str
    reliability: Reliability
    note: str = ""

    def cite(self) -> str:
        """The document with how far it is checked, in the words a reader of a warning uses."""
        return f"{self.document}〔{RELIABILITY_LABELS[self.reliability]}〕"


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda v, t: v >= t,
    "<=": lambda v, t: v <= t,
    ">": lambda v, t: v > t,
    "<": lambda v, t: v < t,
}


@dataclass(frozen=True)
class Threshold:
    """A requirement a value must meet, per 学段 (and urban/rural) where it differs.

    `values` keys: "*" (everywhere), a stage code ("primary"), or "stage/urban_rural". A group
    whose stage is unknown (county and city grains) gets only a "*" value.
    `bands` = (orange, red): the shortfall at which a missed threshold is 橙 or 红 rather than
    黄 — relative to the threshold, or in the indicator's own unit when the threshold is 0.
    """

    op: str
    values: Mapping[str, float]
    source: Source
    grains: tuple[Grain, ...]
    label: str = ""
    bands: tuple[float, float] = (0.05, 0.15)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"threshold op {self.op!r}: use one of {sorted(_OPS)}")

    def value_for(self, stage: str | None, urban_rural: str | None = None) -> float | None:
        if stage and urban_rural and f"{stage}/{urban_rural}" in self.values:
            return self.values[f"{stage}/{urban_rural}"]
        if stage and stage in self.values:
            return self.values[stage]
        return self.values.get("*")

    def met(self, value: float, threshold: float) -> bool:
        return _OPS[self.op](value, threshold)

    def shortfall(self, value: float, threshold: float) -> float:
        """How far `value` misses `threshold` (0 when it meets it)."""
        if self.met(value, threshold):
            return 0.0
        gap = abs(value - threshold)
        return gap if threshold == 0 else gap / abs(threshold)

    def describe(self) -> str:
        parts = [f"{k} {self.op} {_num(v)}" if k != "*" else f"{self.op} {_num(v)}"
                 for k, v in self.values.items()]  # fmt: skip
        return "; ".join(parts)


def _num(v: float) -> str:
    return f"{v:g}"


@dataclass(frozen=True)
class Decline:
    """A warning when a unit's value moved the wrong way `years` school years running (each
    step by at least `min_step` of the indicator's unit), e.g. a school's value-added falling
    two years running; it needs `years` + 1 years of stored values. The level follows the
    whole move: ≥ `years`·`min_step` 黄, twice that 橙, three times 红."""

    years: int
    min_step: float
    grains: tuple[Grain, ...]


Base = Callable[["Inputs"], "ir.Table"]


@dataclass(frozen=True)
class Ratio:
    """value = scale × Σ numerator ÷ Σ denominator (Σ numerator × scale when no denominator)."""

    base: Base
    numerator: str
    denominator: str | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class WeightedCV:
    """差异系数 weighted by enrolment (policy_thresholds.md §1.2), across the schools of a group.

    X̄ = Σ(Xᵢ·Pᵢ)/P; S = sqrt(Σ[Pᵢ·(Xᵢ−X̄)²]/P); CV = S/X̄. With Xᵢ = resourceᵢ/Pᵢ this is
    computed from Σresource, ΣPᵢ and Σ(resourceᵢ²/Pᵢ) in one aggregation.
    """

    base: Base
    resource: str  # the school's total of the resource (Xᵢ·Pᵢ)
    weight: str  # Pᵢ, the school's enrolment
    scale: float = 1.0  # Xᵢ = scale × resourceᵢ / Pᵢ (a CV does not depend on it)


Formula = Ratio | WeightedCV


@dataclass(frozen=True)
class Indicator:
    id: str
    family: str
    name_zh: str
    name_en: str
    unit: str
    formula: Formula
    formula_text: str
    grains: tuple[Grain, ...]
    inputs: tuple[str, ...]
    direction: Direction | None = None  # None: descriptive, neither way is better
    thresholds: tuple[Threshold, ...] = ()
    filters: str = ""
    version: int = 1
    headline: bool = False  # printed by `edubrain demo`
    notes: str = ""
    decimals: int = 2
    decline: Decline | None = None  # the `decline` warning rule (none: not checked)

    def thresholds_at(self, grain: Grain) -> tuple[Threshold, ...]:
        return tuple(t for t in self.thresholds if grain in t.grains)


@dataclass(frozen=True)
class Family:
    id: str
    title: str
    description: str
    indicators: tuple[Indicator, ...] = field(default=())
    sources: tuple[Source, ...] = field(default=())  # cited by the whole family
    # The family's place in the catalogue: the families with one come first, by it (the six
    # families of the first catalogue keep their order, a–f); the others follow in registry
    # order.
    order: int | None = None
    # Columns of a base row that `explain` shows beside the numerator and denominator.
    explain_columns: tuple[str, ...] = ()


def cv_from_sums(p: float, sx: float, sxx: float) -> float | None:
    """The weighted CV from P = ΣPᵢ, SX = ΣXᵢPᵢ and SXX = ΣXᵢ²Pᵢ (also used to explain)."""
    if p <= 0 or sx == 0:
        return None
    mean = sx / p
    var = max(0.0, sxx / p - mean * mean)
    return math.sqrt(var) / mean
