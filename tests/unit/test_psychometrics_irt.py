"""IRT calibration (Rasch/1PL, 2PL, GRM by MML-EM), EAP scoring and item fit.

Expected values are published ones (ltm's printed LSAT fits) or the truth of seeded simulations.

LSAT: Law School Admission Test, Section VI, 1000 examinees × 5 items, as the 32 response
patterns and their frequencies printed by Bock & Lieberman (1970), "Fitting a response model
for n dichotomously scored items", Psychometrika 35, 179–197 (Table 1); the same table is
R ltm's `LSAT` data. Item totals 924/709/553/763/870.
ltm's printed fits (Rizopoulos 2006, J. Stat. Softw. 17(5); ltm's documentation):
- `ltm(LSAT ~ z1)`: a = 0.8254, 0.7229, 0.8905, 0.6886, 0.6575;
  b = −3.3597, −1.3696, −0.2799, −1.8659, −3.1236; logLik −2466.653;
- `rasch(LSAT)` (common slope): a = 0.7551; b = −3.6153, −1.3224, −0.3176, −1.7301, −2.7802;
  logLik −2466.938;
- `rasch(LSAT, constraint = cbind(6, 1))` (slope 1): b = −2.8720, −1.0630, −0.2576, −1.3881,
  −2.2188; logLik −2473.054.
"""

from __future__ import annotations

import numpy as np
import pytest

from edubrain.errors import InvalidInputError, IrtInputError, IrtNotConvergedError, kind_of
from edubrain.psychometrics.irt import (
    IrtCalibration,
    calibrate,
    estimate_abilities,
    item_fit,
)

LSAT_PATTERNS = {  # Bock & Lieberman (1970), Table 1
    "00000": 3, "00001": 6, "00010": 2, "00011": 11, "00100": 1, "00101": 1, "00110": 3,
    "00111": 4, "01000": 1, "01001": 8, "01010": 0, "01011": 16, "01100": 0, "01101": 3,
    "01110": 2, "01111": 15, "10000": 10, "10001": 29, "10010": 14, "10011": 81, "10100": 3,
    "10101": 28, "10110": 15, "10111": 80, "11000": 16, "11001": 56, "11010": 21,
    "11011": 173, "11100": 11, "11101": 61, "11110": 28, "11111": 298,
}  # fmt: skip
LTM_2PL_A = [0.8254, 0.7229, 0.8905, 0.6886, 0.6575]
LTM_2PL_B = [-3.3597, -1.3696, -0.2799, -1.8659, -3.1236]
LTM_RASCH_COMMON_A = 0.7551
LTM_RASCH_COMMON_B = [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802]
RASCH_SLOPE_1_B = [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188]


def lsat() -> np.ndarray:
    rows = [[int(c) for c in pattern] for pattern, n in LSAT_PATTERNS.items() for _ in range(n)]
    return np.array(rows, dtype=np.float64)


def test_lsat_is_rebuilt_as_printed() -> None:
    data = lsat()
    assert data.shape == (1000, 5)
    assert data.sum(axis=0).tolist() == [924, 709, 553, 763, 870]


def test_lsat_2pl_matches_ltm() -> None:
    fit = calibrate(lsat(), "2pl")
    assert np.max(np.abs(fit.a - LTM_2PL_A)) <= 0.005
    assert np.max(np.abs(fit.difficulty - LTM_2PL_B)) <= 0.005
    assert fit.log_likelihood == pytest.approx(-2466.653, abs=0.01)
    assert fit.convergence.converged
    assert fit.convergence.max_change < fit.convergence.tolerance
    assert fit.free_parameters == 10


def test_lsat_rasch_common_slope_matches_ltm() -> None:
    fit = calibrate(lsat(), "1pl")
    assert np.allclose(fit.a, LTM_RASCH_COMMON_A, atol=0.001)
    assert np.max(np.abs(fit.difficulty - LTM_RASCH_COMMON_B)) <= 0.001
    assert fit.log_likelihood == pytest.approx(-2466.938, abs=0.01)


def test_lsat_rasch_slope_one_matches_ltm() -> None:
    fit = calibrate(lsat(), "rasch")
    assert np.all(fit.a == 1.0)
    assert np.max(np.abs(fit.difficulty - RASCH_SLOPE_1_B)) <= 0.001
    assert fit.log_likelihood == pytest.approx(-2473.054, abs=0.01)


def test_pattern_weights_equal_repeated_rows() -> None:
    patterns = np.array([[int(c) for c in p] for p in LSAT_PATTERNS], dtype=np.float64)
    weighted = calibrate(patterns, "2pl", weights=list(LSAT_PATTERNS.values()))
    assert np.max(np.abs(weighted.a - LTM_2PL_A)) <= 0.005
    assert weighted.log_likelihood == pytest.approx(-2466.653, abs=0.01)


def test_gauss_hermite_quadrature_as_ltm_gives_the_same_fit() -> None:
    fit = calibrate(lsat(), "2pl", quadrature="gauss-hermite", quadrature_points=15)
    assert np.max(np.abs(fit.a - LTM_2PL_A)) <= 0.005
    assert fit.quadrature.nodes.size == 15


def test_grm_with_two_categories_is_the_2pl() -> None:
    fit = calibrate(lsat(), "grm")
    assert np.max(np.abs(fit.a - LTM_2PL_A)) <= 0.005
    assert np.max(np.abs(fit.b[:, 0] - LTM_2PL_B)) <= 0.005


def test_rasch_eap_depends_only_on_the_total_score() -> None:
    """Under the Rasch model the total score is sufficient: equal totals, equal EAP."""
    data = lsat()
    fit = calibrate(data, "rasch")
    totals = data.sum(axis=1)
    for total in range(6):
        scores = fit.abilities.eap[totals == total]
        assert np.ptp(scores) < 1e-9
    by_total = [fit.abilities.eap[totals == t][0] for t in range(6)]
    assert np.all(np.diff(by_total) > 0)
    assert np.all((fit.abilities.posterior_sd > 0) & (fit.abilities.posterior_sd < 1))


def test_integer_responses_give_the_same_fit_as_floats() -> None:
    data = lsat()
    as_float = calibrate(data, "2pl")
    as_int = calibrate(data.astype(np.int8), "2pl")
    assert np.array_equal(as_float.a, as_int.a)
    scored = estimate_abilities(as_float, data.astype(np.int8))
    assert np.array_equal(scored.eap, as_float.abilities.eap)


def test_a_pupil_with_no_response_gets_the_prior() -> None:
    fit = calibrate(lsat(), "2pl")
    scored = estimate_abilities(fit, np.full((1, 5), np.nan))
    assert scored.eap[0] == pytest.approx(0.0, abs=1e-9)
    assert scored.posterior_sd[0] == pytest.approx(1.0, abs=1e-3)


def simulate_2pl(
    pupils: int, items: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.lognormal(0.0, 0.3, items)
    b = rng.normal(0.0, 1.0, items)
    theta = rng.normal(0.0, 1.0, pupils)
    p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
    return (rng.random((pupils, items)) < p).astype(np.float64), a, b, theta


def rmse(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((estimate - truth) ** 2)))


def test_2pl_recovers_simulated_items_and_abilities() -> None:
    """20,000 × 20, a ~ lognormal(0, 0.3), b ~ N(0, 1).

    The sampling error alone is about 0.03 at this size (RMSE falls as 1/√n: 0.067 at 5,000,
    0.019 at 50,000 for this seed), so the bound is about 1.5 times it.
    """
    data, a, b, theta = simulate_2pl(20000, 20, seed=16)
    fit = calibrate(data, "2pl")
    assert rmse(fit.a, a) <= 0.05
    assert rmse(fit.difficulty, b) <= 0.05
    assert abs(float(np.mean(fit.a - a))) <= 0.02
    assert float(np.corrcoef(fit.abilities.eap, theta)[0, 1]) >= 0.87  # √reliability ≈ 0.89
    # posterior SDs are honest standard errors: they match the real error on average
    spread = float(np.sqrt(np.mean(fit.abilities.posterior_sd**2)))
    assert rmse(fit.abilities.eap, theta) == pytest.approx(spread, rel=0.1)


def test_2pl_recovers_items_when_a_third_of_responses_are_missing() -> None:
    data, a, b, _ = simulate_2pl(15000, 20, seed=17)
    rng = np.random.default_rng(3)
    data[rng.random(data.shape) < 1 / 3] = np.nan  # not administered, at random
    fit = calibrate(data, "2pl")
    assert rmse(fit.a, a) <= 0.06
    assert rmse(fit.difficulty, b) <= 0.06
    assert np.all(np.isfinite(fit.abilities.eap))


def test_grm_recovers_simulated_graded_items() -> None:
    rng = np.random.default_rng(18)
    pupils, items = 10000, 8
    a = rng.lognormal(0.0, 0.25, items)
    b = np.sort(rng.normal(0.0, 1.0, (items, 3)), axis=1)  # 4 categories, 0..3
    theta = rng.normal(0.0, 1.0, pupils)
    at_least = 1.0 / (1.0 + np.exp(-a[None, :, None] * (theta[:, None, None] - b[None])))
    scores = (rng.random((pupils, items))[:, :, None] < at_least).sum(axis=2)
    fit = calibrate(scores.astype(np.float64), "grm")
    assert fit.b.shape == (items, 3)
    assert rmse(fit.a, a) <= 0.06
    assert rmse(fit.b, b) <= 0.08
    assert np.all(np.diff(fit.b, axis=1) > 0)


def test_item_fit_flags_the_item_that_does_not_follow_the_model() -> None:
    data, _, _, theta = simulate_2pl(5000, 12, seed=19)
    rng = np.random.default_rng(4)
    # item 12 is right for a quarter of pupils whatever their ability (guessing)
    guessed = 0.25 + 0.75 / (1.0 + np.exp(-2.0 * (theta - 1.0)))
    data[:, 11] = (rng.random(5000) < guessed).astype(np.float64)
    fit = calibrate(data, "2pl")
    result = item_fit(fit, data, groups=10)
    assert int(np.argmax(result.statistic)) == 11
    assert result.p_value[11] < 0.001
    assert np.median(result.p_value[:11]) > 0.05
    assert np.all(result.df == 8)


@pytest.mark.parametrize("score", [1.0, 0.0])
def test_an_item_without_variance_is_refused_by_number(score: float) -> None:
    data = lsat()
    data[:, 2] = score
    with pytest.raises(IrtInputError, match=r"items \[3\] have no variance"):
        calibrate(data, "2pl")


def test_bad_scores_are_refused_with_a_clear_kind() -> None:
    data = lsat()
    data[0, 1] = 2.0
    with pytest.raises(IrtInputError, match=r"items \[2\] score above 1") as raised:
        calibrate(data, "2pl")
    assert kind_of(raised.value) is InvalidInputError
    data[0, 1] = 0.5
    with pytest.raises(IrtInputError, match="whole scores"):
        calibrate(data, "2pl")
    with pytest.raises(IrtInputError, match="pupils × items"):
        calibrate(np.array([1.0, 0.0]), "2pl")
    with pytest.raises(IrtInputError, match="unknown IRT model"):
        calibrate(lsat(), "3pl")  # type: ignore[arg-type]


def test_a_paper_taken_by_too_few_pupils_is_refused() -> None:
    data = lsat()[[0, 40, 400, 900, 999, 300, 500, 20, 60, 700]]  # 10 pupils, 5 items
    with pytest.raises(IrtInputError, match="too few pupils for an IRT 2pl calibration"):
        calibrate(data, "2pl")  # 10 parameters need 50 pupils


def test_a_graded_item_skipping_a_score_is_refused() -> None:
    scores = np.tile(np.array([[0.0, 1.0], [1.0, 0.0], [3.0, 2.0], [0.0, 1.0]]), (20, 1))
    with pytest.raises(IrtInputError, match=r"item 1 never scores \[2\]"):
        calibrate(scores, "grm")


def test_no_convergence_is_an_error_not_a_silent_result() -> None:
    with pytest.raises(IrtNotConvergedError, match="did not converge: 3 EM iterations"):
        calibrate(lsat(), "2pl", max_iterations=3)
    fit = calibrate(lsat(), "2pl", max_iterations=3, require_convergence=False)
    assert isinstance(fit, IrtCalibration)
    assert not fit.convergence.converged
    assert fit.convergence.iterations == 3


def test_a_perfectly_separating_item_diverges_with_a_clear_error() -> None:
    data, *_ = simulate_2pl(400, 6, seed=20)
    data[:, 5] = (data[:, :5].sum(axis=1) >= 3).astype(np.float64)  # a Guttman item
    with pytest.raises(IrtNotConvergedError, match=r"items \[6\]"):
        calibrate(data, "2pl")
