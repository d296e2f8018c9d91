"""体质健康 scoring by the 国家学生体质健康标准 (2014年修订), from the packaged tables.

The tables (`standard_2014/`, see its README) are read once; scoring is vectorised per grade × sex:

* **item score**: the highest score level whose threshold the result meets — `≥` for items where
  more is better, `≤` for timed runs; a result worse than the 10-point threshold scores 0; a
  blank cell of the official table (引体向上 78/74/70/66/62 …) is a level nobody lands on;
* **BMI**: 体重(kg) ÷ 身高(m)², rounded half up to 0.1 before the band lookup (as the upload
  system's report tool rounds; the reference leaves it open, docs/fitness.md), then
  低体重 / 正常 / 超重 / 肥胖 → 80 / 100 / 80 / 60;
* **标准分** = Σ item score × weight (BMI and 肺活量 15 % each, the rest by grade band), kept to
  two decimals;
* **附加分**: only on a bonus item scored 100 (小学 1分钟跳绳; 初中起 男 引体向上 and 1000米跑,
  女 1分钟仰卧起坐 and 800米跑), by how far the result passes the 100-point threshold of the
  pupil's own grade and sex, each item capped (20 / 10) and the sum at 20;
* **学年总分** = 标准分 + 附加分 (≤ 120) and its **等级**: 优秀 ≥ 90.0, 良好 ≥ 80.0,
  及格 ≥ 60.0, else 不及格;
* **missing items** are never scored as 0: a pupil with an item of their grade missing gets the
  scores of the items present, no 标准分, 总分 or 等级, and the status 缺项 with the items named;
* a score read from a column the reference marks (one source only, or an inferred blank cell)
  carries the mark in `uncertain`;
* a pupil **免予执行** or **暂缓执行** (illness or disability, approved by the school) is not
  scored at all: no item scores, no 总分 or 等级, the status says which (and is counted in no
  rate); a 补测 row is scored like any other — it is the school year's result.

`graduation_score` is the 毕业成绩 rule: 毕业当年学年总分 × 50 % + 其他学年总分的平均 × 50 %.

Arrays in, arrays out; nothing here reads the warehouse.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edubrain.standard.measures import bmi_of, measure_column

FloatArray = NDArray[np.float64]

ITEMS: tuple[str, ...] = (
    "vital_capacity",
    "run_50m",
    "sit_and_reach",
    "rope_skip_1min",
    "sit_up_1min",
    "shuttle_run_50x8",
    "standing_long_jump",
    "pull_up",
    "run_1000m",
    "run_800m",
)
"""The test items with a score table, in the order of the standard (BMI is scored by bands)."""

ITEM_LABELS: dict[str, str] = {
    "bmi": "体重指数",
    "vital_capacity": "肺活量",
    "run_50m": "50米跑",
    "sit_and_reach": "坐位体前屈",
    "rope_skip_1min": "1分钟跳绳",
    "sit_up_1min": "1分钟仰卧起坐",
    "shuttle_run_50x8": "50米×8往返跑",
    "standing_long_jump": "立定跳远",
    "pull_up": "引体向上",
    "run_1000m": "1000米跑",
    "run_800m": "800米跑",
}

LEVELS: tuple[tuple[float, str], ...] = ((90.0, "优秀"), (80.0, "良好"), (60.0, "及格"))
FAILED = "不及格"
BONUS_TOTAL_CAP = 20.0
COMPLETE, MISSING = "完整", "缺项"
EXEMPTIONS: dict[str, str] = {"exempt": "免予执行", "deferred": "暂缓执行"}
"""The `fitness_exemption` codes and the status each gives (their labels in the code table)."""
_EPS = 1e-9


@dataclass(frozen=True)
class Column:
    """One grade × sex × item column of the score table, ascending by threshold (blank cells
    left out), in "more is better" orientation (timed items negated)."""

    thresholds: FloatArray
    scores: FloatArray
    lower_is_better: bool
    full_marks: float
    """The 100-point threshold as printed (not negated)."""
    mark: str | None


@dataclass(frozen=True)
class ItemRule:
    item: str
    weight: float
    bonus_cap: float  # 0: not a bonus item for this grade and sex


@dataclass(frozen=True)
class BmiBands:
    """Upper bounds (inclusive, to 0.1) of 低体重, 正常 and 超重; above the last: 肥胖."""

    low_max: float
    normal_max: float
    over_max: float


BMI_CATEGORIES = ("低体重", "正常", "超重", "肥胖")
BMI_SCORES = (80.0, 100.0, 80.0, 60.0)


@dataclass(frozen=True)
class Standard:
    items: Mapping[tuple[str, str], tuple[ItemRule, ...]]
    """(grade_code, sex_code) → the scored items of that grade and sex (BMI first)."""
    columns: Mapping[tuple[str, str, str], Column]
    bmi: Mapping[tuple[str, str], BmiBands]
    bonus: Mapping[tuple[str, str], tuple[FloatArray, FloatArray]]
    """(item, sex_code) → (how far past the 100-point threshold, ascending; bonus points)."""

    @property
    def grades(self) -> tuple[str, ...]:
        return tuple(sorted({g for g, _ in self.items}))


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("standard_2014", name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def load_standard() -> Standard:
    """The packaged 2014 tables."""
    marks = {
        (r["grade_code"], r["sex_code"], r["item_code"]): f"{r['mark']}: {r['reason']}"
        for r in _rows("column_marks.csv")
    }
    items: dict[tuple[str, str], list[ItemRule]] = {}
    for r in _rows("items_by_grade.csv"):
        cap = float(r["bonus_max_points"]) if r["bonus_item"] == "Y" else 0.0
        items.setdefault((r["grade_code"], r["sex_code"]), []).append(
            ItemRule(r["item_code"], float(r["weight_percent"]), cap)
        )
    cells: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    direction: dict[tuple[str, str, str], str] = {}
    for r in _rows("item_scores.csv"):
        key = (r["grade_code"], r["sex_code"], r["item_code"])
        direction[key] = r["direction"]
        if r["official_cell_blank"] == "1" or not r["threshold"]:
            continue
        cells.setdefault(key, []).append((float(r["threshold"]), float(r["score"])))
    columns: dict[tuple[str, str, str], Column] = {}
    for key, found in cells.items():
        lower = direction[key] == "lower_is_better"
        full = next(t for t, s in found if s == 100.0)
        oriented = sorted(((-t if lower else t), s) for t, s in found)
        columns[key] = Column(
            thresholds=np.array([t for t, _ in oriented]),
            scores=np.array([s for _, s in oriented]),
            lower_is_better=lower,
            full_marks=full,
            mark=marks.get(key),
        )
    bands: dict[tuple[str, str], dict[str, str]] = {}
    for r in _rows("bmi_bands.csv"):
        bands.setdefault((r["grade_code"], r["sex_code"]), {})[r["category"]] = r[
            "bmi_max_inclusive"
        ]
    bmi = {
        key: BmiBands(float(b["低体重"]), float(b["正常"]), float(b["超重"]))
        for key, b in bands.items()
    }
    steps: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for r in _rows("bonus_points.csv"):
        steps.setdefault((r["item_code"], r["sex_code"]), []).append(
            (float(r["exceed_100pt_threshold_by"]), float(r["bonus_points"]))
        )
    bonus = {
        key: (np.array([e for e, _ in sorted(v)]), np.array([p for _, p in sorted(v)]))
        for key, v in steps.items()
    }
    return Standard(
        items={k: tuple(sorted(v, key=lambda i: i.item != "bmi")) for k, v in items.items()},
        columns=columns,
        bmi=bmi,
        bonus=bonus,
    )


def bmi_category(bmi: FloatArray, bands: BmiBands) -> NDArray[np.int64]:
    """0 低体重, 1 正常, 2 超重, 3 肥胖 (−1 where BMI is missing)."""
    out = np.full(bmi.shape, -1, dtype=np.int64)
    known = ~np.isnan(bmi)
    b = bmi[known]
    out[known] = np.where(
        b <= bands.low_max + _EPS,
        0,
        np.where(b <= bands.normal_max + _EPS, 1, np.where(b <= bands.over_max + _EPS, 2, 3)),
    )
    return out


def item_score(values: FloatArray, column: Column) -> FloatArray:
    """The table's score of each result (NaN where the result is missing)."""
    v = np.asarray(values, dtype=np.float64)
    oriented = -v if column.lower_is_better else v
    at = np.searchsorted(column.thresholds, oriented + _EPS, side="right") - 1
    score = np.where(at >= 0, column.scores[np.maximum(at, 0)], 0.0)
    return np.where(np.isnan(v), np.nan, score)


def bonus_points(
    values: FloatArray, column: Column, steps: tuple[FloatArray, FloatArray], cap: float
) -> FloatArray:
    """附加分 of a bonus item: 0 unless the result passes the 100-point threshold."""
    v = np.asarray(values, dtype=np.float64)
    excess = (column.full_marks - v) if column.lower_is_better else (v - column.full_marks)
    exceed_by, points = steps
    at = np.searchsorted(exceed_by, excess + _EPS, side="right") - 1
    got = np.where(at >= 0, points[np.maximum(at, 0)], 0.0)
    return np.where(np.isnan(v) | (excess <= 0), 0.0, np.minimum(got, cap))


def level_of(total: FloatArray) -> NDArray[np.str_]:
    """等级 of each 学年总分 ("" where there is none)."""
    out = np.full(total.shape, "", dtype=object)
    known = ~np.isnan(total)
    labels = np.full(int(known.sum()), FAILED, dtype=object)
    t = total[known]
    for bound, label in reversed(LEVELS):
        labels = np.where(t >= bound - _EPS, label, labels)
    out[known] = labels
    return out.astype(str)


@dataclass(frozen=True)
class Scored:
    """Per record: BMI, its band and score, each item's score and bonus, and the totals."""

    bmi: FloatArray
    bmi_category: NDArray[np.str_]
    item_scores: dict[str, FloatArray]
    """"bmi" and every item of ITEMS; NaN where the item is not tested in the grade or missing."""
    bonus: FloatArray
    standard_score: FloatArray
    total: FloatArray
    level: NDArray[np.str_]
    status: NDArray[np.str_]
    missing: NDArray[np.str_]
    """The missing items of the pupil's grade, by their Chinese names, "、"-joined."""
    uncertain: NDArray[np.str_]
    """The reliability marks of the columns the scores were read from, "; "-joined."""
    scored: NDArray[np.bool_]
    """False where the grade or sex has no table (the record is not scored at all)."""


def score_tests(
    grade_code: Sequence[str],
    sex_code: Sequence[str],
    measures: Mapping[str, ArrayLike],
    standard: Standard | None = None,
    exemption: Sequence[str | None] | None = None,
) -> Scored:
    """Score records (one per pupil and test): `measures` holds height_cm, weight_kg and the
    items of ITEMS (None or NaN where not measured); `exemption` the `fitness_exemption` code
    of each record (None or "" where the pupil is not exempt)."""
    std = standard or load_standard()
    grade = np.asarray(grade_code).astype(str)
    sex = np.asarray(sex_code).astype(str)
    n = grade.shape[0]
    exempt_as = np.full(n, "", dtype=object)
    if exemption is not None:
        codes = np.array([e or "" for e in exemption], dtype=object)
        for code, label in EXEMPTIONS.items():
            exempt_as[codes == code] = label
    exempt = exempt_as != ""

    values = {name: measure_column(measures, name, n) for name in ITEMS}
    bmi = bmi_of(measure_column(measures, "height_cm", n), measure_column(measures, "weight_kg", n))
    scores = {name: np.full(n, np.nan) for name in ("bmi", *ITEMS)}
    category = np.full(n, "", dtype=object)
    bonus = np.zeros(n)
    standard_score = np.full(n, np.nan)
    missing = np.full(n, "", dtype=object)
    uncertain = np.full(n, "", dtype=object)
    scored = np.zeros(n, dtype=bool)
    keys = np.char.add(np.char.add(grade, "|"), sex)
    for key in np.unique(keys):
        g, s = str(key).split("|", 1)
        rules = std.items.get((g, s))
        if rules is None:
            continue
        rows = np.flatnonzero(keys == key)
        scored[rows] = True
        found = bmi_category(bmi[rows], std.bmi[(g, s)])
        category[rows] = np.where(found >= 0, np.array(BMI_CATEGORIES, dtype=object)[found], "")
        scores["bmi"][rows] = np.where(found >= 0, np.array(BMI_SCORES)[found], np.nan)
        weighted = np.zeros(rows.size)
        absent = [np.isnan(bmi[rows])]
        names = np.full(rows.size, "", dtype=object)
        names = np.where(absent[0], ITEM_LABELS["bmi"], names)
        marks: list[str] = []
        for rule in rules:
            if rule.item == "bmi":
                weighted += np.nan_to_num(scores["bmi"][rows]) * rule.weight / 100.0
                continue
            column = std.columns[(g, s, rule.item)]
            got = item_score(values[rule.item][rows], column)
            scores[rule.item][rows] = got
            weighted += np.nan_to_num(got) * rule.weight / 100.0
            gap = np.isnan(got)
            absent.append(gap)
            label = ITEM_LABELS[rule.item]
            names = np.where(gap, np.where(names == "", label, names + "、" + label), names)
            if column.mark:
                marks.append(f"{label}（{column.mark}）")
            if rule.bonus_cap > 0:
                bonus[rows] += bonus_points(
                    values[rule.item][rows], column, std.bonus[(rule.item, s)], rule.bonus_cap
                )
        incomplete = np.any(np.vstack(absent), axis=0)
        standard_score[rows] = np.where(incomplete, np.nan, np.round(weighted, 2))
        missing[rows] = names
        if marks:
            uncertain[rows] = "; ".join(marks)
    # An exempt pupil is not scored: whatever was measured earns no score and is not missing.
    for values_of_item in scores.values():
        values_of_item[exempt] = np.nan
    standard_score[exempt] = np.nan
    missing[exempt] = ""
    bonus = np.where(np.isnan(standard_score), 0.0, np.minimum(bonus, BONUS_TOTAL_CAP))
    total = np.round(standard_score + bonus, 2)
    status = np.where(~scored, "", np.where(np.isnan(standard_score), MISSING, COMPLETE))
    status = np.where(exempt & scored, exempt_as, status)
    return Scored(
        bmi=bmi,
        bmi_category=category.astype(str),
        item_scores=scores,
        bonus=bonus,
        standard_score=standard_score,
        total=total,
        level=level_of(total),
        status=status.astype(str),
        missing=missing.astype(str),
        uncertain=uncertain.astype(str),
        scored=scored,
    )


def graduation_score(final_year_total: float, other_year_totals: Sequence[float]) -> float:
    """毕业成绩 = 毕业当年学年总分 × 50 % + 其他学年总分的平均 × 50 %; with no other school year
    on record, the graduating year's total alone (the rule's other half has nothing to average)."""
    if math.isnan(final_year_total):
        return math.nan
    others = [t for t in other_year_totals if not math.isnan(t)]
    if not others:
        return round(final_year_total, 2)
    return round(0.5 * final_year_total + 0.5 * sum(others) / len(others), 2)
