"""The shared world of a county: schools, classes, students, guardians, teachers, assignments.

The numbers follow the reference documents (shared/reference/policy_thresholds.md): class sizes
around 35–50 with some 大班额 (≥56) and a few 超大班额 (≥66) classes and staffing near the
unified 编制 ratios (小学 1:19, 初中 1:13.5, 高中 1:12.5) with some schools short. The domain
modules' generator parts build on it (each school's facilities, exams, homework, …).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edubrain.sources.generator import people
from edubrain.sources.generator.columns import STR, Array, Table, cat, text, zpad
from edubrain.sources.generator.plan import SCHOOL_YEAR, YEAR_START, County, allocate

STAGES: dict[str, tuple[str, ...]] = {
    "primary": ("11", "12", "13", "14", "15", "16"),
    "junior": ("21", "22", "23"),
    "senior": ("31", "32", "33"),
}
STAGE_SHARE = {"primary": 0.54, "junior": 0.27, "senior": 0.19}
STUDENTS_PER_SCHOOL = {"primary": 470, "junior": 800, "senior": 1600}
UR_CODES = ("urban", "town", "rural")
UR_PROBS = {"primary": (0.30, 0.35, 0.35), "junior": (0.35, 0.45, 0.20), "senior": (0.6, 0.4, 0.0)}
UR_SIZE = {"urban": 2.0, "town": 1.1, "rural": 0.45}  # relative enrolment
# Planned class size per school (choice, probability): the tail makes 大班额/超大班额 classes.
CLASS_TARGET = {
    "urban": ((44, 48, 52, 58, 68), (0.31, 0.31, 0.22, 0.10, 0.06)),
    "town": ((40, 45, 50, 57, 68), (0.32, 0.35, 0.22, 0.08, 0.03)),
    "rural": ((32, 38, 44, 57), (0.35, 0.35, 0.26, 0.04)),
}
STAFF_RATIO = {"primary": 19.0, "junior": 13.5, "senior": 12.5}  # students per staff member
GRADE_NAME = dict(
    zip(
        ("11", "12", "13", "14", "15", "16", "21", "22", "23", "31", "32", "33"),
        (
            "一年级",
            "二年级",
            "三年级",
            "四年级",
            "五年级",
            "六年级",
            "七年级",
            "八年级",
            "九年级",
            "高一",
            "高二",
            "高三",
        ),
        strict=True,
    )
)
YEAR_INDEX = {g: i + 1 for i, g in enumerate(GRADE_NAME)}

# Weekly periods per subject (浙江: integrated 科学 in junior school).
_PLAN_LOW = {
    "chinese": 8,
    "math": 4,
    "pe": 4,
    "music": 2,
    "art": 2,
    "politics": 2,
    "labour": 1,
    "other": 1,
}
_PLAN_MID = {
    "chinese": 6,
    "math": 4,
    "english": 2,
    "science": 2,
    "pe": 3,
    "music": 2,
    "art": 2,
    "politics": 2,
    "it": 1,
    "labour": 1,
}
_PLAN_HIGH = {
    "chinese": 6,
    "math": 5,
    "english": 3,
    "science": 2,
    "pe": 3,
    "music": 2,
    "art": 2,
    "politics": 2,
    "it": 1,
    "labour": 1,
}
_PLAN_JUNIOR = {
    "chinese": 5,
    "math": 5,
    "english": 4,
    "science": 4,
    "history": 2,
    "politics": 2,
    "pe": 3,
    "music": 1,
    "art": 1,
    "it": 1,
}
_PLAN_SENIOR = {
    "chinese": 4,
    "math": 4,
    "english": 4,
    "physics": 3,
    "chemistry": 3,
    "biology": 2,
    "history": 2,
    "geography": 2,
    "politics": 2,
    "pe": 2,
    "it": 1,
    "music": 1,
    "art": 1,
}
SUBJECT_PLAN: dict[str, dict[str, int]] = {
    "11": _PLAN_LOW,
    "12": _PLAN_LOW,
    "13": _PLAN_MID,
    "14": _PLAN_MID,
    "15": _PLAN_HIGH,
    "16": _PLAN_HIGH,
    "21": _PLAN_JUNIOR,
    "22": _PLAN_JUNIOR,
    "23": _PLAN_JUNIOR,
    "31": _PLAN_SENIOR,
    "32": _PLAN_SENIOR,
    "33": _PLAN_SENIOR,
}
# A county part-way to 优质均衡 (教督〔2017〕6号, policy_thresholds.md §1.1): most schools meet
# the three teacher requirements per 100 pupils, a minority falls short.
# 学历 (postgraduate, bachelor, associate, secondary) by urban/rural: 初中 needs 5.3 teachers with
# a 本科 or more per 100 pupils, so a county of ~6–7 junior teachers per 100 pupils needs
# ≥ ~80% of them with a 本科; most schools reach it, rural ones least.
TEACHER_EDUCATION = {
    "urban": (0.18, 0.80, 0.02, 0.0),
    "town": (0.10, 0.86, 0.04, 0.0),
    "rural": (0.04, 0.86, 0.10, 0.0),
}
# 骨干教师 level (none, school, county, city, province): 1 county-level-or-above per 100 pupils
# at ~5–7 teachers per 100 pupils needs ≥ ~15–20% of teachers at county level or above; the
# shares here are 38% / 34% / 30% (urban / town / rural), so small schools are the ones short.
BACKBONE_SHARES = {
    "urban": (0.45, 0.17, 0.26, 0.10, 0.02),
    "town": (0.50, 0.16, 0.27, 0.06, 0.01),
    "rural": (0.55, 0.15, 0.25, 0.05, 0.0),
}
# PE, music and art shares are scaled per school by a factor from this range, so a minority
# of schools falls short of 0.9 PE and art teachers per 100 pupils.
ARTS_SCALE = (1.4, 2.0)
# Share of teachers by main subject.
TEACHER_SUBJECTS = {
    "primary": {
        "chinese": 0.31,
        "math": 0.23,
        "english": 0.09,
        "science": 0.06,
        "politics": 0.03,
        "it": 0.03,
        "labour": 0.02,
        "other": 0.02,
        "pe": 0.09,
        "music": 0.06,
        "art": 0.06,
    },
    "junior": {
        "chinese": 0.16,
        "math": 0.16,
        "english": 0.15,
        "science": 0.15,
        "history": 0.06,
        "politics": 0.06,
        "it": 0.03,
        "other": 0.02,
        "pe": 0.09,
        "music": 0.03,
        "art": 0.03,
    },
    "senior": {
        "chinese": 0.13,
        "math": 0.13,
        "english": 0.13,
        "physics": 0.09,
        "chemistry": 0.08,
        "biology": 0.07,
        "history": 0.07,
        "geography": 0.06,
        "politics": 0.06,
        "it": 0.03,
        "other": 0.02,
        "pe": 0.07,
        "music": 0.02,
        "art": 0.02,
    },
}
_ARTS = ("pe", "music", "art")
# Real county codes of other provinces that send many migrant families (GB/T 2260).
MIGRANT_REGIONS = np.array(
    [341221, 411524, 360731, 511621, 522324, 431021, 421127, 532128], dtype=np.int64
)
_LOCAL_MINORITIES = (("22", 0.7), ("03", 0.15), ("15", 0.1), ("06", 0.1), ("11", 0.05))
_MIGRANT_MINORITIES = (
    ("06", 2.0),
    ("15", 2.0),
    ("09", 1.5),
    ("12", 1.0),
    ("07", 1.0),
    ("03", 1.0),
    ("08", 1.0),
    ("04", 0.2),
)


@dataclass
class World:
    """One county's generated population; tables hold standard fields plus hidden '_' columns."""

    county: County
    schools: Table
    classes: Table
    students: Table
    guardians: Table
    teachers: Table
    assignments: Table
    towns: list[str] = field(default_factory=list)


def _choice(
    rng: np.random.Generator, options: tuple[str, ...], p: tuple[float, ...], n: int
) -> Array:
    w = np.asarray(p, dtype=np.float64)
    return np.array(options, dtype=STR)[rng.choice(len(options), size=n, p=w / w.sum())]


def build_world(county: County, rngs: list[np.random.Generator], n_counties: int = 1) -> World:
    r_school, r_student, r_guardian, r_teacher = rngs[:4]
    ids = people.IdAllocator(county.code, county.index)
    schools, towns = _schools(county, r_school)
    classes, students = _classes_and_students(county, schools, towns, r_student, ids, n_counties)
    guardians = _guardians(county, students, r_guardian, ids)
    teachers, assignments = _teachers(county, schools, classes, r_teacher, ids)
    return World(county, schools, classes, students, guardians, teachers, assignments, towns)


# Schools lie within ±SCHOOL_SPREAD (longitude, latitude) of their county's centre.
SCHOOL_SPREAD = (0.25, 0.2)


def county_centre(index: int) -> tuple[float, float]:
    """Longitude and latitude of the `index`-th county's centre (five counties a row)."""
    return 119.6 + 0.35 * (index % 5), 28.9 + 0.3 * (index // 5)


def _schools(county: County, rng: np.random.Generator) -> tuple[Table, list[str]]:
    stage_totals = allocate(county.students, np.array(list(STAGE_SHARE.values())))
    stage_l: list[str] = []
    ur_l: list[str] = []
    size_l: list[int] = []
    for stage, total in zip(STAGES, stage_totals, strict=True):
        n = max(1, round(total / STUDENTS_PER_SCHOOL[stage]))
        ur = _choice(rng, UR_CODES, UR_PROBS[stage], n)
        if n >= 3 and "urban" not in ur:
            ur[0] = "urban"
        weights = np.array([UR_SIZE[u] for u in ur]) * rng.lognormal(0, 0.35, n)
        sizes = allocate(int(total), weights)
        stage_l += [stage] * n
        ur_l += [str(u) for u in ur]
        size_l += [int(s) for s in sizes]
    n = len(stage_l)
    towns = people.place_names(rng, max(8, n // 6 + 4))
    town_idx = np.where(
        np.array(ur_l) == "urban", 0, rng.integers(1, len(towns), n)
    )  # the county seat (城关) is town 0
    names, zones = _school_names(county, stage_l, ur_l, town_idx, towns, rng)
    codes = [f"3133{county.index + 1:02d}{i + 1:04d}" for i in range(n)]
    town_arr = np.array(towns, dtype=STR)[town_idx]
    lon0, lat0 = county_centre(county.index)
    boarding = np.where(
        np.array(stage_l) == "senior",
        rng.random(n) < 0.7,
        (np.array(ur_l) == "rural") & (rng.random(n) < 0.5),
    )
    table: Table = {
        "school_code": np.array(codes, dtype=STR),
        "name": np.array(names, dtype=STR),
        "stages": np.array(stage_l, dtype=STR),
        "urban_rural": np.array(ur_l, dtype=STR),
        "region_code": np.full(n, county.code, dtype=STR),
        "enrolment_zone": np.array(zones, dtype=STR),
        "address": people.road_addresses(rng, cat(county.name, town_arr, "镇")),
        "longitude": np.round(lon0 + rng.uniform(-SCHOOL_SPREAD[0], SCHOOL_SPREAD[0], n), 6),
        "latitude": np.round(lat0 + rng.uniform(-SCHOOL_SPREAD[1], SCHOOL_SPREAD[1], n), 6),
        "is_boarding": np.where(boarding, "true", "false").astype(STR),
        "_school": np.arange(n),
        "_students": np.array(size_l, dtype=np.int64),
        "_town": town_idx,
    }
    return table, towns


def _school_names(
    county: County,
    stages: list[str],
    urs: list[str],
    town_idx: Array,
    towns: list[str],
    rng: np.random.Generator,
) -> tuple[list[str], list[str]]:
    kind = {"primary": "小学", "junior": "初级中学", "senior": "中学"}
    seen: dict[str, int] = {}
    names: list[str] = []
    zones: list[str] = []
    for stage, ur, t in zip(stages, urs, town_idx, strict=True):
        place = county.name if ur == "urban" else towns[t] + "镇"
        if stage == "senior":
            base = f"{county.name}高级中学" if ur == "urban" else f"{place}中学"
        elif ur == "rural":
            base = f"{place}{people.place_names(rng, 1)[0]}{kind[stage]}"
        else:
            base = f"{place}{'实验' if rng.random() < 0.3 else '中心'}{kind[stage]}"
        k = seen.get(base, 0) + 1
        seen[base] = k
        if k > 1:
            stem = base[: -len(kind[stage])] if base.endswith(kind[stage]) else base
            names.append(f"{stem}第{k}{kind[stage]}" if stage != "senior" else f"{base}{k}部")
        else:
            names.append(base)
        zones.append("" if stage == "senior" else f"{towns[t]}片区")
    return names, zones


def _classes_and_students(
    county: County,
    schools: Table,
    towns: list[str],
    rng: np.random.Generator,
    ids: people.IdAllocator,
    n_counties: int,
) -> tuple[Table, Table]:
    cls_school: list[int] = []
    cls_grade: list[str] = []
    cls_no: list[int] = []
    cls_size: list[int] = []
    # The biggest urban compulsory school is the one every family wants (名校): overcrowded.
    sizes = np.where(
        (schools["urban_rural"] == "urban") & (schools["stages"] != "senior"),
        schools["_students"],
        -1,
    )
    popular = int(np.argmax(sizes)) if len(schools["_students"]) >= 8 and sizes.max() > 0 else -1
    for s, (stage, ur, total) in enumerate(
        zip(schools["stages"], schools["urban_rural"], schools["_students"], strict=True)
    ):
        grades = STAGES[str(stage)]
        per_grade = allocate(int(total), rng.uniform(0.92, 1.08, len(grades)))
        options, p = CLASS_TARGET[str(ur)]
        target = int(rng.choice(options, p=np.asarray(p) / sum(p)))
        if s == popular:
            target = max(target, 70)
        if stage == "senior":
            target = max(target, 46)
        for g, n_g in zip(grades, per_grade, strict=True):
            if n_g <= 0:
                continue
            k = max(1, round(n_g / target))
            k += n_g / k > target + 8  # a school opens another class rather than go far over
            sizes = allocate(int(n_g), 1 + 0.05 * rng.standard_normal(k))
            for c, size in enumerate(sizes):
                cls_school.append(s)
                cls_grade.append(g)
                cls_no.append(c + 1)
                cls_size.append(int(size))
    n_cls = len(cls_school)
    grade = np.array(cls_grade, dtype=STR)
    classes: Table = {
        "school_code": schools["school_code"][cls_school],
        "school_year": np.full(n_cls, SCHOOL_YEAR, dtype=STR),
        "grade_code": grade,
        "class_no": np.array(cls_no, dtype=np.float64),
        "class_name": cat(
            np.array([GRADE_NAME[g] for g in cls_grade], dtype=STR),
            "(",
            text(np.array(cls_no)),
            ")班",
        ),
        "stage": schools["stages"][cls_school],
        "head_teacher_staff_number": np.full(n_cls, "", dtype=STR),
        "_school": np.array(cls_school, dtype=np.int64),
        "_size": np.array(cls_size, dtype=np.int64),
    }
    students = _students(county, schools, classes, towns, rng, ids, n_counties)
    return classes, students


def _students(
    county: County,
    schools: Table,
    classes: Table,
    towns: list[str],
    rng: np.random.Generator,
    ids: people.IdAllocator,
    n_counties: int,
) -> Table:
    cls = np.repeat(np.arange(len(classes["_size"])), classes["_size"])
    n = len(cls)
    school = classes["_school"][cls]
    grade = classes["grade_code"][cls]
    year_index = np.array([YEAR_INDEX[str(g)] for g in grade], dtype=np.int64)
    sex = np.where(rng.random(n) < 1.1 / 2.1, "1", "2").astype(STR)  # 出生性别比 ~110
    # Born so that the age on 1 September is 5 + years of schooling; ~2% a year off.
    shift = rng.choice([-1, 0, 1], size=n, p=[0.01, 0.98, 0.01])
    first_day = np.array([f"{2019 - i:04d}-09-01" for i in range(0, 13)], dtype="datetime64[D]")[
        year_index
    ]
    birth = first_day + (rng.integers(0, 365, n) + 365 * shift).astype("timedelta64[D]")

    # Hukou: mostly the county itself, some from the city's other counties, some migrants.
    u = rng.random(n)
    hukou = np.where(u < 0.88, int(county.code), MIGRANT_REGIONS[rng.integers(0, 8, n)])
    others = np.array([339901 + c for c in range(n_counties) if c != county.index], dtype=np.int64)
    if others.size:
        near = (u >= 0.88) & (u < 0.93)
        hukou = np.where(near, others[rng.integers(0, others.size, n)], hukou)
    migrant = hukou // 10000 != 33

    kind = rng.random(n)
    is_j = kind < 0.045
    is_l = (kind >= 0.045) & (kind < 0.07)
    id_number = np.full(n, "", dtype=STR)
    g_rows = np.flatnonzero(~is_j & ~is_l)
    id_number[g_rows] = ids.allocate(rng, hukou[g_rows], birth[g_rows], sex[g_rows])
    sn = cat("G", id_number)
    sn[is_j] = people.j_numbers(rng, county.code, birth[is_j])
    sn[is_l] = people.l_numbers(rng, county.code, birth[is_l])
    for _ in range(50):  # J/L numbers are random: redraw the rare clashes
        _, inverse, counts = np.unique(sn, return_inverse=True, return_counts=True)
        clash = (counts[inverse] > 1) & (is_j | is_l)
        if not clash.any():
            break
        sn[clash & is_l] = people.l_numbers(rng, county.code, birth[clash & is_l])
        sn[clash & is_j] = people.j_numbers(rng, county.code, birth[clash & is_j])
    hukou_text = np.where(is_j | is_l, "", zpad(hukou, 6)).astype(STR)

    ethnicity = np.full(n, "01", dtype=STR)
    for pool, rate, mask in (
        (_LOCAL_MINORITIES, 0.012, ~migrant),
        (_MIGRANT_MINORITIES, 0.1, migrant),
    ):
        codes = np.array([c for c, _ in pool], dtype=STR)
        w = np.array([x for _, x in pool])
        pick = mask & (rng.random(n) < rate)
        ethnicity[pick] = codes[rng.choice(len(codes), size=int(pick.sum()), p=w / w.sum())]

    town = schools["_town"][school]
    villages = np.array(people.place_names(rng, 60), dtype=STR)
    urban = schools["urban_rural"][school] == "urban"
    rural_addr = cat(
        county.name,
        np.array(towns, dtype=STR)[town],
        "镇",
        villages[rng.integers(0, 60, n)],
        "村",
        text(rng.integers(1, 12, n)),
        "组",
    )
    urban_addr = cat(
        people.road_addresses(rng, np.full(n, county.name, dtype=STR)),
        text(rng.integers(1, 30, n)),
        "幢",
        text(rng.integers(101, 2600, n)),
        "室",
    )
    stage_start = {"1": 0, "2": 6, "3": 9}
    enrol = np.array([2025 - (YEAR_INDEX[str(g)] - stage_start[str(g)[0]]) + 1 for g in grade])
    status = np.where(rng.random(n) < 0.986, "enrolled", "transferred_out").astype(STR)
    status[rng.random(n) < 0.004] = "suspended"
    return {
        "student_number": sn,
        "id_number": id_number,
        "name": people.names(rng, sex),
        "sex": sex,
        "birth_date": birth,
        "ethnicity": ethnicity,
        "hukou_region": hukou_text,
        "address": np.where(urban, urban_addr, rural_addr).astype(STR),
        "school_code": schools["school_code"][school],
        "school_year": np.full(n, SCHOOL_YEAR, dtype=STR),
        "grade_code": grade,
        "class_no": classes["class_no"][cls],
        "enrol_year": enrol.astype(np.float64),
        "status": status,
        "_school": school,
        "_class": cls,
        "_class_name": classes["class_name"][cls],
        "_age": (YEAR_START - birth).astype(np.float64) / 365.25,
        "_migrant": migrant,
    }


def _guardians(
    county: County, students: Table, rng: np.random.Generator, ids: people.IdAllocator
) -> Table:
    n = len(students["student_number"])
    u = rng.random(n)
    # Two guardians for most pupils (father + mother), one for some, grandparents for left-behind.
    combos = (
        ("father", "mother"),
        ("mother", "grandparent"),
        ("mother",),
        ("father",),
        ("grandparent",),
    )
    pick = np.select([u < 0.72, u < 0.78, u < 0.90, u < 0.96], [0, 1, 2, 3], 4)
    owner: list[Array] = []
    rel: list[Array] = []
    for k, combo in enumerate(combos):
        rows = np.flatnonzero(pick == k)
        for r in combo:
            owner.append(rows)
            rel.append(np.full(rows.size, r, dtype=STR))
    who = np.concatenate(owner)
    order = np.argsort(who, kind="stable")
    who = who[order]
    relation = np.concatenate(rel)[order]
    m = len(who)
    sex = np.where(
        relation == "father",
        "1",
        np.where(relation == "mother", "2", np.where(rng.random(m) < 0.5, "1", "2")),
    ).astype(STR)
    child_surname = people.surname_of(students["name"][who])
    keep = (relation == "father") & (rng.random(m) < 0.96)
    surname = np.where(keep, child_surname, people.surname_sample(rng, m)).astype(STR)
    gap_years = np.where(relation == "grandparent", rng.uniform(45, 62, m), rng.uniform(22, 40, m))
    birth = students["birth_date"][who] - (gap_years * 365.25).astype("timedelta64[D]")
    hukou = np.where(
        students["_migrant"][who], MIGRANT_REGIONS[rng.integers(0, 8, m)], int(county.code)
    )
    has_id = rng.random(m) < 0.6
    id_number = np.full(m, "", dtype=STR)
    rows = np.flatnonzero(has_id)
    id_number[rows] = ids.allocate(rng, hukou[rows], birth[rows], sex[rows])
    phone = people.phones(rng, m)
    phone[rng.random(m) < 0.03] = ""
    return {
        "student_number": students["student_number"][who],
        "relation": relation,
        "name": people.names(rng, sex, surname),
        "phone": phone,
        "id_number": id_number,
        "_school": students["_school"][who],
    }


def _teachers(
    county: County,
    schools: Table,
    classes: Table,
    rng: np.random.Generator,
    ids: people.IdAllocator,
) -> tuple[Table, Table]:
    n_s = len(schools["school_code"])
    class_count = np.bincount(classes["_school"], minlength=n_s)
    staff_school: list[int] = []
    staff_subject: list[str] = []
    staff_post: list[str] = []
    for s in range(n_s):
        stage = str(schools["stages"][s])
        pupils = int(schools["_students"][s])
        need = pupils / STAFF_RATIO[stage] * rng.uniform(0.82, 1.1)
        floor = class_count[s] * {"primary": 1.6, "junior": 2.4, "senior": 2.8}[stage]
        staff = max(3, round(max(need, floor)))
        n_teach = max(2, round(staff * rng.uniform(0.86, 0.93)))
        shares = dict(TEACHER_SUBJECTS[stage])
        arts = rng.uniform(*ARTS_SCALE)
        for k in _ARTS:
            shares[k] *= arts
        subj = np.array(list(shares), dtype=STR)
        w = np.array(list(shares.values()))
        main = subj[rng.choice(len(subj), size=n_teach, p=w / w.sum())]
        main[:2] = ["chinese", "math"]  # every school has at least these
        posts = _choice(rng, ("admin", "support", "worker"), (0.5, 0.3, 0.2), staff - n_teach)
        staff_school += [s] * staff
        staff_subject += [str(x) for x in main] + [""] * (staff - n_teach)
        staff_post += ["teacher"] * n_teach + [str(p) for p in posts]
    m = len(staff_school)
    school = np.array(staff_school, dtype=np.int64)
    t_stage = schools["stages"][school]
    ur = schools["urban_rural"][school]
    female = np.select([t_stage == "primary", t_stage == "junior"], [0.78, 0.62], 0.52)
    sex = np.where(rng.random(m) < female, "2", "1").astype(STR)
    age = rng.triangular(22, 38, 60, m)
    birth = YEAR_START - (age * 365.25).astype("timedelta64[D]")
    u = rng.random(m)
    hukou = np.where(u < 0.85, int(county.code), MIGRANT_REGIONS[rng.integers(0, 8, m)])
    id_number = ids.allocate(rng, hukou, birth, sex)
    is_teacher = np.array(staff_post, dtype=STR) == "teacher"
    subjects = np.array(staff_subject, dtype=STR)
    second = is_teacher & (rng.random(m) < 0.12) & np.isin(subjects, ["chinese", "history"])
    subjects = np.where(second, cat(subjects, ";politics"), subjects).astype(STR)
    subjects = _cover_missing_subjects(subjects, school, is_teacher, classes, schools)
    education = np.full(m, "bachelor", dtype=STR)
    for k, pe in TEACHER_EDUCATION.items():
        rows_k = np.flatnonzero(ur == k)
        education[rows_k] = _choice(
            rng, ("postgraduate", "bachelor", "associate", "secondary"), pe, rows_k.size
        )
    title = np.select(
        [age < 26, age < 32, age < 42],
        [
            _choice(rng, ("none", "third", "second"), (0.5, 0.1, 0.4), m),
            _choice(rng, ("second", "first"), (0.6, 0.4), m),
            _choice(rng, ("second", "first", "senior"), (0.15, 0.6, 0.25), m),
        ],
        _choice(rng, ("first", "senior", "senior_professor"), (0.45, 0.53, 0.02), m),
    ).astype(STR)
    backbone = np.full(m, "none", dtype=STR)
    for k, pb in BACKBONE_SHARES.items():
        rows_k = np.flatnonzero(ur == k)
        backbone[rows_k] = _choice(
            rng, ("none", "school", "county", "city", "province"), pb, rows_k.size
        )
    backbone[~is_teacher] = ""
    title[~is_teacher & (rng.random(m) < 0.5)] = ""
    training = np.round(np.clip(rng.normal(78, 28, m), 0, 240) * 2) / 2
    staff_number = cat("JG", county.code, zpad(np.arange(1, m + 1), 5))
    teachers: Table = {
        "staff_number": staff_number,
        "id_number": id_number,
        "name": people.names(rng, sex),
        "sex": sex,
        "birth_date": birth,
        "education": education,
        "title": title,
        "subjects": subjects,
        "backbone_level": backbone,
        "school_code": schools["school_code"][school],
        "post": np.array(staff_post, dtype=STR),
        "training_hours": training,
        "_school": school,
        "_main": np.array(staff_subject, dtype=STR),
    }
    assignments = _assignments(classes, teachers)
    return teachers, assignments


# Subjects a school leaves without a teacher of its own when it cannot cover them all, in the
# order audits of 开齐开足 find them missing: the arts and IT first.
LAST_COVERED = ("music", "art", "it")
UNCOVERED_AT_MOST = 2


def _cover_missing_subjects(
    subjects: Array, school: Array, is_teacher: Array, classes: Table, schools: Table
) -> Array:
    """Small schools cannot hold a specialist for every subject of their timetable: their
    teachers also teach (兼任) and list the subjects nobody holds. Four schools in five cover
    every planned subject this way; every fifth school (学校标识码 ending in 0 or 5) leaves up
    to `UNCOVERED_AT_MOST` of them (music, art and IT first) without a teacher of their own —
    a minority short of 开齐开足, one or two subjects each. No random draw: the rest of the
    region is unchanged."""
    out = subjects.astype(object)
    grades_of = classes["grade_code"]
    for s in range(len(schools["school_code"])):
        teach = np.flatnonzero((school == s) & is_teacher)
        if teach.size == 0:
            continue
        grades = {str(g) for g in grades_of[classes["_school"] == s]}
        planned = sorted({subject for g in grades for subject in SUBJECT_PLAN[g]})
        held = {x for t in teach for x in str(out[t]).split(";")}
        missing = [p for p in planned if p not in held and p not in LAST_COVERED]
        missing += [p for p in LAST_COVERED if p in planned and p not in held]
        if str(schools["school_code"][s])[-1] in "05":
            missing = missing[:-UNCOVERED_AT_MOST]
        for k, subject in enumerate(missing):
            t = teach[-1 - k % teach.size]  # the school's last-hired teachers take them on
            out[t] = f"{out[t]};{subject}"
    return out.astype(STR)


def _assignments(classes: Table, teachers: Table) -> Table:
    """One teacher per class × subject of the plan; head teachers from the main subjects."""
    t_school = teachers["_school"]
    main = teachers["_main"]
    is_teacher = teachers["post"] == "teacher"
    by_school: dict[int, Array] = {}
    order = np.argsort(t_school, kind="stable")
    bounds = np.searchsorted(t_school[order], np.arange(t_school.max() + 2))
    for s in range(len(bounds) - 1):
        by_school[s] = order[bounds[s] : bounds[s + 1]]
    cls_idx: list[int] = []
    staff: list[int] = []
    subj: list[str] = []
    periods: list[int] = []
    head = np.full(len(classes["_school"]), -1, dtype=np.int64)
    c_school = classes["_school"]
    for s, members in by_school.items():
        teach = members[is_teacher[members]]
        if teach.size == 0:
            continue
        my_classes = np.flatnonzero(c_school == s)
        core = teach[np.isin(main[teach], ["chinese", "math", "english"])]
        pool = core if core.size else teach
        head[my_classes] = pool[np.arange(my_classes.size) % pool.size]
        subject_of = main[teach]
        load: dict[str, int] = {}
        for i, c in enumerate(my_classes):
            for subject, n_per in SUBJECT_PLAN[str(classes["grade_code"][c])].items():
                cands = teach[subject_of == subject]
                if cands.size == 0:
                    cands = teach
                k = load.get(subject, 0)
                load[subject] = k + 1
                cls_idx.append(int(c))
                staff.append(int(cands[(k + i) % cands.size]))
                subj.append(subject)
                periods.append(n_per)
    classes["head_teacher_staff_number"] = np.where(
        head >= 0, teachers["staff_number"][np.maximum(head, 0)], ""
    ).astype(STR)
    cls = np.array(cls_idx, dtype=np.int64)
    return {
        "staff_number": teachers["staff_number"][np.array(staff, dtype=np.int64)],
        "school_code": classes["school_code"][cls],
        "school_year": classes["school_year"][cls],
        "grade_code": classes["grade_code"][cls],
        "class_no": classes["class_no"][cls],
        "subject": np.array(subj, dtype=STR),
        "weekly_periods": np.array(periods, dtype=np.float64),
        "_school": classes["_school"][cls],
    }
