"""IRT scaling of exam papers: calibrate each paper, score its pupils, link papers year to year.

Arrays in, rows out (the use case `usecases.exams_scale` reads the warehouse and writes them):

1. **Calibrate** each paper by MML-EM (`psychometrics.irt`): items scored 0/满分 by the 2PL,
   items with score steps by the graded response model (the GRM with two categories is the
   2PL, so a mixed paper is one GRM calibration), or every item by the Rasch model on request
   (0/满分 papers only). An item's scores are its categories in order: the distinct scores
   the pupils got, lowest first (a 6-point item on which nobody got 5 has six categories).
   Abilities are EAP with their posterior SD as standard error; item parameters get standard
   errors from the cross-product information (`psychometrics.irt_errors`) and a fit statistic
   (`irt.item_fit`, observed against expected score in ten ability groups) on a seeded sample
   of at most `fit_sample` pupils — with a million pupils every misfit is "significant", and
   the sample keeps the p-value a usable flag.
2. **Link** the papers of one grade and subject, in the order of school year and date: the
   first calibrated paper is the base (its pupils ~ N(0, 1)); each later paper is linked to
   the earlier paper it shares most anchor items with (the latest of a tie), at least
   `min_anchors` (the same `bank_item_id`, with as many score categories on both papers), by
   Stocking–Lord (or the method asked) through `psychometrics.linking` (0/1 anchors) or its
   mixed-format extension `psychometrics.linking_mixed` (graded anchors too), and the
   constants are chained to the base: θ_base = A·θ + B. All four methods' constants of each
   link are kept for the report.
3. **Bad input is a sentence, never a crash or a NaN**: a score above the item's 分值 (the paper
   is not calibrated), an item every pupil got right or wrong (left out of the calibration),
   too few pupils for the model, a calibration that does not converge or diverges, anchors
   that do not connect two papers (the paper keeps its own scale) — each a Chinese line in
   the job's report and in the paper's row.

The reported scale score is 500 + 100·θ on the base year's scale (its pupils: mean 500, SD 100).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edubrain.errors import IrtInputError, IrtNotConvergedError
from edubrain.psychometrics.irt import (
    MAX_CATEGORIES,
    MIN_PUPILS_PER_PARAMETER,
    IrtCalibration,
    calibrate,
    item_fit,
)
from edubrain.psychometrics.irt_errors import item_errors
from edubrain.psychometrics.linking import METHODS, AnchorItems, link
from edubrain.psychometrics.linking_mixed import MixedAnchors, link_mixed

FloatArray = NDArray[np.float64]

MIN_ANCHORS = 3  # fewer common items do not link two papers (the generator's floor too)
RECOMMENDED_ANCHORS = 5  # fewer are used, with a sentence that the link is rough
FIT_SAMPLE = 5000
FIT_P = 0.01  # an item whose fit p-value is below this is flagged
LOW_SLOPE = 0.3  # an item whose slope is below this hardly tells pupils apart
SCALE_MEAN, SCALE_SD = 500.0, 100.0
# Chinese names of the linking methods (Stocking–Lord, Haebara: 特征曲线法 of each author)
METHOD_LABELS = {
    "stocking_lord": "斯托金–洛德特征曲线法",
    "haebara": "海巴拉特征曲线法",
    "mean_mean": "均值/均值法",
    "mean_sigma": "均值/标准差法",
}
MODEL_LABELS = {"2pl": "双参数模型", "grm": "等级反应模型", "rasch": "拉施模型"}
STATUS_LABELS = {
    "base": "基准卷",
    "linked": "已等值",
    "unlinked": "未能等值",
    "not_calibrated": "未定标",
}
FLAG_LABELS = {"misfit": "拟合欠佳", "low_slope": "区分度低"}


@dataclass(frozen=True)
class ScalePaper:
    """One exam paper's scores with what linking needs to know of it."""

    exam_id: str
    name: str
    school_year: str
    subject: str
    grade_code: str
    exam_date: str
    item_nos: tuple[int, ...]
    item_maxima: FloatArray
    bank_ids: tuple[str | None, ...]
    students: tuple[str, ...]
    scores: FloatArray  # pupils × items, in points


@dataclass(frozen=True)
class ScaleOptions:
    rasch: bool = False
    method: str = "stocking_lord"
    min_anchors: int = MIN_ANCHORS
    fit_sample: int = FIT_SAMPLE
    seed: int = 16
    tolerance: float = 1e-4
    max_iterations: int = 1000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise IrtInputError(
                f"等值方法应为 {'、'.join(METHODS)} 之一，而不是 {self.method!r}"
                f" — unknown linking method {self.method!r}"
            )
        if self.min_anchors < 2:
            raise IrtInputError("共同题（锚题）至少要求2道 — min_anchors must be at least 2")


@dataclass
class Calibrated:
    """A paper on its own scale (its pupils ~ N(0, 1)) — then moved to the base scale."""

    paper: ScalePaper
    model: str
    columns: list[int]  # the paper's item columns that were calibrated
    dichotomous: NDArray[np.bool_]  # per calibrated column
    a: FloatArray
    b: FloatArray  # calibrated columns × thresholds (NaN beyond an item's last)
    se_a: FloatArray
    se_b: FloatArray
    fit_statistic: FloatArray
    fit_p: FloatArray
    theta: FloatArray
    theta_se: FloatArray
    iterations: int
    A: float = 1.0  # the linking constants: θ_base = A·θ + B
    B: float = 0.0


@dataclass
class PaperOutcome:
    """What happened to one paper: its calibration (if any), its link, its sentences."""

    paper: ScalePaper
    calibrated: Calibrated | None = None
    status: str = "not_calibrated"  # base / linked / unlinked / not_calibrated
    linked_to: str | None = None
    base_year: str | None = None
    anchors: int = 0
    constants: dict[str, tuple[float, float]] = field(default_factory=dict)
    step: tuple[float, float] | None = None
    notices: list[str] = field(default_factory=list)


Note = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


# ---- one paper -------------------------------------------------------------------------------


def _categories(
    paper: ScalePaper, notices: list[str]
) -> tuple[list[int], NDArray[np.uint8], NDArray[np.bool_]] | None:
    """The calibrated columns, their category codes and which are dichotomous; None when the
    paper cannot be calibrated (a score above an item's 分值)."""
    scores = paper.scores
    over = scores > paper.item_maxima[None, :] + 1e-9
    if np.any(over):
        for col in np.nonzero(over.any(axis=0))[0].tolist():
            notices.append(
                f"第{paper.item_nos[col]}题有{int(over[:, col].sum())}个得分超过该题分值"
                f"{paper.item_maxima[col]:g}分，数据有误。"
            )
        notices.append("请先更正超出分值的得分，本卷未作项目反应理论定标。")
        return None
    columns: list[int] = []
    codes: list[NDArray[np.uint8]] = []
    dichotomous: list[bool] = []
    for j, item_no in enumerate(paper.item_nos):
        values = np.unique(scores[:, j])
        if values.size < 2:
            value = float(values[0]) if values.size else 0.0
            if value >= paper.item_maxima[j] - 1e-9:
                what = "全体学生得满分"
            elif value <= 1e-9:
                what = "全体学生得零分"
            else:
                what = "全体学生得分相同"
            notices.append(f"第{item_no}题{what}，无法估计其参数，未参与定标。")
            continue
        if values.size > MAX_CATEGORIES - 1:
            notices.append(
                f"第{item_no}题出现了{values.size}种不同得分，超过{MAX_CATEGORIES - 1}级，"
                "无法按等级反应模型定标，未参与定标。"
            )
            continue
        columns.append(j)
        codes.append(np.searchsorted(values, scores[:, j]).astype(np.uint8))
        dichotomous.append(values.size == 2)
    if not columns:
        notices.append("本卷没有可定标的试题。")
        return None
    return columns, np.column_stack(codes), np.asarray(dichotomous)


def _item_numbers(paper: ScalePaper, columns: Sequence[int], text: str) -> str:
    """The 题号 of the calibration's items named (1-based) in an error's message."""
    found = re.search(r"items \[([0-9, ]+)\]", text)
    if not found:
        return ""
    numbers = [int(n) for n in found.group(1).split(",") if n.strip()]
    return "、".join(str(paper.item_nos[columns[n - 1]]) for n in numbers if 0 < n <= len(columns))


def calibrate_paper(paper: ScalePaper, options: ScaleOptions) -> PaperOutcome:
    """Calibrate one paper on its own pupils' scale, or say why not."""
    outcome = PaperOutcome(paper)
    notices = outcome.notices
    pupils = len(paper.students)
    if pupils == 0:
        notices.append("本卷没有学生的小题得分，未作项目反应理论定标。")
        return outcome
    found = _categories(paper, notices)
    if found is None:
        return outcome
    columns, codes, dichotomous = found
    if options.rasch and not dichotomous.all():
        graded = "、".join(str(paper.item_nos[columns[i]]) for i in np.nonzero(~dichotomous)[0])
        notices.append(
            f"拉施模型只用于按0分或满分计分的试题；第{graded}题有多级得分，本卷改用等级反应模型。"
        )
    model = ("rasch" if options.rasch else "2pl") if dichotomous.all() else "grm"
    categories = codes.max(axis=0) + 1
    parameters = int(np.sum(categories - 1)) + (0 if model == "rasch" else len(columns))
    needed = MIN_PUPILS_PER_PARAMETER * parameters
    if pupils < needed:
        notices.append(
            f"参加考试的学生只有{pupils}人；估计{parameters}个试题参数至少需要{needed}人"
            f"（每个参数{MIN_PUPILS_PER_PARAMETER}人），本卷未作项目反应理论定标。"
        )
        return outcome
    try:
        fitted = calibrate(
            codes,
            model,  # type: ignore[arg-type]
            tolerance=options.tolerance,
            max_iterations=options.max_iterations,
            require_convergence=False,
        )
    except IrtNotConvergedError as exc:
        items = _item_numbers(paper, columns, str(exc))
        notices.append(
            "本卷项目反应理论定标发散："
            + (f"第{items}题" if items else "有试题")
            + "的区分度参数趋于无穷（人数太少，或该题把学生完全分成两组），未写入结果。"
        )
        return outcome
    except IrtInputError as exc:
        notices.append(f"本卷无法作项目反应理论定标（{exc}）。")
        return outcome
    if not fitted.convergence.converged:
        notices.append(
            f"本卷项目反应理论定标未收敛：EM迭代{fitted.convergence.iterations}次后参数的最大变化仍为"
            f"{fitted.convergence.max_change:.1e}（要求小于{fitted.convergence.tolerance:.0e}），"
            "未写入结果。"
        )
        return outcome
    if not (np.all(np.isfinite(fitted.a)) and np.all(np.isfinite(fitted.abilities.eap))):
        notices.append("本卷项目反应理论定标得到了无效的数值，未写入结果。")
        return outcome
    errors = item_errors(fitted, codes)
    fit = _fit(fitted, codes, options)
    outcome.calibrated = Calibrated(
        paper=paper,
        model=model,
        columns=columns,
        dichotomous=dichotomous,
        a=fitted.a,
        b=fitted.b,
        se_a=errors.se_a,
        se_b=errors.se_b,
        fit_statistic=fit[0],
        fit_p=fit[1],
        theta=fitted.abilities.eap,
        theta_se=fitted.abilities.posterior_sd,
        iterations=fitted.convergence.iterations,
    )
    return outcome


def _fit(
    fitted: IrtCalibration, codes: NDArray[np.uint8], options: ScaleOptions
) -> tuple[FloatArray, FloatArray]:
    rows = codes.shape[0]
    if rows > options.fit_sample:
        rng = np.random.default_rng(options.seed)
        codes = codes[np.sort(rng.choice(rows, options.fit_sample, replace=False))]
    try:
        fit = item_fit(fitted, codes.astype(np.float64))
    except IrtInputError:  # a sampled column without a category: no fit figure, no crash
        nothing = np.full(fitted.a.shape[0], np.nan)
        return nothing, nothing
    return fit.statistic, fit.p_value


# ---- linking ---------------------------------------------------------------------------------


def _thresholds(cal: Calibrated, i: int) -> FloatArray:
    row = cal.b[i]
    return np.asarray(row[np.isfinite(row)], dtype=np.float64)


def _anchor_items(
    old: Calibrated, new: Calibrated
) -> tuple[MixedAnchors, MixedAnchors, int, int, int] | None:
    """The anchors two calibrated papers share, each on its own scale: how many, how many of
    them graded, and how many graded ones were left out (their scores fell into a different
    number of categories on the two papers)."""
    old_at = {old.paper.bank_ids[c]: i for i, c in enumerate(old.columns) if old.paper.bank_ids[c]}
    pairs: list[tuple[int, int]] = []
    graded = skipped = 0
    for i, c in enumerate(new.columns):
        bank = new.paper.bank_ids[c]
        if not bank or bank not in old_at:
            continue
        k = old_at[bank]
        if _thresholds(old, k).size != _thresholds(new, i).size:
            skipped += 1
            continue
        graded += int(not new.dichotomous[i])
        pairs.append((k, i))
    if not pairs:
        return None
    old_items = MixedAnchors.of(
        old.a[[k for k, _ in pairs]], [_thresholds(old, k) for k, _ in pairs]
    )
    new_items = MixedAnchors.of(
        new.a[[i for _, i in pairs]], [_thresholds(new, i) for _, i in pairs]
    )
    return old_items, new_items, len(pairs), graded, skipped


def _constants(old: MixedAnchors, new: MixedAnchors, graded: int) -> dict[str, tuple[float, float]]:
    """The four methods' constants: `linking.link` for 0/1 anchors (checked against Kolen and
    Brennan's published values), its mixed-format extension when graded anchors are in."""
    constants: dict[str, tuple[float, float]] = {}
    for method in METHODS:
        if graded:
            c = link_mixed(old, new, method)  # type: ignore[arg-type]
        else:
            c = link(
                AnchorItems.of(old.a, old.pooled()),
                AnchorItems.of(new.a, new.pooled()),
                method,  # type: ignore[arg-type]
            )
        constants[method] = (c.A, c.B)
    return constants


def _link_one(target: PaperOutcome, earlier: list[PaperOutcome], options: ScaleOptions) -> None:
    new = target.calibrated
    assert new is not None
    # the earlier papers on the base scale, most shared anchors first (the latest of a tie):
    # a paper links where it shares most, not through a same-year paper that shares few
    candidates = []
    for at, candidate in enumerate(earlier):
        if candidate.calibrated is None or candidate.status not in ("base", "linked"):
            continue
        found = _anchor_items(candidate.calibrated, new)
        if found is not None:
            candidates.append((found[2], at, candidate, found))
    candidates.sort(key=lambda c: (-c[0], -c[1]))
    best_shared = candidates[0][0] if candidates else 0
    for shared, _, candidate, found in candidates:
        old = candidate.calibrated
        assert old is not None
        if shared < options.min_anchors:
            continue
        old_items, new_items, shared, graded, skipped = found
        try:
            constants = _constants(old_items, new_items, graded)
        except IrtInputError as exc:
            target.notices.append(
                f"与{candidate.paper.name}的共同题无法等值（{exc}），改试更早的试卷。"
            )
            continue
        A, B = constants[options.method]  # noqa: N806
        if not (np.isfinite(A) and np.isfinite(B) and A > 0):
            target.notices.append(f"与{candidate.paper.name}等值得到无效的常数，改试更早的试卷。")
            continue
        if skipped:
            target.notices.append(
                f"与{candidate.paper.name}有{skipped}道共同题在两份试卷上出现的得分等级数不同，"
                f"未用于等值；等值用了{shared}道共同题。"
            )
        if shared < RECOMMENDED_ANCHORS:
            target.notices.append(
                f"与{candidate.paper.name}只有{shared}道共同题，少于建议的{RECOMMENDED_ANCHORS}道，"
                "等值误差较大。"
            )
        # θ_old = A·θ + B, and the old paper's θ_base = A_old·θ_old + B_old: chained
        new.A, new.B = old.A * A, old.A * B + old.B
        target.status = "linked"
        target.linked_to = candidate.paper.exam_id
        target.base_year = candidate.base_year
        target.anchors = shared
        target.constants = constants
        target.step = (A, B)
        return
    target.status = "unlinked"
    target.notices.append(
        f"本卷与往年（往次）试卷的共同题最多只有{best_shared}道，少于{options.min_anchors}道，"
        "无法等值到基准年的量尺：参数和能力值保留本卷自身的量尺，不能与其他年份比较。"
    )


def _without_scores(outcome: PaperOutcome) -> PaperOutcome:
    """The outcome without its paper's score matrix (a 1M-pupil paper's is 320 MB): papers
    are read and calibrated one at a time, and only what linking and the tables need stays."""
    paper = outcome.paper
    light = replace(paper, scores=np.zeros((0, len(paper.item_nos))))
    outcome.paper = light
    if outcome.calibrated is not None:
        outcome.calibrated.paper = light
    return outcome


def scale_papers(
    papers: Iterable[ScalePaper],
    options: ScaleOptions | None = None,
    *,
    note: Note = _quiet,
    fraction: Callable[[float], None] | None = None,
    count: int | None = None,
) -> list[PaperOutcome]:
    """Calibrate every paper (read one at a time from `papers`), then link each grade and
    subject's papers to its base. `count`: how many papers to expect, for `fraction`."""
    options = options or ScaleOptions()
    if count is None and isinstance(papers, Sequence):
        count = len(papers)
    outcomes: list[PaperOutcome] = []
    for n, paper in enumerate(papers):
        note(f"定标 {paper.name}（{len(paper.students)}人 × {len(paper.item_nos)}题）")
        outcome = calibrate_paper(paper, options)
        for line in outcome.notices:
            note(f"{paper.name}：{line}")
        outcomes.append(_without_scores(outcome))
        if fraction is not None and count:
            fraction(min((n + 1) / count, 1.0) * 0.9)
    groups: dict[tuple[str, str], list[PaperOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups[(outcome.paper.subject, outcome.paper.grade_code)].append(outcome)
    for group in groups.values():
        group.sort(key=lambda o: (o.paper.school_year, o.paper.exam_date, o.paper.exam_id))
        done: list[PaperOutcome] = []
        for outcome in group:
            if outcome.calibrated is None:
                continue
            if not any(o.status in ("base", "linked") for o in done):
                outcome.status = "base"
                outcome.base_year = outcome.paper.school_year
            else:
                before = len(outcome.notices)
                _link_one(outcome, done, options)
                for line in outcome.notices[before:]:
                    note(f"{outcome.paper.name}：{line}")
                if outcome.status == "linked" and outcome.calibrated is not None:
                    a, b = outcome.calibrated.A, outcome.calibrated.B
                    note(
                        f"{outcome.paper.name} 经{outcome.anchors}道共同题等值到"
                        f"{outcome.base_year}学年的量尺：A = {a:.4f}，B = {b:.4f}"
                        f"（{METHOD_LABELS[options.method]}）"
                    )
            done.append(outcome)
    if fraction is not None:
        fraction(0.95)
    return outcomes


# ---- rows ------------------------------------------------------------------------------------


def _join(values: FloatArray, digits: int = 4) -> str | None:
    finite = [float(v) for v in values if np.isfinite(v)]
    return ";".join(f"{v:.{digits}f}" for v in finite) if finite else None


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def item_rows(outcome: PaperOutcome, fitted_at: Any) -> list[dict[str, Any]]:
    """`exam_item_parameter` rows: on the base scale when the paper is linked (or the base)."""
    cal = outcome.calibrated
    if cal is None:
        return []
    paper = cal.paper
    linked = outcome.status in ("base", "linked")
    A, B = (cal.A, cal.B) if linked else (1.0, 0.0)  # noqa: N806
    rows = []
    for i, j in enumerate(cal.columns):
        model = "rasch" if cal.model == "rasch" else ("2pl" if cal.dichotomous[i] else "grm")
        rows.append(
            {
                "exam_id": paper.exam_id,
                "item_no": paper.item_nos[j],
                "bank_item_id": paper.bank_ids[j],
                "model": model,
                "a": float(cal.a[i]) / A,
                "b": _join(A * cal.b[i] + B),
                "se_a": float(cal.se_a[i]) / A,
                "se_b": _join(A * cal.se_b[i]),
                "fit_statistic": _number(cal.fit_statistic[i]),
                "fit_p": _number(cal.fit_p[i]),
                "linked_to_year": outcome.base_year if linked else None,
                "fitted_at": fitted_at,
            }
        )
    return rows


def score_columns(outcome: PaperOutcome) -> dict[str, Any] | None:
    """`exam_scale_score` columns of the paper's pupils (θ, its SE and the scale score)."""
    cal = outcome.calibrated
    if cal is None:
        return None
    linked = outcome.status in ("base", "linked")
    A, B = (cal.A, cal.B) if linked else (1.0, 0.0)  # noqa: N806
    theta = A * cal.theta + B
    return {
        "exam_id": [cal.paper.exam_id] * len(cal.paper.students),
        "student_number": list(cal.paper.students),
        "theta": theta,
        "se": A * cal.theta_se,
        "scale_score": np.round(SCALE_MEAN + SCALE_SD * theta, 1),
    }


def paper_row(outcome: PaperOutcome, options: ScaleOptions, fitted_at: Any) -> dict[str, Any]:
    """The `exam_scale_paper` row: model, status, the link and its four methods' constants."""
    paper, cal = outcome.paper, outcome.calibrated
    linked = outcome.status in ("base", "linked")
    row: dict[str, Any] = {
        "exam_id": paper.exam_id,
        "school_year": paper.school_year,
        "subject": paper.subject,
        "grade_code": paper.grade_code,
        "status": outcome.status,
        "model": None if cal is None else cal.model,
        "pupils": len(paper.students),
        "items": len(paper.item_nos),
        "items_calibrated": 0 if cal is None else len(cal.columns),
        "iterations": None if cal is None else cal.iterations,
        "linked_to_exam": outcome.linked_to,
        "linked_to_year": outcome.base_year if linked else None,
        "anchors": outcome.anchors,
        "method": options.method if outcome.status == "linked" else None,
        "A": None if cal is None or not linked else cal.A,
        "B": None if cal is None or not linked else cal.B,
        "step_A": None if outcome.step is None else outcome.step[0],
        "step_B": None if outcome.step is None else outcome.step[1],
        "notices": "\n".join(outcome.notices),
        "fitted_at": fitted_at,
    }
    for method in METHODS:
        pair = outcome.constants.get(method)
        row[f"{method}_A"] = None if pair is None else pair[0]
        row[f"{method}_B"] = None if pair is None else pair[1]
    return row


def item_flags(row: dict[str, Any]) -> tuple[str, ...]:
    """The flags of an `exam_item_parameter` row, in Chinese."""
    flags = []
    if row.get("fit_p") is not None and float(row["fit_p"]) < FIT_P:
        flags.append(FLAG_LABELS["misfit"])
    if row.get("a") is not None and float(row["a"]) < LOW_SLOPE:
        flags.append(FLAG_LABELS["low_slope"])
    return tuple(flags)
