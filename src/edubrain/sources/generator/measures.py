"""Each pupil's body (height and BMI), which the health checks and the fitness tests measure.

Also `school_dates`: the dates a school holds a measurement (each school in its own week).
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import Array, Table

# Median height (cm) by age in years, boys and girls: growth-survey order of magnitude.
_AGES = np.array([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19], dtype=np.float64)
_HEIGHT = {
    "1": np.array(
        [113, 120, 126.5, 132, 137.5, 142.5, 148.5, 155, 162.5, 167.5, 170.5, 172, 172.8, 173, 173]
    ),
    "2": np.array(
        [112, 118.8, 125, 130.8, 136.7, 143, 149.5, 154.5, 157.5, 159, 160, 160.5, 160.8, 161, 161]
    ),
}
_BMI = {
    "1": np.array(
        [15.2, 15.3, 15.5, 15.8, 16.2, 16.7, 17.2, 17.8, 18.4, 19.0, 19.6, 20.1, 20.5, 20.9, 21.1]
    ),
    "2": np.array(
        [15.0, 15.0, 15.2, 15.5, 15.9, 16.4, 17.0, 17.6, 18.2, 18.8, 19.3, 19.7, 20.0, 20.2, 20.3]
    ),
}


def school_dates(rng: np.random.Generator, school: Array, first: str, span_days: int) -> Array:
    """A test date per school (each school tests in its own week), a few days' spread per pupil."""
    n_s = int(school.max()) + 1 if school.size else 0
    start = np.datetime64(first) + rng.integers(0, span_days, n_s).astype("timedelta64[D]")
    d = start[school] + rng.integers(0, 4, school.size).astype("timedelta64[D]")
    weekday = (d.astype(np.int64) + 3) % 7  # 0 = Monday
    out: Array = d + np.where(weekday >= 5, 7 - weekday, 0).astype("timedelta64[D]")
    return out


def body(students: Table, rng: np.random.Generator) -> tuple[Array, Array]:
    """Each pupil's height (cm) and BMI on 1 September; measurements add growth and noise."""
    n = len(students["sex"])
    age = students["_age"]
    male = students["sex"] == "1"
    h_med = np.where(male, np.interp(age, _AGES, _HEIGHT["1"]), np.interp(age, _AGES, _HEIGHT["2"]))
    b_med = np.where(male, np.interp(age, _AGES, _BMI["1"]), np.interp(age, _AGES, _BMI["2"]))
    height = h_med * (1 + 0.045 * rng.standard_normal(n))
    z = rng.standard_normal(n)
    bmi = b_med * np.exp(0.11 * z + 0.04 * z**2 - 0.03)  # right-skewed like real BMI
    return height, bmi
