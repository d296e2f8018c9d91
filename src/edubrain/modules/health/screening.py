"""Health screening of a check: weight status by WS/T 586-2018 and WS/T 456-2014, vision by the
screening definition of myopia.

* **Age** is counted in completed months from the birth date to the check date; the tables are
  by sex and half-year group (6.0 = 72–77 months … 17.5 = 210–215 months; WS/T 586 has an 18.0
  row, the adult cut-offs, for 216 months and over). Outside 6–18 years nothing is classified.
* **BMI** to 0.1, half up (`standard.measures`).
* **超重 / 肥胖** (WS/T 586): BMI ≥ the group's 超重 or 肥胖 value.
* **营养不良** (WS/T 456, 6.0–17.5 years): 中重度消瘦 when BMI ≤ its value, 轻度消瘦 when BMI is
  above that and ≤ the mild value, 生长迟缓 when the height ≤ its value. The reference could not
  confirm ≤ against < at these edges (SOURCES.md §3): a check on an edge carries that mark.
* **Vision** per eye, 5分记录: 筛查性近视 only where the uncorrected acuity is < 5.0 **and** the
  spherical equivalent ≤ −0.50 D in the same eye; acuity < 5.0 with no refraction is 视力不良,
  never myopia; acuity < 5.0 with refraction that is not myopic is 视力不良 too. A pupil is
  筛查性近视 when either eye is.

Arrays in, arrays out; nothing here reads the warehouse.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edubrain.standard.measures import bmi_of, measure_column

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NORMAL, OVERWEIGHT, OBESE = "正常", "超重", "肥胖"
MILD_THIN, SEVERE_THIN = "轻度消瘦", "中重度消瘦"
MYOPIA = "筛查性近视"
POOR_NO_REFRACTION = "视力不良（未验光）"
POOR_NOT_MYOPIC = "视力不良（验光未见近视）"
GOOD_VISION = "视力正常"
EDGE_MARK = "WS/T 456 边界值（≤ 与 < 未能确认，SOURCES.md §3）"
ACUITY_LIMIT = 5.0
MYOPIA_SE = -0.5
FIRST_MONTH, LAST_GROUP_MONTH = 72, 216  # 6.0 years; the 18.0 row of WS/T 586


@dataclass(frozen=True)
class Tables:
    """Cut-offs by (sex code, half-year group index 0 = 6.0 … 24 = 18.0)."""

    overweight: Mapping[tuple[str, int], float]
    obese: Mapping[tuple[str, int], float]
    stunting: Mapping[tuple[str, int], float]
    severe_thin: Mapping[tuple[str, int], float]
    mild_thin: Mapping[tuple[str, int], float]


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("reference", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def _group(from_months: str) -> int:
    return (int(from_months) - FIRST_MONTH) // 6


@lru_cache(maxsize=1)
def load_tables() -> Tables:
    """The packaged WS/T 586-2018 and WS/T 456-2014 tables."""
    over, obese, stunting, severe, mild = {}, {}, {}, {}, {}
    for r in _rows("bmi_wst586_2018.csv"):
        key = (r["sex_code"], _group(r["age_group_from_months"]))
        over[key] = float(r["overweight_bmi_min"])
        obese[key] = float(r["obesity_bmi_min"])
    for r in _rows("malnutrition_wst456_2014.csv"):
        key = (r["sex_code"], _group(r["age_group_from_months"]))
        stunting[key] = float(r["stunting_height_max_cm"])
        severe[key] = float(r["moderate_severe_thinness_bmi_max"])
        mild[key] = float(r["mild_thinness_bmi_max"])
    return Tables(over, obese, stunting, severe, mild)


def age_in_months(birth: ArrayLike, checked: ArrayLike) -> IntArray:
    """Completed months from birth to the check (as DATEDIF counts them); −1 where unknown."""
    b = np.asarray(birth, dtype="datetime64[D]")
    c = np.asarray(checked, dtype="datetime64[D]")
    known = ~(np.isnat(b) | np.isnat(c))
    by, bm, bd = _ymd(b)
    cy, cm, cd = _ymd(c)
    months = (cy - by) * 12 + (cm - bm) - (cd < bd).astype(np.int64)
    return np.where(known, months, -1).astype(np.int64)


def _ymd(d: NDArray[np.datetime64]) -> tuple[IntArray, IntArray, IntArray]:
    safe = np.where(np.isnat(d), np.datetime64("2000-01-01"), d)
    y = safe.astype("datetime64[Y]").astype(np.int64) + 1970
    m = safe.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (safe - safe.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def _lookup(
    table: Mapping[tuple[str, int], float], sex: NDArray[np.str_], group: IntArray
) -> FloatArray:
    return np.array(
        [table.get((str(s), int(g)), np.nan) for s, g in zip(sex, group, strict=True)],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Screened:
    bmi: FloatArray
    age_months: IntArray
    weight_status: NDArray[np.str_]
    """正常 / 超重 / 肥胖 / 轻度消瘦 / 中重度消瘦; "" where not classified (age, sex, measures)."""
    stunted: NDArray[np.bool_]
    malnutrition_classified: NDArray[np.bool_]
    """WS/T 456 applies (6.0–17.5 years, sex, height and weight known)."""
    vision_status: NDArray[np.str_]
    """筛查性近视 / 视力不良（未验光）/ 视力不良（验光未见近视）/ 视力正常; "" without acuity."""
    uncertain: NDArray[np.str_]


def screen(
    sex_code: ArrayLike,
    birth_date: ArrayLike,
    check_date: ArrayLike,
    measures: Mapping[str, ArrayLike],
    tables: Tables | None = None,
) -> Screened:
    """Classify checks; `measures` holds height_cm, weight_kg, vision_left, vision_right,
    se_left and se_right (NaN where not measured)."""
    t = tables or load_tables()
    sex = np.asarray(sex_code).astype(str)
    n = sex.shape[0]

    height = measure_column(measures, "height_cm", n)
    bmi = bmi_of(height, measure_column(measures, "weight_kg", n))
    months = age_in_months(birth_date, check_date)
    group = np.where(months >= FIRST_MONTH, np.minimum((months - FIRST_MONTH) // 6, 24), -1).astype(
        np.int64
    )
    over, obese = _lookup(t.overweight, sex, group), _lookup(t.obese, sex, group)
    severe, mild = _lookup(t.severe_thin, sex, group), _lookup(t.mild_thin, sex, group)
    stunt = _lookup(t.stunting, sex, group)
    known = ~np.isnan(bmi) & ~np.isnan(over)
    status = np.full(n, "", dtype=object)
    status[known] = NORMAL
    thin_known = known & ~np.isnan(severe)
    status = np.where(thin_known & (bmi <= mild + 1e-9), MILD_THIN, status)
    status = np.where(thin_known & (bmi <= severe + 1e-9), SEVERE_THIN, status)
    status = np.where(known & (bmi >= over - 1e-9), OVERWEIGHT, status)
    status = np.where(known & (bmi >= obese - 1e-9), OBESE, status)
    malnutrition = thin_known & ~np.isnan(height)
    stunted = malnutrition & (height <= stunt + 1e-9)
    edge = malnutrition & (
        np.isclose(bmi, severe) | np.isclose(bmi, mild) | np.isclose(height, stunt)
    )

    eyes = []
    for side in ("left", "right"):
        acuity, se = (
            measure_column(measures, f"vision_{side}", n),
            measure_column(measures, f"se_{side}", n),
        )
        poor = acuity < ACUITY_LIMIT
        eyes.append(
            (
                ~np.isnan(acuity),
                poor,
                poor & ~np.isnan(se) & (se <= MYOPIA_SE + 1e-9),
                poor & np.isnan(se),
            )
        )
    measured = eyes[0][0] | eyes[1][0]
    any_poor = eyes[0][1] | eyes[1][1]
    myopic = eyes[0][2] | eyes[1][2]
    unrefracted = eyes[0][3] | eyes[1][3]
    vision = np.full(n, "", dtype=object)
    vision = np.where(measured, GOOD_VISION, vision)
    vision = np.where(any_poor, POOR_NOT_MYOPIC, vision)
    vision = np.where(any_poor & unrefracted, POOR_NO_REFRACTION, vision)
    vision = np.where(myopic, MYOPIA, vision)
    return Screened(
        bmi=bmi,
        age_months=months,
        weight_status=status.astype(str),
        stunted=stunted,
        malnutrition_classified=malnutrition,
        vision_status=vision.astype(str),
        uncertain=np.where(edge, EDGE_MARK, "").astype(str),
    )
