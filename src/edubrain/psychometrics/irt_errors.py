"""Standard errors of calibrated IRT item parameters, by the cross-product of pupils' scores.

The information matrix of the item parameters is estimated as Σ_p s_p s_pᵀ, with s_p the
gradient of pupil p's log marginal likelihood (the "cross-product" or empirical information,
mirt's ``SE.type = "crossprod"``): by Fisher's identity s_p = Σ_q post_p(θ_q) ∂ log P(x_p | θ_q)
/ ∂β, the posterior at the calibrated parameters. Its inverse is the covariance of the
slope-intercept parameters (a_j, d_jk); the difficulties b_jk = −d_jk / a_j take theirs by the
delta method. For the graded model P(x = k | θ) = P*_k − P*_{k+1}, P*_k = σ(aθ + d_k), so with
w_k = P*_k (1 − P*_k): ∂ log P_k / ∂d_k = w_k / P_k, ∂ log P_k / ∂d_{k+1} = −w_{k+1} / P_k and
∂ log P_k / ∂a = θ (w_k − w_{k+1}) / P_k (the 2PL is the case of two categories).

Pupils are taken in blocks (memory stays blocks × quadrature points); a response that was not
administered (NaN) adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from edubrain.errors import IrtInputError
from edubrain.psychometrics.irt import IrtCalibration

FloatArray = NDArray[np.float64]
BLOCK = 1 << 14


@dataclass(frozen=True)
class ItemErrors:
    """Standard errors of the slopes (0 where fixed, Rasch) and of each threshold b_jk."""

    se_a: FloatArray
    se_b: FloatArray  # items × (K_max − 1), NaN beyond an item's last threshold
    pupils: int


def _layout(calibration: IrtCalibration) -> tuple[list[int | None], list[list[int]], int]:
    """Each item's index of its slope (None: fixed) and of its intercepts in β."""
    slopes: list[int | None] = []
    intercepts: list[list[int]] = []
    at = 1 if calibration.model == "1pl" else 0
    for top in (calibration.categories - 1).tolist():
        if calibration.model in ("2pl", "grm"):
            slopes.append(at)
            at += 1
        else:
            slopes.append(0 if calibration.model == "1pl" else None)
        intercepts.append(list(range(at, at + int(top))))
        at += int(top)
    return slopes, intercepts, at


def _derivatives(
    a: float, d: FloatArray, nodes: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """log P(x = k | θ_q) (K × Q) and its derivatives in a (K × Q) and in d (K × (K−1) × Q)."""
    top = d.shape[0]
    star = special.expit(a * nodes[None, :] + d[:, None])  # (K−1) × Q
    upper = np.vstack([np.ones((1, nodes.shape[0])), star])
    lower = np.vstack([star, np.zeros((1, nodes.shape[0]))])
    probs = np.maximum(upper - lower, 1e-300)
    w = star * (1.0 - star)
    w_upper = np.vstack([np.zeros((1, nodes.shape[0])), w])
    w_lower = np.vstack([w, np.zeros((1, nodes.shape[0]))])
    by_a = nodes[None, :] * (w_upper - w_lower) / probs
    by_d = np.zeros((top + 1, top, nodes.shape[0]))
    for k in range(top + 1):
        if k >= 1:
            by_d[k, k - 1] = w[k - 1] / probs[k]
        if k < top:
            by_d[k, k] = -w[k] / probs[k]
    return np.log(probs), by_a, by_d


def item_errors(calibration: IrtCalibration, responses: ArrayLike) -> ItemErrors:
    """Standard errors of the calibration's item parameters on `responses` (the same coding
    as for the calibration: 0/1, or 0 … K−1 for the graded model; NaN not administered)."""
    raw = np.asarray(responses)
    items = calibration.a.shape[0]
    if raw.ndim != 2 or raw.shape[1] != items:
        raise IrtInputError(f"responses must be pupils × {items} items, got shape {raw.shape}")
    if raw.dtype.kind in "iub":  # whole scores, nothing missing: no float copy of the matrix
        codes = raw
        observed = None
    else:
        data = np.asarray(raw, dtype=np.float64)
        observed = ~np.isnan(data)
        codes = np.where(observed, np.nan_to_num(data), 0).astype(np.int64)
    if codes.size and (int(codes.min()) < 0 or np.any(codes.max(axis=0) >= calibration.categories)):
        raise IrtInputError("responses hold a score outside the calibrated categories")
    nodes = calibration.quadrature.nodes
    slopes, intercepts, size = _layout(calibration)
    tables = [
        _derivatives(
            float(calibration.a[j]), calibration.intercepts[j, : len(intercepts[j])], nodes
        )
        for j in range(items)
    ]
    log_prior = np.log(calibration.quadrature.weights)
    information = np.zeros((size, size))
    for start in range(0, codes.shape[0], BLOCK):
        block = codes[start : start + BLOCK].astype(np.int64)
        taken = (
            np.ones(block.shape, dtype=np.bool_)
            if observed is None
            else observed[start : start + BLOCK]
        )
        joint = np.tile(log_prior, (block.shape[0], 1))
        for j in range(items):
            joint[taken[:, j]] += tables[j][0][block[taken[:, j], j]]
        joint -= joint.max(axis=1, keepdims=True)
        posterior = np.exp(joint)
        posterior /= posterior.sum(axis=1, keepdims=True)
        gradient = np.zeros((block.shape[0], size))
        for j in range(items):
            _, by_a, by_d = tables[j]
            rows = taken[:, j]
            post = posterior[rows]
            k = block[rows, j]
            slope = slopes[j]
            if slope is not None:
                gradient[rows, slope] += np.einsum("pq,pq->p", post, by_a[k])
            where = np.asarray(intercepts[j], dtype=np.int64)
            gradient[np.ix_(np.flatnonzero(rows), where)] += np.einsum("pq,ptq->pt", post, by_d[k])
        information += gradient.T @ gradient
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        covariance = np.linalg.pinv(information)
    variance = np.maximum(np.diag(covariance), 0.0)
    se_a = np.zeros(items)
    se_b = np.full(calibration.b.shape, np.nan)
    for j in range(items):
        a = float(calibration.a[j])
        slope = slopes[j]
        if slope is not None:
            se_a[j] = float(np.sqrt(variance[slope]))
        for t, at in enumerate(intercepts[j]):
            b = float(calibration.b[j, t])
            if slope is None:  # b = −d
                se_b[j, t] = float(np.sqrt(variance[at]))
                continue
            # b = −d/a: ∂b/∂d = −1/a, ∂b/∂a = −b/a
            grad = np.array([-b / a, -1.0 / a])
            pair = np.array([slope, at], dtype=np.int64)
            cov = covariance[np.ix_(pair, pair)]
            se_b[j, t] = float(np.sqrt(max(float(grad @ cov @ grad), 0.0)))
    return ItemErrors(se_a=se_a, se_b=se_b, pupils=int(codes.shape[0]))
