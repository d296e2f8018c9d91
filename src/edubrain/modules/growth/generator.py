"""The 综合素质评价 part of the synthetic region: confirmed growth records of the enrolled pupils
for two terms (2024-2025 第二学期 — not for this year's 一年级 — and 2025-2026 第一学期), drawn from
stream 14.

Each pupil has a latent standing per domain (德智体美劳, standard normal); each term's records
follow it: the head teacher's 操行等级 (A–D), 志愿服务 (Poisson count, 1–4 hours each), 荣誉表彰,
违纪处分 (rare), one 学业等级
(A–D), one 体测等级 and the term's 体育锻炼 hours, 艺术活动 and one 艺术测评 (3 % of pupils
have no arts record that term: their 美 is 无记录), 劳动时长 and 劳动任务. For 4 % of pupils one
domain falls by 1.5 standard deviations in the second term (between terms a standing moves by
0.2) (the 成长预警 the scheme's decline
should find), and 2 % carry a 研学旅行 record the example scheme does not score. No source
exports them here: the truth is also the standard-format file (`standard/growth_record.csv`).
"""

from __future__ import annotations

import numpy as np

from edubrain.sources.generator.columns import STR, Table, cat, zpad
from edubrain.sources.generator.parts import CountyDraw, GeneratorPart

STREAM = 14
DOMAINS = ("moral", "intellectual", "physical", "aesthetic", "labour")
TERMS = (("2024-2025", "2", "2025-03-03"), ("2025-2026", "1", "2025-09-08"))
_DESCRIPTIONS = {
    "志愿服务": ("参加社区志愿服务", "参加敬老院志愿服务", "参加图书馆志愿服务"),
    "荣誉表彰": ("获评校级三好学生", "获评优秀班干部", "获得区级征文比赛奖项"),
    "违纪处分": ("违反校规校纪，受到通报批评",),
    "操行等级": ("班主任学期操行评定",),
    "学业等级": ("期末学业水平综合评定",),
    "体测等级": ("国家学生体质健康标准测试",),
    "体育锻炼": ("校内外体育锻炼累计时长",),
    "艺术活动": ("参加校合唱团演出", "参加班级书画展", "参加校园艺术节"),
    "艺术测评": ("艺术素质测评",),
    "劳动时长": ("家务劳动与校园劳动累计时长",),
    "劳动任务": ("完成班级值日任务", "参加学农实践"),
    "研学旅行": ("参加研学旅行活动",),
}
_SUBMITTER = {"志愿服务": "pupil", "荣誉表彰": "teacher", "违纪处分": "teacher",
              "操行等级": "teacher", "学业等级": "system", "体测等级": "system",
              "体育锻炼": "pupil", "艺术活动": "pupil", "艺术测评": "system",
              "劳动时长": "pupil", "劳动任务": "teacher", "研学旅行": "pupil"}  # fmt: skip


def _bands(z: np.ndarray, cuts: tuple[float, ...], names: tuple[str, ...]) -> np.ndarray:
    """names[0] above cuts[0], names[1] above cuts[1] …, the last name below them all."""
    out = np.full(z.shape, names[-1], dtype=STR)
    for cut, name in reversed(tuple(zip(cuts, names, strict=False))):
        out[z > cut] = name
    return out


def growth_records(students: Table, county_code: str, rng: np.random.Generator) -> Table:
    """The county's growth records (see the module docstring)."""
    enrolled = np.flatnonzero(students["status"] == "enrolled")
    n = enrolled.size
    latent = rng.normal(0.0, 1.0, (n, len(DOMAINS)))
    falls = rng.random(n) < 0.04
    fall_domain = rng.integers(0, len(DOMAINS), n)
    no_arts = rng.random((len(TERMS), n)) < 0.03
    study_trip = rng.random((len(TERMS), n)) < 0.02
    cols: dict[str, list[np.ndarray]] = {k: [] for k in
        ("pupil", "year", "term", "domain", "kind", "value", "level", "start")}  # fmt: skip

    def add(who: np.ndarray, t: int, domain: str, kind: str, value: np.ndarray | None,
            level: np.ndarray | None) -> None:  # fmt: skip
        m = who.size
        year, term, _ = TERMS[t]
        cols["pupil"].append(who)
        cols["year"].append(np.full(m, year, dtype=STR))
        cols["term"].append(np.full(m, term, dtype=STR))
        cols["domain"].append(np.full(m, domain, dtype=STR))
        cols["kind"].append(np.full(m, kind, dtype=STR))
        cols["value"].append(np.full(m, np.nan) if value is None else value.astype(np.float64))
        cols["level"].append(np.full(m, "", dtype=STR) if level is None else level)
        cols["start"].append(np.full(m, t, dtype=np.int64))

    for t in range(len(TERMS)):
        z = latent + rng.normal(0.0, 0.2, latent.shape)
        if t == 1:
            z[falls, fall_domain[falls]] -= 1.5
        present = np.ones(n, dtype=bool)
        if t == 0:  # this year's 一年级 were not at school last spring
            present = students["grade_code"][enrolled] != "11"
        idx = np.flatnonzero(present)

        def each(rate: np.ndarray, sel: np.ndarray = idx) -> np.ndarray:
            return np.repeat(sel, rng.poisson(np.clip(rate, 0.0, None)))

        zm, zi, zp, zl = (z[idx, k] for k in (0, 1, 2, 4))
        add(idx, t, "moral", "操行等级", None,
            _bands(zm, (0.6, -0.8, -2.0), ("A", "B", "C", "D")))  # fmt: skip
        who = each(1.5 + 0.8 * zm)
        add(who, t, "moral", "志愿服务", rng.integers(1, 5, who.size), None)
        who = each(0.4 / (1 + np.exp(-(zm - 1.0))) * 2.5)
        add(who, t, "moral", "荣誉表彰", None, None)
        who = idx[rng.random(idx.size) < np.where(zm < -1.5, 0.12, 0.01)]
        add(who, t, "moral", "违纪处分", None, None)
        add(idx, t, "intellectual", "学业等级", None,
            _bands(zi, (0.8, -0.2, -1.2), ("A", "B", "C", "D")))  # fmt: skip
        add(idx, t, "physical", "体测等级", None,
            _bands(zp, (1.2, 0.3, -1.6), ("优秀", "良好", "及格", "不及格")))  # fmt: skip
        add(idx, t, "physical", "体育锻炼", np.clip(np.round(20 + 6 * zp), 0, 60), None)
        arts = idx[~no_arts[t, idx]]
        za_arts = z[arts, 3]
        who = np.repeat(arts, rng.poisson(np.clip(1.2 + 0.6 * za_arts, 0.0, None)))
        add(who, t, "aesthetic", "艺术活动", None, None)
        add(arts, t, "aesthetic", "艺术测评", None,
            _bands(za_arts, (0.9, -0.1, -1.1), ("A", "B", "C", "D")))  # fmt: skip
        add(idx, t, "labour", "劳动时长", np.clip(np.round(16 + 6 * zl), 0, 80), None)
        who = each(2.0 + 0.7 * zl)
        add(who, t, "labour", "劳动任务", None, None)
        who = idx[study_trip[t, idx]]
        add(who, t, "labour", "研学旅行", np.ones(who.size), None)

    pupil = np.concatenate(cols["pupil"])
    kind = np.concatenate(cols["kind"])
    start = np.concatenate(cols["start"])
    order = np.lexsort((kind, start, pupil))
    m = order.size
    first_days = np.array([np.datetime64(d) for _, _, d in TERMS])
    days = first_days[start[order]] + rng.integers(0, 110, m).astype("timedelta64[D]")
    kinds = kind[order]
    description = np.empty(m, dtype=object)
    submitted = np.empty(m, dtype=object)
    for name, texts in _DESCRIPTIONS.items():
        at = np.flatnonzero(kinds == name)
        description[at] = np.array(texts, dtype=object)[rng.integers(0, len(texts), at.size)]
        submitted[at] = _SUBMITTER[name]
    number = students["student_number"][enrolled][pupil[order]]
    value = np.concatenate(cols["value"])[order]
    return {
        "record_id": cat("CZ", county_code, zpad(np.arange(1, m + 1), 8)),
        "student_number": number,
        "school_year": np.concatenate(cols["year"])[order],
        "term": np.concatenate(cols["term"])[order],
        "domain": np.concatenate(cols["domain"])[order],
        "kind": kinds,
        "value": value,
        "level": np.concatenate(cols["level"])[order],
        "description": description.astype(STR),
        "evidence_date": days,
        "submitted_by": submitted.astype(STR),
    }


def county(draw: CountyDraw) -> None:
    students = draw.shared["world"].students
    draw.truth["growth_record"] = growth_records(students, draw.county.code, draw.stream(STREAM))


PART = GeneratorPart(
    county,
    streams=(STREAM,),
    standard=("growth_record",),
    readme="- `growth_record.csv`: 综合素质评价写实记录 of two terms (德智体美劳); also in "
    "`standard/` (no source exports them).",
)
