"""Scoring a screening scale's answers: reverse items, subscale and total scores, levels.

Arrays in, arrays out (one row per pupil and sitting, one column per item of the scale in the
scale's item order, NaN where unanswered); nothing here reads the warehouse.

* An answer outside the scale's range (or not a whole step of it) is **invalid** and counts as
  unanswered; the status says how many.
* A reverse item's answer x counts as min + max − x.
* A subscale is scored when at most `max_missing` of its items are unanswered: the mean of its
  answered items, or for `scoring: sum` that mean × its number of items (so that an unanswered
  item neither lowers nor raises the sum). Otherwise it has no score.
* The total is scored only when every subscale is: the mean over all answered items, or the sum
  of the subscales' sums. Its level is the first of the scale's levels whose bound it reaches;
  a level marked `warning` raises a warning.
* Never 0 for a missing answer, never a level for a sitting that could not be scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edubrain.modules.psych.scale import Scale

FloatArray = NDArray[np.float64]
COMPLETE, PARTIAL, TOO_MANY_MISSING = "完整", "部分缺答", "缺答过多"


@dataclass(frozen=True)
class Scored:
    subscale_scores: dict[str, FloatArray]
    """Subscale id → its score per row (NaN: too many unanswered)."""
    subscale_levels: dict[str, NDArray[np.str_]]
    total: FloatArray
    level: NDArray[np.str_]
    warning: NDArray[np.bool_]
    status: NDArray[np.str_]
    unanswered: NDArray[np.int64]
    invalid: NDArray[np.int64]


def _levels(scale: Scale, scores: FloatArray, *, subscale: bool) -> NDArray[np.str_]:
    out = np.full(scores.shape, "", dtype=object)
    for i, value in enumerate(scores):
        found = scale.level_of(float(value), subscale=subscale)
        out[i] = found.name if found is not None else ""
    return out.astype(str)


def score_responses(scale: Scale, answers: FloatArray) -> Scored:
    """Score `answers` (rows × the scale's items, in `scale.items` order)."""
    values = np.array(answers, dtype=np.float64, copy=True)
    if values.ndim != 2 or values.shape[1] != len(scale.items):
        raise ValueError(f"answers must have {len(scale.items)} columns, one per item")
    lo, hi = scale.response_min, scale.response_max
    given = ~np.isnan(values)
    valid = given & (values >= lo) & (values <= hi) & (values == np.round(values))
    invalid = (given & ~valid).sum(axis=1).astype(np.int64)
    values[~valid] = np.nan
    reverse = np.array([item.reverse for item in scale.items])
    values[:, reverse] = lo + hi - values[:, reverse]
    answered = ~np.isnan(values)

    n = values.shape[0]
    subscale_scores: dict[str, FloatArray] = {}
    all_scored = np.ones(n, dtype=bool)
    sums = np.zeros(n)
    for sub in scale.subscales:
        cols = np.array([item.subscale == sub.id for item in scale.items])
        count = answered[:, cols].sum(axis=1)
        missing = int(cols.sum()) - count
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(values[:, cols], axis=1) / count
        ok = (missing <= scale.max_missing) & (count > 0)
        score = np.where(ok, mean if scale.scoring == "mean" else mean * cols.sum(), np.nan)
        subscale_scores[sub.id] = np.round(score, 4).astype(np.float64)
        all_scored &= ok
        sums += np.where(ok, mean * cols.sum(), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        overall = np.nansum(values, axis=1) / answered.sum(axis=1)
    total: FloatArray = np.round(
        np.where(all_scored, overall if scale.scoring == "mean" else sums, np.nan), 4
    ).astype(np.float64)
    level = _levels(scale, total, subscale=False)
    warning = np.isin(level, scale.warning_levels) if scale.warning_levels else np.zeros(n, bool)
    unanswered = (~answered).sum(axis=1).astype(np.int64)
    status = np.where(~all_scored, TOO_MANY_MISSING, np.where(unanswered > 0, PARTIAL, COMPLETE))
    return Scored(
        subscale_scores=subscale_scores,
        subscale_levels={
            sid: _levels(scale, s, subscale=True) for sid, s in subscale_scores.items()
        },
        total=total,
        level=level,
        warning=np.asarray(warning, dtype=bool),
        status=status.astype(str),
        unanswered=unanswered,
        invalid=invalid,
    )
