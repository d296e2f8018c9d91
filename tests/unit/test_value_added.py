"""Value-added: the multilevel model against lme4's published Exam fit, a dense-matrix reference,
seeded simulations with known school effects, and a Progress-8 worked example by hand."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from edubrain.errors import InvalidInputError, ValueAddedInputError
from edubrain.psychometrics.value_added import (
    BAND_LABELS_ZH,
    Band,
    ValueAddedFit,
    fit_value_added,
    progress_scores,
)

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
EXAM = DATASETS / "exam_mlmrev" / "exam.csv"


def _exam() -> dict[str, NDArray[np.str_]]:
    if not EXAM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Exam data set is missing: {EXAM}")
        pytest.skip(f"the Exam data set is not here: {EXAM}")
    rows = EXAM.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    cells = np.array([row.split(",") for row in rows[1:]])
    return {name: cells[:, i] for i, name in enumerate(header)}


def _fit_exam_em1(
    exam: dict[str, NDArray[np.str_]], *, male_reference: bool = False
) -> ValueAddedFit:
    if male_reference:  # Em2: sex relevelled to M, schgend to girls
        covariates = np.column_stack(
            [exam["sex"] == "F", exam["schgend"] == "mixed", exam["schgend"] == "boys"]
        )
        names = ["sexF", "schgendmixed", "schgendboys"]
    else:
        covariates = np.column_stack(
            [exam["sex"] == "M", exam["schgend"] == "boys", exam["schgend"] == "girls"]
        )
        names = ["sexM", "schgendboys", "schgendgirls"]
    return fit_value_added(
        exam["normexam"].astype(float),
        exam["standLRT"].astype(float),
        exam["school"],
        covariates=covariates.astype(float),
        covariate_names=names,
        prior_names=["standLRT"],
    )


def test_exam_reml_reproduces_the_printed_lme4_fit() -> None:
    # mlmRev vignette (MlmSoftRev.pdf p. 4), Em1:
    # lmer(normexam ~ standLRT + sex + schgend + (1|school), Exam)
    fit = _fit_exam_em1(_exam())
    printed = {
        "(Intercept)": -0.001049,
        "standLRT": 0.559754,
        "sexM": -0.167392,
        "schgendboys": 0.177691,
        "schgendgirls": 0.158997,
    }
    for name, value in printed.items():
        assert abs(fit.fixed(name).estimate - value) < 1e-4
        # printed to 6 decimals: ours rounds to the same digits
        assert round(fit.fixed(name).estimate, 6) == pytest.approx(value, abs=1.1e-6)
    assert round(fit.school_sd, 3) == 0.293
    assert round(fit.residual_sd, 3) == 0.750
    # "REML criterion at convergence: 9347.674"; the exact optimum is 9347.67346 (the dataset
    # README and statsmodels' 9347.673463): lme4 stopped 0.0005 above it, so within 1e-3.
    assert abs(fit.criterion - 9347.674) < 1e-3
    assert fit.criterion == pytest.approx(9347.673463, abs=2e-6)
    assert fit.optimum.converged
    assert fit.optimum.newton_improvement < 1e-6
    assert fit.pupils == 4059
    assert len(fit.schools.labels) == 65


def test_exam_relevelled_gives_the_printed_em2_fixed_effects() -> None:
    fit = _fit_exam_em1(_exam(), male_reference=True)
    printed = {
        "(Intercept)": -0.009444,
        "standLRT": 0.559754,
        "sexF": 0.167392,
        "schgendmixed": -0.158997,
        "schgendboys": 0.018694,
    }
    for name, value in printed.items():
        assert abs(fit.fixed(name).estimate - value) < 1e-4
    assert fit.criterion == pytest.approx(9347.673463, abs=2e-6)


def test_exam_ml_reproduces_mlwin_and_the_reference_numbers() -> None:
    exam = _exam()
    fit = fit_value_added(
        exam["normexam"].astype(float),
        exam["standLRT"].astype(float),
        exam["school"],
        method="ml",
        prior_names=["standLRT"],
    )
    # anchors §4: intercept 0.0024, slope 0.5634, σ²ᵤ 0.0921, σ²ₑ 0.5657, −2LL 9357.243;
    # MLwiN User's Guide prints 0.002 / 0.563 / 0.092 / 0.566 / 9357.242.
    assert fit.fixed("(Intercept)").estimate == pytest.approx(0.0024, abs=5e-5)
    assert fit.fixed("standLRT").estimate == pytest.approx(0.5634, abs=5e-5)
    assert fit.school_variance == pytest.approx(0.0921, abs=5e-5)
    assert fit.residual_variance == pytest.approx(0.5657, abs=5e-5)
    assert round(fit.criterion, 3) == 9357.243
    assert abs(fit.criterion - 9357.242) < 2e-3
    assert fit.optimum.converged


def test_exam_school_effects_have_bands_from_their_intervals() -> None:
    fit = _fit_exam_em1(_exam())
    schools = fit.schools
    for lower, upper, band in zip(schools.lower, schools.upper, schools.bands, strict=True):
        expected = Band.ABOVE if lower > 0 else Band.BELOW if upper < 0 else Band.IN_LINE
        assert band is expected
    assert set(schools.bands) == {Band.ABOVE, Band.IN_LINE, Band.BELOW}
    assert BAND_LABELS_ZH[Band.IN_LINE] == "与预期相当"
    # the prediction-error variance adds β̂'s uncertainty to the conditional variance
    assert np.all(schools.prediction_error_variance > schools.conditional_variance)
    # school 54 has 8 pupils (README): flagged small at the default threshold of 10
    index = schools.labels.index("54")
    assert schools.pupils[index] == 8
    assert bool(schools.small[index])
    assert int(schools.small.sum()) == int((schools.pupils < 10).sum())
    # EB estimates of a random intercept sum to ~0 weighted by 1/shrinkage-free (here: mean ≈ 0)
    assert abs(float(schools.effect.mean())) < 0.05


def _dense_reference(
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    blocks: list[tuple[NDArray[np.float64], float]],
    residual_variance: float,
    reml: bool,
) -> tuple[float, list[NDArray[np.float64]], list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """−2 log-likelihood, BLUPs, conditional and prediction-error variances from full matrices."""
    n, p = x.shape
    v = residual_variance * np.eye(n)
    for z, variance in blocks:
        v += variance * z @ z.T
    v_inv = np.linalg.inv(v)
    xvx = x.T @ v_inv @ x
    beta = np.linalg.solve(xvx, x.T @ v_inv @ y)
    r = y - x @ beta
    quad = float(r @ v_inv @ r)
    logdet_v = np.linalg.slogdet(v)[1]
    if reml:
        value = logdet_v + np.linalg.slogdet(xvx)[1] + quad + (n - p) * math.log(2 * math.pi)
    else:
        value = logdet_v + quad + n * math.log(2 * math.pi)
    p_matrix = v_inv - v_inv @ x @ np.linalg.solve(xvx, x.T @ v_inv)
    blups, conditional, pev = [], [], []
    for z, variance in blocks:
        blups.append(variance * z.T @ v_inv @ r)
        conditional.append(variance - variance**2 * np.diag(z.T @ v_inv @ z))
        pev.append(variance - variance**2 * np.diag(z.T @ p_matrix @ z))
    return float(value), blups, conditional, pev


def _nested_data(seed: int) -> dict[str, NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    school, klass = [], []
    for s in range(7):
        for c in range(int(rng.integers(1, 4))):
            size = int(rng.integers(3, 12))
            school += [s] * size
            klass += [c] * size
    school_a, class_a = np.array(school), np.array(klass)
    n = school_a.shape[0]
    u = rng.normal(0, 0.4, 7)
    v = rng.normal(0, 0.3, 30)
    prior = rng.normal(0, 1, n)
    female = rng.integers(0, 2, n).astype(float)
    y = 0.6 * prior + 0.1 * female + u[school_a] + v[school_a * 3 + class_a] + rng.normal(0, 0.7, n)
    return {"y": y, "prior": prior, "female": female, "school": school_a, "class": class_a}


@pytest.mark.parametrize("method", ["reml", "ml"])
def test_nested_fit_equals_the_dense_matrix_computation(method: str) -> None:
    data = _nested_data(8)  # both variance components inside (0, ∞)
    fit = fit_value_added(
        data["y"],
        data["prior"],
        data["school"],
        covariates=data["female"],
        covariate_names=["female"],
        classes=data["class"],
        method="reml" if method == "reml" else "ml",
    )
    n = data["y"].shape[0]
    x = np.column_stack([np.ones(n), data["prior"], data["female"]])
    school_labels = np.unique(data["school"])
    z_school = (data["school"][:, None] == school_labels[None, :]).astype(float)
    cell_keys = np.unique(data["school"] * 10 + data["class"])
    z_class = ((data["school"] * 10 + data["class"])[:, None] == cell_keys[None, :]).astype(float)
    assert fit.class_variance is not None
    blocks = [(z_school, fit.school_variance), (z_class, fit.class_variance)]
    value, blups, conditional, pev = _dense_reference(
        data["y"], x, blocks, fit.residual_variance, method == "reml"
    )
    assert fit.criterion == pytest.approx(value, abs=1e-8)
    assert fit.classes is not None
    np.testing.assert_allclose(fit.schools.effect, blups[0], atol=1e-10)
    np.testing.assert_allclose(fit.classes.effect, blups[1], atol=1e-10)
    np.testing.assert_allclose(fit.schools.conditional_variance, conditional[0], atol=1e-10)
    np.testing.assert_allclose(fit.classes.conditional_variance, conditional[1], atol=1e-10)
    np.testing.assert_allclose(fit.schools.prediction_error_variance, pev[0], atol=1e-10)
    np.testing.assert_allclose(fit.classes.prediction_error_variance, pev[1], atol=1e-10)
    # the optimum: moving any variance component by 2 % makes the dense criterion worse
    assert fit.optimum.converged
    for which in range(3):
        for factor in (0.98, 1.02):
            variances = [fit.school_variance, fit.class_variance, fit.residual_variance]
            variances[which] *= factor
            if variances[which] == 0:
                continue
            moved, *_ = _dense_reference(
                data["y"],
                x,
                [(z_school, variances[0]), (z_class, variances[1])],
                variances[2],
                method == "reml",
            )
            assert moved > value


def test_a_variance_at_the_boundary_is_exactly_zero_and_reported() -> None:
    data = _nested_data(11)  # the school variance's optimum is 0
    fit = fit_value_added(
        data["y"],
        data["prior"],
        data["school"],
        covariates=data["female"],
        covariate_names=["female"],
        classes=data["class"],
    )
    assert fit.school_variance == 0.0
    assert fit.optimum.at_boundary == (True, False)
    assert fit.optimum.gradient[0] >= 0
    assert fit.optimum.converged
    np.testing.assert_array_equal(fit.schools.effect, np.zeros(7))
    assert set(fit.schools.bands) == {Band.IN_LINE}


def _simulate(
    rng: np.random.Generator, schools: int, median_size: float
) -> tuple[dict[str, NDArray[np.float64]], NDArray[np.float64]]:
    """Anchors §4's protocol: log-normal school sizes, u ~ N(0, 0.3²), prior ~ N(0, 1) plus a
    school intake shift, y = 0.6·prior + 0.1·female + u + ε with σ = 0.75."""
    sizes = np.maximum(2, np.round(rng.lognormal(math.log(median_size), 0.5, schools))).astype(int)
    school = np.repeat(np.arange(schools), sizes)
    n = school.shape[0]
    u = rng.normal(0, 0.3, schools)
    shift = rng.normal(0, 0.5, schools)
    prior = rng.normal(0, 1, n) + shift[school]
    female = rng.integers(0, 2, n).astype(float)
    y = 0.6 * prior + 0.1 * female + u[school] + rng.normal(0, 0.75, n)
    return {"y": y, "prior": prior, "female": female, "school": school.astype(float)}, u


def _fit_simulated(data: dict[str, NDArray[np.float64]]) -> ValueAddedFit:
    return fit_value_added(
        data["y"],
        data["prior"],
        data["school"].astype(int),
        covariates=data["female"],
        covariate_names=["female"],
    )


def test_simulated_school_effects_correlate_with_the_truth() -> None:
    rng = np.random.default_rng(2026)
    data, u = _simulate(rng, schools=150, median_size=200)
    fit = _fit_simulated(data)
    order = np.array([int(label) for label in fit.schools.labels])
    corr = float(np.corrcoef(fit.schools.effect, u[order])[0, 1])
    assert corr >= 0.97
    assert fit.fixed("prior").estimate == pytest.approx(0.6, abs=0.01)
    assert fit.fixed("female").estimate == pytest.approx(0.1, abs=0.03)
    assert fit.residual_sd == pytest.approx(0.75, abs=0.01)
    assert fit.school_sd == pytest.approx(0.3, abs=0.06)
    assert fit.optimum.converged


def test_interval_coverage_over_200_replications() -> None:
    # 200 replications × 30 schools (median 30 pupils, log-normal): 6,000 intervals, so the
    # coverage's standard error is about 0.3 points and 93–97 % is a ±7 SE band.
    rng = np.random.default_rng(16)
    covered = total = 0
    narrower_covered = 0
    shrinkage_small, shrinkage_large = [], []
    for _ in range(200):
        data, u = _simulate(rng, schools=30, median_size=30)
        fit = _fit_simulated(data)
        truth = u[np.array([int(label) for label in fit.schools.labels])]
        covered += int(np.sum((fit.schools.lower <= truth) & (truth <= fit.schools.upper)))
        half = 0.8 * (fit.schools.upper - fit.schools.lower) / 2
        narrower_covered += int(np.sum(np.abs(fit.schools.effect - truth) <= half))
        total += truth.shape[0]
        if fit.school_variance > 0:
            small = fit.schools.pupils < 20
            shrinkage_small += fit.schools.shrinkage[small].tolist()
            shrinkage_large += fit.schools.shrinkage[fit.schools.pupils >= 50].tolist()
    coverage = covered / total
    assert 0.93 <= coverage <= 0.97, coverage
    # the check can fail: intervals only 20 % narrower miss the band
    assert narrower_covered / total < 0.93
    # shrinkage is visible: small schools keep less of their own evidence
    assert np.mean(shrinkage_small) < np.mean(shrinkage_large) - 0.1


def test_progress_worked_example_by_hand() -> None:
    # Two prior-attainment groups, two schools, Attainment-8-like outcomes, divisor 10, cap at
    # 1 sd (to make the cap bite in a small table; the default is 2.3 sd).
    #   group A: 30 40 50 60 20 → mean 40, scores −1 0 1 2 −2, sd √((1+0+1+4+4)/5) = √2
    #            floor −√2: the pupil at −2 is capped to −√2
    #   group B: 70 50 60 → mean 60, scores 1 −1 0, sd √(2/3); the pupil at −1 capped to −√(2/3)
    #   school X: A30 A40 B70 A20 → (−1 + 0 + 1 − √2)/4 = −√2/4 = −0.353553 (uncapped −0.5)
    #   school Y: A50 A60 B50 B60 → (1 + 2 − √(2/3) + 0)/4 = 0.545876 (uncapped 0.5)
    #   pupil sd of the 8 capped scores: sum 3 − √2 − √(2/3), sum of squares 9 + 2/3
    #            → mean 0.0961612, sd √(9.666667/8 − 0.0961612²) = 1.095028
    #   interval ± 1.96 × 1.095028 / √4 = ± 1.073127
    outcome = [30, 40, 70, 20, 50, 60, 50, 60]
    group = ["A", "A", "B", "A", "A", "A", "B", "B"]
    school = ["X", "X", "X", "X", "Y", "Y", "Y", "Y"]
    result = progress_scores(outcome, group, school, divisor=10, cap_standard_deviations=1.0)
    root2, root23 = math.sqrt(2), math.sqrt(2 / 3)
    np.testing.assert_allclose(result.pupil_score_uncapped, [-1, 0, 1, -2, 1, 2, -1, 0], atol=1e-12)
    np.testing.assert_allclose(result.pupil_score, [-1, 0, 1, -root2, 1, 2, -root23, 0], atol=1e-12)
    assert result.capped.tolist() == [False, False, False, True, False, False, True, False]
    assert [(g.label, g.pupils, g.expected) for g in result.groups] == [
        ("A", 5, 40.0),
        ("B", 3, 60.0),
    ]
    assert result.groups[0].floor == pytest.approx(-root2, abs=1e-12)
    assert result.groups[1].floor == pytest.approx(-root23, abs=1e-12)
    assert result.school_labels == ("X", "Y")
    np.testing.assert_allclose(result.school_score, [-0.3535534, 0.5458759], atol=1e-7)
    np.testing.assert_allclose(result.school_score_uncapped, [-0.5, 0.5], atol=1e-12)
    assert result.pupil_standard_deviation == pytest.approx(1.095028, abs=1e-6)
    np.testing.assert_allclose(
        result.school_lower, [-0.3535534 - 1.073127, 0.5458759 - 1.073127], atol=1e-6
    )
    np.testing.assert_allclose(
        result.school_upper, [-0.3535534 + 1.073127, 0.5458759 + 1.073127], atol=1e-6
    )
    assert result.school_bands == (Band.IN_LINE, Band.IN_LINE)
    assert result.school_small.tolist() == [True, True]  # 4 pupils < 10


def test_progress_without_cap_and_bands() -> None:
    # one group (mean 50): school P scores +10 each, school Q −10 each, 20 pupils per school
    outcome = [60.0] * 20 + [40.0] * 20
    result = progress_scores(
        outcome, ["g"] * 40, ["P"] * 20 + ["Q"] * 20, cap_standard_deviations=None
    )
    # sd of ±10 = 10; half width 1.96 × 10 / √20 = 4.3827
    assert result.pupil_standard_deviation == pytest.approx(10.0)
    assert result.school_upper[0] - result.school_score[0] == pytest.approx(4.382693, abs=1e-6)
    assert result.school_bands == (Band.ABOVE, Band.BELOW)
    assert not result.capped.any()


def test_bad_input_is_a_clear_invalid_input_error() -> None:
    with pytest.raises(ValueAddedInputError):
        fit_value_added([1.0, 2.0, float("nan"), 3.0], [0.0, 1.0, 2.0, 3.0], ["a", "b", "c", "c"])
    with pytest.raises(ValueAddedInputError):
        fit_value_added([1.0, 2.0, 3.0], [0.0, 1.0], ["a", "b", "c"])
    with pytest.raises(InvalidInputError):  # two schools only
        fit_value_added(np.arange(10.0), np.arange(10.0) ** 2, ["a"] * 5 + ["b"] * 5)
    rng = np.random.default_rng(1)
    constant = np.ones(60)
    with pytest.raises(ValueAddedInputError, match="collinear"):
        fit_value_added(
            rng.normal(size=60),
            rng.normal(size=60),
            np.repeat(["a", "b", "c"], 20),
            covariates=constant,
            covariate_names=["one"],
        )
