"""IRT scale linking through anchor (common) items: mean/mean, mean/sigma, Haebara and
Stocking–Lord, for 3PL items (2PL with c = 0, Rasch with a = 1) with a scaling constant D.

The new form is put on the old form's scale: θ_old = A·θ_new + B, so an item's parameters
become a* = a/A, b* = A·b + B, c* = c (``transform_items``).

The characteristic-curve criteria follow STUIRT and jMetrik's defaults:

- ``criterion="symmetric"`` (STUIRT ``SY BI BI``): F = Q1 + Q2, with Q1 on the old scale
  (the old items against the new items moved to it, at the old group's quadrature) and Q2 on
  the new scale (the new items against the old items moved there, at the new group's
  quadrature); ``criterion="old"`` is Q1 alone (plink's default).
- Haebara: Q = Σ_k w_k Σ_j (P_jk − P*_jk)²; Stocking–Lord: Q = Σ_k w_k (T_k − T*_k)², T the
  test characteristic curve over the anchors.
- ``standardized=True`` divides Haebara's Q by (anchors × Σw) and Stocking–Lord's by Σw; the
  weights are used as given (not renormalised).

The minimisation starts at the mean/mean constants (BFGS, then Nelder–Mead to polish).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

from edubrain.errors import IrtInputError, IrtNotConvergedError

FloatArray = NDArray[np.float64]
LinkingMethod = Literal["mean_mean", "mean_sigma", "haebara", "stocking_lord"]
Criterion = Literal["symmetric", "old"]
METHODS: tuple[str, ...] = ("mean_mean", "mean_sigma", "haebara", "stocking_lord")
MIN_ANCHORS = 2


@dataclass(frozen=True)
class AnchorItems:
    """The common items' parameters on one form: slopes, difficulties, lower asymptotes."""

    a: FloatArray
    b: FloatArray
    c: FloatArray

    @classmethod
    def of(cls, a: ArrayLike, b: ArrayLike, c: ArrayLike | None = None) -> AnchorItems:
        slopes = np.asarray(a, dtype=np.float64).reshape(-1)
        difficulties = np.asarray(b, dtype=np.float64).reshape(-1)
        guessing = (
            np.zeros_like(slopes) if c is None else np.asarray(c, dtype=np.float64).reshape(-1)
        )
        if not slopes.shape == difficulties.shape == guessing.shape:
            raise IrtInputError("anchor a, b and c must have one value per anchor item")
        if not (
            np.all(np.isfinite(slopes))
            and np.all(np.isfinite(difficulties))
            and np.all(np.isfinite(guessing))
        ):
            raise IrtInputError("anchor item parameters must be finite numbers")
        if np.any(slopes <= 0) or np.any((guessing < 0) | (guessing >= 1)):
            raise IrtInputError("anchor slopes must be positive and 0 ≤ c < 1")
        return cls(a=slopes, b=difficulties, c=guessing)


@dataclass(frozen=True)
class LinkingQuadrature:
    """Ability points and weights of each group (the weights are used as given)."""

    nodes: FloatArray
    weights_new: FloatArray
    weights_old: FloatArray

    @classmethod
    def normal(cls, points: int = 41, span: float = 4.0) -> LinkingQuadrature:
        nodes = np.linspace(-span, span, points)
        density = np.exp(-0.5 * nodes**2)
        weights = density / density.sum()
        return cls(nodes=nodes, weights_new=weights, weights_old=weights.copy())


@dataclass(frozen=True)
class LinkingConstants:
    """θ_old = A·θ_new + B, with the criterion's value at (A, B) for the curve methods."""

    method: str
    A: float
    B: float
    criterion: float | None


def transform_items(items: AnchorItems, A: float, B: float) -> AnchorItems:  # noqa: N803
    """New-form items on the old scale."""
    return AnchorItems(a=items.a / A, b=A * items.b + B, c=items.c.copy())


def _probabilities(items: AnchorItems, nodes: FloatArray, scale: float) -> FloatArray:
    """3PL P(θ) as anchors × nodes."""
    z = scale * items.a[:, None] * (nodes[None, :] - items.b[:, None])
    return np.asarray(items.c[:, None] + (1.0 - items.c[:, None]) * special.expit(z))


def _moment_constants(old: AnchorItems, new: AnchorItems, method: str) -> tuple[float, float]:
    if method == "mean_sigma":
        spread_new = float(np.std(new.b))
        if spread_new <= 0:
            raise IrtInputError("mean/sigma needs anchors whose difficulties differ")
        slope = float(np.std(old.b)) / spread_new
    else:
        slope = float(np.mean(new.a)) / float(np.mean(old.a))
    return slope, float(np.mean(old.b) - slope * np.mean(new.b))


def link(
    old: AnchorItems,
    new: AnchorItems,
    method: LinkingMethod = "stocking_lord",
    *,
    quadrature: LinkingQuadrature | None = None,
    scaling: float = 1.0,
    criterion: Criterion = "symmetric",
    standardized: bool = True,
) -> LinkingConstants:
    """Linking constants putting ``new`` on ``old``'s scale through their common items.

    ``scaling`` is D (1.7 for the normal-ogive metric). ``quadrature`` defaults to 41 points on
    [−4, 4] with N(0, 1) weights for both groups.
    """
    if method not in METHODS:
        raise IrtInputError(f"unknown linking method {method!r}: one of {', '.join(METHODS)}")
    if old.a.shape != new.a.shape:
        raise IrtInputError(
            f"the forms must give the same anchors: {old.a.shape[0]} old, {new.a.shape[0]} new"
        )
    if old.a.shape[0] < MIN_ANCHORS:
        raise IrtInputError(
            f"linking needs at least {MIN_ANCHORS} anchor items common to both forms, "
            f"got {old.a.shape[0]}: these anchors do not connect the two forms"
        )
    if criterion not in ("symmetric", "old"):
        raise IrtInputError(f"unknown criterion {criterion!r}: symmetric or old")
    start = _moment_constants(old, new, "mean_mean" if method != "mean_sigma" else method)
    if method in ("mean_mean", "mean_sigma"):
        return LinkingConstants(method, start[0], start[1], None)
    grid = quadrature or LinkingQuadrature.normal()
    if not (grid.nodes.shape == grid.weights_new.shape == grid.weights_old.shape):
        raise IrtInputError("the linking quadrature needs one weight per point for each group")
    haebara = method == "haebara"
    anchors = float(old.a.shape[0])
    p_old_on_old = _probabilities(old, grid.nodes, scaling)
    p_new_on_new = _probabilities(new, grid.nodes, scaling)

    def loss(curve: FloatArray, target: FloatArray, weights: FloatArray) -> float:
        if haebara:
            value = float(weights @ np.sum((target - curve) ** 2, axis=0))
            return value / (anchors * float(weights.sum())) if standardized else value
        value = float(weights @ (target.sum(axis=0) - curve.sum(axis=0)) ** 2)
        return value / float(weights.sum()) if standardized else value

    def objective(constants: FloatArray) -> float:
        slope, shift = float(constants[0]), float(constants[1])
        if slope <= 0:
            return float("inf")
        moved_new = _probabilities(transform_items(new, slope, shift), grid.nodes, scaling)
        total = loss(moved_new, p_old_on_old, grid.weights_old)
        if criterion == "symmetric":
            back = AnchorItems(a=old.a * slope, b=(old.b - shift) / slope, c=old.c)
            total += loss(_probabilities(back, grid.nodes, scaling), p_new_on_new, grid.weights_new)
        return total

    return minimise_constants(objective, start, method)


def minimise_constants(
    objective: Callable[[FloatArray], float], start: tuple[float, float], method: str
) -> LinkingConstants:
    """The constants (A, B) minimising a characteristic-curve criterion from the moment
    constants `start`: BFGS, then a Nelder–Mead polish kept only where it lowers the criterion;
    a result that is not finite or has A ≤ 0 did not converge."""
    first = optimize.minimize(objective, np.array(start), method="BFGS", options={"gtol": 1e-12})
    polished = optimize.minimize(
        objective,
        first.x,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-16, "maxiter": 4000},
    )
    best = polished if polished.fun <= first.fun else first
    if not np.all(np.isfinite(best.x)) or not np.isfinite(best.fun) or best.x[0] <= 0:
        raise IrtNotConvergedError(
            f"the {method} criterion did not converge from A={start[0]:.4f}, B={start[1]:.4f}"
        )
    return LinkingConstants(method, float(best.x[0]), float(best.x[1]), float(best.fun))
