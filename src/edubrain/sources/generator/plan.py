"""The synthetic region's frame: counties, school years, terms and the reference dates.

Everything in the generated data is dated inside the 2025-2026 school year (plus the 2024
facility survey), never by the wall clock, so the same seed always gives the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROVINCE_CODE = "330000"
PROVINCE_NAME = "浙江省"
# A synthetic prefecture: 3399xx is unassigned in GB/T 2260, so no real place is implied.
PREFECTURE_CODE = "339900"
PREFECTURE_NAME = "示范市"

SCHOOL_YEAR = "2025-2026"
YEAR_START = np.datetime64("2025-09-01")
# (school_year, term, start, end): the current year and the previous one for trends.
TERMS: tuple[tuple[str, str, str, str], ...] = (
    ("2024-2025", "1", "2024-09-01", "2025-01-17"),
    ("2024-2025", "2", "2025-02-17", "2025-06-30"),
    ("2025-2026", "1", "2025-09-01", "2026-01-23"),
    ("2025-2026", "2", "2026-02-23", "2026-07-03"),
)
SURVEY_YEARS = (2024, 2025)

# One county holds at most this many students; a larger run becomes a city of counties.
MAX_COUNTY_STUDENTS = 150_000
TYPICAL_COUNTY_STUDENTS = 100_000

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (enough for county names up to 99)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _DIGITS[tens] + "十"
    return head + (_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class County:
    index: int  # 0-based position in the city
    code: str  # 339901, 339902, ...
    name: str
    students: int


def plan_counties(students: int, rng: np.random.Generator) -> list[County]:
    """Split the students over counties of about 60–150k (one county for a county-size run)."""
    if students <= MAX_COUNTY_STUDENTS:
        sizes = [students]
    else:
        k = max(2, round(students / TYPICAL_COUNTY_STUDENTS))
        weights = rng.uniform(0.7, 1.3, k)
        sizes = list(allocate(students, weights))
    if len(sizes) > 99:
        raise ValueError("at most 99 counties fit under one synthetic prefecture")
    return [
        County(i, f"3399{i + 1:02d}", f"示范{chinese_number(i + 1)}县", int(n))
        for i, n in enumerate(sizes)
    ]


def allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer shares of `total` proportional to `weights` that sum exactly to `total`.

    Largest-remainder rounding: deterministic, and no share is off by more than one.
    """
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0 or w.size == 0:
        return np.zeros(w.size, dtype=np.int64)
    exact = w / w.sum() * total
    base: np.ndarray = np.floor(exact).astype(np.int64)
    short = total - int(base.sum())
    if short:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:short]] += 1
    return base


# Two school weeks in November: the homework platform's log, attendance and practice.
HOMEWORK_DAYS = np.array(
    [
        d
        for d in np.arange("2025-11-03", "2025-11-15", dtype="datetime64[D]")
        if (d.astype(np.int64) + 3) % 7 < 5
    ]
)
