"""Item response theory: Rasch/1PL, 2PL and the graded response model by marginal maximum
likelihood (Bock–Aitkin EM on a fixed quadrature), EAP abilities, item fit.

Arrays in, dataclasses out. Responses are pupils × items: 0/1 for the dichotomous models,
0, 1, …, K−1 for the graded response model, NaN where an item was not administered.

- ``rasch``: P(x=1 | θ) = σ(θ − b), slope fixed at 1, θ ~ N(0, 1) (ltm ``rasch`` with the
  slope constrained to 1).
- ``1pl``: one common slope a estimated for every item, θ ~ N(0, 1) (ltm ``rasch``).
- ``2pl``: P(x=1 | θ) = σ(a_j (θ − b_j)) (ltm ``ltm(X ~ z1)``; D = 1).
- ``grm``: Samejima's graded response model, P(x ≥ k | θ) = σ(a_j (θ − b_jk)), k = 1 … K_j−1.

The quadrature is fixed: by default 49 equally spaced points on [−6, 6] (step 0.25) with
normalised N(0, 1) density weights; ``quadrature="gauss-hermite"`` takes Gauss–Hermite points
(as ltm does, 15 for ``ltm``, 21 for ``rasch``). The E-step runs over the distinct response
patterns (identical pupils are counted, not repeated), in blocks of rows so that memory stays
bounded; each block is two matrix products with the quadrature's log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special, stats

from edubrain.errors import IrtInputError, IrtNotConvergedError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
IrtModelName = Literal["rasch", "1pl", "2pl", "grm"]
QuadratureKind = Literal["rectangular", "gauss-hermite"]

MODELS: tuple[str, ...] = ("rasch", "1pl", "2pl", "grm")
MISSING = 255  # the code of a response that was not administered
MAX_CATEGORIES = 100
BLOCK_ROWS = 1 << 15  # pupils (patterns) per E-step block
SINGLE_PRECISION_ROWS = 20_000  # distinct patterns from which the E-step runs in float32
LARGEST_SLOPE = 50.0  # beyond it an item's estimates are diverging, not converging
MIN_PUPILS_PER_PARAMETER = 5  # fewer pupils than this per item parameter: too few for a model


@dataclass(frozen=True)
class Quadrature:
    """Fixed points and weights (summing to 1) of the N(0, 1) ability distribution."""

    nodes: FloatArray
    weights: FloatArray
    kind: str

    @classmethod
    def build(cls, points: int = 49, kind: QuadratureKind = "rectangular") -> Quadrature:
        if points < 5:
            raise IrtInputError(f"a quadrature needs at least 5 points, got {points}")
        if kind == "gauss-hermite":
            nodes, raw = np.polynomial.hermite_e.hermegauss(points)
            return cls(nodes=nodes, weights=raw / raw.sum(), kind=kind)
        if kind == "rectangular":
            nodes = np.linspace(-6.0, 6.0, points)
            density = np.exp(-0.5 * nodes**2)
            return cls(nodes=nodes, weights=density / density.sum(), kind=kind)
        raise IrtInputError(f"unknown quadrature {kind!r}: rectangular or gauss-hermite")


@dataclass(frozen=True)
class Convergence:
    """How the EM ended: iterations run, the largest parameter change in the last one."""

    converged: bool
    iterations: int
    max_change: float
    tolerance: float


@dataclass(frozen=True)
class Abilities:
    """EAP abilities with their posterior standard deviations (the standard errors)."""

    eap: FloatArray
    posterior_sd: FloatArray


@dataclass(frozen=True)
class ItemFit:
    """Observed against expected mean score by ability group (Yen's Q1 with EAP groups).

    ``statistic`` is Σ_g N_g (O_g − E_g)² / V_g over the groups, with V_g the model's
    variance of the item score in the group; ``df`` = groups − the item's free parameters.
    """

    statistic: FloatArray
    df: IntArray
    p_value: FloatArray
    groups: int


@dataclass(frozen=True)
class IrtCalibration:
    """A calibrated item bank on the N(0, 1) scale of the calibration sample.

    ``a`` holds the slopes; ``b`` the difficulties as items × (K_max − 1) thresholds
    (one column for the dichotomous models, NaN beyond an item's last category);
    ``intercepts`` the same in slope-intercept form, a·θ + d with d = −a·b.
    """

    model: str
    a: FloatArray
    b: FloatArray
    intercepts: FloatArray
    categories: IntArray
    log_likelihood: float
    free_parameters: int
    pupils: float
    convergence: Convergence
    quadrature: Quadrature
    abilities: Abilities

    @property
    def difficulty(self) -> FloatArray:
        """The dichotomous models' difficulties b_j (the first threshold for the GRM)."""
        return np.asarray(self.b[:, 0], dtype=np.float64)

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.free_parameters

    @property
    def bic(self) -> float:
        return -2.0 * self.log_likelihood + float(np.log(self.pupils)) * self.free_parameters

    def category_probabilities(self, theta: ArrayLike) -> FloatArray:
        """P(x_j = k | θ) as items × K_max × len(θ)."""
        nodes = np.atleast_1d(np.asarray(theta, dtype=np.float64))
        return np.exp(_category_log_probs(self.a, self.intercepts, nodes))


# ---- input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Patterns:
    codes: NDArray[np.uint8]  # distinct patterns × items, MISSING where not administered
    counts: FloatArray  # weight of each distinct pattern
    inverse: IntArray  # pupil -> its pattern
    categories: IntArray  # K_j per item
    any_missing: bool


def _codes(responses: ArrayLike) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """Scores as uint8 codes (MISSING where not administered) and the observed mask.

    Integer input is taken as it is (nothing missing) without a float copy of the matrix.
    """
    raw = np.asarray(responses)
    if raw.ndim != 2 or raw.shape[0] < 1 or raw.shape[1] < 1:
        raise IrtInputError(f"responses must be pupils × items, got shape {raw.shape}")
    if raw.dtype.kind in "iub":
        if raw.size and (int(raw.min()) < 0 or int(raw.max()) >= MAX_CATEGORIES):
            raise IrtInputError(
                f"responses must be whole scores 0 … {MAX_CATEGORIES - 1} (NaN: not administered)"
            )
        return raw.astype(np.uint8), np.ones(raw.shape, dtype=np.bool_)
    data = np.asarray(raw, dtype=np.float64)
    observed = ~np.isnan(data)
    values = data[observed]
    if not np.all(np.isfinite(values)):
        raise IrtInputError("responses hold an infinite value (use NaN for not administered)")
    if np.any(values != np.round(values)) or np.any(values < 0):
        raise IrtInputError("responses must be whole scores 0, 1, … (NaN for not administered)")
    if values.size and values.max() >= MAX_CATEGORIES:
        raise IrtInputError(
            f"a score of {values.max():g} is above the {MAX_CATEGORIES - 1} allowed"
        )
    return np.where(observed, np.nan_to_num(data), MISSING).astype(np.uint8), observed


def _encode(
    responses: ArrayLike, model: str, weights: ArrayLike | None, fixed_categories: IntArray | None
) -> _Patterns:
    codes, observed = _codes(responses)
    highest = np.max(np.where(observed, codes, 0), axis=0)
    dichotomous = model != "grm"
    if dichotomous and np.any(highest > 1):
        bad = [int(j) + 1 for j in np.nonzero(highest > 1)[0]]
        raise IrtInputError(f"model {model} takes 0/1 scores; items {bad} score above 1")
    if weights is None:
        pupil_weights = np.ones(codes.shape[0])
    else:
        pupil_weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        if pupil_weights.shape[0] != codes.shape[0]:
            raise IrtInputError("weights must hold one value per pupil")
        if not np.all(np.isfinite(pupil_weights)) or np.any(pupil_weights < 0):
            raise IrtInputError("weights must be finite and not negative")
    if fixed_categories is not None:
        categories = fixed_categories
        over = np.nonzero(highest >= categories)[0]
        if over.size:
            items = [int(j) + 1 for j in over]
            raise IrtInputError(f"items {items} hold a score above the item's top category")
    else:
        categories = _categories_with_variance(codes, pupil_weights, dichotomous)
    patterns, inverse = _distinct_rows(codes, categories)
    counts = np.bincount(inverse, weights=pupil_weights, minlength=patterns.shape[0])
    return _Patterns(
        codes=np.ascontiguousarray(patterns),
        counts=counts.astype(np.float64),
        inverse=inverse,
        categories=categories,
        any_missing=not bool(np.all(observed)),
    )


def _distinct_rows(
    codes: NDArray[np.uint8], categories: IntArray
) -> tuple[NDArray[np.uint8], IntArray]:
    """The distinct response patterns and each pupil's pattern.

    Each row is read as one integer in mixed radix (K_j + 1 digits: the categories and
    "missing"), so that finding the distinct rows is a sort of integers; when the rows do not
    fit in 63 bits every pupil is kept as their own pattern.
    """
    radix = categories.astype(np.float64) + 1.0
    if float(np.sum(np.log2(radix))) > 63.0:
        return codes, np.arange(codes.shape[0], dtype=np.int64)
    digits = np.where(codes == MISSING, categories[None, :], codes).astype(np.int64)
    place = np.concatenate([[1], np.cumprod(categories[::-1] + 1)[:-1]])[::-1].astype(np.int64)
    keys = digits @ place
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return codes[first], inverse.reshape(-1).astype(np.int64)


def _categories_with_variance(
    codes: NDArray[np.uint8], weights: FloatArray, dichotomous: bool
) -> IntArray:
    """K_j per item, refusing items without variance and GRM categories never used."""
    items = codes.shape[1]
    categories = np.zeros(items, dtype=np.int64)
    constant: list[int] = []
    gaps: list[str] = []
    positive = weights > 0
    every = bool(np.all(positive))
    for j in range(items):
        column = codes[:, j] if every else codes[positive, j]
        used = np.nonzero(np.bincount(column, minlength=MISSING + 1)[:MISSING])[0]
        if used.size < 2:
            constant.append(j + 1)
            continue
        top = 1 if dichotomous else int(used.max())
        if not dichotomous and used.size != top + 1:
            missing = sorted(set(range(top + 1)) - {int(k) for k in used})
            gaps.append(f"item {j + 1} never scores {missing}")
        categories[j] = top + 1
    if constant:
        raise IrtInputError(
            f"items {constant} have no variance (every pupil who took them scored the same, "
            "or nobody took them): drop them before calibrating"
        )
    if gaps:
        raise IrtInputError("graded items need every score from 0 to their top: " + "; ".join(gaps))
    return categories


# ---- the model's probabilities ---------------------------------------------------------------


def _category_log_probs(a: FloatArray, intercepts: FloatArray, nodes: FloatArray) -> FloatArray:
    """log P(x_j = k | θ_q) as items × K_max × Q; −inf beyond an item's last category."""
    items, thresholds = intercepts.shape
    z = a[:, None, None] * nodes[None, None, :] + intercepts[:, :, None]  # J × (K−1) × Q
    log_probs = np.full((items, thresholds + 1, nodes.shape[0]), -np.inf)
    if thresholds == 1:
        log_probs[:, 1, :] = special.log_expit(z[:, 0, :])
        log_probs[:, 0, :] = special.log_expit(-z[:, 0, :])
        return log_probs
    with np.errstate(invalid="ignore"):
        star = special.expit(np.nan_to_num(z, nan=-np.inf))  # NaN thresholds pad: P(x ≥ k) = 0
    upper = np.concatenate([np.ones((items, 1, nodes.shape[0])), star], axis=1)
    lower = np.concatenate([star, np.zeros((items, 1, nodes.shape[0]))], axis=1)
    probs = upper - lower
    log_probs[:, 0, :] = special.log_expit(-np.nan_to_num(z[:, 0, :]))
    with np.errstate(divide="ignore"):
        log_probs[:, 1:, :] = np.log(np.maximum(probs[:, 1:, :], 1e-300))
    for j, top in enumerate(np.sum(~np.isnan(intercepts), axis=1)):
        log_probs[j, top, :] = special.log_expit(z[j, top - 1, :])
        log_probs[j, top + 1 :, :] = -np.inf
    return log_probs


def _contrast_columns(categories: IntArray) -> tuple[IntArray, IntArray]:
    """(item, category) of each indicator column: one per category above 0."""
    items = np.repeat(np.arange(categories.shape[0]), categories - 1)
    offsets = np.concatenate([[0], np.cumsum(categories - 1)[:-1]])
    cats = np.arange(items.shape[0]) - offsets[items] + 1
    return items.astype(np.int64), cats.astype(np.int64)


def _indicators(
    block: NDArray[np.uint8], categories: IntArray, binary: bool, dtype: type[np.floating[Any]]
) -> NDArray[np.floating[Any]]:
    if binary:
        binary_indicator: NDArray[np.floating[Any]] = (block == 1).astype(dtype)
        return binary_indicator
    offsets = np.concatenate([[0], np.cumsum(categories - 1)[:-1]])
    out = np.zeros((block.shape[0], int(np.sum(categories - 1))), dtype=dtype)
    rows, cols = np.nonzero((block >= 1) & (block != MISSING))
    out[rows, offsets[cols] + block[rows, cols].astype(np.int64) - 1] = 1.0
    return out


@dataclass
class _Expectation:
    counts: FloatArray  # expected pupils per item × category × node
    log_likelihood: float


def _e_step(
    patterns: _Patterns,
    a: FloatArray,
    intercepts: FloatArray,
    quadrature: Quadrature,
    posterior_moments: bool = False,
) -> tuple[_Expectation, FloatArray, FloatArray]:
    log_probs = _category_log_probs(a, intercepts, quadrature.nodes)
    items, categories = log_probs.shape[0], patterns.categories
    col_item, col_cat = _contrast_columns(categories)
    base = log_probs[:, 0, :]  # J × Q
    contrast = log_probs[col_item, col_cat, :] - base[col_item]  # C × Q
    binary = bool(np.all(categories == 2))
    log_prior = np.log(quadrature.weights) + (0.0 if patterns.any_missing else base.sum(axis=0))
    rows = patterns.codes.shape[0]
    # float32 blocks (4-8x faster products) with float64 sums once the data is large
    dtype: type[np.floating[Any]] = np.float32 if rows >= SINGLE_PRECISION_ROWS else np.float64
    contrast_t, base_t, log_prior_t = (x.astype(dtype) for x in (contrast, base, log_prior))
    totals = np.zeros_like(contrast)
    observed_totals = np.zeros((items, quadrature.nodes.shape[0]))
    log_likelihood = 0.0
    eap = np.zeros(rows) if posterior_moments else np.zeros(0)
    sd = np.zeros(rows) if posterior_moments else np.zeros(0)
    for start in range(0, rows, BLOCK_ROWS):
        block = patterns.codes[start : start + BLOCK_ROWS]
        counts = patterns.counts[start : start + BLOCK_ROWS]
        indicator = _indicators(block, categories, binary, dtype)
        joint = indicator @ contrast_t
        joint += log_prior_t
        if patterns.any_missing:
            taken = (block != MISSING).astype(dtype)
            joint += taken @ base_t
        peak = joint.max(axis=1)
        joint -= peak[:, None]
        np.maximum(joint, -60.0, out=joint)  # e^-60 is nothing beside 1; no subnormals
        posterior = np.exp(joint, out=joint)
        mass = posterior.sum(axis=1, dtype=np.float64)
        marginal = peak.astype(np.float64) + np.log(mass)
        posterior /= mass.astype(dtype)[:, None]
        if posterior_moments:
            mean = posterior @ quadrature.nodes
            eap[start : start + block.shape[0]] = mean
            second = posterior @ quadrature.nodes**2
            sd[start : start + block.shape[0]] = np.sqrt(np.maximum(second - mean**2, 0.0))
        log_likelihood += float(counts @ marginal)
        weighted = posterior * counts.astype(dtype)[:, None]
        totals += indicator.T @ weighted
        if patterns.any_missing:
            observed_totals += taken.T @ weighted
        else:
            observed_totals += weighted.sum(axis=0, dtype=np.float64)[None, :]
    expected = np.zeros((items, int(categories.max()), quadrature.nodes.shape[0]))
    expected[col_item, col_cat, :] = totals
    expected[:, 0, :] = np.maximum(observed_totals - expected[:, 1:, :].sum(axis=1), 0.0)
    return _Expectation(expected, log_likelihood), eap, sd


# ---- M-step ----------------------------------------------------------------------------------


def _m_step_binary(
    model: str, expected: FloatArray, a: FloatArray, d: FloatArray, nodes: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Newton steps on the expected complete-data log-likelihood of 0/1 items."""
    right = expected[:, 1, :]
    taken = expected[:, 0, :] + right
    a, d = a.copy(), d.copy()
    for _ in range(25):
        p = special.expit(a[:, None] * nodes[None, :] + d[:, None])
        residual = right - taken * p
        info = taken * p * (1.0 - p)
        g_d = residual.sum(axis=1)
        h_dd = info.sum(axis=1)
        if model == "rasch":
            step_d = g_d / h_dd
            step_a = np.zeros_like(a)
        elif model == "2pl":
            g_a = residual @ nodes
            h_aa = info @ nodes**2
            h_ad = info @ nodes
            det = h_aa * h_dd - h_ad**2
            step_a = (h_dd * g_a - h_ad * g_d) / det
            step_d = (h_aa * g_d - h_ad * g_a) / det
        else:  # 1pl: one slope shared by every item
            g_a = float(np.sum(residual @ nodes))
            h_aa = float(np.sum(info @ nodes**2))
            h_ad = info @ nodes
            # Schur complement of the diagonal intercept block
            schur = h_aa - float(np.sum(h_ad**2 / h_dd))
            common = (g_a - float(np.sum(h_ad * g_d / h_dd))) / schur
            step_a = np.full_like(a, common)
            step_d = (g_d - h_ad * common) / h_dd
        largest = max(float(np.max(np.abs(step_a))), float(np.max(np.abs(step_d))))
        if not np.isfinite(largest):
            break
        scale = min(1.0, 2.0 / largest)  # no wild step from a flat start
        a += scale * step_a
        d += scale * step_d
        if largest < 1e-10:
            break
    return a, d


def _grm_item_objective(
    params: FloatArray, counts: FloatArray, nodes: FloatArray
) -> tuple[float, FloatArray]:
    """Negative expected log-likelihood of one graded item and its gradient.

    params = (a, d_1, log(d_1 − d_2), …): the intercepts stay decreasing.
    """
    a = params[0]
    gaps = np.exp(params[2:])
    d = params[1] - np.concatenate([[0.0], np.cumsum(gaps)])
    z = a * nodes[None, :] + d[:, None]  # (K−1) × Q
    star = special.expit(z)
    upper = np.vstack([np.ones((1, nodes.shape[0])), star])
    lower = np.vstack([star, np.zeros((1, nodes.shape[0]))])
    probs = np.maximum(upper - lower, 1e-300)
    value = -float(np.sum(counts * np.log(probs)))
    ratio = counts / probs  # K × Q
    dz = star * (1.0 - star) * (ratio[1:] - ratio[:-1])  # ∂ℓ/∂z_k, (K−1) × Q
    g_d = dz.sum(axis=1)
    g_a = float(np.sum(dz @ nodes))
    tail = np.cumsum(g_d[::-1])[::-1]  # Σ_{m ≥ k} ∂ℓ/∂d_m
    grad = np.concatenate([[g_a, g_d.sum()], -gaps * tail[1:]])
    return value, -grad


def _m_step_grm(
    expected: FloatArray, a: FloatArray, d: FloatArray, categories: IntArray, nodes: FloatArray
) -> tuple[FloatArray, FloatArray]:
    a, d = a.copy(), d.copy()
    for j in range(a.shape[0]):
        top = int(categories[j]) - 1
        current = d[j, :top]
        start = np.concatenate([[a[j], current[0]], np.log(np.maximum(-np.diff(current), 1e-8))])
        result = optimize.minimize(
            _grm_item_objective,
            start,
            args=(expected[j, : top + 1, :], nodes),
            jac=True,
            method="BFGS",
            options={"gtol": 1e-9, "maxiter": 200},
        )
        a[j] = result.x[0]
        d[j, :top] = result.x[1] - np.concatenate([[0.0], np.cumsum(np.exp(result.x[2:]))])
    return a, d


# ---- calibration -----------------------------------------------------------------------------


def _starting_values(model: str, patterns: _Patterns) -> tuple[FloatArray, FloatArray]:
    items = patterns.codes.shape[1]
    top = int(patterns.categories.max()) - 1
    d = np.full((items, top), np.nan)
    for j in range(items):
        taken = patterns.codes[:, j] != MISSING
        scores = patterns.codes[taken, j].astype(np.int64)
        weights = patterns.counts[taken]
        for k in range(1, int(patterns.categories[j])):
            share = float(weights @ (scores >= k)) / float(weights.sum())
            share = min(max(share, 0.01), 0.99)
            d[j, k - 1] = np.log(share / (1.0 - share)) * (1.7 if model != "rasch" else 1.0)
        # keep the GRM intercepts strictly decreasing
        for k in range(1, int(patterns.categories[j]) - 1):
            d[j, k] = min(d[j, k], d[j, k - 1] - 0.05)
    return np.ones(items), d


def calibrate(
    responses: ArrayLike,
    model: IrtModelName = "2pl",
    *,
    weights: ArrayLike | None = None,
    quadrature_points: int = 49,
    quadrature: QuadratureKind = "rectangular",
    tolerance: float = 1e-5,
    max_iterations: int = 2000,
    require_convergence: bool = True,
) -> IrtCalibration:
    """Calibrate items by marginal maximum likelihood (Bock–Aitkin EM) on a fixed quadrature.

    ``weights`` are frequency weights per row (a pattern's count). The EM stops when no
    parameter (a and the intercepts d) moves more than ``tolerance`` in an iteration; if that
    has not happened after ``max_iterations``, ``IrtNotConvergedError`` (unless
    ``require_convergence`` is false: then ``convergence.converged`` says so).
    """
    if model not in MODELS:
        raise IrtInputError(f"unknown IRT model {model!r}: one of {', '.join(MODELS)}")
    if not tolerance > 0 or max_iterations < 1:
        raise IrtInputError("tolerance must be positive and max_iterations at least 1")
    patterns = _encode(responses, model, weights, None)
    slopes = {"rasch": 0, "1pl": 1}.get(model, int(patterns.categories.size))
    parameters = slopes + int(np.sum(patterns.categories - 1))
    needed = MIN_PUPILS_PER_PARAMETER * parameters
    if float(patterns.counts.sum()) < needed:
        raise IrtInputError(
            f"too few pupils for an IRT {model} calibration: {patterns.counts.sum():g} pupils "
            f"for {parameters} item parameters (at least {needed})"
        )
    grid = Quadrature.build(quadrature_points, quadrature)
    a, d = _starting_values(model, patterns)
    change = np.inf
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        expectation, _, _ = _e_step(patterns, a, d, grid)
        if model == "grm":
            new_a, new_d = _m_step_grm(expectation.counts, a, d, patterns.categories, grid.nodes)
        else:
            new_a, new_d = _m_step_binary(model, expectation.counts, a, d[:, 0], grid.nodes)
            new_d = new_d[:, None]
        _refuse_divergence(new_a, new_d, iterations)
        change = float(max(np.max(np.abs(new_a - a)), np.nanmax(np.abs(new_d - d))))
        a, d = new_a, new_d
        if change < tolerance:
            break
    converged = change < tolerance
    if not converged and require_convergence:
        raise IrtNotConvergedError(
            f"IRT {model} calibration did not converge: {iterations} EM iterations, "
            f"largest parameter change {change:.2e} > tolerance {tolerance:.0e}"
        )
    final, eap, sd = _e_step(patterns, a, d, grid, posterior_moments=True)
    with np.errstate(invalid="ignore"):
        b = -d / a[:, None]
    return IrtCalibration(
        model=model,
        a=a,
        b=b,
        intercepts=d,
        categories=patterns.categories,
        log_likelihood=final.log_likelihood,
        free_parameters=parameters,
        pupils=float(patterns.counts.sum()),
        convergence=Convergence(converged, iterations, change, tolerance),
        quadrature=grid,
        abilities=Abilities(eap=eap[patterns.inverse], posterior_sd=sd[patterns.inverse]),
    )


def _refuse_divergence(a: FloatArray, d: FloatArray, iteration: int) -> None:
    finite = np.isfinite(a) & np.all(np.isfinite(d) | np.isnan(d), axis=1)
    diverging = ~finite | (np.abs(a) > LARGEST_SLOPE) | np.all(np.isnan(d), axis=1)
    if np.any(diverging):
        items = [int(j) + 1 for j in np.nonzero(diverging)[0]]
        raise IrtNotConvergedError(
            f"IRT calibration diverges at EM iteration {iteration}: items {items} have "
            f"slopes beyond ±{LARGEST_SLOPE:g} (too few pupils, or an item that separates them "
            "perfectly)"
        )


# ---- scoring and fit -------------------------------------------------------------------------


def estimate_abilities(calibration: IrtCalibration, responses: ArrayLike) -> Abilities:
    """EAP abilities (and posterior SDs) of any pupils on the calibrated items.

    A pupil with no response gets the prior: 0 with SD 1.
    """
    shape = np.shape(responses)
    if len(shape) != 2 or shape[1] != calibration.a.shape[0]:
        raise IrtInputError(
            f"responses must be pupils × {calibration.a.shape[0]} items, got shape {shape}"
        )
    patterns = _encode(responses, calibration.model, None, calibration.categories)
    _, eap, sd = _e_step(
        patterns, calibration.a, calibration.intercepts, calibration.quadrature, True
    )
    return Abilities(eap=eap[patterns.inverse], posterior_sd=sd[patterns.inverse])


def item_fit(calibration: IrtCalibration, responses: ArrayLike, groups: int = 10) -> ItemFit:
    """Observed against expected item score in ``groups`` ability groups, per item.

    For item j each pupil's posterior is taken from the *other* items (the rest posterior, as
    S-X² conditions on the rest score), so that the expected score Σ_q post(q)·E[x_j | θ_q]
    is the model's prediction of x_j, not an echo of it; pupils are grouped by the deciles of
    their rest-EAP, and the statistic is Σ_g (O_g − E_g)² / V_g with O, E the group's observed
    and expected score sums and V the sum of the model variances. df = groups − the item's
    free parameters; the parameters are taken as known (as in S-X²).
    """
    data = np.asarray(responses, dtype=np.float64)
    if groups < 2:
        raise IrtInputError("item fit needs at least 2 ability groups")
    items = calibration.a.shape[0]
    if data.ndim != 2 or data.shape[1] != items:
        raise IrtInputError(f"responses must be pupils × {items} items, got shape {data.shape}")
    _encode(data, calibration.model, None, calibration.categories)  # the same checks
    nodes = calibration.quadrature.nodes
    log_probs = _category_log_probs(calibration.a, calibration.intercepts, nodes)  # J × K × Q
    observed = ~np.isnan(data)
    codes = np.where(observed, np.nan_to_num(data), 0).astype(np.int64)
    joint = np.tile(np.log(calibration.quadrature.weights), (data.shape[0], 1))  # N × Q
    for j in range(items):  # item by item: memory stays pupils × points
        joint[observed[:, j]] += log_probs[j, codes[observed[:, j], j], :]
    levels = np.arange(log_probs.shape[1], dtype=np.float64)
    probs = np.exp(log_probs)
    item_mean = np.einsum("k,jkq->jq", levels, probs)
    item_second = np.einsum("k,jkq->jq", levels**2, probs)
    params_per_item = calibration.categories - 1 + (1 if calibration.model in ("2pl", "grm") else 0)
    statistic = np.zeros(items)
    df = np.zeros(items, dtype=np.int64)
    for j in range(items):
        taken = observed[:, j]
        rest = joint[taken] - log_probs[j, codes[taken, j], :]
        rest -= rest.max(axis=1, keepdims=True)
        posterior = np.exp(rest)
        posterior /= posterior.sum(axis=1, keepdims=True)
        # rounded: pupils with the same rest pattern tie exactly, whatever the float noise
        ability = np.round(posterior @ nodes, 9)
        expected = posterior @ item_mean[j]
        variance = posterior @ item_second[j] - expected**2
        scores = data[taken, j]
        edges = np.unique(np.quantile(ability, np.linspace(0.0, 1.0, groups + 1)))
        group = np.clip(np.searchsorted(edges, ability, side="right") - 1, 0, edges.size - 2)
        used = 0
        for g in range(edges.size - 1):
            members = group == g
            if not np.any(members):
                continue
            used += 1
            gap = float(scores[members].sum() - expected[members].sum())
            statistic[j] += gap**2 / max(float(variance[members].sum()), 1e-12)
        df[j] = max(used - int(params_per_item[j]), 1)
    return ItemFit(
        statistic=statistic,
        df=df,
        p_value=np.asarray(stats.chi2.sf(statistic, df), dtype=np.float64),
        groups=groups,
    )
