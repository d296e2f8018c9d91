"""The facilities part of the synthetic region: the 办学条件 survey of each school and year."""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Table
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import SURVEY_YEARS


def survey(schools: Table, rng: np.random.Generator) -> Table:
    """The 办学条件 survey per school and year, spread around the 优质均衡 thresholds."""
    n = len(schools["school_code"])
    stage = schools["stages"]
    ur = schools["urban_rural"]
    pupils = schools["_students"].astype(np.float64)
    ur_space = np.select([ur == "urban", ur == "town"], [0.85, 1.0], 1.3)
    ur_field = np.select([ur == "urban", ur == "town"], [0.62, 1.0], 1.5)
    ur_money = np.select([ur == "urban", ur == "town"], [1.1, 1.0], 0.8)
    area_base = np.select([stage == "primary", stage == "junior"], [5.3, 6.8], 8.5)
    sport_base = np.select([stage == "primary", stage == "junior"], [9.0, 11.5], 12.5)
    equip_base = np.select([stage == "primary", stage == "junior"], [2500, 3000], 4000)
    books_base = np.select([stage == "primary", stage == "junior"], [32, 45], 60)
    labs_base = np.select([stage == "primary", stage == "junior"], [2, 5], 12)
    classes = np.maximum(1, np.round(pupils / 45))
    tables: list[Table] = []
    area = pupils * area_base * ur_space * rng.lognormal(0, 0.18, n)
    sport = pupils * sport_base * ur_field * rng.lognormal(0, 0.25, n)
    equip = pupils * equip_base * ur_money * rng.lognormal(0, 0.25, n)
    media = np.round(classes * rng.uniform(0.85, 1.25, n)) + rng.integers(0, 3, n)
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
