"""Measures as the school health standards use them: a measure column, and body-mass index.

BMI = 体重(kg) ÷ 身高(m)², to 0.1, half up: the 国家学生体质健康标准 and the WS/T 586 / WS/T 456
screening tables are printed to 0.1 kg/m², and the value looked up in them is the BMI rounded
half up to 0.1 (docs/fitness.md: the choice the references leave open, and why).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def measure_column(measures: Mapping[str, ArrayLike], name: str, rows: int) -> FloatArray:
    """`measures[name]` as floats (None → NaN); all NaN when the measure is not given."""
    raw = measures.get(name)
    if raw is None:
        return np.full(rows, np.nan)
    return np.asarray(raw, dtype=np.float64)


def round_half_up(values: ArrayLike, decimals: int = 1) -> FloatArray:
    """Half up at `decimals` (18.75 → 18.8), robust to binary noise (18.749999… counts as 18.75)."""
    scale = 10.0**decimals
    v = np.asarray(values, dtype=np.float64)
    return np.asarray(np.floor(v * scale + 0.5 + 1e-7) / scale, dtype=np.float64)


def bmi_of(height_cm: ArrayLike, weight_kg: ArrayLike) -> FloatArray:
    """BMI to 0.1 (half up); NaN where either measure is missing or the height is not positive."""
    h = np.asarray(height_cm, dtype=np.float64) / 100.0
    w = np.asarray(weight_kg, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(h > 0, w / (h * h), np.nan)
    return round_half_up(raw)
