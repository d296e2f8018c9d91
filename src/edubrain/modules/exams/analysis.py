"""Score reports and CTT item analysis of one exam paper: arrays in, dataclasses out.

A `Paper` is the pupils × items score matrix of an exam (in points) with each item's 分值, 题型
and 知识点, and each pupil's school and class. From it:

- `score_report`: the totals' mean, SD (sample, n − 1), maximum and minimum; the distribution in
  ten bands of 10 % of 满分 (the last band includes 满分); the 优秀/良好/及格 rates; the mean
  score and 得分率 of each knowledge point and 题型.
- `item_report`: `psychometrics.ctt.analyse_paper` on the matrix, with every problem the CTT
  refuses (too few pupils, a score above the item's 分值) said in Chinese instead of raised.
- `rank_band`: a pupil's place as a band of the exam's takers, never a raw rank.

The rate thresholds follow the common convention of Chinese 学业质量分析 (e.g. 教育部《中小学学生
学业质量分析》practice and most provincial 统考 reports): 优秀 ≥ 85 % of 满分, 良好 ≥ 70 %,
及格 ≥ 60 %. No national regulation fixes them; a region may differ, so they are constants
here (`EXCELLENT`, `GOOD`, `PASS`).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from edubrain.psychometrics.ctt import (
    EBEL_LABELS,
    FLAG_LABELS,
    ItemFlag,
    PaperAnalysis,
    PaperFlag,
    analyse_paper,
)

EXCELLENT = 0.85
GOOD = 0.70
PASS = 0.60
BANDS = 10
# Item analysis needs at least this many pupils (its 27 % groups are then 3 pupils each).
MINIMUM_PUPILS = 10
# A pupil's place among the takers: (the share of takers above them at most, the label).
RANK_BANDS: tuple[tuple[float, str], ...] = (
    (0.10, "前10%"),
    (0.25, "前10%–25%"),
    (0.50, "前25%–50%"),
    (0.75, "后25%–50%"),
    (1.00, "后25%"),
)
ITEM_TYPE_LABELS = {"objective": "客观题", "subjective": "主观题"}
NO_OPTIONS_NOTICE = "小题得分只记录了分数，没有记录学生所选的选项，因此无法做选项（干扰项）分析。"


@dataclass(frozen=True)
class Paper:
    """One exam's scores: `scores[i, j]` is pupil i's score on item j (an unanswered item 0)."""

    exam_id: str
    maximum: float
    item_nos: tuple[int, ...]
    item_maxima: NDArray[np.float64]
    item_types: tuple[str | None, ...]
    knowledge_points: tuple[tuple[str, ...], ...]
    students: tuple[str, ...]
    scores: NDArray[np.float64]
    # the knowledge points' names, where the warehouse knows them (else the code is shown)
    point_names: Mapping[str, str] = field(default_factory=dict)

    def totals(self) -> NDArray[np.float64]:
        return np.asarray(self.scores.sum(axis=1), dtype=np.float64)

    def rows(self, keep: NDArray[np.bool_]) -> Paper:
        """The paper of the pupils `keep` selects."""
        return Paper(
            self.exam_id,
            self.maximum,
            self.item_nos,
            self.item_maxima,
            self.item_types,
            self.knowledge_points,
            tuple(s for s, k in zip(self.students, keep, strict=True) if k),
            self.scores[keep],
            self.point_names,
        )


@dataclass(frozen=True)
class Subscore:
    """The mean score on a group of items (a knowledge point, a 题型) and its 得分率."""

    key: str
    label: str
    items: int
    maximum: float
    mean: float
    rate: float


@dataclass(frozen=True)
class ScoreBand:
    label: str
    low: float
    high: float
    pupils: int
    share: float


@dataclass(frozen=True)
class ScoreReport:
    pupils: int
    maximum: float
    mean: float | None
    sd: float | None
    highest: float | None
    lowest: float | None
    excellent_rate: float | None
    good_rate: float | None
    pass_rate: float | None
    bands: tuple[ScoreBand, ...]
    by_knowledge_point: tuple[Subscore, ...]
    by_item_type: tuple[Subscore, ...]
    notices: tuple[str, ...]


@dataclass(frozen=True)
class ItemRow:
    item_no: int
    maximum: float
    mean: float
    difficulty: float
    discrimination: float
    point_biserial: float | None
    band: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ItemReport:
    pupils: int
    alpha: float | None
    sem: float | None
    difficulty: float | None
    items: tuple[ItemRow, ...]
    notices: tuple[str, ...] = field(default_factory=tuple)


def score_report(paper: Paper) -> ScoreReport:
    """Totals, distribution, rates and subscores of the pupils of `paper`."""
    pupils = len(paper.students)
    notices: list[str] = []
    notices.extend(_above_maximum(paper))
    totals = paper.totals()
    full = paper.maximum
    if pupils == 0:
        notices.append("没有可查看的成绩。")
        return ScoreReport(
            0, full, None, None, None, None, None, None, None, (), (), (), tuple(notices)
        )
    width = full / BANDS
    index = np.minimum(np.floor(totals / width + 1e-9).astype(np.int64), BANDS - 1)
    index = np.maximum(index, 0)
    counts = np.bincount(index, minlength=BANDS)
    bands = tuple(
        ScoreBand(
            f"{b * 10}%–{(b + 1) * 10}%",
            b * width,
            (b + 1) * width,
            int(counts[b]),
            float(counts[b]) / pupils,
        )
        for b in range(BANDS)
    )
    sd = float(totals.std(ddof=1)) if pupils > 1 else None
    if pupils == 1:
        notices.append("只有1名学生，无法计算标准差。")
    return ScoreReport(
        pupils=pupils,
        maximum=full,
        mean=float(totals.mean()),
        sd=sd,
        highest=float(totals.max()),
        lowest=float(totals.min()),
        excellent_rate=_share(totals >= EXCELLENT * full - 1e-9),
        good_rate=_share(totals >= GOOD * full - 1e-9),
        pass_rate=_share(totals >= PASS * full - 1e-9),
        bands=bands,
        by_knowledge_point=_subscores(
            paper, _knowledge_groups(paper), paper.point_names, "未命名知识点"
        ),
        by_item_type=_subscores(paper, _type_groups(paper), ITEM_TYPE_LABELS, "其他题型"),
        notices=tuple(notices),
    )


def item_report(paper: Paper) -> ItemReport:
    """CTT item analysis of the paper, or Chinese notices saying why it cannot be done."""
    pupils = len(paper.students)
    notices = [NO_OPTIONS_NOTICE]
    if pupils < MINIMUM_PUPILS:
        notices.append(
            f"参加考试的学生只有{pupils}人，少于{MINIMUM_PUPILS}人，"
            "难度、区分度和信度没有统计意义，未作试题分析。"
        )
        return ItemReport(pupils, None, None, None, (), tuple(notices))
    above = _above_maximum(paper)
    if above:
        notices.extend(above)
        notices.append("请先更正超出分值的得分，再作试题分析。")
        return ItemReport(pupils, None, None, None, (), tuple(notices))
    analysis = analyse_paper(paper.scores, paper.item_maxima, minimum_pupils=MINIMUM_PUPILS)
    notices.extend(_paper_notices(paper, analysis))
    rows = tuple(
        ItemRow(
            item_no=paper.item_nos[i.item],
            maximum=i.maximum,
            mean=i.mean,
            difficulty=i.difficulty,
            discrimination=i.discrimination,
            point_biserial=i.point_biserial,
            band=EBEL_LABELS[i.band],
            flags=tuple(FLAG_LABELS[f] for f in ItemFlag if f in i.flags),
        )
        for i in analysis.items
    )
    return ItemReport(
        analysis.pupils, analysis.alpha, analysis.sem, analysis.difficulty, rows, tuple(notices)
    )


def rank_band(total: float, totals: NDArray[np.float64]) -> str | None:
    """The band of a pupil with this total among all `totals` (the exam's takers): the share
    of takers who scored strictly higher decides it, so tied pupils share a band."""
    if totals.size == 0:
        return None
    above = float((totals > total + 1e-9).sum()) / totals.size
    for limit, label in RANK_BANDS:
        if above < limit:
            return label
    return RANK_BANDS[-1][1]


def _share(hit: NDArray[np.bool_]) -> float:
    return float(hit.sum()) / hit.size


def _above_maximum(paper: Paper) -> list[str]:
    notices = []
    for j, item_no in enumerate(paper.item_nos):
        over = int((paper.scores[:, j] > paper.item_maxima[j] + 1e-9).sum())
        if over:
            notices.append(
                f"第{item_no}题有{over}个得分超过该题分值{paper.item_maxima[j]:g}分，数据有误。"
            )
    return notices


def _paper_notices(paper: Paper, analysis: PaperAnalysis) -> list[str]:
    notices = []
    for i in analysis.items:
        item_no = paper.item_nos[i.item]
        if ItemFlag.ZERO_VARIANCE in i.flags:
            if i.difficulty >= 1.0 - 1e-9:
                notices.append(f"第{item_no}题全体学生得满分，无法区分学生，点二列相关不可计算。")
            elif i.difficulty <= 1e-9:
                notices.append(f"第{item_no}题全体学生得零分，无法区分学生，点二列相关不可计算。")
            else:
                notices.append(f"第{item_no}题全体学生得分相同，点二列相关不可计算。")
    if PaperFlag.ZERO_TOTAL_VARIANCE in analysis.flags:
        notices.append("全体学生总分相同，信度系数和测量标准误不可计算。")
    if PaperFlag.SINGLE_ITEM in analysis.flags:
        notices.append("试卷只有一道题，信度系数需要至少两道题。")
    return notices


def _knowledge_groups(paper: Paper) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for j, points in enumerate(paper.knowledge_points):
        for point in points:
            groups[point].append(j)
    return dict(sorted(groups.items()))


def _type_groups(paper: Paper) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for j, kind in enumerate(paper.item_types):
        if kind:
            groups[kind].append(j)
    return dict(sorted(groups.items()))


def _subscores(
    paper: Paper, groups: dict[str, list[int]], labels: Mapping[str, str], nameless: str
) -> tuple[Subscore, ...]:
    """One subscore per group; a group without a known name is called `nameless` + N on the
    page (its code stays in `key`): codes are not for people to read."""
    out = []
    unnamed = 0
    for key, columns in groups.items():
        maximum = float(paper.item_maxima[columns].sum())
        mean = float(paper.scores[:, columns].sum(axis=1).mean())
        label = labels.get(key)
        if label is None:
            unnamed += 1
            label = f"{nameless}{unnamed}"
        out.append(Subscore(key, label, len(columns), maximum, mean, mean / maximum))
    return tuple(out)


def finite_or_none(value: float | None) -> float | None:
    """A figure for JSON: None for an undefined (NaN) value."""
    return None if value is None or math.isnan(value) else value


def knowledge_points(text: str | None) -> tuple[str, ...]:
    """The codes of an item's `knowledge_points` field (joined by ';')."""
    return tuple(p.strip() for p in (text or "").split(";") if p.strip())


def columns_of(item_nos: Sequence[int]) -> dict[int, int]:
    return {no: j for j, no in enumerate(item_nos)}
