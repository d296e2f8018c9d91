"""The teachers' part of the synthetic region: training records (继续教育) and digital-literacy
assessments of the county's staff, drawn from stream 13.

* 提升工程2.0 (整校推进, 2021-2022 or 2022-2023, 50 学时): each school has its own take-up
  (most near all, a few rural schools behind); a 专任教师 takes part with the school's
  probability; 95 % of those pass, 3 % fail, 2 % do not finish. A few non-teaching staff take
  part too (they are in no rate).
* Other training of the current school year (学科教学, 师德师风, 数字素养, 其他): one to three
  programmes per 专任教师, 6–72 学时, nearly all passed.
* A digital-literacy assessment in the current school year for 90 % of 专任教师 (by school:
  a few schools assess fewer): five dimension scores around a latent level that is higher for
  younger teachers and for those who passed 提升工程2.0; the total is their mean (one
  decimal) and the level 优秀 ≥ 85, 良好 ≥ 75, 合格 ≥ 60, else 不合格.

Both are exported by the 教师专业发展平台 (source `zyfz`, named so that it sorts after every
earlier source: the faults of their exports are drawn after theirs and change none of them),
with the usual faults; the truth keeps the rows as generated.
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Table, cat, zpad
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart
from edubrain.sources.generator.plan import SCHOOL_YEAR, YEAR_START

STREAM = 13
ICT2_YEARS = ("2021-2022", "2022-2023")
ICT2_HOURS = 50.0
OTHER_PROGRAMMES = (
    ("subject", "学科教学能力提升培训", "county"),
    ("subject", "新课标专题研修", "city"),
    ("ethics", "师德师风专题培训", "school"),
    ("digital", "教师数字素养专题培训", "province"),
    ("other", "心理健康教育培训", "county"),
    ("other", "安全教育专题培训", "school"),
)
LEVEL_BOUNDS = ((85.0, "excellent"), (75.0, "good"), (60.0, "pass"))


def literacy_level(total: np.ndarray) -> np.ndarray:
    """The level of each total: 优秀 ≥ 85, 良好 ≥ 75, 合格 ≥ 60, else 不合格."""
    out = np.full(total.shape, "fail", dtype=STR)
    for bound, level in reversed(LEVEL_BOUNDS):
        out[total >= bound] = level
    return out


def _dates(rng: np.random.Generator, year: str, n: int, days: int) -> tuple[np.ndarray, np.ndarray]:
    first = np.datetime64(f"{year[:4]}-10-08")
    start = first + rng.integers(0, 150, n).astype("timedelta64[D]")
    return start, start + rng.integers(1, days + 1, n).astype("timedelta64[D]")


def training(teachers: Table, schools: Table, county_code: str, rng: np.random.Generator) -> Table:
    """The training records of one county's staff (see the module docstring)."""
    m = teachers["staff_number"].size
    is_teacher = teachers["post"] == "teacher"
    school = teachers["_school"]
    n_s = schools["school_code"].size
    rural = schools["urban_rural"] != "urban"
    take_up = np.clip(rng.normal(0.97, 0.03, n_s) - np.where(rural, 0.04, 0.0), 0.55, 1.0)
    laggards = rng.random(n_s) < 0.08
    take_up[laggards] = rng.uniform(0.55, 0.85, int(laggards.sum()))
    took = np.where(is_teacher, rng.random(m) < take_up[school], rng.random(m) < 0.05)
    who = np.flatnonzero(took)
    year = np.array(ICT2_YEARS, dtype=STR)[rng.integers(0, 2, who.size)]
    u = rng.random(who.size)
    result = np.select([u < 0.95, u < 0.98], ["passed", "failed"], "incomplete").astype(STR)
    start, end = _dates(rng, "2021-2022", who.size, 120)
    start = start + np.where(year == ICT2_YEARS[1], 365, 0).astype("timedelta64[D]")
    end = end + np.where(year == ICT2_YEARS[1], 365, 0).astype("timedelta64[D]")
    hours = np.where(result == "passed", ICT2_HOURS, np.round(rng.uniform(8, 46, who.size)))
    ict2: Table = {
        "staff_number": teachers["staff_number"][who],
        "programme_id": cat("TS2-", county_code, "-", np.char.replace(year, "-", "")),
        "programme_name": np.full(who.size, "中小学教师信息技术应用能力提升工程2.0", dtype=STR),
        "programme_kind": np.full(who.size, "ict2", dtype=STR),
        "programme_level": np.full(who.size, "province", dtype=STR),
        "school_year": year,
        "start_date": start,
        "end_date": end,
        "hours": hours.astype(np.float64),
        "result": result,
    }
    # other programmes of the current year: each teacher 1–3 distinct ones
    teaching = np.flatnonzero(is_teacher)
    k = rng.integers(1, 4, teaching.size)
    order = np.argsort(rng.random((teaching.size, len(OTHER_PROGRAMMES))), axis=1)
    rows, cols = np.nonzero(np.arange(len(OTHER_PROGRAMMES))[None, :] < k[:, None])
    staff = teaching[rows]
    prog = order[rows, cols]
    kinds = np.array([p[0] for p in OTHER_PROGRAMMES], dtype=STR)[prog]
    names = np.array([p[1] for p in OTHER_PROGRAMMES], dtype=STR)[prog]
    levels = np.array([p[2] for p in OTHER_PROGRAMMES], dtype=STR)[prog]
    start2, end2 = _dates(rng, SCHOOL_YEAR, staff.size, 5)
    passed2 = rng.random(staff.size) < 0.985
    other: Table = {
        "staff_number": teachers["staff_number"][staff],
        "programme_id": cat("PX", SCHOOL_YEAR[:4], "-", county_code, "-", zpad(prog + 1, 2)),
        "programme_name": names,
        "programme_kind": kinds,
        "programme_level": levels,
        "school_year": np.full(staff.size, SCHOOL_YEAR, dtype=STR),
        "start_date": start2,
        "end_date": end2,
        "hours": np.round(rng.uniform(6, 72, staff.size) * 2) / 2,
        "result": np.where(passed2, "passed", "incomplete").astype(STR),
    }
    out = {c: np.concatenate([ict2[c], other[c]]) for c in ict2}
    order_rows = np.lexsort((out["programme_id"], out["staff_number"]))
    return {c: v[order_rows] for c, v in out.items()}


def literacy(teachers: Table, schools: Table, trained: Table, rng: np.random.Generator) -> Table:
    """This year's digital-literacy assessments of one county's 专任教师."""
    is_teacher = teachers["post"] == "teacher"
    school = teachers["_school"]
    n_s = schools["school_code"].size
    assessed_share = np.where(rng.random(n_s) < 0.1, rng.uniform(0.6, 0.85, n_s), 0.93)
    sat = is_teacher & (rng.random(is_teacher.size) < assessed_share[school])
    who = np.flatnonzero(sat)
    ict2_passed = (trained["programme_kind"] == "ict2") & (trained["result"] == "passed")
    passed_ict2 = np.isin(teachers["staff_number"][who], trained["staff_number"][ict2_passed])
    age = (YEAR_START - teachers["birth_date"][who]).astype("timedelta64[D]").astype(np.float64)
    age_years = age / 365.25
    latent = 71.0 - 0.35 * (age_years - 40.0) + np.where(passed_ict2, 3.0, -6.0)
    latent = latent + rng.normal(0.0, 8.0, who.size)
    dims = np.clip(np.round(latent[:, None] + rng.normal(0.0, 6.0, (who.size, 5))), 0, 100)
    total = np.round(dims.mean(axis=1), 1)
    date = np.datetime64(f"{SCHOOL_YEAR[:4]}-11-10") + rng.integers(0, 40, who.size).astype(
        "timedelta64[D]"
    )
    names = ("awareness_score", "skills_score", "application_score", "responsibility_score",
             "development_score")  # fmt: skip
    return {
        "staff_number": teachers["staff_number"][who],
        "school_year": np.full(who.size, SCHOOL_YEAR, dtype=STR),
        "assessed_date": date,
        **{name: dims[:, i] for i, name in enumerate(names)},
        "total_score": total,
        "level": literacy_level(total),
    }


def county(draw: CountyDraw) -> None:
    world = draw.shared["world"]
    rng = draw.stream(STREAM)
    trained = training(world.teachers, world.schools, draw.county.code, rng)
    draw.tables["teacher_training"] = trained
    draw.tables["teacher_literacy"] = literacy(world.teachers, world.schools, trained, rng)


PART = GeneratorPart(county, streams=(STREAM,))
