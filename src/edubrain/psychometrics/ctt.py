"""Classical test theory (CTT) item analysis in the conventions of Chinese 学业质量监测 / 试卷分析.

Arrays in, dataclasses out; no entity, no warehouse. `analyse_paper` takes one paper's score
matrix (pupils × items, in points) with each item's 满分, and optionally the options chosen on
the choice items, and returns per item:

- 难度 P = mean score / 满分 (for 0/1 items the 答对率); bigger is easier;
- 区分度 D = (mean score of the top group − mean score of the bottom group) / 满分, the groups
  being the top and bottom 27 % of pupils by total score (for 0/1 items this is P_H − P_L);
- the point-biserial (item–total Pearson r) and the corrected item–total r (item against the
  total of the other items);
- the Ebel band of D: ≥ 0.40 很好, 0.30–0.39 较好, 0.20–0.29 需修改, < 0.20 淘汰;
- for choice items the share choosing each option (and omitting) overall, in the top and in the
  bottom group;
- flags: negative discrimination, P > 0.95 or P < 0.05, zero variance, a distractor chosen more
  by the top group than by the bottom group;

and per paper: Cronbach's α (equal to KR-20 when every item is 0/1), the SEM
(SD of the total × √(1 − α)), paper difficulty Σ(P_i × 满分_i) / 试卷满分, total mean and SD.

Conventions, stated once: variances and SDs use the sample denominator n − 1 (α does not depend
on the choice); the group size is round(0.27 n) (halves up), at least 1; pupils tied on the total
at a group boundary are taken in their row order (a stable sort), so the groups always have
exactly that size. Undefined figures are `None` with a flag, never NaN; bad input raises
`ItemAnalysisInputError` (an `InvalidInputError`) naming the item.

Vectorised: one pass of matrix–vector products over the score matrix, so 1,000,000 × 40 runs in
a few seconds (benchmarks/ctt.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edubrain.errors import InvalidInputError

GROUP_SHARE = 0.27
OMITTED = -1  # the option code of an omitted (unanswered) choice item


class ItemAnalysisInputError(InvalidInputError):
    """The scores, maxima or options given to the CTT item analysis are not valid."""


class EbelBand(StrEnum):
    """Ebel's bands of the discrimination index D."""

    VERY_GOOD = "very_good"  # D ≥ 0.40
    GOOD = "good"  # 0.30 ≤ D < 0.40
    REVISE = "revise"  # 0.20 ≤ D < 0.30
    DISCARD = "discard"  # D < 0.20


EBEL_LABELS: dict[EbelBand, str] = {
    EbelBand.VERY_GOOD: "很好",
    EbelBand.GOOD: "较好",
    EbelBand.REVISE: "需修改",
    EbelBand.DISCARD: "淘汰",
}


class ItemFlag(StrEnum):
    """Why an item needs a look."""

    NEGATIVE_DISCRIMINATION = "negative_discrimination"  # D < 0 or the item–total r < 0
    TOO_EASY = "too_easy"  # P > 0.95
    TOO_HARD = "too_hard"  # P < 0.05
    ZERO_VARIANCE = "zero_variance"  # every pupil has the same score: r undefined
    DISTRACTOR_ATTRACTS_TOP = "distractor_attracts_top"  # a wrong option: top share > bottom


FLAG_LABELS: dict[ItemFlag, str] = {
    ItemFlag.NEGATIVE_DISCRIMINATION: "区分度为负",
    ItemFlag.TOO_EASY: "过易（难度大于0.95）",
    ItemFlag.TOO_HARD: "过难（难度小于0.05）",
    ItemFlag.ZERO_VARIANCE: "全体得分相同",
    ItemFlag.DISTRACTOR_ATTRACTS_TOP: "干扰项高分组选择多于低分组",
}


class PaperFlag(StrEnum):
    """Why a paper's reliability could not be computed."""

    ZERO_TOTAL_VARIANCE = "zero_total_variance"  # every pupil has the same total
    SINGLE_ITEM = "single_item"  # α needs at least two items


def ebel_band(discrimination: float) -> EbelBand:
    """The Ebel band of a discrimination index."""
    if discrimination >= 0.40:
        return EbelBand.VERY_GOOD
    if discrimination >= 0.30:
        return EbelBand.GOOD
    if discrimination >= 0.20:
        return EbelBand.REVISE
    return EbelBand.DISCARD


@dataclass(frozen=True)
class OptionAnalysis:
    """Shares choosing each option of one choice item; index n_options is 'omitted'."""

    key: int
    overall: tuple[float, ...]
    top: tuple[float, ...]
    bottom: tuple[float, ...]
    attracting_distractors: tuple[int, ...]  # wrong options with top share > bottom share


@dataclass(frozen=True)
class ItemAnalysis:
    """CTT figures of one item."""

    item: int
    maximum: float
    mean: float
    difficulty: float
    discrimination: float
    top_mean: float
    bottom_mean: float
    point_biserial: float | None
    corrected_item_total: float | None
    band: EbelBand
    flags: frozenset[ItemFlag]
    options: OptionAnalysis | None


@dataclass(frozen=True)
class PaperAnalysis:
    """CTT figures of one paper and its items."""

    pupils: int
    group_size: int
    maximum: float
    total_mean: float
    total_sd: float
    difficulty: float
    alpha: float | None
    sem: float | None
    flags: frozenset[PaperFlag]
    items: tuple[ItemAnalysis, ...]

    @property
    def flagged_items(self) -> tuple[ItemAnalysis, ...]:
        return tuple(item for item in self.items if item.flags)


def group_size(pupils: int, share: float = GROUP_SHARE) -> int:
    """round(share × pupils), halves up, at least 1."""
    return max(1, math.floor(share * pupils + 0.5))


def analyse_paper(
    scores: ArrayLike,
    maxima: ArrayLike,
    *,
    choices: ArrayLike | None = None,
    choice_items: Sequence[int] = (),
    keys: Sequence[int] = (),
    n_options: int = 4,
    minimum_pupils: int = 10,
) -> PaperAnalysis:
    """Item analysis of one paper.

    `scores` is pupils × items in points (0 ≤ score ≤ the item's 满分, no missing values: an
    unanswered item scores 0); `maxima` the 满分 of each item. For option analysis, `choices` is
    pupils × len(choice_items) option codes 0..n_options−1 (or -1 omitted), `choice_items` the
    column of each choice item in `scores` and `keys` its correct option.
    """
    matrix = _score_matrix(scores)
    pupils, n_items = matrix.shape
    full = _maxima(maxima, n_items)
    _check_scores(matrix, full, minimum_pupils)

    totals = matrix.sum(axis=1)
    order = np.argsort(totals, kind="stable")
    size = group_size(pupils)
    bottom_rows = order[:size]
    top_rows = order[pupils - size :]
    top_weight = np.zeros(pupils)
    top_weight[top_rows] = 1.0
    bottom_weight = np.zeros(pupils)
    bottom_weight[bottom_rows] = 1.0

    means = matrix.mean(axis=0)
    centred_total = totals - totals.mean()
    # sums of squares and cross-products about the means, each one pass over the matrix
    item_ss = np.einsum("ij,ij->j", matrix, matrix) - pupils * means**2
    item_ss = np.maximum(item_ss, 0.0)
    cross = matrix.T @ centred_total  # Σ (x_ij − x̄_j)(t_i − t̄) = Σ x_ij (t_i − t̄)
    total_ss = float(centred_total @ centred_total)
    top_means = (matrix.T @ top_weight) / size
    bottom_means = (matrix.T @ bottom_weight) / size

    difficulty = means / full
    discrimination = (top_means - bottom_means) / full
    option_results = _option_analysis(
        choices, choice_items, keys, n_options, n_items, pupils, top_rows, bottom_rows
    )

    items: list[ItemAnalysis] = []
    for j in range(n_items):
        flags: set[ItemFlag] = set()
        r_pb: float | None = None
        r_corrected: float | None = None
        if item_ss[j] <= _tiny(means[j], pupils):
            flags.add(ItemFlag.ZERO_VARIANCE)
        else:
            if total_ss > 0:
                r_pb = float(cross[j] / math.sqrt(item_ss[j] * total_ss))
            # rest = total − item: Σ(rest−r̄)² = T − 2C + I, cross(item, rest) = C − I
            rest_ss = total_ss - 2 * cross[j] + item_ss[j]
            if rest_ss > _tiny(totals.mean(), pupils):
                r_corrected = float((cross[j] - item_ss[j]) / math.sqrt(item_ss[j] * rest_ss))
        d = float(discrimination[j])
        if d < 0 or (r_pb is not None and r_pb < 0):
            flags.add(ItemFlag.NEGATIVE_DISCRIMINATION)
        if difficulty[j] > 0.95:
            flags.add(ItemFlag.TOO_EASY)
        if difficulty[j] < 0.05:
            flags.add(ItemFlag.TOO_HARD)
        options = option_results.get(j)
        if options is not None and options.attracting_distractors:
            flags.add(ItemFlag.DISTRACTOR_ATTRACTS_TOP)
        items.append(
            ItemAnalysis(
                item=j,
                maximum=float(full[j]),
                mean=float(means[j]),
                difficulty=float(difficulty[j]),
                discrimination=d,
                top_mean=float(top_means[j]),
                bottom_mean=float(bottom_means[j]),
                point_biserial=r_pb,
                corrected_item_total=r_corrected,
                band=ebel_band(d),
                flags=frozenset(flags),
                options=options,
            )
        )

    paper_flags: set[PaperFlag] = set()
    total_variance = total_ss / (pupils - 1)
    alpha: float | None = None
    sem: float | None = None
    if n_items < 2:
        paper_flags.add(PaperFlag.SINGLE_ITEM)
    elif total_ss <= _tiny(totals.mean(), pupils):
        paper_flags.add(PaperFlag.ZERO_TOTAL_VARIANCE)
    else:
        alpha = n_items / (n_items - 1) * (1.0 - float(item_ss.sum()) / total_ss)
        # α can be negative for an incoherent paper; the SEM then equals the SD (no reliability)
        sem = math.sqrt(total_variance) * math.sqrt(1.0 - min(1.0, max(0.0, alpha)))
    paper_maximum = float(full.sum())
    return PaperAnalysis(
        pupils=pupils,
        group_size=size,
        maximum=paper_maximum,
        total_mean=float(totals.mean()),
        total_sd=math.sqrt(total_variance),
        difficulty=float(means.sum()) / paper_maximum,
        alpha=alpha,
        sem=sem,
        flags=frozenset(paper_flags),
        items=tuple(items),
    )


def _tiny(scale: float, pupils: int) -> float:
    """A sum of squares below this is rounding noise, i.e. zero."""
    return 1e-9 * max(1.0, abs(float(scale))) ** 2 * pupils


def _score_matrix(scores: ArrayLike) -> NDArray[np.float64]:
    try:
        matrix = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ItemAnalysisInputError(f"scores are not numbers: {exc}") from exc
    if matrix.ndim != 2 or matrix.shape[1] == 0:
        raise ItemAnalysisInputError(
            f"scores must be a pupils × items table, got shape {matrix.shape}"
        )
    return matrix


def _maxima(maxima: ArrayLike, n_items: int) -> NDArray[np.float64]:
    full = np.asarray(maxima, dtype=np.float64).reshape(-1)
    if full.shape != (n_items,):
        raise ItemAnalysisInputError(f"{full.size} item maxima given for {n_items} items")
    bad = np.flatnonzero(~np.isfinite(full) | (full <= 0))
    if bad.size:
        raise ItemAnalysisInputError(f"item {int(bad[0])}: 满分 must be positive")
    return full


def _check_scores(matrix: NDArray[np.float64], full: NDArray[np.float64], minimum: int) -> None:
    pupils = matrix.shape[0]
    if pupils < max(2, minimum):
        raise ItemAnalysisInputError(
            f"{pupils} pupils took the paper; item analysis needs at least {max(2, minimum)}"
        )
    missing = np.isnan(matrix).any(axis=0)
    if missing.any():
        raise ItemAnalysisInputError(
            f"item {int(np.flatnonzero(missing)[0])}: missing scores (an unanswered item scores 0)"
        )
    above = (matrix > full).any(axis=0)
    if above.any():
        j = int(np.flatnonzero(above)[0])
        count = int((matrix[:, j] > full[j]).sum())
        raise ItemAnalysisInputError(f"item {j}: {count} scores above the item's 满分 {full[j]:g}")
    below = (matrix < 0).any(axis=0)
    if below.any():
        raise ItemAnalysisInputError(f"item {int(np.flatnonzero(below)[0])}: negative scores")


def _option_analysis(
    choices: ArrayLike | None,
    choice_items: Sequence[int],
    keys: Sequence[int],
    n_options: int,
    n_items: int,
    pupils: int,
    top_rows: NDArray[np.intp],
    bottom_rows: NDArray[np.intp],
) -> dict[int, OptionAnalysis]:
    if choices is None:
        if choice_items:
            raise ItemAnalysisInputError("choice items named but no options given")
        return {}
    chosen = np.asarray(choices)
    if chosen.ndim == 1:
        chosen = chosen.reshape(-1, 1)
    if chosen.shape != (pupils, len(choice_items)) or len(keys) != len(choice_items):
        raise ItemAnalysisInputError(
            f"options: expected {pupils} × {len(choice_items)} codes and one key per choice item"
        )
    if not np.issubdtype(chosen.dtype, np.integer):
        raise ItemAnalysisInputError("options must be integer codes (−1 = omitted)")
    if n_options < 2:
        raise ItemAnalysisInputError("a choice item has at least two options")
    for column, item in enumerate(choice_items):
        if not 0 <= item < n_items:
            raise ItemAnalysisInputError(f"choice item {item} is not a column of the scores")
        if not 0 <= keys[column] < n_options:
            raise ItemAnalysisInputError(f"item {item}: key {keys[column]} is not an option")
    bad = (chosen < OMITTED) | (chosen >= n_options)
    if bad.any():
        column = int(np.flatnonzero(bad.any(axis=0))[0])
        raise ItemAnalysisInputError(
            f"item {choice_items[column]}: option codes must be 0..{n_options - 1} or −1"
        )

    def shares(rows: NDArray[np.intp] | None) -> NDArray[np.float64]:
        part = chosen if rows is None else chosen[rows]
        # column n_options counts omissions (code −1)
        table = np.stack(
            [(part == option).sum(axis=0) for option in (*range(n_options), OMITTED)], axis=1
        )
        return np.asarray(table / part.shape[0], dtype=np.float64)

    overall, top, bottom = shares(None), shares(top_rows), shares(bottom_rows)
    results: dict[int, OptionAnalysis] = {}
    for column, item in enumerate(choice_items):
        key = int(keys[column])
        attracting = tuple(
            option
            for option in range(n_options)
            if option != key and top[column, option] > bottom[column, option]
        )
        results[int(item)] = OptionAnalysis(
            key=key,
            overall=tuple(float(v) for v in overall[column]),
            top=tuple(float(v) for v in top[column]),
            bottom=tuple(float(v) for v in bottom[column]),
            attracting_distractors=attracting,
        )
    return results
