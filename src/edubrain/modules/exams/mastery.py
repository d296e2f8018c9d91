"""Cognitive diagnosis of an exam paper: DINA and G-DINA on the items' knowledge tags.

A `Paper`'s items carry their knowledge points (`exam_item.knowledge_points`): that is the
paper's Q-matrix. `diagnose_paper` turns it into per-pupil mastery of each attribute:

- **Scores to right/wrong.** Both models take right/wrong answers. An item counts as right when
  the pupil scored at least `RIGHT_AT` (60 %, the 及格 line of `analysis.PASS`) of its 分值: an
  objective item (all or nothing) is right exactly when it earned its marks; a constructed
  item is right when the pupil earned most of it. One line for every item keeps the meaning
  of "right" the same across the paper; it is the line the score report's 及格率 uses.
- **Attributes.** The attributes are the paper's knowledge points. A paper tags many points
  (the county's 统考 tag 13–23 on 15–25 items), more than its takers can identify: the model
  enumerates 2^K profiles, and needs at least `PUPILS_PER_PROFILE` pupils per profile and
  K ≤ `MAX_ATTRIBUTES`. When the points are too many, they are rolled up one level of their
  code (M7.3.2 → M7.3, the chapter); when even the chapters are too many, the paper is not
  diagnosed and the notice says why.
- **Two models, one chosen.** DINA and saturated G-DINA are both fitted (`psychometrics.cdm`);
  the chosen one has the smaller BIC among those that converged (BIC, not AIC: with a hundred
  or two pupils AIC favours the saturated model's many parameters; BIC is the consistent
  choice). Both fits are reported. When every item needs one attribute the two models are the
  same model (same likelihood, same parameters): it is fitted once, reported for both, and
  DINA is named. A model that does not
  converge is never chosen; when neither does, the paper gets no mastery and the notice says
  so.

Arrays in, dataclasses out; the job (`mastery_job`) reads the papers and writes the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edubrain.errors import InvalidInputError
from edubrain.modules.exams.analysis import PASS, Paper
from edubrain.psychometrics.cdm import (
    DiagnosisFit,
    DiagnosisModelInputError,
    fit_dina,
    fit_gdina,
)

# The table the job writes (interfaces of issue 16 §4), read in scope by the 学情 pages.
MASTERY_TABLE = "exam_mastery"
RIGHT_AT = PASS
MAX_ATTRIBUTES = 8  # 256 profiles: beyond that an exam's takers cannot fill the profiles
PUPILS_PER_PROFILE = 2
MINIMUM_PUPILS = 30
# EM stops when the log-likelihood gains less than this per iteration (R's CDM stops on a
# deviance change below 1e-5; the log-likelihood is half the deviance).
TOLERANCE = 5e-6
LEVEL_LABELS = {"point": "知识点", "chapter": "章（知识点上一级）"}


class PaperNotDiagnosableError(InvalidInputError):
    """The paper cannot be diagnosed (the message, in Chinese, says why)."""


@dataclass(frozen=True)
class ModelSummary:
    model: str
    log_likelihood: float
    aic: float
    bic: float
    parameters: int
    iterations: int
    converged: bool


@dataclass(frozen=True)
class PaperDiagnosis:
    exam_id: str
    level: str  # "point" or "chapter"
    attributes: tuple[str, ...]
    students: tuple[str, ...]
    items: int
    chosen: str | None  # the model whose mastery is written; None: neither converged
    models: tuple[ModelSummary, ...]
    mastery: NDArray[np.float64]  # pupils × attributes (empty when nothing was chosen)
    guess: NDArray[np.float64] | None = None  # DINA's per item
    slip: NDArray[np.float64] | None = None
    notices: tuple[str, ...] = field(default_factory=tuple)


def dichotomise(scores: NDArray[np.float64], maxima: NDArray[np.float64]) -> NDArray[np.float64]:
    """1 where the score is at least `RIGHT_AT` of the item's 分值, else 0."""
    return (scores >= RIGHT_AT * maxima[None, :] - 1e-9).astype(np.float64)


def parent(code: str) -> str:
    """The code one level up (M7.3.2 → M7.3); a code without a dot is its own parent."""
    return code.rsplit(".", 1)[0] if "." in code else code


def q_matrix(
    tags: tuple[tuple[str, ...], ...], attributes: tuple[str, ...], roll_up: bool
) -> NDArray[np.int8]:
    index = {a: k for k, a in enumerate(attributes)}
    q = np.zeros((len(tags), len(attributes)), dtype=np.int8)
    for j, points in enumerate(tags):
        for p in points:
            k = index.get(parent(p) if roll_up else p)
            if k is not None:
                q[j, k] = 1
    return q


def fits(attributes: int, pupils: int) -> bool:
    return attributes <= MAX_ATTRIBUTES and pupils >= PUPILS_PER_PROFILE * 2**attributes


def choose_attributes(
    tags: tuple[tuple[str, ...], ...], pupils: int, declared: tuple[str, ...] | None = None
) -> tuple[str, tuple[str, ...]]:
    """The attribute level and codes for a paper: its points when the pupils can identify
    them, else their parents. `declared`: attributes the caller names (each must be on an
    item)."""
    points = tuple(sorted({p for t in tags for p in t}))
    if declared is not None:
        missing = [a for a in declared if a not in points]
        if missing:
            raise PaperNotDiagnosableError(
                f"知识点{'、'.join(missing)}没有出现在任何试题上，无法诊断其掌握情况；"
                "请检查试题的知识点标注（Q 矩阵）。"
            )
        points = declared
    if not points:
        raise PaperNotDiagnosableError("试卷的试题都没有标注知识点，无法做认知诊断。")
    if fits(len(points), pupils):
        return "point", points
    chapters = tuple(sorted({parent(p) for p in points}))
    if declared is None and len(chapters) < len(points) and fits(len(chapters), pupils):
        return "chapter", chapters
    k = len(chapters) if declared is None else len(points)
    need = PUPILS_PER_PROFILE * 2**k
    if k > MAX_ATTRIBUTES:
        raise PaperNotDiagnosableError(
            f"试卷涉及{k}个知识点（按章合并后），多于{MAX_ATTRIBUTES}个，"
            "认知诊断模型无法估计；请减少知识点或按更粗的层级标注。"
        )
    raise PaperNotDiagnosableError(
        f"试卷涉及{k}个知识点（按章合并后）需要至少{need}名学生（每种掌握模式至少"
        f"{PUPILS_PER_PROFILE}人），实际只有{pupils}名，无法可靠估计。"
    )


def _summary(fit: DiagnosisFit) -> ModelSummary:
    return ModelSummary(
        str(fit.model), fit.log_likelihood, fit.aic, fit.bic, fit.parameters, fit.iterations,
        fit.converged,
    )  # fmt: skip


def diagnose_paper(
    paper: Paper,
    *,
    declared: tuple[str, ...] | None = None,
    max_iterations: int = 5000,
    tolerance: float = TOLERANCE,
) -> PaperDiagnosis:
    """Fit DINA and G-DINA to the paper's right/wrong answers; see the module docstring."""
    pupils = len(paper.students)
    if pupils < MINIMUM_PUPILS:
        raise PaperNotDiagnosableError(
            f"参加考试的学生只有{pupils}人，少于{MINIMUM_PUPILS}人，无法做认知诊断。"
        )
    tagged = [j for j, t in enumerate(paper.knowledge_points) if t]
    notices: list[str] = []
    if len(tagged) < len(paper.item_nos):
        untagged = [str(paper.item_nos[j]) for j in range(len(paper.item_nos)) if j not in tagged]
        notices.append(f"第{'、'.join(untagged)}题没有标注知识点，不参与认知诊断。")
    tags = tuple(paper.knowledge_points[j] for j in tagged)
    level, attributes = choose_attributes(tags, pupils, declared)
    if level == "chapter":
        notices.append(
            f"试卷标注的知识点较多，学生人数不足以区分，已按上一级（章）合并为{len(attributes)}项诊断。"
        )
    q = q_matrix(tags, attributes, roll_up=level == "chapter")
    keep = q.sum(axis=1) > 0
    x = dichotomise(paper.scores[:, tagged], paper.item_maxima[tagged])[:, keep]
    q = q[keep]
    for j in np.flatnonzero((x.mean(axis=0) == 0) | (x.mean(axis=0) == 1)):
        item_no = paper.item_nos[tagged[int(np.flatnonzero(keep)[j])]]
        everyone = "全部答对" if x[:, j].mean() == 1 else "全部答错"
        notices.append(f"第{item_no}题学生{everyone}，对区分掌握情况没有帮助。")
    try:
        options: dict[str, Any] = {
            "max_iterations": max_iterations,
            "tolerance": tolerance,
            "minimum_pupils": MINIMUM_PUPILS,
        }
        dina = fit_dina(x, q, **options)
        # every item needing one attribute: G-DINA's two groups per item are DINA's
        one_each = bool((q.sum(axis=1) == 1).all())
        gdina = None if one_each else fit_gdina(x, q, **options)
    except DiagnosisModelInputError as exc:
        raise PaperNotDiagnosableError(f"试卷的作答数据不适合认知诊断：{exc}") from exc
    fitted = [f for f in (dina, gdina) if f is not None]
    if gdina is None:
        notices.append("每道题只考查一项，G-DINA与DINA是同一个模型，只拟合一次。")
    candidates = [f for f in fitted if f.converged and math.isfinite(f.bic)]
    for f in fitted:
        if not f.converged:
            notices.append(f"{f.model}模型在{f.iterations}次迭代内没有收敛，不采用其结果。")
    same = _summary(dina)
    models = (same, _summary(gdina) if gdina is not None else replace(same, model="G-DINA"))
    # DINA first: on a tie (single-attribute items make the two models one) the simpler wins
    chosen = min(candidates, key=lambda f: f.bic) if candidates else None
    if chosen is None:
        notices.append("模型没有收敛，本次考试不给出掌握情况。")
    return PaperDiagnosis(
        exam_id=paper.exam_id,
        level=level,
        attributes=attributes,
        students=paper.students,
        items=int(q.shape[0]),
        chosen=None if chosen is None else str(chosen.model),
        models=models,
        mastery=np.zeros((0, len(attributes))) if chosen is None else chosen.mastery,
        guess=dina.guess,
        slip=dina.slip,
        notices=tuple(notices),
    )
