"""The facilities part of the synthetic region: the 办学条件 survey of each school and year.

The county is *part-way to 优质均衡*: most schools meet most of the 资源配置 requirements of
教督〔2017〕6号 (policy_thresholds.md §1.1: 小学/初中 生均教学及辅助用房 4.5/5.8 m²,
生均体育运动场馆 7.5/10.2 m², 生均教学仪器设备值 2000/2500 元, 每百名学生网络多媒体教室
2.3/2.4 间), and a minority falls short in the ways such counties typically do: crowded
town-centre schools lack sports ground, small rural schools lack equipment. Each school's
value per pupil is its 学段's requirement × a factor drawn per school (z standard normal):

* 教学及辅助用房: exp(ln 1.30 + 0.20 z) everywhere → Φ(1.31) ≈ 90% meet;
* 体育运动场馆: exp(ln m + 0.25 z), m = 1.10 urban, 1.35 town, 1.60 rural → 65% / 88% / 97%;
* 教学仪器设备值: exp(ln m + 0.20 z), m = 1.35 urban, 1.30 town, 1.15 rural → 93% / 90% / 76%;
* 网络多媒体教室: ⌈requirement × pupils ÷ 100 × u⌉ rooms, u uniform on [0.93, 1.53] → ≥ 88%.

(Φ the standard normal distribution; shares are P(factor ≥ 1) = Φ(μ/σ).) The teacher
indicators' distributions are in `sources.generator.region` (`TEACHER_EDUCATION`,
`BACKBONE_SHARES`). 高中 (no 优质均衡 requirement) keeps its own bases.
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Table
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import SURVEY_YEARS

# 优质均衡 resource requirements per pupil (per 100 pupils for rooms), 小学 / 初中
# (policy_thresholds.md §1.1); 高中 gets bases of its own.
REQUIRED_AREA = {"primary": 4.5, "junior": 5.8, "senior": 8.5}
REQUIRED_SPORTS = {"primary": 7.5, "junior": 10.2, "senior": 12.5}
REQUIRED_EQUIPMENT = {"primary": 2000.0, "junior": 2500.0, "senior": 4000.0}
REQUIRED_ROOMS_PER100 = {"primary": 2.3, "junior": 2.4, "senior": 2.4}
# (median factor, spread) of value ÷ requirement, by urban/rural; see the docstring.
AREA_FACTOR = {"urban": (1.30, 0.20), "town": (1.30, 0.20), "rural": (1.30, 0.20)}
SPORTS_FACTOR = {"urban": (1.10, 0.25), "town": (1.35, 0.25), "rural": (1.60, 0.25)}
EQUIPMENT_FACTOR = {"urban": (1.35, 0.20), "town": (1.30, 0.20), "rural": (1.15, 0.20)}
ROOMS_FACTOR = (0.93, 1.53)  # uniform


def _by(stage: np.ndarray, table: dict[str, float]) -> np.ndarray:
    return np.array([table[str(s)] for s in stage], dtype=np.float64)


def _factor(ur: np.ndarray, table: dict[str, tuple[float, float]], z: np.ndarray) -> np.ndarray:
    median = np.array([table[str(k)][0] for k in ur], dtype=np.float64)
    spread = np.array([table[str(k)][1] for k in ur], dtype=np.float64)
    factor: np.ndarray = np.exp(np.log(median) + spread * z)
    return factor


def survey(schools: Table, rng: np.random.Generator) -> Table:
    """The 办学条件 survey per school and year (distributions in the module docstring)."""
    n = len(schools["school_code"])
    stage = schools["stages"]
    ur = schools["urban_rural"]
    pupils = schools["_students"].astype(np.float64)
    books_base = np.select([stage == "primary", stage == "junior"], [32, 45], 60)
    labs_base = np.select([stage == "primary", stage == "junior"], [2, 5], 12)
    # One standard normal (or uniform) draw per school and column, in the order of the first
    # survey generator, so the columns after these keep their values.
    area = pupils * _by(stage, REQUIRED_AREA) * _factor(ur, AREA_FACTOR, rng.standard_normal(n))
    sport = (
        pupils * _by(stage, REQUIRED_SPORTS) * _factor(ur, SPORTS_FACTOR, rng.standard_normal(n))
    )
    equip = (
        pupils
        * _by(stage, REQUIRED_EQUIPMENT)
        * _factor(ur, EQUIPMENT_FACTOR, rng.standard_normal(n))
    )
    low, high = ROOMS_FACTOR
    rooms_factor = low + (rng.uniform(0.85, 1.25, n) - 0.85) / 0.4 * (high - low)
    rng.integers(0, 3, n)  # drawn by the first generator; kept for the columns after it
    media = np.ceil(_by(stage, REQUIRED_ROOMS_PER100) * pupils / 100 * rooms_factor - 1e-9)
    tables: list[Table] = []
    tiers = np.array([100, 200, 300, 500, 1000, 2000, 10000], dtype=np.float64)
    tier_p = {
        "urban": (0, 0, 0.02, 0.08, 0.45, 0.35, 0.10),
        "town": (0, 0.03, 0.07, 0.2, 0.5, 0.2, 0),
        "rural": (0.05, 0.15, 0.2, 0.25, 0.35, 0, 0),
    }
    tier = np.zeros(n, dtype=np.int64)
    for k, p in tier_p.items():
        rows = np.flatnonzero(ur == k)
        tier[rows] = rng.choice(len(tiers), size=rows.size, p=np.asarray(p) / sum(p))
    wireless = np.clip(rng.uniform(0.55, 1.05, n) - np.where(ur == "rural", 0.15, 0.0), 0.3, 1.0)
    ipv6 = rng.random(n) < np.where(ur == "rural", 0.55, 0.85)
    for year in SURVEY_YEARS:
        back = 2025 - year  # the year before: a little less equipment, slower network
        grow = 0.93**back
        tables.append(
            {
                "school_code": schools["school_code"],
                "survey_year": np.full(n, float(year)),
                "teaching_aux_area_m2": np.round(area, 1),
                "sports_area_m2": np.round(sport, 1),
                "equipment_value_yuan": np.round(equip * grow, -2),
                "multimedia_classrooms": np.maximum(0, media - back * rng.integers(0, 3, n)),
                "computers": np.round((pupils * rng.uniform(0.08, 0.2, n) + 20) * grow),
                "books": np.round(pupils * books_base * rng.uniform(0.75, 1.3, n) * (0.97**back)),
                "outbound_bandwidth_mbps": tiers[
                    np.maximum(0, tier - back * (rng.random(n) < 0.3))
                ],
                "wireless_coverage": np.round(np.clip(wireless - 0.06 * back, 0.0, 1.0), 3),
                "ipv6_enabled": np.where(
                    ipv6 & ~((back > 0) & (rng.random(n) < 0.3)), "true", "false"
                ).astype(STR),
                "new_type_spaces": np.maximum(
                    0, rng.poisson(np.where(ur == "urban", 2.0, 0.7)) - back
                ).astype(np.float64),
                "labs": np.maximum(1, np.round(labs_base * rng.uniform(0.6, 1.5, n))),
                "recording_classrooms": np.maximum(
                    0, rng.poisson(np.where(ur == "rural", 0.4, 1.2)) - back
                ).astype(np.float64),
                "_school": schools["_school"],
            }
        )
    return {k: np.concatenate([t[k] for t in tables]) for k in tables[0]}


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    draw.tables["facility_survey"] = survey(world.schools, draw.stream(4))


PART = GeneratorPart(county, streams=(4,))
