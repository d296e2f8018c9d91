"""CTT item analysis against a hand calculation on a 10-pupil × 4-item paper.

Items 0–2 are 0/1 choice items (options A–D = 0–3, −1 omitted); item 3 is constructed, 满分 4.

    pupil  i0 i1 i2 i3  total   deviation from the mean 3.8
    P1      1  1  0  4    6      2.2
    P2      1  1  1  4    7      3.2
    P3      1  1  0  3    5      1.2
    P4      1  0  1  2    4      0.2
    P5      1  1  0  2    4      0.2
    P6      0  1  1  2    4      0.2
    P7      1  0  1  1    3     -0.8
    P8      1  0  0  1    2     -1.8
    P9      0  1  1  0    2     -1.8
    P10     0  0  1  0    1     -2.8

Groups: round(0.27 × 10) = 3 pupils. Sorted by total: P10(1) P8(2) P9(2) | P7(3) … P3(5) |
P1(6) P2(7): bottom = {P10, P8, P9}, top = {P3, P1, P2}; no tie at either boundary.
Σ(t − t̄)² = 4.84 + 10.24 + 1.44 + 3 × 0.04 + 0.64 + 2 × 3.24 + 7.84 = 31.6.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from edubrain.errors import InvalidInputError
from edubrain.psychometrics.ctt import (
    EbelBand,
    ItemAnalysisInputError,
    ItemFlag,
    PaperAnalysis,
    PaperFlag,
    analyse_paper,
    ebel_band,
    group_size,
)

SCORES = np.array(
    [
        [1, 1, 0, 4],
        [1, 1, 1, 4],
        [1, 1, 0, 3],
        [1, 0, 1, 2],
        [1, 1, 0, 2],
        [0, 1, 1, 2],
        [1, 0, 1, 1],
        [1, 0, 0, 1],
        [0, 1, 1, 0],
        [0, 0, 1, 0],
    ]
)
MAXIMA = [1, 1, 1, 4]
# keys: i0 A(0), i1 C(2), i2 B(1); wrong answers as chosen, P10 omitted i0
CHOICES = np.array(
    [
        [0, 2, 3],
        [0, 2, 1],
        [0, 2, 3],
        [0, 3, 1],
        [0, 2, 0],
        [1, 2, 1],
        [0, 0, 1],
        [0, 0, 2],
        [1, 2, 1],
        [-1, 3, 1],
    ]
)
KEYS = [0, 2, 1]
TOTAL_SS = 31.6


def paper() -> PaperAnalysis:
    return analyse_paper(SCORES, MAXIMA, choices=CHOICES, choice_items=[0, 1, 2], keys=KEYS)


def test_difficulty_and_27_percent_discrimination_by_hand() -> None:
    result = analyse_paper(SCORES, MAXIMA, choices=CHOICES, choice_items=[0, 1, 2], keys=KEYS)
    assert result.pupils == 10 and result.group_size == 3
    items = result.items
    # P: i0 7/10, i1 6/10, i2 6/10; i3 mean 19/10 = 1.9 of 4 → 0.475
    assert [item.difficulty for item in items] == pytest.approx([0.7, 0.6, 0.6, 0.475])
    # top {P3,P1,P2}: i0 1,1,1; i1 1,1,1; i2 0,0,1; i3 3,4,4 (mean 11/3)
    # bottom {P10,P8,P9}: i0 0,1,0; i1 0,0,1; i2 1,0,1; i3 0,1,0 (mean 1/3)
    assert [item.top_mean for item in items] == pytest.approx([1, 1, 1 / 3, 11 / 3])
    assert [item.bottom_mean for item in items] == pytest.approx([1 / 3, 1 / 3, 2 / 3, 1 / 3])
    # D = P_H − P_L: 2/3, 2/3, −1/3; constructed (11/3 − 1/3) / 4 = 5/6
    assert [item.discrimination for item in items] == pytest.approx([2 / 3, 2 / 3, -1 / 3, 5 / 6])
    assert [item.band for item in items] == [
        EbelBand.VERY_GOOD,
        EbelBand.VERY_GOOD,
        EbelBand.DISCARD,
        EbelBand.VERY_GOOD,
    ]


def test_point_biserial_and_corrected_item_total_by_hand() -> None:
    items = paper().items
    # item sums of squares: n·p·q = 2.1, 2.4, 2.4; i3 Σx² − n x̄² = 55 − 36.1 = 18.9
    # cross-products Σ x (t − t̄): i0 2.2+3.2+1.2+0.2+0.2−0.8−1.8 = 4.4;
    # i1 2.2+3.2+1.2+0.2+0.2−1.8 = 5.2; i2 3.2+0.2+0.2−0.8−1.8−2.8 = −1.8;
    # i3 4·2.2+4·3.2+3·1.2+2·0.6−0.8−1.8 = 23.8  (sum 31.6 = Σ(t − t̄)², as it must)
    expected_r = [
        4.4 / math.sqrt(2.1 * TOTAL_SS),  # 0.5401
        5.2 / math.sqrt(2.4 * TOTAL_SS),  # 0.5971
        -1.8 / math.sqrt(2.4 * TOTAL_SS),  # −0.2067
        23.8 / math.sqrt(18.9 * TOTAL_SS),  # 0.9739
    ]
    assert [item.point_biserial for item in items] == pytest.approx(expected_r, abs=1e-12)
    # corrected: rest = total − item. i0 rest 5,6,4,3,3,4,2,1,2,1 (mean 3.1): Σ(rest−3.1)² = 24.9,
    # Σ x0·(rest − 3.1) = 1.9+2.9+0.9−0.1−0.1−1.1−2.1 = 2.3. i3 rest 2,3,2,2,2,2,2,1,2,1
    # (mean 1.9): Σ(rest−1.9)² = 7·0.01 + 1.21 + 2·0.81 = 2.9, cross 23.8 − 18.9 = 4.9.
    # i1: rest SS 31.6 − 2·5.2 + 2.4 = 23.6, cross 5.2 − 2.4 = 2.8;
    # i2: rest SS 31.6 + 2·1.8 + 2.4 = 37.6, cross −1.8 − 2.4 = −4.2
    expected_corrected = [
        2.3 / math.sqrt(2.1 * 24.9),  # 0.3181
        2.8 / math.sqrt(2.4 * 23.6),  # 0.3720
        -4.2 / math.sqrt(2.4 * 37.6),  # −0.4421
        4.9 / math.sqrt(18.9 * 2.9),  # 0.6619
    ]
    assert [item.corrected_item_total for item in items] == pytest.approx(
        expected_corrected, abs=1e-12
    )


def test_alpha_sem_and_paper_difficulty_by_hand() -> None:
    result = paper()
    # α = k/(k−1) (1 − Σ item SS / total SS) = 4/3 (1 − 25.8/31.6) = 23.2/94.8
    assert result.alpha == pytest.approx(23.2 / 94.8, abs=1e-12)
    # SD = √(31.6/9); SEM = SD √(1 − α) = √(31.6/9 · 71.6/94.8) = √(71.6/27)
    assert result.total_sd == pytest.approx(math.sqrt(31.6 / 9))
    assert result.sem == pytest.approx(math.sqrt(71.6 / 27), abs=1e-12)
    # paper difficulty Σ P·满分 / 试卷满分 = (0.7 + 0.6 + 0.6 + 0.475·4) / 7 = 3.8/7
    assert result.difficulty == pytest.approx(3.8 / 7)
    assert result.maximum == 7 and result.total_mean == pytest.approx(3.8)


def test_kr20_of_the_three_01_items_may_be_negative() -> None:
    # totals of i0..i2: 2,3,2,2,2,2,2,1,2,1 (mean 1.9, Σ(t − t̄)² = 7·0.01 + 1.21 + 2·0.81 = 2.9,
    # population variance 0.29); Σpq = 0.21 + 0.24 + 0.24 = 0.69
    # KR-20 = 3/2 (1 − Σpq / σ²) = 1.5 (1 − 0.69/0.29) = −0.6/0.29 = −60/29
    result = analyse_paper(SCORES[:, :3], [1, 1, 1])
    assert result.alpha == pytest.approx(-60 / 29, abs=1e-12)
    # no reliability: the SEM is the SD itself, √(2.9/9)
    assert result.sem == pytest.approx(math.sqrt(2.9 / 9), abs=1e-12)


def test_option_analysis_by_hand() -> None:
    items = paper().items
    i0, i1, i2 = (items[j].options for j in range(3))
    # shares over A B C D omitted
    assert i0.overall == pytest.approx((0.7, 0.2, 0, 0, 0.1))
    assert i0.top == pytest.approx((1, 0, 0, 0, 0))
    assert i0.bottom == pytest.approx((1 / 3, 1 / 3, 0, 0, 1 / 3))  # P8 A, P9 B, P10 omitted
    assert i1.overall == pytest.approx((0.2, 0, 0.6, 0.2, 0))
    assert i1.bottom == pytest.approx((1 / 3, 0, 1 / 3, 1 / 3, 0))  # P8 A, P9 C, P10 D
    # i2 key B: the top group chose D twice (P1, P3), the bottom never → D attracts the top
    assert i2.overall == pytest.approx((0.1, 0.6, 0.1, 0.2, 0))
    assert i2.top == pytest.approx((0, 1 / 3, 0, 2 / 3, 0))
    assert i2.bottom == pytest.approx((0, 2 / 3, 1 / 3, 0, 0))
    assert i2.attracting_distractors == (3,)
    assert i0.attracting_distractors == () and i1.attracting_distractors == ()
    assert items[3].options is None


def test_flags_for_bad_items() -> None:
    items = paper().items
    assert items[2].flags == {ItemFlag.NEGATIVE_DISCRIMINATION, ItemFlag.DISTRACTOR_ATTRACTS_TOP}
    assert all(not items[j].flags for j in (0, 1, 3))
    # an item everyone got right, one that 0 of 40 got right, one that 1 of 40 got right
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2, size=(40, 3))
    extremes = np.column_stack([base, np.ones(40), np.zeros(40), np.eye(40)[0]])
    result = analyse_paper(extremes, np.ones(6))
    easy, hard, rare = result.items[3], result.items[4], result.items[5]
    assert easy.flags == {ItemFlag.ZERO_VARIANCE, ItemFlag.TOO_EASY}
    assert easy.point_biserial is None and easy.corrected_item_total is None
    assert hard.flags == {ItemFlag.ZERO_VARIANCE, ItemFlag.TOO_HARD}
    assert ItemFlag.TOO_HARD in rare.flags and rare.difficulty == pytest.approx(1 / 40)
    assert rare.point_biserial is not None


def test_paper_with_one_total_has_no_alpha_but_a_flag() -> None:
    same = np.tile([1, 0, 1], (12, 1))
    result = analyse_paper(same, [1, 1, 1])
    assert result.alpha is None and result.sem is None
    assert result.flags == {PaperFlag.ZERO_TOTAL_VARIANCE}
    single = analyse_paper(SCORES[:, 3:], [4])
    assert single.alpha is None and single.flags == {PaperFlag.SINGLE_ITEM}


@pytest.mark.parametrize(
    ("scores", "maxima", "message"),
    [
        (np.vstack([SCORES[:-1], [0, 0, 1, 5]]), MAXIMA, "item 3: 1 scores above"),
        (np.vstack([SCORES[:-1], [0, -1, 1, 0]]), MAXIMA, "item 1: negative"),
        (np.vstack([SCORES[:-1], [0, np.nan, 1, 0]]), MAXIMA, "item 1: missing"),
        (SCORES[:9], MAXIMA, "9 pupils"),
        (SCORES, [1, 1, 0, 4], "item 2: 满分 must be positive"),
        (SCORES, [1, 1, 4], "3 item maxima given for 4 items"),
        (SCORES[:, 0], [1], "pupils × items"),
    ],
)
def test_bad_input_is_an_invalid_input_error(scores: object, maxima: object, message: str) -> None:
    with pytest.raises(ItemAnalysisInputError, match=message) as caught:
        analyse_paper(scores, maxima)  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidInputError)


def test_bad_option_codes_are_refused() -> None:
    bad = CHOICES.copy()
    bad[0, 1] = 4
    with pytest.raises(ItemAnalysisInputError, match="item 1: option codes"):
        analyse_paper(SCORES, MAXIMA, choices=bad, choice_items=[0, 1, 2], keys=KEYS)
    with pytest.raises(ItemAnalysisInputError, match="key 4"):
        analyse_paper(SCORES, MAXIMA, choices=CHOICES, choice_items=[0, 1, 2], keys=[0, 4, 1])


def test_ebel_band_edges_and_group_size() -> None:
    assert ebel_band(0.40) is EbelBand.VERY_GOOD
    assert ebel_band(0.3999) is EbelBand.GOOD and ebel_band(0.30) is EbelBand.GOOD
    assert ebel_band(0.2999) is EbelBand.REVISE and ebel_band(0.20) is EbelBand.REVISE
    assert ebel_band(0.1999) is EbelBand.DISCARD
    # round(0.27 n), halves up: 10 → 3 (2.7), 50 → 14 (13.5), 100 → 27, 2 → 1 (0.54)
    assert [group_size(n) for n in (10, 50, 100, 2)] == [3, 14, 27, 1]


def test_large_paper_matches_direct_formulas() -> None:
    # 20,000 × 30 mixed paper: the vectorised sums equal the textbook formulas on the same data
    rng = np.random.default_rng(11)
    ability = rng.normal(size=20_000)
    binary = (rng.normal(size=(20_000, 25)) < ability[:, None]).astype(float)
    constructed = np.clip(np.round(2 + ability[:, None] + rng.normal(size=(20_000, 5))), 0, 5)
    scores = np.hstack([binary, constructed])
    maxima = np.r_[np.ones(25), np.full(5, 5.0)]
    result = analyse_paper(scores, maxima)
    totals = scores.sum(axis=1)
    for j in (0, 27):
        assert result.items[j].point_biserial == pytest.approx(
            np.corrcoef(scores[:, j], totals)[0, 1], abs=1e-10
        )
        assert result.items[j].corrected_item_total == pytest.approx(
            np.corrcoef(scores[:, j], totals - scores[:, j])[0, 1], abs=1e-10
        )
    k = scores.shape[1]
    alpha = k / (k - 1) * (1 - scores.var(axis=0, ddof=1).sum() / totals.var(ddof=1))
    assert result.alpha == pytest.approx(alpha, abs=1e-10)


def test_ties_at_a_group_boundary_are_taken_in_row_order() -> None:
    # totals 1 1 1 1 0 0 2 2 2 2; groups of round(2.7) = 3. Ascending stable order:
    # rows 4 5 | 0 1 2 3 | 6 7 8 9 → bottom = rows 4, 5 and 0 (the first of the tied 1s),
    # top = rows 7, 8, 9 (the last of the tied 2s).
    a = [1, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    b = [0, 1, 1, 1, 0, 0, 1, 1, 1, 1]
    result = analyse_paper(np.column_stack([a, b]), [1, 1])
    # item a: bottom rows 4, 5, 0 → 0, 0, 1 → 1/3; top → 1; D = 2/3 (row 3 instead of 0 gives 1)
    assert result.items[0].bottom_mean == pytest.approx(1 / 3)
    assert result.items[0].discrimination == pytest.approx(2 / 3)
    # item b: bottom 0, 0, 0; top 1, 1, 1
    assert result.items[1].discrimination == pytest.approx(1.0)
