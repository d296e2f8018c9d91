"""Diagnosis outputs (学情诊断): mastery with uncertainty, class heatmaps, layered groups,
personalised next practice and the 错题本.

Mastery comes from BKT fitted per knowledge point: a response is evidence for its item's main
point (the first code listed); the item's other points — in practice mostly prerequisites —
enter through readiness and the item's offset. (For AUC benchmarks the item's point combination
is the unit instead, see bkt.py.) A student's mastery of a point is the
probability of the learned state after their last attempt and the learning step that follows
it; a point the student has not practised gets the point's fitted prior. The uncertainty is the
standard deviation of that mastered/not-mastered state, √(p(1−p)).

An item's success chance for a student is the BKT chance of its main point, m·(1 − slip) +
(1 − m)·guess, moved on the logit scale by the item's own offset, estimated from how much more
or less often the item was answered correctly than BKT predicted (shrunk towards 0 for items
with few answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy import sparse
from scipy.special import expit, logit

from edubrain.diagnosis.base import read_model, write_model
from edubrain.diagnosis.bkt import BKT
from edubrain.diagnosis.graph import ItemBank, KnowledgeGraph, Practice, StrArray
from edubrain.diagnosis.responses import BoolArray, FloatArray, IntArray, ResponseLog
from edubrain.errors import DiagnosisInputError

ITEM_OFFSET_SHRINK = 10.0  # answers worth of "no offset" an item's offset is shrunk with


def main_point_log(log: ResponseLog, primary: IntArray, n_points: int) -> ResponseLog:
    """The log with each item replaced by its main point (identity Q-matrix over points)."""
    identity = sparse.csr_array(sparse.eye(n_points, format="csr"))
    return ResponseLog(log.student, primary[log.item], log.correct, identity)


@dataclass(eq=False)
class Diagnosis:
    """A fitted diagnosis of a set of students over one knowledge graph."""

    student_numbers: StrArray
    kp_codes: StrArray
    mastery: FloatArray  # students × points
    attempts: IntArray  # students × points
    item_ids: StrArray
    item_offset: FloatArray  # logit offset per item
    model: BKT
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def uncertainty(self) -> FloatArray:
        out: FloatArray = np.sqrt(self.mastery * (1 - self.mastery))
        return out

    def point_parameters(self) -> FloatArray:
        """points × 5 BKT parameters (fallback for points without data)."""
        keys = {str(k): i for i, k in enumerate(self.model.unit_keys)}
        table = np.vstack([self.model.params, self.model.fallback[None, :]])
        idx = [keys.get(str(k), len(keys)) for k in range(self.kp_codes.size)]
        out: FloatArray = table[idx]
        return out

    def success(self, items: ItemBank, students: IntArray | None = None) -> FloatArray:
        """students × items: chance of answering each item correctly now."""
        m = self.mastery if students is None else self.mastery[students]
        return item_success(m, items.primary, self.point_parameters(), self.item_offset)

    def save(self, path: Path) -> None:
        bkt = self.model
        write_model(
            path,
            "diagnosis",
            {**self.settings, "bkt_log_likelihood": bkt.log_likelihood},
            {
                "student_numbers": self.student_numbers,
                "kp_codes": self.kp_codes,
                "mastery": self.mastery,
                "attempts": self.attempts,
                "item_ids": self.item_ids,
                "item_offset": self.item_offset,
                "bkt_unit_keys": bkt.unit_keys,
                "bkt_params": bkt.params,
                "bkt_fallback": bkt.fallback,
            },
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        header, a = read_model(path, "diagnosis")
        model = BKT()
        model.unit_keys = a["bkt_unit_keys"].astype(np.str_)
        model.params = a["bkt_params"]
        model.fallback = a["bkt_fallback"]
        model.log_likelihood = float(header["settings"].get("bkt_log_likelihood", np.nan))
        return cls(
            a["student_numbers"].astype(np.str_),
            a["kp_codes"].astype(np.str_),
            a["mastery"],
            a["attempts"].astype(np.int64),
            a["item_ids"].astype(np.str_),
            a["item_offset"],
            model,
            dict(header["settings"]),
        )


def item_success(
    mastery: FloatArray, primary: IntArray, point_params: FloatArray, offset: FloatArray
) -> FloatArray:
    """students × items success chances (see the module docstring)."""
    m = mastery[:, primary]
    guess, slip = point_params[primary, 3], point_params[primary, 4]
    p = m * (1 - slip)[None, :] + (1 - m) * guess[None, :]
    out: FloatArray = expit(logit(np.clip(p, 1e-6, 1 - 1e-6)) + offset[None, :])
    return out


def diagnose(
    practice: Practice, graph: KnowledgeGraph, items: ItemBank, rng: np.random.Generator
) -> Diagnosis:
    """Fit BKT per knowledge point on the practice log and derive every student's mastery."""
    log = practice.log
    if log.size == 0:
        raise DiagnosisInputError("no practice responses to diagnose")
    expanded = main_point_log(log, items.primary, graph.size)
    model = BKT().fit(expanded, rng)
    before, after = model.trace(expanded)
    n_s, n_k = practice.student_numbers.size, graph.size
    diagnosis = Diagnosis(
        practice.student_numbers,
        graph.codes,
        np.zeros((n_s, n_k)),
        np.zeros((n_s, n_k), dtype=np.int64),
        items.item_ids,
        np.zeros(items.item_ids.size),
        model,
    )
    params = diagnosis.point_parameters()
    mastery = np.tile(params[:, 0], (n_s, 1))
    last = np.full((n_s, n_k), -1, dtype=np.int64)
    last[expanded.student, expanded.item] = np.arange(expanded.size)  # later rows win
    seen = last >= 0
    f = after[last[seen]]
    k = np.nonzero(seen)[1]
    mastery[seen] = f * (1 - params[k, 2]) + (1 - f) * params[k, 1]
    np.add.at(diagnosis.attempts, (expanded.student, expanded.item), 1)
    diagnosis.mastery = mastery
    # item offsets: observed vs BKT-predicted success of each item's answers
    point = expanded.item
    predicted = before * (1 - params[point, 4]) + (1 - before) * params[point, 3]
    n_i = np.bincount(log.item, minlength=items.item_ids.size).astype(np.float64)
    obs = (np.bincount(log.item, weights=log.correct, minlength=n_i.size) + 0.5) / (n_i + 1)
    exp_ = (np.bincount(log.item, weights=predicted, minlength=n_i.size) + 0.5) / (n_i + 1)
    raw = logit(np.clip(obs, 1e-4, 1 - 1e-4)) - logit(np.clip(exp_, 1e-4, 1 - 1e-4))
    diagnosis.item_offset = raw * n_i / (n_i + ITEM_OFFSET_SHRINK)
    return diagnosis


# ---- class heatmap ------------------------------------------------------------------------


@dataclass(frozen=True)
class Heatmap:
    classes: StrArray
    kp_codes: StrArray
    mean_mastery: FloatArray  # classes × points
    students: IntArray  # per class


def group_means(mastery: FloatArray, group_of: StrArray) -> tuple[StrArray, FloatArray, IntArray]:
    """Mean mastery per group (a class, a layer) × column: the groups (sorted), the means and
    each group's size. The one way a heatmap's cells are computed."""
    groups, idx = np.unique(group_of, return_inverse=True)
    counts = np.bincount(idx, minlength=groups.size)
    sums = np.zeros((groups.size, mastery.shape[1]))
    np.add.at(sums, idx, mastery)
    means: FloatArray = sums / np.maximum(counts, 1)[:, None]
    return groups.astype(np.str_), means, counts.astype(np.int64)


def class_heatmap(diagnosis: Diagnosis, class_of: StrArray, points: IntArray) -> Heatmap:
    """Mean mastery per class (rows) × knowledge point (columns, `points`)."""
    classes, means, counts = group_means(diagnosis.mastery[:, points], class_of)
    return Heatmap(classes, diagnosis.kp_codes[points], means, counts)


# ---- layered groups (分层教学) ---------------------------------------------------------------


@dataclass(frozen=True)
class Layers:
    """Group 0 is the layer with the lowest mastery (基础), the last the highest (拓展)."""

    group: IntArray  # per student
    score: FloatArray  # per student, position on the class's main mastery axis
    mean_mastery: FloatArray  # groups × points
    focus: tuple[IntArray, ...]  # per group: its three weakest points (indices into points)


LAYER_NAMES = ("基础层", "提高层", "拓展层", "第四层", "第五层")


def layer_groups(
    mastery: FloatArray, n_groups: int = 3, min_size: int = 4, max_share: float = 0.6
) -> Layers:
    """Split one class into layers by mastery profile.

    Students are placed on the main axis of variation of their mastery profiles (the first
    principal component, oriented so that higher means more mastered); the class is then cut
    into contiguous groups along that axis minimising the within-group sum of squares (exact
    dynamic programme), with every group at least `min_size` and at most `max_share` of the
    class. Fewer groups are used when the class is too small for `n_groups` of `min_size`.
    """
    n = mastery.shape[0]
    if n == 0:
        raise DiagnosisInputError("cannot group an empty class")
    centred = mastery - mastery.mean(axis=0)
    if n > 1 and np.any(centred):
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axis = vt[0]
        if axis.sum() < 0:
            axis = -axis
        score = centred @ axis
    else:
        score = np.zeros(n)
    g = max(1, min(n_groups, n // max(min_size, 1)))
    max_size = max(min_size, int(np.ceil(max_share * n))) if g > 1 else n
    while g > 1 and g * max_size < n:
        max_size += 1
    order = np.argsort(score, kind="stable")
    bounds = _partition(score[order], g, min_size, max_size)
    group = np.empty(n, dtype=np.int64)
    for j, (lo, hi) in enumerate(bounds):
        group[order[lo:hi]] = j
    means = np.vstack([mastery[group == j].mean(axis=0) for j in range(g)])
    focus = tuple(np.argsort(means[j], kind="stable")[:3].astype(np.int64) for j in range(g))
    return Layers(group, score, means, focus)


def _partition(x: FloatArray, g: int, min_size: int, max_size: int) -> list[tuple[int, int]]:
    """Optimal split of sorted `x` into g contiguous runs with sizes in [min_size, max_size]."""
    n = x.size
    c1 = np.r_[0.0, np.cumsum(x)]
    c2 = np.r_[0.0, np.cumsum(x * x)]

    def sse(i: int, j: int) -> float:
        m = j - i
        s = c1[j] - c1[i]
        return float(c2[j] - c2[i] - s * s / m)

    inf = float("inf")
    cost = np.full((g + 1, n + 1), inf)
    back = np.zeros((g + 1, n + 1), dtype=np.int64)
    cost[0, 0] = 0.0
    lo_size = min(min_size, n)
    for k in range(1, g + 1):
        for j in range(1, n + 1):
            best, arg = inf, -1
            for i in range(max(0, j - max_size), j - lo_size + 1):
                if cost[k - 1, i] < inf:
                    c = cost[k - 1, i] + sse(i, j)
                    if c < best:
                        best, arg = c, i
            cost[k, j], back[k, j] = best, arg
    if cost[g, n] == inf:  # size bounds cannot be met: equal split
        edges = np.linspace(0, n, g + 1).round().astype(int)
        return [(int(edges[i]), int(edges[i + 1])) for i in range(g)]
    bounds: list[tuple[int, int]] = []
    j = n
    for k in range(g, 0, -1):
        i = int(back[k, j])
        bounds.append((i, j))
        j = i
    return bounds[::-1]


# ---- personalised next practice --------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    item: int
    target_point: int
    success: float
    target_mastery: float


@dataclass(frozen=True)
class PracticePolicy:
    """What a teacher sets: the success band and when a point counts as ready / mastered."""

    band: tuple[float, float] = (0.6, 0.8)
    ready_at: float = 0.6  # every prerequisite at least this mastered → the point is ready
    mastered_at: float = 0.95  # at or above: no more practice needed
    count: int = 5
    per_point: int = 2

    def __post_init__(self) -> None:
        lo, hi = self.band
        if not 0.0 <= lo <= hi <= 1.0:
            raise DiagnosisInputError(f"success band {self.band}: need 0 ≤ low ≤ high ≤ 1")


@lru_cache(maxsize=8)
def prerequisite_matrix(graph: KnowledgeGraph) -> sparse.csr_array:
    """points × points, 1 where the column point is a direct prerequisite of the row point."""
    rows = np.repeat(np.arange(graph.size), [p.size for p in graph.prerequisites])
    cols = np.concatenate([*graph.prerequisites, np.zeros(0, dtype=np.int64)])
    return sparse.csr_array((np.ones(rows.size), (rows, cols)), shape=(graph.size, graph.size))


def ready_points(mastery: FloatArray, graph: KnowledgeGraph, ready_at: float) -> BoolArray:
    """Per point: True when every direct prerequisite is mastered at least `ready_at`."""
    short = (mastery < ready_at).astype(np.float64)
    out: BoolArray = np.asarray(prerequisite_matrix(graph) @ short) == 0
    return out


def recommend(
    mastery: FloatArray,
    success: FloatArray,
    graph: KnowledgeGraph,
    items: ItemBank,
    policy: PracticePolicy,
    exclude: IntArray | None = None,
) -> list[Recommendation]:
    """Next items for one student: weakest ready, unmastered points first, success in band.

    An item qualifies when every point it is tagged with is ready, at least one of them is not
    yet mastered (its weakest such point is the target), and its success chance lies in the
    band. Items in `exclude` (e.g. already answered correctly) are skipped. Among qualifying
    items the weakest target comes first, then the success chance nearest the band's middle;
    at most `per_point` items per target point.
    """
    lo, hi = policy.band
    q = items.q_matrix
    not_ready = (~ready_points(mastery, graph, policy.ready_at)).astype(np.float64)
    open_points = mastery < policy.mastered_at
    ok = (np.asarray(q @ not_ready) == 0) & (lo <= success) & (success <= hi)
    ok &= np.asarray(q @ open_points.astype(np.float64)) > 0
    if exclude is not None and exclude.size:
        ok[exclude] = False
    candidates: list[tuple[float, float, int, int]] = []
    for item in np.flatnonzero(ok).tolist():
        pts = q.indices[q.indptr[item] : q.indptr[item + 1]]
        open_pts = pts[open_points[pts]]
        target = int(open_pts[np.argmin(mastery[open_pts])])
        nearness = abs(float(success[item]) - (lo + hi) / 2)
        candidates.append((float(mastery[target]), nearness, item, target))
    candidates.sort()
    chosen: list[Recommendation] = []
    per_point: dict[int, int] = {}
    for m, _, i, target in candidates:
        if per_point.get(target, 0) >= policy.per_point:
            continue
        per_point[target] = per_point.get(target, 0) + 1
        chosen.append(Recommendation(i, target, float(success[i]), m))
        if len(chosen) >= policy.count:
            break
    return chosen


# ---- 错题本 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrongItem:
    item: int
    wrong_times: int
    similar: tuple[int, ...]  # items to retry: same points, not yet answered by the student


@dataclass(frozen=True)
class MissedItem:
    item: int
    wrong: int  # pupils who got it wrong
    answered: int  # pupils who answered it
    share: float  # wrong / answered


def most_missed(right: FloatArray, count: int = 10) -> list[MissedItem]:
    """A class's 错题本: the items most of its pupils got wrong (`right`: pupils × items, 1
    right, 0 wrong, NaN not answered), the largest share wrong first, at most `count`; items
    nobody got wrong are left out."""
    answered = (~np.isnan(right)).sum(axis=0)
    wrong = (np.nan_to_num(right, nan=1.0) == 0).sum(axis=0)
    share = np.where(answered > 0, wrong / np.maximum(answered, 1), 0.0)
    order = np.lexsort((np.arange(share.size), -share))
    return [
        MissedItem(int(j), int(wrong[j]), int(answered[j]), float(share[j]))
        for j in order[:count]
        if wrong[j] > 0
    ]


def wrong_book(
    practice: Practice,
    student: int,
    items: ItemBank,
    success: FloatArray,
    similar_per_item: int = 2,
) -> list[WrongItem]:
    """Items the student's latest answer got wrong, each with similar unanswered items.

    Similar = highest overlap of knowledge points (Jaccard), then the success chance closest to
    the student's chance on the wrong item.
    """
    log = practice.log
    rows = np.flatnonzero(log.student == student)
    answered = set(log.item[rows].tolist())
    latest: dict[int, int] = {}
    wrong_times: dict[int, int] = {}
    for r in rows:  # rows are in time order
        i = int(log.item[r])
        latest[i] = int(log.correct[r])
        wrong_times[i] = wrong_times.get(i, 0) + (1 - int(log.correct[r]))
    q = items.q_matrix
    sets = [frozenset(q.indices[q.indptr[i] : q.indptr[i + 1]].tolist()) for i in range(q.shape[0])]
    book: list[WrongItem] = []
    for i, c in latest.items():
        if c == 1:
            continue
        scored: list[tuple[float, float, int]] = []
        for j, pts in enumerate(sets):
            if j in answered or not pts & sets[i]:
                continue
            jaccard = len(pts & sets[i]) / len(pts | sets[i])
            scored.append((-jaccard, abs(success[j] - success[i]), j))
        scored.sort()
        book.append(WrongItem(i, wrong_times[i], tuple(j for _, _, j in scored[:similar_per_item])))
    book.sort(key=lambda w: (-w.wrong_times, w.item))
    return book
