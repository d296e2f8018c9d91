"""Value-added (增值评价): a random-intercept multilevel model and a Progress-8-style simple method.

The model: outcome = X·β + u(school) [+ v(class within school)] + ε, where X holds an intercept,
prior attainment and declared covariates; u ~ N(0, σ²ᵤ), v ~ N(0, σ²ᵥ), ε ~ N(0, σ²). It is
fitted by REML (or ML) from sufficient statistics per class cell and per school: with γ = σ²ᵤ/σ² and
γᶜ = σ²ᵥ/σ² the covariance of one school is σ²(W⁻¹ + γ·11ᵀ), W = blockdiag(I − aᶜ11ᵀ) with
aᶜ = γᶜ/(1 + nᶜγᶜ), so every quadratic form and log-determinant needs only the counts, sums of X
and sums of y per class cell (Woodbury twice). β and σ² are profiled out; the deviance is
minimised over the relative standard deviations θ = √γ (lme4's parameters), and the optimum is
checked by a numerical gradient and Hessian (the improvement a Newton step would still make).

School and class effects are empirical-Bayes (BLUP, shrunken) estimates with their conditional
variance (given β) and their prediction-error variance (which adds the uncertainty of β̂); the
95 % interval uses the latter, and the band (above / in line / below) follows from whether the
interval excludes 0. Groups with fewer pupils than a threshold (default 10) are flagged: their
estimate is mostly shrinkage towards the average.

`progress_scores` is the transparent method England's Progress 8 uses: a pupil's score is the
outcome minus the mean outcome of all pupils in the same prior-attainment group, extremely
negative pupil scores are capped per group at a number of standard deviations below the mean
(default 2.3, about the bottom 1 %), a school's score is the mean of its pupils' scores with a
95 % interval ± 1.96 · sd / √n, sd being the standard deviation of all pupils' (capped) scores.

Arrays in, dataclasses out; nothing here knows where the arrays come from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import linalg, optimize, stats

from edubrain.errors import ValueAddedInputError

Method = Literal["reml", "ml"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SMALL_GROUP_PUPILS = 10
"""Groups (schools or classes) with fewer pupils than this are flagged as small."""
PROGRESS_CAP_STANDARD_DEVIATIONS = 2.3
"""Progress-8-style cap: pupil scores below mean − 2.3 sd of their prior-attainment group are
raised to that floor (the bottom ≈ 1 % of a normal distribution)."""
PROGRESS_Z = 1.96
"""Progress 8's published intervals use ± 1.96 standard errors."""
_Z95 = float(stats.norm.ppf(0.975))
_NEWTON_IMPROVEMENT_TOLERANCE = 1e-6
_LOG_2PI = math.log(2.0 * math.pi)


class Band(StrEnum):
    """Where a group stands, from its 95 % interval; never a bare rank."""

    ABOVE = "above"
    IN_LINE = "in_line"
    BELOW = "below"


BAND_LABELS_ZH: dict[Band, str] = {
    Band.ABOVE: "显著高于",
    Band.IN_LINE: "与预期相当",
    Band.BELOW: "显著低于",
}


@dataclass(frozen=True)
class FixedEffect:
    name: str
    estimate: float
    standard_error: float


@dataclass(frozen=True)
class OptimumCheck:
    """How close the fit is to the optimum of the deviance over θ (relative SDs).

    `gradient` is d(deviance)/dθ by central differences; `newton_improvement` is how much a Newton
    step over the free parameters (those not held at the boundary θ = 0) would still lower the
    deviance. Converged when that is below 1e-6 and every boundary parameter's gradient ≥ 0."""

    parameters: tuple[float, ...]
    gradient: tuple[float, ...]
    at_boundary: tuple[bool, ...]
    newton_improvement: float
    converged: bool


@dataclass(frozen=True)
class GroupEffects:
    """Empirical-Bayes effects of one level (schools, or classes within schools), in label order.

    `parent` holds each class's school label (empty strings for schools)."""

    labels: tuple[str, ...]
    parent: tuple[str, ...]
    pupils: IntArray
    effect: FloatArray
    conditional_variance: FloatArray
    prediction_error_variance: FloatArray
    lower: FloatArray
    upper: FloatArray
    bands: tuple[Band, ...]
    small: NDArray[np.bool_]
    small_group_threshold: int
    level_variance: float
    """The level's variance component (σ²ᵤ or σ²ᵥ) the estimates are shrunken with."""

    @property
    def shrinkage(self) -> FloatArray:
        """Share of a group's own evidence the estimate keeps: 1 − conditional / level variance
        (0 = shrunken to the average, 1 = none); zero when the level variance is 0."""
        if self.level_variance <= 0:
            return np.zeros_like(self.effect)
        return np.asarray(1.0 - self.conditional_variance / self.level_variance, dtype=np.float64)


@dataclass(frozen=True)
class ValueAddedFit:
    method: Method
    pupils: int
    fixed_effects: tuple[FixedEffect, ...]
    school_variance: float
    class_variance: float | None
    residual_variance: float
    criterion: float
    """−2 × the REML (or ML) log-likelihood at the optimum; lme4's "REML criterion" / deviance."""
    optimum: OptimumCheck
    schools: GroupEffects
    classes: GroupEffects | None

    @property
    def school_sd(self) -> float:
        return math.sqrt(self.school_variance)

    @property
    def class_sd(self) -> float | None:
        return None if self.class_variance is None else math.sqrt(self.class_variance)

    @property
    def residual_sd(self) -> float:
        return math.sqrt(self.residual_variance)

    def fixed(self, name: str) -> FixedEffect:
        for effect in self.fixed_effects:
            if effect.name == name:
                return effect
        raise ValueAddedInputError(f"模型中没有固定效应 {name} — no fixed effect named {name!r}")


@dataclass(frozen=True)
class _SufficientStatistics:
    """Counts and sums per class cell (cells sorted by school) and the global cross-products."""

    pupils: int
    columns: int
    cell_n: FloatArray
    cell_sx: FloatArray
    cell_sy: FloatArray
    cell_school: IntArray
    school_starts: IntArray
    school_n: FloatArray
    xtx: FloatArray
    xty: FloatArray
    yty: float
    has_classes: bool


@dataclass(frozen=True)
class _Profile:
    deviance: float
    beta: FloatArray
    a_inverse: FloatArray
    residual_variance: float
    school_m: FloatArray
    school_tx: FloatArray
    cell_factor: FloatArray


def _per_school(stats_: _SufficientStatistics, values: FloatArray) -> FloatArray:
    if not stats_.has_classes:
        return values
    return np.asarray(np.add.reduceat(values, stats_.school_starts, axis=0), dtype=np.float64)


def _profile(stats_: _SufficientStatistics, theta: Sequence[float], method: Method) -> _Profile:
    gamma_school = float(theta[0]) ** 2
    gamma_class = float(theta[1]) ** 2 if stats_.has_classes else 0.0
    n = stats_.cell_n
    cell_a = gamma_class / (1.0 + n * gamma_class)
    cell_factor = 1.0 / (1.0 + n * gamma_class)
    school_m = _per_school(stats_, n * cell_factor)
    school_tx = _per_school(stats_, stats_.cell_sx * cell_factor[:, None])
    school_ty = _per_school(stats_, stats_.cell_sy * cell_factor)
    school_g = gamma_school / (1.0 + gamma_school * school_m)
    sx, sy = stats_.cell_sx, stats_.cell_sy
    a_matrix = stats_.xtx - (sx.T * cell_a) @ sx - (school_tx.T * school_g) @ school_tx
    b_vector = stats_.xty - sx.T @ (cell_a * sy) - school_tx.T @ (school_g * school_ty)
    yhy = stats_.yty - float(np.sum(cell_a * sy * sy)) - float(np.sum(school_g * school_ty**2))
    try:
        factor = linalg.cho_factor(a_matrix)
    except linalg.LinAlgError as exc:
        raise ValueAddedInputError(
            "固定效应的自变量线性相关或没有变化"
            " — the fixed-effect columns are collinear or constant"
        ) from exc
    beta = linalg.cho_solve(factor, b_vector)
    rss = yhy - float(b_vector @ beta)
    if not rss > 0:
        raise ValueAddedInputError("残差为零，模型无法估计 — the model fits the outcome exactly")
    logdet_v = float(np.sum(np.log1p(n * gamma_class))) + float(
        np.sum(np.log1p(gamma_school * school_m))
    )
    if method == "reml":
        dof = stats_.pupils - stats_.columns
        logdet_a = 2.0 * float(np.sum(np.log(np.diag(factor[0]))))
        deviance = dof * (1.0 + _LOG_2PI + math.log(rss / dof)) + logdet_v + logdet_a
    else:
        dof = stats_.pupils
        deviance = dof * (1.0 + _LOG_2PI + math.log(rss / dof)) + logdet_v
    a_inverse = linalg.cho_solve(factor, np.eye(stats_.columns))
    return _Profile(
        deviance=deviance,
        beta=np.asarray(beta, dtype=np.float64),
        a_inverse=np.asarray(a_inverse, dtype=np.float64),
        residual_variance=rss / dof,
        school_m=school_m,
        school_tx=school_tx,
        cell_factor=cell_factor,
    )


def _labels_and_codes(
    values: ArrayLike, what: str, pupils: int
) -> tuple[NDArray[np.str_], IntArray]:
    array = np.asarray(values)
    if array.ndim != 1 or array.shape[0] != pupils:
        raise ValueAddedInputError(
            f"{what}的长度与成绩不一致 — {what} must hold one label per pupil ({pupils})"
        )
    try:  # numbers sort as numbers (school 2 before 10) and far faster than their text
        labels, codes = np.unique(array, return_inverse=True)
    except TypeError:  # mixed objects: compare them as text
        labels, codes = np.unique(array.astype(str), return_inverse=True)
    return labels.astype(str), codes.astype(np.int64)


def _design(
    outcome: ArrayLike,
    prior: ArrayLike,
    covariates: ArrayLike | None,
    prior_names: Sequence[str] | None,
    covariate_names: Sequence[str],
) -> tuple[FloatArray, FloatArray, tuple[str, ...]]:
    y = np.asarray(outcome, dtype=np.float64)
    if y.ndim != 1:
        raise ValueAddedInputError("成绩应为一维数组 — the outcome must be one value per pupil")
    pupils = y.shape[0]
    prior_matrix = np.asarray(prior, dtype=np.float64)
    if prior_matrix.ndim == 1:
        prior_matrix = prior_matrix[:, None]
    blocks = [np.ones((pupils, 1)), prior_matrix]
    names = ["(Intercept)"]
    names += (
        list(prior_names)
        if prior_names is not None
        else (
            ["prior"]
            if prior_matrix.shape[1] == 1
            else [f"prior{i + 1}" for i in range(prior_matrix.shape[1])]
        )
    )
    if covariates is not None:
        covariate_matrix = np.asarray(covariates, dtype=np.float64)
        if covariate_matrix.ndim == 1:
            covariate_matrix = covariate_matrix[:, None]
        blocks.append(covariate_matrix)
        if len(covariate_names) != covariate_matrix.shape[1]:
            raise ValueAddedInputError(
                "协变量名称与列数不一致 — give one name per covariate column"
            )
        names += list(covariate_names)
    for block in blocks:
        if block.shape[0] != pupils:
            raise ValueAddedInputError(
                f"先前成绩或协变量的行数与成绩不一致 — every input needs {pupils} rows"
            )
    x = np.hstack(blocks)
    if len(names) != x.shape[1]:
        raise ValueAddedInputError("先前成绩名称与列数不一致 — give one name per prior column")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(x))):
        raise ValueAddedInputError(
            "成绩、先前成绩或协变量有缺失值 — missing or non-finite values; drop those pupils first"
        )
    return y, x, tuple(names)


def _sufficient_statistics(
    y: FloatArray, x: FloatArray, school_codes: IntArray, class_codes: IntArray | None, schools: int
) -> tuple[_SufficientStatistics, IntArray]:
    """Statistics per cell; returns also each cell's class code (for class labels)."""
    pupils, columns = x.shape
    if class_codes is None:
        cell, cell_class = school_codes, np.zeros(schools, dtype=np.int64)
        cell_school = np.arange(schools, dtype=np.int64)
    else:
        width = int(class_codes.max()) + 1
        keys, cell = np.unique(school_codes * width + class_codes, return_inverse=True)
        cell = cell.astype(np.int64)
        cell_school, cell_class = (keys // width).astype(np.int64), (keys % width).astype(np.int64)
    cells = int(cell.max()) + 1
    cell_n = np.bincount(cell, minlength=cells).astype(np.float64)
    cell_sx = np.empty((cells, columns))
    for column in range(columns):
        cell_sx[:, column] = np.bincount(cell, weights=x[:, column], minlength=cells)
    cell_sy = np.bincount(cell, weights=y, minlength=cells).astype(np.float64)
    school_starts = np.searchsorted(cell_school, np.arange(schools)).astype(np.int64)
    return (
        _SufficientStatistics(
            pupils=pupils,
            columns=columns,
            cell_n=cell_n,
            cell_sx=cell_sx,
            cell_sy=cell_sy,
            cell_school=cell_school,
            school_starts=school_starts,
            school_n=np.bincount(school_codes, minlength=schools).astype(np.float64),
            xtx=x.T @ x,
            xty=x.T @ y,
            yty=float(y @ y),
            has_classes=class_codes is not None,
        ),
        cell_class,
    )


def _numerical_derivatives(
    deviance: Callable[[FloatArray], float], theta: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Gradient (central, or forward at θ = 0) and Hessian by finite differences."""
    size = theta.shape[0]
    step = 1e-5 * np.maximum(1.0, theta)
    centre = deviance(theta)
    gradient = np.empty(size)
    hessian = np.empty((size, size))
    for i in range(size):
        e_i = np.zeros(size)
        e_i[i] = step[i]
        if theta[i] > step[i]:
            gradient[i] = (deviance(theta + e_i) - deviance(theta - e_i)) / (2 * step[i])
        else:
            gradient[i] = (deviance(theta + e_i) - centre) / step[i]
    wide = 1e-3 * np.maximum(1.0, theta)
    for i in range(size):
        for j in range(i, size):
            e_i = np.zeros(size)
            e_j = np.zeros(size)
            e_i[i] = wide[i]
            e_j[j] = wide[j]
            base = theta + (np.where(theta < wide, wide, 0.0))  # stay inside θ ≥ 0
            value = (
                deviance(base + e_i + e_j)
                - deviance(base + e_i - e_j)
                - deviance(base - e_i + e_j)
                + deviance(base - e_i - e_j)
            ) / (4 * wide[i] * wide[j])
            hessian[i, j] = hessian[j, i] = value
    return gradient, hessian


def _check_optimum(deviance: Callable[[FloatArray], float], theta: FloatArray) -> OptimumCheck:
    gradient, hessian = _numerical_derivatives(deviance, theta)
    at_boundary = (theta <= 1e-8) & (gradient >= 0)
    free = ~at_boundary
    improvement = 0.0
    if np.any(free):
        g_free = gradient[free]
        h_free = hessian[np.ix_(free, free)]
        try:
            step = np.linalg.solve(h_free, g_free)
            improvement = float(0.5 * g_free @ step)
            if not np.all(np.linalg.eigvalsh(h_free) > 0):
                improvement = math.inf
        except np.linalg.LinAlgError:
            improvement = math.inf
    return OptimumCheck(
        parameters=tuple(float(t) for t in theta),
        gradient=tuple(float(g) for g in gradient),
        at_boundary=tuple(bool(b) for b in at_boundary),
        newton_improvement=improvement,
        converged=bool(improvement <= _NEWTON_IMPROVEMENT_TOLERANCE),
    )


def _minimise(deviance: Callable[[FloatArray], float], dimensions: int) -> FloatArray:
    if dimensions == 1:
        upper = 20.0
        found = optimize.minimize_scalar(
            lambda t: deviance(np.array([t])),
            bounds=(0.0, upper),
            method="bounded",
            options={"xatol": 1e-10, "maxiter": 500},
        )
        best = np.array([float(found.x)])
        if deviance(np.array([0.0])) < deviance(best):
            best = np.array([0.0])
        return best
    start = np.full(dimensions, 0.5)
    bounds = [(0.0, None)] * dimensions
    found = optimize.minimize(
        deviance,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000},
    )
    polished = optimize.minimize(
        lambda t: deviance(np.abs(t)),
        np.asarray(found.x),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
    )
    best = np.abs(np.asarray(polished.x, dtype=np.float64))
    if deviance(best) > deviance(np.asarray(found.x)):
        best = np.asarray(found.x, dtype=np.float64)
    for component in range(dimensions):  # a component that wants to be 0 is put exactly there
        if best[component] < 1e-4:
            on_boundary = best.copy()
            on_boundary[component] = 0.0
            if deviance(on_boundary) <= deviance(best) + 1e-12:
                best = on_boundary
    return best


def _bands(lower: FloatArray, upper: FloatArray) -> tuple[Band, ...]:
    return tuple(
        Band.ABOVE if lo > 0 else Band.BELOW if hi < 0 else Band.IN_LINE
        for lo, hi in zip(lower.tolist(), upper.tolist(), strict=True)
    )


def _group_effects(
    labels: Sequence[str],
    parent: Sequence[str],
    pupils: FloatArray,
    effect: FloatArray,
    conditional_variance: FloatArray,
    beta_loading: FloatArray,
    beta_covariance: FloatArray,
    prior_variance: float,
    small_group_threshold: int,
) -> GroupEffects:
    extra = np.einsum("gi,ij,gj->g", beta_loading, beta_covariance, beta_loading)
    prediction_error_variance = conditional_variance + extra
    half = _Z95 * np.sqrt(prediction_error_variance)
    lower, upper = effect - half, effect + half
    counts = pupils.astype(np.int64)
    return GroupEffects(
        labels=tuple(labels),
        parent=tuple(parent),
        pupils=counts,
        effect=effect,
        conditional_variance=conditional_variance,
        prediction_error_variance=prediction_error_variance,
        lower=lower,
        upper=upper,
        bands=_bands(lower, upper),
        small=counts < small_group_threshold,
        small_group_threshold=small_group_threshold,
        level_variance=prior_variance,
    )


def fit_value_added(
    outcome: ArrayLike,
    prior: ArrayLike,
    schools: ArrayLike,
    *,
    covariates: ArrayLike | None = None,
    covariate_names: Sequence[str] = (),
    prior_names: Sequence[str] | None = None,
    classes: ArrayLike | None = None,
    method: Method = "reml",
    small_group_threshold: int = SMALL_GROUP_PUPILS,
) -> ValueAddedFit:
    """Fit outcome ~ 1 + prior + covariates + (1|school) [+ (1|school:class)] by REML or ML.

    `prior` is one column (or several) of prior attainment; `covariates` declared contextual
    columns (already coded, e.g. 0/1 dummies); `schools` and `classes` labels per pupil (class
    labels are read within their school)."""
    if method not in ("reml", "ml"):
        raise ValueAddedInputError(f"未知的估计方法 {method} — method must be 'reml' or 'ml'")
    y, x, names = _design(outcome, prior, covariates, prior_names, covariate_names)
    pupils = y.shape[0]
    school_labels, school_codes = _labels_and_codes(schools, "学校", pupils)
    class_codes: IntArray | None = None
    class_labels: NDArray[np.str_] | None = None
    if classes is not None:
        class_labels, class_codes = _labels_and_codes(classes, "班级", pupils)
    if school_labels.shape[0] < 3:
        raise ValueAddedInputError("至少需要 3 所学校 — value-added needs at least 3 schools")
    if pupils <= x.shape[1] + school_labels.shape[0]:
        raise ValueAddedInputError(
            "学生人数太少，无法估计 — too few pupils for the number of schools and columns"
        )
    sufficient, cell_class = _sufficient_statistics(
        y, x, school_codes, class_codes, school_labels.shape[0]
    )
    dimensions = 2 if classes is not None else 1

    def deviance(theta: FloatArray) -> float:
        return _profile(sufficient, np.abs(theta).tolist(), method).deviance

    theta = _minimise(deviance, dimensions)
    check = _check_optimum(deviance, theta)
    best = _profile(sufficient, theta.tolist(), method)
    sigma2 = best.residual_variance
    gamma_school = float(theta[0]) ** 2
    gamma_class = float(theta[1]) ** 2 if dimensions == 2 else 0.0
    beta_covariance = sigma2 * best.a_inverse
    fixed_effects = tuple(
        FixedEffect(name=name, estimate=float(b), standard_error=math.sqrt(float(v)))
        for name, b, v in zip(names, best.beta, np.diag(beta_covariance), strict=True)
    )

    cell_residual = sufficient.cell_sy - sufficient.cell_sx @ best.beta
    school_tr = _per_school(sufficient, cell_residual * best.cell_factor)
    school_denominator = 1.0 + gamma_school * best.school_m
    school_effect = gamma_school * school_tr / school_denominator
    school_conditional = sigma2 * gamma_school / school_denominator
    school_loading = gamma_school * best.school_tx / school_denominator[:, None]
    school_result = _group_effects(
        labels=school_labels.tolist(),
        parent=[""] * school_labels.shape[0],
        pupils=sufficient.school_n,
        effect=school_effect,
        conditional_variance=school_conditional,
        beta_loading=school_loading,
        beta_covariance=beta_covariance,
        prior_variance=sigma2 * gamma_school,
        small_group_threshold=small_group_threshold,
    )

    class_result: GroupEffects | None = None
    if class_labels is not None:
        n = sufficient.cell_n
        of_school = sufficient.cell_school
        class_denominator = 1.0 + n * gamma_class
        class_effect = (
            gamma_class * (cell_residual - n * school_effect[of_school]) / class_denominator
        )
        m_cell = n / class_denominator
        class_conditional = sigma2 * (
            gamma_class
            - gamma_class**2 * (m_cell - m_cell**2 * gamma_school / school_denominator[of_school])
        )
        class_loading = (
            gamma_class
            * (sufficient.cell_sx - n[:, None] * school_loading[of_school])
            / class_denominator[:, None]
        )
        class_result = _group_effects(
            labels=class_labels[cell_class].tolist(),
            parent=school_labels[of_school].tolist(),
            pupils=n,
            effect=class_effect,
            conditional_variance=class_conditional,
            beta_loading=class_loading,
            beta_covariance=beta_covariance,
            prior_variance=sigma2 * gamma_class,
            small_group_threshold=small_group_threshold,
        )

    return ValueAddedFit(
        method=method,
        pupils=pupils,
        fixed_effects=fixed_effects,
        school_variance=sigma2 * gamma_school,
        class_variance=sigma2 * gamma_class if dimensions == 2 else None,
        residual_variance=sigma2,
        criterion=best.deviance,
        optimum=check,
        schools=school_result,
        classes=class_result,
    )


@dataclass(frozen=True)
class ProgressGroup:
    """One prior-attainment group: its pupils, expected (mean) outcome and the cap floor."""

    label: str
    pupils: int
    expected: float
    standard_deviation: float
    floor: float | None


@dataclass(frozen=True)
class ProgressScores:
    """Progress-8-style scores: per pupil (input order) and per school (label order)."""

    pupil_score: FloatArray
    pupil_score_uncapped: FloatArray
    capped: NDArray[np.bool_]
    groups: tuple[ProgressGroup, ...]
    pupil_standard_deviation: float
    school_labels: tuple[str, ...]
    school_pupils: IntArray
    school_score: FloatArray
    school_score_uncapped: FloatArray
    school_lower: FloatArray
    school_upper: FloatArray
    school_bands: tuple[Band, ...]
    school_small: NDArray[np.bool_]


def progress_scores(
    outcome: ArrayLike,
    prior_group: ArrayLike,
    schools: ArrayLike,
    *,
    divisor: float = 1.0,
    cap_standard_deviations: float | None = PROGRESS_CAP_STANDARD_DEVIATIONS,
    small_group_threshold: int = SMALL_GROUP_PUPILS,
) -> ProgressScores:
    """The Progress-8 method on any outcome.

    pupil score = (outcome − mean outcome of the pupil's prior-attainment group) / divisor
    (Progress 8 divides Attainment 8 by 10). Within each group, scores below
    −cap_standard_deviations × sd(group's scores) are raised to that floor (None: no cap).
    School score = mean of its pupils' capped scores; 95 % interval ± 1.96 × sd / √n with sd the
    standard deviation of all pupils' capped scores. Standard deviations are of the whole
    population (divide by n), as the scores of all pupils are in hand, not a sample."""
    y = np.asarray(outcome, dtype=np.float64)
    if y.ndim != 1 or y.shape[0] == 0 or not np.all(np.isfinite(y)):
        raise ValueAddedInputError(
            "成绩应为一维且无缺失值 — the outcome must be one finite value per pupil"
        )
    if not divisor > 0:
        raise ValueAddedInputError("除数必须为正 — the divisor must be positive")
    pupils = y.shape[0]
    group_labels, group_codes = _labels_and_codes(prior_group, "先前成绩分组", pupils)
    school_labels, school_codes = _labels_and_codes(schools, "学校", pupils)
    groups = group_labels.shape[0]
    group_n = np.bincount(group_codes, minlength=groups).astype(np.float64)
    group_mean = np.bincount(group_codes, weights=y, minlength=groups) / group_n
    uncapped = (y - group_mean[group_codes]) / divisor
    group_sd = np.sqrt(np.bincount(group_codes, weights=uncapped**2, minlength=groups) / group_n)
    floors: FloatArray | None = None
    score = uncapped
    if cap_standard_deviations is not None:
        floors = -cap_standard_deviations * group_sd
        score = np.maximum(uncapped, floors[group_codes])
    pupil_sd = float(np.std(score))
    school_n = np.bincount(school_codes, minlength=school_labels.shape[0]).astype(np.float64)
    school_score = np.bincount(school_codes, weights=score) / school_n
    school_uncapped = np.bincount(school_codes, weights=uncapped) / school_n
    half = PROGRESS_Z * pupil_sd / np.sqrt(school_n)
    lower, upper = school_score - half, school_score + half
    counts = school_n.astype(np.int64)
    return ProgressScores(
        pupil_score=score,
        pupil_score_uncapped=uncapped,
        capped=score > uncapped,
        groups=tuple(
            ProgressGroup(
                label=str(group_labels[g]),
                pupils=int(group_n[g]),
                expected=float(group_mean[g]),
                standard_deviation=float(group_sd[g]),
                floor=None if floors is None else float(floors[g]),
            )
            for g in range(groups)
        ),
        pupil_standard_deviation=pupil_sd,
        school_labels=tuple(school_labels.tolist()),
        school_pupils=counts,
        school_score=school_score,
        school_score_uncapped=school_uncapped,
        school_lower=lower,
        school_upper=upper,
        school_bands=_bands(lower, upper),
        school_small=counts < small_group_threshold,
    )
