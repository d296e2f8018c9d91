"""Fairness audit of the diagnosis and its recommendations, by group (城乡, 性别).

For every grouping attribute (e.g. `urban_rural`, `sex`) and each of its groups the audit
reports, with the largest gap between groups for every metric:

- `responses`, `students`;
- `prediction_auc`: AUC of the model's chance of each answer being right, computed before the
  answer was seen (one step ahead), over the group's responses — how well the diagnosis knows
  these pupils;
- with the generator's truth (or any table of true mastery): `mastery_correlation`,
  `mastery_accuracy` (mastery ≥ 0.5 vs truly mastered) and `mastery_brier`;
- `recommendation_coverage`: share of pupils given at least one practice item;
  `recommended_success`: mean predicted success chance of the items recommended;
- with truth: `true_success`: mean *true* success chance of the recommended items (1 − slip if
  every tagged point is truly mastered, else guess) — with a binary true state a single item's
  true chance is near 0.1 or near 0.9, so the band is a statement about the average, and
  `success_calibration` = true − predicted mean says whether a group is given practice that is
  harder (negative) or easier (positive) than promised; `true_target_unmastered`: share of
  recommendations whose target point is truly not mastered (practice that is needed).

A gap is max − min over the groups with at least `min_group` pupils, leaving out the group of
pupils whose attribute is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit, logit

from edubrain.diagnosis.diagnose import (
    Diagnosis,
    PracticePolicy,
    main_point_log,
    recommend,
)
from edubrain.diagnosis.graph import ItemBank, KnowledgeGraph, Practice, StrArray
from edubrain.diagnosis.responses import FloatArray, IntArray, roc_auc

METRICS = (
    "prediction_auc",
    "mastery_correlation",
    "mastery_accuracy",
    "mastery_brier",
    "recommendation_coverage",
    "recommended_success",
    "true_success",
    "success_calibration",
    "true_target_unmastered",
)


@dataclass(frozen=True)
class Truth:
    """True state of the simulated learners: mastery students × points (NaN = unknown) and
    each item's guess and slip."""

    mastered: FloatArray
    guess: FloatArray
    slip: FloatArray


@dataclass
class AuditRow:
    attribute: str
    group: str
    students: int
    responses: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Audit:
    rows: list[AuditRow]
    gaps: dict[str, dict[str, float]]  # attribute → metric → max − min
    policy: PracticePolicy

    def as_dict(self) -> dict[str, object]:
        return {
            "policy": {
                "band": list(self.policy.band),
                "ready_at": self.policy.ready_at,
                "mastered_at": self.policy.mastered_at,
                "count": self.policy.count,
            },
            "groups": [
                {
                    "attribute": r.attribute,
                    "group": r.group,
                    "students": r.students,
                    "responses": r.responses,
                    **{k: _round(v) for k, v in r.metrics.items()},
                }
                for r in self.rows
            ],
            "gaps": {a: {k: _round(v) for k, v in g.items()} for a, g in self.gaps.items()},
        }


def _round(v: float) -> float | None:
    return None if np.isnan(v) else round(float(v), 4)


def one_step_predictions(diagnosis: Diagnosis, practice: Practice, items: ItemBank) -> FloatArray:
    """Chance each answer is right from the student's earlier answers (BKT + item offset)."""
    log = main_point_log(practice.log, items.primary, diagnosis.kp_codes.size)
    before, _ = diagnosis.model.trace(log)
    params = diagnosis.point_parameters()
    point = log.item
    p = before * (1 - params[point, 4]) + (1 - before) * params[point, 3]
    out: FloatArray = expit(
        logit(np.clip(p, 1e-6, 1 - 1e-6)) + diagnosis.item_offset[practice.log.item]
    )
    return out


def audit(
    diagnosis: Diagnosis,
    practice: Practice,
    graph: KnowledgeGraph,
    items: ItemBank,
    groups: dict[str, StrArray],
    policy: PracticePolicy,
    *,
    item_allowed: list[IntArray] | None = None,
    truth: Truth | None = None,
    min_group: int = 20,
    unknown_label: str = "unknown",
) -> Audit:
    """Audit by every attribute in `groups` (one label per student of the diagnosis).

    `item_allowed[s]` lists the items student s may be recommended (e.g. their grade's);
    answered-right items are always excluded.
    """
    n_s = diagnosis.student_numbers.size
    log = practice.log
    p_answer = one_step_predictions(diagnosis, practice, items)
    success = diagnosis.success(items)
    all_items = np.arange(items.item_ids.size)
    right = [set() for _ in range(n_s)]  # type: list[set[int]]
    for s, i in zip(log.student[log.correct == 1], log.item[log.correct == 1], strict=True):
        right[int(s)].add(int(i))
    recs = []
    for s in range(n_s):
        allowed = all_items if item_allowed is None else item_allowed[s]
        excluded = np.setdiff1d(all_items, allowed)
        excluded = np.union1d(excluded, np.fromiter(right[s], dtype=np.int64))
        recs.append(recommend(diagnosis.mastery[s], success[s], graph, items, policy, excluded))
    rows: list[AuditRow] = []
    gaps: dict[str, dict[str, float]] = {}
    for attribute, labels in groups.items():
        attr_rows: list[AuditRow] = []
        for label in sorted(set(labels.tolist())):
            members = np.flatnonzero(labels == label)
            in_group = np.isin(log.student, members)
            row = AuditRow(attribute, str(label), int(members.size), int(in_group.sum()))
            row.metrics = _metrics(
                diagnosis, members, in_group, log.correct, p_answer, recs, items, truth
            )
            attr_rows.append(row)
        rows += attr_rows
        big = [r for r in attr_rows if r.students >= min_group and r.group != unknown_label]
        gaps[attribute] = {}
        for metric in METRICS:
            values = [r.metrics[metric] for r in big if not np.isnan(r.metrics[metric])]
            gaps[attribute][metric] = (max(values) - min(values)) if len(values) > 1 else np.nan
    return Audit(rows, gaps, policy)


def _metrics(
    diagnosis: Diagnosis,
    members: IntArray,
    in_group: np.ndarray,
    correct: IntArray,
    p_answer: FloatArray,
    recs: list[list],  # type: ignore[type-arg]
    items: ItemBank,
    truth: Truth | None,
) -> dict[str, float]:
    nan = float("nan")
    out = dict.fromkeys(METRICS, nan)
    y = correct[in_group]
    if y.size and 0 < y.sum() < y.size:
        out["prediction_auc"] = roc_auc(y, p_answer[in_group])
    given = [recs[int(s)] for s in members]
    out["recommendation_coverage"] = float(np.mean([len(r) > 0 for r in given]))
    flat = [(int(s), r) for s, rs in zip(members, given, strict=True) for r in rs]
    if flat:
        out["recommended_success"] = float(np.mean([r.success for _, r in flat]))
    if truth is None:
        return out
    est = diagnosis.mastery[members]
    true = truth.mastered[members]
    known = ~np.isnan(true)
    if known.sum() > 1 and np.std(true[known]) > 0:
        out["mastery_correlation"] = float(np.corrcoef(est[known], true[known])[0, 1])
        out["mastery_accuracy"] = float(((est[known] >= 0.5) == (true[known] == 1)).mean())
        out["mastery_brier"] = float(((est[known] - true[known]) ** 2).mean())
    true_success: list[float] = []
    predicted: list[float] = []
    judged_target: list[bool] = []
    for s, r in flat:
        pts = items.points_of(r.item)
        states = truth.mastered[s, pts]
        if np.isnan(states).any():
            continue
        p_true = (1 - truth.slip[r.item]) if states.all() else truth.guess[r.item]
        true_success.append(float(p_true))
        predicted.append(r.success)
        judged_target.append(bool(truth.mastered[s, r.target_point] == 0))
    if true_success:
        out["true_success"] = float(np.mean(true_success))
        out["success_calibration"] = float(np.mean(true_success) - np.mean(predicted))
        out["true_target_unmastered"] = float(np.mean(judged_target))
    return out
