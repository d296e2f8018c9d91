"""The exams' score report and item analysis on a hand-built paper, checked by hand.

Paper (满分 10): item 1 (2 points, 客观题, knowledge point A), item 2 (3 points, 主观题, A;B),
item 3 (5 points, 主观题, B); ten pupils with totals 10, 9, …, 1.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edubrain.modules.exams.analysis import (
    NO_OPTIONS_NOTICE,
    Paper,
    item_report,
    rank_band,
    score_report,
)

SCORES = [
    [2, 3, 5],
    [2, 3, 4],
    [2, 2, 4],
    [2, 2, 3],
    [2, 1, 3],
    [2, 1, 2],
    [0, 1, 3],
    [0, 1, 2],
    [0, 0, 2],
    [0, 0, 1],
]


def paper(scores: list[list[float]] = SCORES) -> Paper:
    return Paper(
        exam_id="E1",
        maximum=10.0,
        item_nos=(1, 2, 3),
        item_maxima=np.array([2.0, 3.0, 5.0]),
        item_types=("objective", "subjective", "subjective"),
        knowledge_points=(("A",), ("A", "B"), ("B",)),
        students=tuple(f"S{i:02d}" for i in range(len(scores))),
        scores=np.array(scores, dtype=np.float64),
    )


def test_totals_rates_and_distribution() -> None:
    report = score_report(paper())
    assert report.pupils == 10
    assert report.mean == pytest.approx(5.5)
    # Σ(t − 5.5)² = 82.5 over n − 1 = 9
    assert report.sd == pytest.approx(math.sqrt(82.5 / 9))
    assert (report.highest, report.lowest) == (10.0, 1.0)
    assert report.excellent_rate == pytest.approx(0.2)  # ≥ 8.5: 10, 9
    assert report.good_rate == pytest.approx(0.4)  # ≥ 7: 10, 9, 8, 7
    assert report.pass_rate == pytest.approx(0.5)  # ≥ 6
    # bands of 1 point; 满分 10 falls in the last band with 9
    assert [b.pupils for b in report.bands] == [0, 1, 1, 1, 1, 1, 1, 1, 1, 2]
    assert report.bands[9].label == "90%–100%"
    assert report.notices == ()


def test_subscores_by_knowledge_point_and_item_type() -> None:
    report = score_report(paper())
    points = {s.key: s for s in report.by_knowledge_point}
    # no names known: the page names them in order, never by code
    assert [s.label for s in report.by_knowledge_point] == ["未命名知识点1", "未命名知识点2"]
    # A = items 1 + 2: mean 1.2 + 1.4 of 5 points; B = items 2 + 3: 1.4 + 2.9 of 8
    assert (points["A"].items, points["A"].maximum) == (2, 5.0)
    assert points["A"].mean == pytest.approx(2.6)
    assert points["A"].rate == pytest.approx(0.52)
    assert points["B"].mean == pytest.approx(4.3)
    assert points["B"].rate == pytest.approx(4.3 / 8)
    kinds = {s.label: s for s in report.by_item_type}
    assert kinds["客观题"].rate == pytest.approx(0.6)
    assert kinds["主观题"].mean == pytest.approx(4.3)


def test_item_analysis_by_hand() -> None:
    result = item_report(paper())
    assert result.pupils == 10
    first, second, third = result.items
    # groups of round(0.27 × 10) = 3: top totals 10, 9, 8; bottom 1, 2, 3
    assert first.difficulty == pytest.approx(0.6)
    assert first.discrimination == pytest.approx(1.0)
    assert second.difficulty == pytest.approx(1.4 / 3)
    assert second.discrimination == pytest.approx((8 / 3 - 1 / 3) / 3)
    assert third.discrimination == pytest.approx((13 / 3 - 5 / 3) / 5)
    assert {i.band for i in result.items} == {"很好"}
    # α = 3/2 × (1 − (9.6 + 10.4 + 12.9) / 82.5); SEM = SD × √(1 − α)
    alpha = 1.5 * (1 - 32.9 / 82.5)
    assert result.alpha == pytest.approx(alpha)
    assert result.sem == pytest.approx(math.sqrt(82.5 / 9) * math.sqrt(1 - alpha))
    assert NO_OPTIONS_NOTICE in result.notices


def test_rank_band_is_a_band_not_a_rank() -> None:
    totals = np.arange(10, 0, -1, dtype=np.float64)
    assert rank_band(10, totals) == "前10%"
    assert rank_band(8, totals) == "前10%–25%"  # 2 of 10 above
    assert rank_band(6, totals) == "前25%–50%"  # 4 above
    assert rank_band(1, totals) == "后25%"


def test_an_item_everyone_got_right_is_said_not_nan() -> None:
    scores = [[2, *row[1:]] for row in SCORES]
    result = item_report(paper(scores))
    assert any("第1题全体学生得满分" in n for n in result.notices)
    assert result.items[0].point_biserial is None
    assert "过易（难度大于0.95）" in result.items[0].flags


def test_an_item_everyone_got_wrong_is_said() -> None:
    scores = [[0, *row[1:]] for row in SCORES]
    result = item_report(paper(scores))
    assert any("第1题全体学生得零分" in n for n in result.notices)


def test_a_score_above_the_item_maximum_is_said_not_raised() -> None:
    scores = [list(row) for row in SCORES]
    scores[0][0] = 3  # item 1 is worth 2
    result = item_report(paper(scores))
    assert result.items == ()
    assert any("第1题有1个得分超过该题分值2分" in n for n in result.notices)
    assert any("超过该题分值" in n for n in score_report(paper(scores)).notices)


def test_too_few_pupils_is_said() -> None:
    result = item_report(paper(SCORES[:4]))
    assert result.items == ()
    assert result.alpha is None
    assert any("只有4人" in n for n in result.notices)
