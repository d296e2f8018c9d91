"""The health part of the synthetic region: health checks (growth, uncorrected vision)."""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import Array, Table
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.measures import school_dates
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import YEAR_START
from edubrain.sources.generator.region import YEAR_INDEX
from edubrain.sources.generator.render import ExportLook

# Share with 筛查性近视 by years of schooling 1..12 (~35% primary, ~70% junior, ~80% senior).
_MYOPIA = np.array([0.0, 0.14, 0.20, 0.28, 0.36, 0.43, 0.50, 0.62, 0.69, 0.75, 0.78, 0.81, 0.84])


def health_checks(students: Table, height: Array, bmi: Array, rng: np.random.Generator) -> Table:
    present = (students["status"] == "enrolled") & (rng.random(len(height)) > 0.03)
    idx = np.flatnonzero(present)
    n = idx.size
    date = school_dates(rng, students["_school"][idx], "2025-09-08", 40)
    days = (date - YEAR_START).astype(np.float64)
    h = np.round(height[idx] + days * 0.016 + rng.normal(0, 0.3, n), 1)
    w = np.round(bmi[idx] * (h / 100) ** 2 * (1 + rng.normal(0, 0.01, n)), 1)
    year_index = np.array([YEAR_INDEX[str(g)] for g in students["grade_code"][idx]])
    v_l, v_r, se_l, se_r = _vision(year_index, rng)
    return {
        "student_number": students["student_number"][idx],
        "student_name": students["name"][idx],
        "sex": students["sex"][idx],
        "check_date": date,
        "height_cm": h,
        "weight_kg": w,
        "vision_left": v_l,
        "vision_right": v_r,
        "se_left": se_l,
        "se_right": se_r,
        "_school": students["_school"][idx],
        "_student": idx,
        "_class_name": students["_class_name"][idx],
    }


def _vision(year_index: Array, rng: np.random.Generator) -> tuple[Array, Array, Array, Array]:
    """Uncorrected vision (5-point record) and spherical equivalent per eye."""
    n = year_index.size
    myope = rng.random(n) < _MYOPIA[year_index]
    severity = rng.gamma(1.6, 0.3 + 0.12 * year_index, n)
    eyes: list[tuple[Array, Array]] = []
    for _ in range(2):
        eye_myopic = myope & (rng.random(n) < 0.92)
        se_m = -0.5 - np.abs(severity + rng.normal(0, 0.3, n))
        se_n = rng.choice(
            [-0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5],
            size=n,
            p=[0.12, 0.2, 0.22, 0.2, 0.14, 0.08, 0.04],
        )
        se = np.where(eye_myopic, np.round(se_m * 4) / 4, se_n)
        v_m = np.clip(5.0 - 0.25 * np.abs(se) + rng.normal(0, 0.06, n), 3.3, 4.9)
        v_n = 5.0 + rng.choice([0.0, 0.1, 0.2, 0.3], size=n, p=[0.4, 0.35, 0.2, 0.05])
        v_n = np.where(rng.random(n) < 0.06, 4.9, v_n)  # poor vision without myopia
        eyes.append((np.round(np.where(eye_myopic, v_m, v_n), 1), se))
    (v_l, se_l), (v_r, se_r) = eyes
    # Autorefraction is done where vision is below 5.0, and for some others.
    has_se = np.where((v_l < 5.0) | (v_r < 5.0), rng.random(n) < 0.85, rng.random(n) < 0.3)
    nan = np.full(n, np.nan)
    return v_l, v_r, np.where(has_se, se_l, nan), np.where(has_se, se_r, nan)


def county(draw: CountyDraw) -> None:
    height, bmi = draw.shared["body"]
    students = draw.shared["world"].students
    draw.tables["health_check"] = health_checks(students, height, bmi, draw.stream(5))


# Stream 5 continues after the roster's bodies; the fitness part continues it after this one.
PART = GeneratorPart(
    county,
    streams=(5,),
    faults=(EntityFaults("health_check", name_variants=True, old_numbers=True),),
    looks=(
        ExportLook(
            "health_check",
            keep_decimal=("height_cm", "weight_kg", "vision_left", "vision_right"),
            extras=(("tijian/checks", "班级", "_class_name", "姓名"),),
        ),
    ),
)
