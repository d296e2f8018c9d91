"""Fitness tests (国家学生体质健康标准 2014) and health checks (growth, uncorrected vision).

Fitness results are calibrated on the official score tables: for each grade, sex and item the
thresholds of the 60-point (及格) and 80-point (良好) levels below are copied from
shared/reference/fitness_standard_2014/item_scores.csv. A latent fitness factor shared by the
items places ~6% of students below the 60-point level and ~27% above the 80-point level on a
typical item, so totals land at roughly 25–30% 优秀/良好 and 5–10% 不及格.
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table
from edubrain.sources.generator.plan import SCHOOL_YEAR, YEAR_START
from edubrain.sources.generator.region import YEAR_INDEX
from edubrain.standard.entities import entity

_GRADES = ("11", "12", "13", "14", "15", "16", "21", "22", "23", "31", "32", "33")


def _t(spec: str) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for part in spec.split():
        grade, pair = part.split(":")
        lo, hi = pair.split("/")
        out[grade] = (float(lo), float(hi))
    return out


# (item, sex) → grade → (60-point threshold, 80-point threshold), from item_scores.csv.
THRESHOLDS: dict[tuple[str, str], dict[str, tuple[float, float]]] = {
    ("vital_capacity", "1"): _t(
        "11:700/1300 12:800/1500 13:900/1700 14:1100/1900 15:1300/2200 16:1500/2500 "
        "21:1700/2900 22:2000/3200 23:2300/3500 31:2600/3800 32:2800/4000 33:3000/4200"
    ),
    ("vital_capacity", "2"): _t(
        "11:600/1000 12:700/1200 13:800/1400 14:900/1600 15:1050/1850 16:1200/2100 "
        "21:1350/2350 22:1500/2500 23:1650/2650 31:1750/2750 32:1850/2850 33:1950/2950"
    ),
    ("run_50m", "1"): _t(
        "11:12.6/10.6 12:12.0/10.0 13:11.5/9.5 14:11.1/9.1 15:10.8/8.8 16:10.6/8.6 "
        "21:10.2/8.2 22:9.9/7.9 23:9.7/7.7 31:9.5/7.5 32:9.4/7.4 33:9.2/7.2"
    ),
    ("run_50m", "2"): _t(
        "11:13.8/11.8 12:12.8/10.8 13:12.0/10.0 14:11.5/9.5 15:11.1/9.1 16:11.0/9.0 "
        "21:10.9/8.9 22:10.8/8.8 23:10.7/8.7 31:10.6/8.6 32:10.5/8.5 33:10.4/8.4"
    ),
    ("sit_and_reach", "1"): _t(
        "11:0.0/11.0 12:-0.4/10.6 13:-0.8/10.2 14:-2.2/9.8 15:-2.6/9.4 16:-4.0/9.0 "
        "21:-2.6/10.4 22:-1.4/11.6 23:-0.2/13.8 31:1.0/15.0 32:2.1/16.1 33:3.2/17.2"
    ),
    ("sit_and_reach", "2"): _t(
        "11:2.4/13.4 12:2.3/13.3 13:2.2/13.2 14:2.1/13.1 15:2.0/13.0 16:1.9/12.9 "
        "21:2.0/15.0 22:2.9/15.9 23:3.7/16.7 31:4.4/17.4 32:5.0/18.0 33:5.5/18.5"
    ),
    ("rope_skip_1min", "1"): _t("11:17/87 12:25/95 13:34/104 14:45/115 15:56/126 16:65/135"),
    ("rope_skip_1min", "2"): _t("11:17/87 12:27/97 13:39/109 14:49/119 15:58/128 16:66/136"),
    ("sit_up_1min", "1"): _t("13:16/36 14:17/37 15:18/38 16:19/39"),
    ("sit_up_1min", "2"): _t(
        "13:16/36 14:17/37 15:18/38 16:19/39 21:20/40 22:21/41 23:22/42 31:23/43 32:24/44 33:25/45"
    ),
    ("shuttle_run_50x8", "1"): _t("15:138/108 16:132/102"),
    ("shuttle_run_50x8", "2"): _t("15:143/113 16:139/109"),
    ("standing_long_jump", "1"): _t(
        "21:155/195 22:170/210 23:185/225 31:195/235 32:200/240 33:205/245"
    ),
    ("standing_long_jump", "2"): _t(
        "21:140/170 22:144/174 23:146/176 31:148/178 32:149/179 33:150/180"
    ),
    ("pull_up", "1"): _t("21:4/9 22:5/10 23:6/11 31:7/12 32:8/13 33:9/14"),
    ("run_1000m", "1"): _t("21:320/270 22:305/255 23:295/245 31:285/235 32:280/230 33:275/225"),
    ("run_800m", "2"): _t("21:295/245 22:290/240 23:285/235 31:280/230 32:278/228 33:276/226"),
}
# Decimals each item is recorded with (shuttle run: see _fitness, some schools time to 0.1 s).
_DECIMALS = {
    "vital_capacity": 0,
    "run_50m": 1,
    "sit_and_reach": 1,
    "rope_skip_1min": 0,
    "sit_up_1min": 0,
    "shuttle_run_50x8": 0,
    "standing_long_jump": 0,
    "pull_up": 0,
    "run_1000m": 0,
    "run_800m": 0,
}
_Z60, _Z80 = -1.6, 0.8  # latent positions of the 60- and 80-point thresholds
_LOADING = 0.78  # correlation of an item with the latent fitness factor

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
# Share with 筛查性近视 by years of schooling 1..12 (~35% primary, ~70% junior, ~80% senior).
_MYOPIA = np.array([0.0, 0.14, 0.20, 0.28, 0.36, 0.43, 0.50, 0.62, 0.69, 0.75, 0.78, 0.81, 0.84])


def _school_dates(rng: np.random.Generator, school: Array, first: str, span_days: int) -> Array:
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


def health_checks(students: Table, height: Array, bmi: Array, rng: np.random.Generator) -> Table:
    present = (students["status"] == "enrolled") & (rng.random(len(height)) > 0.03)
    idx = np.flatnonzero(present)
    n = idx.size
    date = _school_dates(rng, students["_school"][idx], "2025-09-08", 40)
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


def fitness_tests(students: Table, height: Array, bmi: Array, rng: np.random.Generator) -> Table:
    present = (students["status"] == "enrolled") & (rng.random(len(height)) > 0.02)
    idx = np.flatnonzero(present)
    n = idx.size
    grade = students["grade_code"][idx]
    sex = students["sex"][idx]
    school = students["_school"][idx]
    date = _school_dates(rng, school, "2025-10-09", 45)
    days = (date - YEAR_START).astype(np.float64)
    h = np.round(height[idx] + days * 0.016 + rng.normal(0, 0.4, n), 1)
    w = np.round(bmi[idx] * (h / 100) ** 2 * (1 + rng.normal(0, 0.012, n)), 1)
    latent = rng.standard_normal(n) + rng.normal(0, 0.25, int(school.max()) + 1)[school]
    table: Table = {
        "student_number": students["student_number"][idx],
        "school_year": np.full(n, SCHOOL_YEAR, dtype=STR),
        "grade_code": grade,
        "sex": sex,
        "student_name": students["name"][idx],
        "birth_date": students["birth_date"][idx],
        "test_date": date,
        "height_cm": h,
        "weight_kg": w,
    }
    # Some schools time the shuttle run electronically, to 0.1 s.
    tenths = (rng.random(int(school.max()) + 1) < 0.4)[school]
    for (item, sx), by_grade in THRESHOLDS.items():
        col = table.setdefault(item, np.full(n, np.nan))
        for g, (t60, t80) in by_grade.items():
            rows = np.flatnonzero((grade == g) & (sex == sx))
            z = _LOADING * latent[rows] + np.sqrt(1 - _LOADING**2) * rng.standard_normal(rows.size)
            value = t60 + (t80 - t60) * (z - _Z60) / (_Z80 - _Z60)
            col[rows] = value
    standard = entity("fitness_test")
    for item, decimals in _DECIMALS.items():
        # A clean result must be a valid one: the tails of the latent model are cut at the
        # standard's physical range (out-of-range values are injected as faults, on purpose).
        spec = standard.field(item)
        v = np.clip(table[item], spec.minimum, spec.maximum)
        if item == "shuttle_run_50x8":
            table[item] = np.where(tenths, np.round(v, 1), np.round(v))
        else:
            table[item] = np.round(v, decimals)
    table["_school"] = school
    table["_student"] = idx
    table["_class_name"] = students["_class_name"][idx]
    return table
