"""The fitness part of the synthetic region: 国家学生体质健康标准 (2014) test results.

Fitness results are calibrated on the official score tables: for each grade, sex and item the
thresholds of the 60-point (及格) and 80-point (良好) levels below are copied from
shared/reference/fitness_standard_2014/item_scores.csv. A latent fitness factor shared by the
items places ~6% of students below the 60-point level and ~27% above the 80-point level on a
typical item, so totals land at roughly 25–30% 优秀/良好 and 5–10% 不及格.
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.measures import school_dates
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import SCHOOL_YEAR, YEAR_START
from edubrain.sources.generator.render import ExportLook
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


EXEMPT_SHARE = 0.004  # 免予执行 (illness or disability): no item measured
DEFERRED_SHARE = 0.002  # 暂缓执行
RETEST_BELOW = -1.9  # latent fitness under which a pupil likely failed and may re-test (补测)
RETEST_SHARE = 0.5  # of those, the share whose row is the 补测 (latent up by RETEST_GAIN)
RETEST_GAIN = 0.9


def fitness_tests(
    students: Table,
    height: Array,
    bmi: Array,
    rng: np.random.Generator,
    statuses: np.random.Generator | None = None,
) -> Table:
    """The school year's results; `statuses` (a stream of its own, so the results of every
    other pupil stay as they were) draws who is 免予执行 / 暂缓执行 and whose row is a 补测."""
    present = (students["status"] == "enrolled") & (rng.random(len(height)) > 0.02)
    idx = np.flatnonzero(present)
    n = idx.size
    grade = students["grade_code"][idx]
    sex = students["sex"][idx]
    school = students["_school"][idx]
    date = school_dates(rng, school, "2025-10-09", 45)
    days = (date - YEAR_START).astype(np.float64)
    h = np.round(height[idx] + days * 0.016 + rng.normal(0, 0.4, n), 1)
    w = np.round(bmi[idx] * (h / 100) ** 2 * (1 + rng.normal(0, 0.012, n)), 1)
    latent = rng.standard_normal(n) + rng.normal(0, 0.25, int(school.max()) + 1)[school]
    exemption: Array = np.full(n, "", dtype=STR)
    retest = np.zeros(n, dtype=bool)
    if statuses is not None:
        u = statuses.random(n)
        exemption = np.where(
            u < EXEMPT_SHARE,
            "exempt",
            np.where(u < EXEMPT_SHARE + DEFERRED_SHARE, "deferred", ""),
        ).astype(STR)
        retest = (latent < RETEST_BELOW) & (exemption == "") & (statuses.random(n) < RETEST_SHARE)
        latent = np.where(retest, latent + RETEST_GAIN, latent)
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
    for item in _DECIMALS:  # an exempt pupil is measured for growth, not tested
        table[item] = np.where(exemption != "", np.nan, table[item])
    table["exemption"] = exemption
    table["retest"] = np.where(retest, "true", "false").astype(STR)
    table["_school"] = school
    table["_student"] = idx
    table["_class_name"] = students["_class_name"][idx]
    return table


def county(draw: CountyDraw) -> None:
    height, bmi = draw.shared["body"]
    students = draw.shared["world"].students
    draw.tables["fitness_test"] = fitness_tests(
        students, height, bmi, draw.stream(5), draw.stream(11)
    )


# Stream 5 continues after the roster's bodies and the health checks (the seed contract);
# stream 11 is this part's own (exemptions and 补测), added later so stream 5 stays as it was.
PART = GeneratorPart(
    county,
    streams=(5, 11),
    after=("health",),
    faults=(
        EntityFaults(
            "fitness_test", name_variants=True, swapped_birth_dates=True, old_numbers=True
        ),
    ),
    looks=(
        ExportLook(
            "fitness_test",
            keep_decimal=("height_cm", "weight_kg", "run_50m", "sit_and_reach"),
            extras=(("tice/results", "班级名称", "_class_name", "学籍号"),),
        ),
    ),
)
