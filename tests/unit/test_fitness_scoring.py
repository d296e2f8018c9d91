"""体质健康 scoring against the 国家学生体质健康标准 (2014) tables and their worked examples.

Expected values come from the reference: the worked examples of
`reference/fitness_standard_2014/worked_examples.csv` (A, B from a published Q&A page; C, D
constructed by the reference's authors and labelled so), the printed cells of the score tables
(every cell at, just above and just below its threshold, both sexes, every grade), the BMI bands
and hand calculations of the total, bonus and 毕业成绩 rules written out below.
"""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edubrain.modules.fitness.scoring import (
    ITEMS,
    graduation_score,
    load_standard,
    score_tests,
)

PACKAGED = resources.files("edubrain.modules.fitness").joinpath("standard_2014")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference" / "fitness_standard_2014"
STEP = {"run_50m": 0.1, "sit_and_reach": 0.1}  # recorded to 0.1; every other item in whole units


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(PACKAGED.joinpath(name).read_text("utf-8").splitlines()))


def one(grade: str, sex: str, **measures: float | None) -> dict[str, float]:
    scored = score_tests([grade], [sex], {k: [v] for k, v in measures.items()})
    out = {k: float(v[0]) for k, v in scored.item_scores.items()}
    out |= {
        "bonus": float(scored.bonus[0]),
        "standard": float(scored.standard_score[0]),
        "total": float(scored.total[0]),
    }
    return out


# -- the worked examples --------------------------------------------------------------------------


def test_example_a_third_grade_boy() -> None:
    got = one("13", "1", height_cm=141.3, weight_kg=37.5, run_50m=9.0, sit_and_reach=12.0)
    assert (got["bmi"], got["run_50m"], got["sit_and_reach"]) == (100, 100, 85)


def test_example_b_fifth_grade_girl() -> None:
    got = one(
        "15",
        "2",
        height_cm=141.5,
        weight_kg=37.0,
        rope_skip_1min=160,
        vital_capacity=1850,
        run_50m=8.7,
        sit_up_1min=38,
    )
    assert (got["bmi"], got["rope_skip_1min"], got["vital_capacity"]) == (100, 100, 80)
    assert (got["run_50m"], got["sit_up_1min"]) == (85, 80)
    # the page gives no 坐位体前屈 or 往返跑: no total, and the items present keep their scores
    scored = score_tests(["15"], ["2"], {"rope_skip_1min": [160], "height_cm": [141.5]})
    assert math.isnan(scored.total[0]) and scored.status[0] == "缺项"


def test_example_c_first_year_senior_boy() -> None:
    got = one(
        "31",
        "1",
        height_cm=172.0,
        weight_kg=63.0,
        vital_capacity=4100,
        run_50m=7.4,
        sit_and_reach=15.0,
        standing_long_jump=240,
        pull_up=18,
        run_1000m=205,
    )
    expected = {
        "bmi": 100,
        "vital_capacity": 85,
        "run_50m": 85,
        "sit_and_reach": 80,
        "standing_long_jump": 80,
        "pull_up": 100,
        "run_1000m": 100,
    }
    assert {k: got[k] for k in expected} == expected
    # 15 + 12.75 + 17 + 8 + 8 + 10 + 20 = 90.75; bonus 2 (pull-ups) + 1 (1000 m) = 3
    assert (got["standard"], got["bonus"], got["total"]) == (90.75, 3.0, 93.75)
    scored = score_tests(["31"], ["1"], {"height_cm": [172.0], "weight_kg": [63.0]})
    assert scored.status[0] == "缺项"


def test_example_d_first_year_junior_girl() -> None:
    measures = {
        "height_cm": [160.0],
        "weight_kg": [50.0],
        "vital_capacity": [2500],
        "run_50m": [9.0],
        "sit_and_reach": [18.0],
        "standing_long_jump": [170],
        "sit_up_1min": [58],
        "run_800m": [230],
    }
    scored = score_tests(["21"], ["2"], measures)
    got = {k: float(v[0]) for k, v in scored.item_scores.items() if not math.isnan(v[0])}
    assert got == {
        "bmi": 100,
        "vital_capacity": 85,
        "run_50m": 78,
        "sit_and_reach": 85,
        "standing_long_jump": 80,
        "sit_up_1min": 100,
        "run_800m": 85,
    }
    # 15 + 12.75 + 15.6 + 8.5 + 8 + 10 + 17 = 86.85; bonus 5 (8 sit-ups over) → 91.85 优秀
    assert (scored.standard_score[0], scored.bonus[0], scored.total[0]) == (86.85, 5.0, 91.85)
    assert scored.level[0] == "优秀" and scored.status[0] == "完整"
    # 初一 肺活量 and 800 米 are single-source columns: the mark travels with the score
    assert "肺活量" in scored.uncertain[0] and "800米跑" in scored.uncertain[0]


# -- every cell of every table --------------------------------------------------------------------


def _expected(cells: list[tuple[float, float]], value: float, lower: bool) -> float:
    """The highest score level whose threshold `value` meets (0 below the 10-point row)."""
    met = [s for t, s in cells if (value <= t + 1e-9 if lower else value >= t - 1e-9)]
    return max(met, default=0.0)


def _columns() -> dict[tuple[str, str, str], tuple[list[tuple[float, float]], bool]]:
    out: dict[tuple[str, str, str], tuple[list[tuple[float, float]], bool]] = {}
    for r in rows("item_scores.csv"):
        key = (r["grade_code"], r["sex_code"], r["item_code"])
        cells, _ = out.setdefault(key, ([], r["direction"] == "lower_is_better"))
        if r["official_cell_blank"] != "1":
            cells.append((float(r["threshold"]), float(r["score"])))
    return out


def test_every_cell_at_and_on_either_side_of_its_threshold() -> None:
    checked = 0
    for (grade, sex, item), (cells, lower) in _columns().items():
        step = STEP.get(item, 1.0)
        worse, better = (step, -step) if lower else (-step, step)
        values = [round(t + d, 1) for t, _ in cells for d in (0.0, worse, better)]
        expected = [_expected(cells, v, lower) for v in values]
        scored = score_tests([grade] * len(values), [sex] * len(values), {item: values})
        got = scored.item_scores[item].tolist()
        assert got == expected, (grade, sex, item)
        checked += len(values)
    assert checked == 3 * (3600 - 53)  # 53 blank cells in the 引体向上 tables


def test_blank_cells_are_never_landed_on() -> None:
    # README: 初一 with 8 pull-ups → 76 points; with 1 → 30; with 0 → 0
    scored = score_tests(["21"] * 3, ["1"] * 3, {"pull_up": [8, 1, 0]})
    assert scored.item_scores["pull_up"].tolist() == [76.0, 30.0, 0.0]
    assert "引体向上" in scored.uncertain[0]


def test_bmi_band_edges_both_sexes_every_grade() -> None:
    standard = load_standard()
    checked = 0
    for r in rows("bmi_bands.csv"):
        edges = [r["bmi_min_inclusive"], r["bmi_max_inclusive"]]
        for edge in (float(e) for e in edges if e):
            # height 100 cm: BMI = weight, so the band lookup sees exactly the edge
            scored = score_tests(
                [r["grade_code"]], [r["sex_code"]], {"height_cm": [100.0], "weight_kg": [edge]}
            )
            assert scored.bmi_category[0] == r["category"], (r["grade_code"], r["sex_code"], edge)
            assert scored.item_scores["bmi"][0] == float(r["score"])
            checked += 1
    assert checked == 3 * len(standard.bmi) * 2  # four bands, six edges per grade × sex


def test_bmi_is_rounded_half_up_before_the_lookup() -> None:
    # 小学一年级男: 正常 13.5–18.1, 超重 18.2–20.3.
    # 18.15 rounds half up to 18.2 (超重); 18.149 to 18.1.
    scored = score_tests(
        ["11"] * 2, ["1"] * 2, {"height_cm": [100.0] * 2, "weight_kg": [18.15, 18.149]}
    )
    assert scored.bmi.tolist() == [18.2, 18.1]
    assert scored.bmi_category.tolist() == ["超重", "正常"]


# -- totals, bonus, levels and the 毕业成绩 rule ---------------------------------------------------


def _full_marks(grade: str, sex: str, beyond: float = 0.0) -> dict[str, list[float]]:
    """Results exactly at each item's 100-point threshold (plus `beyond` on the bonus items)."""
    standard = load_standard()
    measures: dict[str, list[float]] = {"height_cm": [100.0], "weight_kg": [16.0]}
    for rule in standard.items[(grade, sex)]:
        if rule.item == "bmi":
            continue
        column = standard.columns[(grade, sex, rule.item)]
        extra = beyond if rule.bonus_cap else 0.0
        value = column.full_marks - extra if column.lower_is_better else column.full_marks + extra
        measures[rule.item] = [value]
    return measures


def test_bonus_caps_per_item_and_in_total() -> None:
    # 小学: 1 point per 2 jumps past the 100-point count, at most 20
    primary = score_tests(["16"], ["1"], _full_marks("16", "1", beyond=100))
    assert primary.bonus[0] == 20.0 and primary.total[0] == 120.0
    # 初中 boy: pull-ups +1 each (max 10) and 1000 m (35 s faster → 10); 10 + 10 = 20
    junior = score_tests(["22"], ["1"], _full_marks("22", "1", beyond=40))
    assert junior.bonus[0] == 20.0 and junior.total[0] == 120.0
    # no bonus without passing the 100-point threshold
    exactly = score_tests(["22"], ["2"], _full_marks("22", "2"))
    assert exactly.bonus[0] == 0.0 and exactly.total[0] == 100.0


def test_levels_at_their_bounds() -> None:
    # 初二女, every item at its 100-point threshold except 50 米: the table's score levels move
    # the 标准分 in 0.2-point steps (weight 20 %), so 90.0 and 89.8 both occur.
    standard = load_standard()
    column = standard.columns[("22", "2", "run_50m")]
    by_score = {s: -t for t, s in zip(column.thresholds, column.scores, strict=True)}
    measures = _full_marks("22", "2")
    for score, total, level in ((50.0, 90.0, "优秀"), (0.0, 80.0, "良好")):
        measures["run_50m"] = [by_score[score] if score else 99.0]
        scored = score_tests(["22"], ["2"], measures)
        assert (scored.total[0], scored.level[0]) == (total, level)


def test_missing_items_are_never_scored_as_zero() -> None:
    measures = _full_marks("14", "2")
    measures["sit_up_1min"] = [float("nan")]
    scored = score_tests(["14"], ["2"], measures)
    assert scored.status[0] == "缺项" and scored.missing[0] == "1分钟仰卧起坐"
    assert math.isnan(scored.standard_score[0]) and scored.level[0] == ""
    assert scored.item_scores["run_50m"][0] == 100.0  # the items present keep their scores


def test_exempt_and_deferred_pupils_are_not_scored_and_not_missing() -> None:
    full = _full_marks("22", "1")
    measures = {k: v * 3 for k, v in full.items()}  # three pupils with full marks measured
    scored = score_tests(["22"] * 3, ["1"] * 3, measures, exemption=["exempt", "deferred", None])
    assert list(scored.status) == ["免予执行", "暂缓执行", "完整"]
    for i in (0, 1):
        assert math.isnan(scored.standard_score[i]) and math.isnan(scored.total[i])
        assert scored.level[i] == "" and scored.missing[i] == ""
        assert all(math.isnan(v[i]) for v in scored.item_scores.values())
    assert scored.level[2] == "优秀"  # the same results, not exempt, score as usual


def test_graduation_score_by_hand() -> None:
    # 初三 93.75; 初一 80.0 and 初二 86.85 → 0.5 × 93.75 + 0.5 × 83.425 = 88.5875 → 88.59
    assert graduation_score(93.75, [80.0, 86.85]) == 88.59
    assert graduation_score(70.0, []) == 70.0
    assert math.isnan(graduation_score(float("nan"), [80.0]))


def test_grades_without_a_table_are_not_scored() -> None:
    scored = score_tests(["99"], ["1"], {"run_50m": [8.0]})
    assert not scored.scored[0] and scored.status[0] == "" and math.isnan(scored.total[0])


def test_every_grade_and_sex_has_its_items() -> None:
    standard = load_standard()
    assert len(standard.items) == 16 * 2
    for rules in standard.items.values():
        assert sum(r.weight for r in rules) == 100.0
        assert {r.item for r in rules} <= {"bmi", *ITEMS}


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="the shared reference folder is not beside the repo"
)
def test_packaged_tables_are_the_reference() -> None:
    for name in ("item_scores.csv", "items_by_grade.csv", "bmi_bands.csv", "bonus_points.csv"):
        assert PACKAGED.joinpath(name).read_bytes() == (SHARED / name).read_bytes(), name


def test_vectorised_scoring_equals_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    grades = rng.choice(["11", "13", "15", "21", "23", "32"], 300)
    sexes = rng.choice(["1", "2"], 300)
    measures = {
        "height_cm": rng.uniform(110, 185, 300),
        "weight_kg": rng.uniform(18, 90, 300),
        "run_50m": rng.uniform(6.5, 14, 300).round(1),
        "vital_capacity": rng.integers(500, 5000, 300).astype(float),
    }
    together = score_tests(list(grades), list(sexes), measures)
    for i in range(0, 300, 37):
        alone = score_tests([grades[i]], [sexes[i]], {k: [v[i]] for k, v in measures.items()})
        assert alone.item_scores["run_50m"][0] == together.item_scores["run_50m"][i]
        assert alone.bmi_category[0] == together.bmi_category[i]


def test_graduation_scores_take_the_other_years_of_the_same_stage() -> None:
    from edubrain.modules.fitness.score_job import graduation_scores

    rows = [  # (学籍号, school year, grade, 学年总分)
        ("A", "2022-2023", "16", 70.0),  # 六年级: primary's last grade, no other primary year
        ("A", "2023-2024", "21", 80.0),
        ("A", "2024-2025", "22", 86.85),
        ("A", "2025-2026", "23", 93.75),  # 初三: 0.5 × 93.75 + 0.5 × (80 + 86.85) / 2
        ("B", "2024-2025", "22", 75.0),
        ("B", "2025-2026", "23", float("nan")),  # 免予执行 in the graduating year: none
        ("C", "2025-2026", "22", 88.0),  # not a graduating grade
    ]
    got = graduation_scores(
        [r[0] for r in rows],
        [r[1] for r in rows],
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
    )
    assert got[0] == 70.0 and got[3] == 88.59
    assert all(math.isnan(got[i]) for i in (1, 2, 4, 5, 6))
