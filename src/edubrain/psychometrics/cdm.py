"""Cognitive diagnosis models: DINA and G-DINA (saturated, identity link) by marginal maximum
likelihood with EM over all 2^K attribute profiles.

Arrays in, dataclasses out; no entity, no warehouse. Responses are pupils × items with 1 right,
0 wrong and NaN not presented (a held-out or skipped item, left out of the likelihood); the
Q-matrix is items × attributes with 1 where the item requires the attribute.

- **DINA**: a pupil with every attribute the item requires answers right with 1 − slip, any
  other pupil with the guess probability.
- **G-DINA** (de la Torre 2011), saturated with the identity link: every pattern of the item's
  own required attributes (2^K_j latent groups) has its own success probability; the
  parameters δ of P = δ_0 + Σ δ_k α_k + Σ δ_kk' α_k α_k' + … come from those probabilities.
- The class prior over the 2^K profiles is saturated (its own EM update), as in CDM's `din` and
  `gdina` defaults.

Per pupil the fit gives the posterior over profiles, the EAP mastery probability of each
attribute (posterior-weighted) and the MAP profile. Pupils with the same response pattern are
collapsed first, so the E-step is over distinct patterns.

Bad input raises `DiagnosisModelInputError` (an `InvalidInputError`) saying what is wrong; a fit
that reaches the iteration limit comes back with `converged=False`, never silently.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray

from edubrain.errors import InvalidInputError

MAX_ATTRIBUTES = 12  # 4,096 profiles
PROBABILITY_FLOOR = 1e-10  # log(0) guard in the likelihood; parameters themselves are not clipped
# OpenBLAS runs a matrix product of more than 4 × 65,536 multiply-adds on several threads. The
# EM products here are just above that and run thousands of times: on a loaded 2-core machine the
# thread hand-offs cost 10–60× the arithmetic (FrcSub G-DINA: 103 s instead of 17 s), so they are
# cut into blocks that stay on one thread.
SINGLE_THREAD_PRODUCT = 4 * 65_536


class DiagnosisModelInputError(InvalidInputError):
    """The responses or Q-matrix given to a cognitive diagnosis model are not valid."""


class DiagnosisModel(StrEnum):
    DINA = "DINA"
    GDINA = "G-DINA"


@dataclass(frozen=True)
class DiagnosisFit:
    """A fitted DINA or G-DINA model and the pupils' attribute mastery."""

    model: DiagnosisModel
    q_matrix: NDArray[np.int8]  # items × attributes
    profiles: NDArray[np.int8]  # 2^K × K, every attribute profile
    class_prior: NDArray[np.float64]  # 2^K
    success: NDArray[np.float64]  # 2^K × items: P(right | profile)
    item_attributes: tuple[tuple[int, ...], ...]  # the attributes each item requires
    group_success: tuple[NDArray[np.float64], ...]  # per item: P(right) of each latent group
    delta: tuple[NDArray[np.float64], ...]  # per item: G-DINA parameters (intercept first)
    guess: NDArray[np.float64] | None  # DINA only
    slip: NDArray[np.float64] | None  # DINA only
    log_likelihood: float
    parameters: int
    pupils: int
    iterations: int
    converged: bool
    posterior: NDArray[np.float64]  # pupils × 2^K
    mastery: NDArray[np.float64]  # pupils × K: EAP P(attribute mastered)
    map_profiles: NDArray[np.int8]  # pupils × K

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.parameters

    @property
    def bic(self) -> float:
        return -2.0 * self.log_likelihood + math.log(self.pupils) * self.parameters

    @property
    def attribute_prevalence(self) -> NDArray[np.float64]:
        """The share of pupils mastering each attribute under the fitted class prior."""
        return np.asarray(self.class_prior @ self.profiles, dtype=np.float64)

    def posterior_of(self, responses: ArrayLike) -> NDArray[np.float64]:
        """The posterior over profiles of (other) pupils' responses under this fit."""
        x = _responses(responses, self.q_matrix.shape[0], minimum_pupils=1)
        return _posterior(x, self.success, self.class_prior)

    def predict(self, responses: ArrayLike) -> NDArray[np.float64]:
        """P(right) of every item for pupils known by `responses` (NaN where not answered)."""
        return np.asarray(self.posterior_of(responses) @ self.success, dtype=np.float64)


def attribute_profiles(attributes: int) -> NDArray[np.int8]:
    """All 2^K profiles, the first attribute the most significant bit (000…, 001…, …, 111…)."""
    return np.array(list(itertools.product((0, 1), repeat=attributes)), dtype=np.int8).reshape(
        -1, attributes
    )


def fit_dina(
    responses: ArrayLike,
    q_matrix: ArrayLike,
    *,
    guess_start: float = 0.2,
    slip_start: float = 0.2,
    max_iterations: int = 2000,
    tolerance: float = 1e-8,
    minimum_pupils: int = 20,
) -> DiagnosisFit:
    """DINA by EM; stops when the log-likelihood changes by less than `tolerance`."""
    return _fit(
        DiagnosisModel.DINA,
        responses,
        q_matrix,
        guess_start,
        slip_start,
        max_iterations,
        tolerance,
        minimum_pupils,
    )


def fit_gdina(
    responses: ArrayLike,
    q_matrix: ArrayLike,
    *,
    guess_start: float = 0.2,
    slip_start: float = 0.2,
    max_iterations: int = 5000,
    tolerance: float = 1e-8,
    minimum_pupils: int = 20,
) -> DiagnosisFit:
    """Saturated G-DINA (identity link) by EM. Starts each item's group with m of K_j required
    attributes at guess + (1 − guess − slip)·m/K_j."""
    return _fit(
        DiagnosisModel.GDINA,
        responses,
        q_matrix,
        guess_start,
        slip_start,
        max_iterations,
        tolerance,
        minimum_pupils,
    )


def _fit(
    model: DiagnosisModel,
    responses: ArrayLike,
    q_matrix: ArrayLike,
    guess_start: float,
    slip_start: float,
    max_iterations: int,
    tolerance: float,
    minimum_pupils: int,
) -> DiagnosisFit:
    q = _q_matrix(q_matrix)
    n_items, n_attributes = q.shape
    x = _responses(responses, n_items, minimum_pupils)
    if not (0 < guess_start < 1 and 0 < slip_start < 1 and guess_start + slip_start < 1):
        raise DiagnosisModelInputError("start values need 0 < guess, slip and guess + slip < 1")

    profiles = attribute_profiles(n_attributes)
    item_attributes = tuple(tuple(int(k) for k in np.flatnonzero(row)) for row in q)
    # group of each profile for each item: the pattern of the item's attributes as a number
    groups = np.zeros((profiles.shape[0], n_items), dtype=np.intp)
    for j, required in enumerate(item_attributes):
        for k in required:
            groups[:, j] = groups[:, j] * 2 + profiles[:, k]
    group_counts = [2 ** len(required) for required in item_attributes]
    if model is DiagnosisModel.DINA:
        # the DINA group: 1 if every required attribute is mastered
        groups = (groups == np.array(group_counts) - 1).astype(np.intp)
        group_counts = [2] * n_items
    # every item's groups numbered in one flat parameter vector
    offsets = np.concatenate([[0], np.cumsum(group_counts)[:-1]]).astype(np.intp)
    flat_groups = groups + offsets
    n_parameters = int(sum(group_counts))
    flat_success = np.concatenate(
        [_start_success(count, model, guess_start, slip_start) for count in group_counts]
    )

    patterns, weights = _collapse(x)
    answered = ~np.isnan(patterns)
    right = np.where(answered, patterns, 0.0)
    wrong = np.where(answered, 1.0 - patterns, 0.0)
    answered_weights = answered.astype(np.float64)
    complete = bool(answered.all())
    prior = np.full(profiles.shape[0], 1.0 / profiles.shape[0])
    previous = -np.inf
    log_likelihood = -np.inf
    converged = False
    iterations = 0
    while iterations < max_iterations:
        iterations += 1
        success = flat_success[flat_groups]
        posterior, log_likelihood = _e_step(right, wrong, success, prior, weights)
        # M-step: expected right answers and expected answers of each latent group of each item
        expected_right = _product(posterior.T, right)
        if complete:
            expected_answered = np.repeat(posterior.sum(axis=0)[:, None], n_items, axis=1)
        else:
            expected_answered = _product(posterior.T, answered_weights)
        r = np.bincount(flat_groups.ravel(), expected_right.ravel(), minlength=n_parameters)
        n = np.bincount(flat_groups.ravel(), expected_answered.ravel(), minlength=n_parameters)
        flat_success = np.where(n > 0, r / np.maximum(n, 1e-300), flat_success)
        prior = posterior.sum(axis=0) / weights.sum()
        if abs(log_likelihood - previous) < tolerance:
            converged = True
            break
        previous = log_likelihood

    success = flat_success[flat_groups]
    pupil_posterior = _posterior(x, success, prior)
    # the likelihood at the final parameters (one E-step after the last M-step)
    log_likelihood = _e_step(right, wrong, success, prior, weights)[1]
    group_success = [
        flat_success[start : start + count]
        for start, count in zip(offsets, group_counts, strict=True)
    ]
    delta = tuple(_delta(p) for p in group_success)
    guess = slip = None
    if model is DiagnosisModel.DINA:
        guess = np.array([p[0] for p in group_success])
        slip = np.array([1.0 - p[1] for p in group_success])
        delta = tuple(np.array([p[0], p[1] - p[0]]) for p in group_success)
    parameters = sum(group_counts) + profiles.shape[0] - 1
    mastery = pupil_posterior @ profiles
    return DiagnosisFit(
        model=model,
        q_matrix=q,
        profiles=profiles,
        class_prior=prior,
        success=success,
        item_attributes=item_attributes,
        group_success=tuple(group_success),
        delta=delta,
        guess=guess,
        slip=slip,
        log_likelihood=log_likelihood,
        parameters=parameters,
        pupils=x.shape[0],
        iterations=iterations,
        converged=converged,
        posterior=pupil_posterior,
        mastery=np.clip(mastery, 0.0, 1.0),
        map_profiles=profiles[np.argmax(pupil_posterior, axis=1)],
    )


def _start_success(
    count: int, model: DiagnosisModel, guess: float, slip: float
) -> NDArray[np.float64]:
    if model is DiagnosisModel.DINA:
        return np.array([guess, 1.0 - slip])
    required = round(math.log2(count))
    mastered = np.array([bin(g).count("1") for g in range(count)], dtype=np.float64)
    return guess + (1.0 - guess - slip) * mastered / required


def _log_likelihood_table(
    right: NDArray[np.float64], wrong: NDArray[np.float64], success: NDArray[np.float64]
) -> NDArray[np.float64]:
    p = np.clip(success, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)
    return _product(right, np.log(p).T) + _product(wrong, np.log1p(-p).T)


def _product(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """a @ b in blocks of at most SINGLE_THREAD_PRODUCT multiply-adds (see there)."""
    m, k = a.shape
    n = b.shape[1]
    if m * k * n <= SINGLE_THREAD_PRODUCT:
        return np.asarray(a @ b, dtype=np.float64)
    if m >= k:  # many rows: blocks of rows
        rows = max(1, SINGLE_THREAD_PRODUCT // (k * n))
        out = np.empty((m, n))
        for start in range(0, m, rows):
            out[start : start + rows] = a[start : start + rows] @ b
        return out
    # a long inner dimension (profiles × patterns @ patterns × items): blocks of it, summed
    inner = max(1, SINGLE_THREAD_PRODUCT // (m * n))
    total = np.zeros((m, n))
    for start in range(0, k, inner):
        total += a[:, start : start + inner] @ b[start : start + inner]
    return total


def _e_step(
    right: NDArray[np.float64],
    wrong: NDArray[np.float64],
    success: NDArray[np.float64],
    prior: NDArray[np.float64],
    weights: NDArray[np.float64],
) -> tuple[NDArray[np.float64], float]:
    """Weighted posterior over profiles of each pattern, and the marginal log-likelihood."""
    log_joint = _log_likelihood_table(right, wrong, success)
    top = log_joint.max(axis=1, keepdims=True)
    joint = np.exp(log_joint - top) * prior
    marginal = joint.sum(axis=1, keepdims=True)
    log_likelihood = float(weights @ (top[:, 0] + np.log(marginal[:, 0])))
    return joint * (weights[:, None] / marginal), log_likelihood


def _posterior(
    x: NDArray[np.float64], success: NDArray[np.float64], prior: NDArray[np.float64]
) -> NDArray[np.float64]:
    answered = ~np.isnan(x)
    right = np.where(answered, x, 0.0)
    wrong = np.where(answered, 1.0 - x, 0.0)
    return _e_step(right, wrong, success, prior, np.ones(x.shape[0]))[0]


def _delta(group_success: NDArray[np.float64]) -> NDArray[np.float64]:
    """G-DINA δ from the group probabilities: P(group g) = Σ over subsets s of g of δ_s.

    Groups and δ are both indexed by bit patterns of the item's attributes (δ_0 first, then the
    main effects and interactions in bit order); the inverse is the Möbius transform."""
    count = group_success.shape[0]
    delta = group_success.astype(np.float64).copy()
    bit = 1
    while bit < count:
        for g in range(count):
            if g & bit:
                delta[g] -= delta[g ^ bit]
        bit <<= 1
    return delta


def _collapse(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Distinct response patterns (NaN kept) and how many pupils gave each."""
    codes = np.where(np.isnan(x), 2, x).astype(np.int8)
    unique, counts = np.unique(codes, axis=0, return_counts=True)
    patterns = np.where(unique == 2, np.nan, unique).astype(np.float64)
    return patterns, counts.astype(np.float64)


def _q_matrix(q_matrix: ArrayLike) -> NDArray[np.int8]:
    q = np.asarray(q_matrix)
    if q.ndim != 2 or q.shape[0] == 0 or q.shape[1] == 0:
        raise DiagnosisModelInputError(f"the Q-matrix must be items × attributes, got {q.shape}")
    if not np.isin(q, (0, 1)).all():
        raise DiagnosisModelInputError("the Q-matrix holds only 0 and 1")
    if q.shape[1] > MAX_ATTRIBUTES:
        raise DiagnosisModelInputError(
            f"{q.shape[1]} attributes: at most {MAX_ATTRIBUTES} (2^K profiles are enumerated)"
        )
    empty = np.flatnonzero(q.sum(axis=1) == 0)
    if empty.size:
        raise DiagnosisModelInputError(f"item {int(empty[0])} requires no attribute")
    unused = np.flatnonzero(q.sum(axis=0) == 0)
    if unused.size:
        raise DiagnosisModelInputError(f"attribute {int(unused[0])} is required by no item")
    return q.astype(np.int8)


def _responses(responses: ArrayLike, n_items: int, minimum_pupils: int) -> NDArray[np.float64]:
    try:
        x = np.asarray(responses, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DiagnosisModelInputError(f"responses are not numbers: {exc}") from exc
    if x.ndim != 2 or x.shape[1] != n_items:
        raise DiagnosisModelInputError(
            f"responses must be pupils × {n_items} items (the Q-matrix rows), got {x.shape}"
        )
    if x.shape[0] < minimum_pupils:
        raise DiagnosisModelInputError(
            f"{x.shape[0]} pupils: the model needs at least {minimum_pupils}"
        )
    answered = ~np.isnan(x)
    if not np.isin(x[answered], (0.0, 1.0)).all():
        raise DiagnosisModelInputError("responses must be 1 (right), 0 (wrong) or missing")
    never = np.flatnonzero(~answered.any(axis=0))
    if never.size:
        raise DiagnosisModelInputError(f"item {int(never[0])} was answered by nobody")
    return x
