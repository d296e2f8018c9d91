"""Scale linking through mixed-format anchors: 2PL items and graded (GRM) items together.

`linking.link` takes 3PL anchors; an exam's anchors are often 0/满分 items and a few items
with score steps. Here each anchor j has a slope a_j and ordered thresholds b_j1 … b_j(K_j−1)
(one for a 2PL item), P(x ≥ k | θ) = σ(a_j (θ − b_jk)), D = 1, and θ_old = A·θ_new + B moves
an item as a* = a/A, b* = A·b + B (every threshold), as for the 2PL.

Following Kim & Lee (2006, "An extension of four IRT linking methods for mixed-format tests",
JEM 43(1)):

- mean/mean: A = mean(a_new) / mean(a_old); mean/sigma: A = SD(b_old) / SD(b_new) over all
  thresholds of all anchors pooled; then B = mean(b_old) − A · mean(b_new) (pooled thresholds);
- Haebara: Σ_q w_q Σ_j Σ_k (P_jk − P*_jk)² over every category of every anchor (for 0/1
  anchors this is twice the usual sum over P(x = 1), the same minimum);
- Stocking–Lord: Σ_q w_q (T_q − T*_q)², T the sum over anchors of the expected category
  score Σ_k P(x ≥ k | θ).

The criteria are symmetric (both scales, each group's N(0, 1) points) as `linking.link`'s
default, minimised from the mean/mean constants by BFGS then Nelder–Mead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from edubrain.errors import IrtInputError
from edubrain.psychometrics.linking import (
    METHODS,
    MIN_ANCHORS,
    LinkingConstants,
    LinkingMethod,
    LinkingQuadrature,
    minimise_constants,
)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MixedAnchors:
    """Anchors' slopes and thresholds (a tuple of ordered thresholds per anchor)."""

    a: FloatArray
    thresholds: tuple[FloatArray, ...]

    @classmethod
    def of(cls, a: ArrayLike, thresholds: Sequence[ArrayLike]) -> MixedAnchors:
        slopes = np.asarray(a, dtype=np.float64).reshape(-1)
        steps = tuple(np.asarray(t, dtype=np.float64).reshape(-1) for t in thresholds)
        if slopes.shape[0] != len(steps):
            raise IrtInputError("anchor slopes and thresholds must have one entry per anchor")
        if not np.all(np.isfinite(slopes)) or np.any(slopes <= 0):
            raise IrtInputError("anchor slopes must be positive finite numbers")
        for t in steps:
            if t.size == 0 or not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
                raise IrtInputError("each anchor needs increasing finite thresholds")
        return cls(a=slopes, thresholds=steps)

    def moved(self, A: float, B: float) -> MixedAnchors:  # noqa: N803
        return MixedAnchors(self.a / A, tuple(A * t + B for t in self.thresholds))

    def pooled(self) -> FloatArray:
        return np.concatenate(self.thresholds)


def _cumulative(anchors: MixedAnchors, nodes: FloatArray) -> list[FloatArray]:
    """P(x ≥ k | θ) per anchor, (K−1) × nodes."""
    return [
        special.expit(a * (nodes[None, :] - t[:, None]))
        for a, t in zip(anchors.a, anchors.thresholds, strict=True)
    ]


def _categories(cumulative: FloatArray) -> FloatArray:
    """P(x = k | θ), K × nodes, from P(x ≥ k | θ)."""
    ones = np.ones((1, cumulative.shape[1]))
    zeros = np.zeros((1, cumulative.shape[1]))
    return np.asarray(np.vstack([ones, cumulative]) - np.vstack([cumulative, zeros]))


def link_mixed(
    old: MixedAnchors,
    new: MixedAnchors,
    method: LinkingMethod = "stocking_lord",
    *,
    quadrature: LinkingQuadrature | None = None,
) -> LinkingConstants:
    """Constants putting `new` on `old`'s scale through anchors of any number of categories."""
    if method not in METHODS:
        raise IrtInputError(f"unknown linking method {method!r}: one of {', '.join(METHODS)}")
    if old.a.shape != new.a.shape or any(
        o.shape != n.shape for o, n in zip(old.thresholds, new.thresholds, strict=True)
    ):
        raise IrtInputError("the forms must give the same anchors with the same categories")
    if old.a.shape[0] < MIN_ANCHORS:
        raise IrtInputError(
            f"linking needs at least {MIN_ANCHORS} anchor items common to both forms, "
            f"got {old.a.shape[0]}: these anchors do not connect the two forms"
        )
    b_old, b_new = old.pooled(), new.pooled()
    if method == "mean_sigma":
        spread = float(np.std(b_new))
        if spread <= 0:
            raise IrtInputError("mean/sigma needs anchors whose difficulties differ")
        slope = float(np.std(b_old)) / spread
    else:
        slope = float(np.mean(new.a)) / float(np.mean(old.a))
    start = (slope, float(np.mean(b_old) - slope * np.mean(b_new)))
    if method in ("mean_mean", "mean_sigma"):
        return LinkingConstants(method, start[0], start[1], None)
    grid = quadrature or LinkingQuadrature.normal()
    nodes = grid.nodes
    haebara = method == "haebara"
    target_old = _cumulative(old, nodes)
    target_new = _cumulative(new, nodes)

    def loss(curves: list[FloatArray], target: list[FloatArray], weights: FloatArray) -> float:
        if haebara:
            gap = sum(
                np.sum((_categories(c) - _categories(t)) ** 2, axis=0)
                for c, t in zip(curves, target, strict=True)
            )
            return float(weights @ gap) / float(weights.sum())
        total = sum(c.sum(axis=0) for c in curves) - sum(t.sum(axis=0) for t in target)
        return float(weights @ np.asarray(total) ** 2) / float(weights.sum())

    def objective(constants: FloatArray) -> float:
        A, B = float(constants[0]), float(constants[1])  # noqa: N806
        if A <= 0:
            return float("inf")
        there = loss(_cumulative(new.moved(A, B), nodes), target_old, grid.weights_old)
        back = old.moved(1.0 / A, -B / A)
        return there + loss(_cumulative(back, nodes), target_new, grid.weights_new)

    return minimise_constants(objective, start, method)
