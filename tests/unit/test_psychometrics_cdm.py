"""DINA and G-DINA: FrcSub against the reference fit, and recovery of a seeded simulation.

FrcSub (Tatsuoka's fraction subtraction data, 536 pupils × 20 items × 8 attributes) is read from
`../shared/datasets/frcsub/` beside the repository, never copied into it. Its README gives a DINA
fit computed for the dataset (EM over 256 profiles, saturated class prior, start guess = slip =
0.2, stop at |ΔlogLik| < 1e-8): a regression target, not a published number; no published
DINA/G-DINA output on these 20 items with that Q-matrix was found (docs/psychometrics.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edubrain.errors import InvalidInputError
from edubrain.psychometrics.cdm import (
    DiagnosisModelInputError,
    attribute_profiles,
    fit_dina,
    fit_gdina,
)

FRCSUB = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets" / "frcsub"

# README "Reference fit computed here"
REFERENCE_LOGLIK = -4402.288
REFERENCE_GUESS = [
    0.030, 0.016, 0.000, 0.224, 0.301, 0.099, 0.025, 0.445, 0.297, 0.029,
    0.066, 0.128, 0.013, 0.062, 0.031, 0.109, 0.038, 0.119, 0.022, 0.013,
]  # fmt: skip
REFERENCE_SLIP = [
    0.089, 0.041, 0.134, 0.110, 0.172, 0.044, 0.196, 0.181, 0.247, 0.214,
    0.082, 0.041, 0.335, 0.060, 0.105, 0.110, 0.138, 0.138, 0.240, 0.157,
]  # fmt: skip
REFERENCE_PREVALENCE = [0.581, 0.769, 0.717, 0.689, 0.603, 0.792, 0.811, 0.818]


def frcsub() -> tuple[np.ndarray, np.ndarray]:
    if not (FRCSUB / "frcsub_responses.csv").exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"FrcSub is missing at {FRCSUB} (CI must have ../shared/datasets)")
        pytest.skip("FrcSub not present beside the repository")
    responses = np.loadtxt(FRCSUB / "frcsub_responses.csv", delimiter=",", skiprows=1)[:, 1:]
    q_matrix = np.loadtxt(FRCSUB / "frcsub_qmatrix.csv", delimiter=",", skiprows=1, dtype=str)
    return responses, q_matrix[:, 1:].astype(int)


def test_frcsub_descriptives_match_the_readme() -> None:
    responses, q_matrix = frcsub()
    assert responses.shape == (536, 20) and q_matrix.shape == (20, 8)
    assert responses.mean() == pytest.approx(0.5339, abs=5e-5)
    assert q_matrix.sum(axis=0).tolist() == [3, 13, 3, 5, 8, 2, 19, 3]


def test_dina_on_frcsub_reproduces_the_reference_fit() -> None:
    responses, q_matrix = frcsub()
    fit = fit_dina(responses, q_matrix)
    assert fit.converged
    assert fit.log_likelihood == pytest.approx(REFERENCE_LOGLIK, abs=5e-4)
    # 2 × 20 item parameters + 255 free class probabilities; AIC 9394.58, BIC 10658.39
    assert fit.parameters == 295
    assert fit.aic == pytest.approx(9394.58, abs=0.01)
    assert fit.bic == pytest.approx(10658.39, abs=0.01)
    assert fit.guess is not None and fit.slip is not None
    # printed to 3 decimals: within half a unit of the last digit
    np.testing.assert_allclose(fit.guess, REFERENCE_GUESS, atol=5e-4 + 1e-9)
    np.testing.assert_allclose(fit.slip, REFERENCE_SLIP, atol=5e-4 + 1e-9)
    np.testing.assert_allclose(fit.attribute_prevalence, REFERENCE_PREVALENCE, atol=5e-4 + 1e-9)
    # per-pupil outputs: EAP mastery is a probability; MAP profiles are rows of the 2^8 profiles
    assert fit.mastery.shape == (536, 8) and fit.map_profiles.shape == (536, 8)
    assert ((fit.mastery >= 0) & (fit.mastery <= 1)).all()
    np.testing.assert_allclose(fit.posterior.sum(axis=1), 1.0)
    # a pupil with all 20 right masters every attribute; one with none masters almost nothing
    perfect = np.flatnonzero(responses.sum(axis=1) == 20)[0]
    assert fit.map_profiles[perfect].tolist() == [1] * 8


def test_gdina_on_frcsub_nests_dina() -> None:
    responses, q_matrix = frcsub()
    dina = fit_dina(responses, q_matrix)
    gdina = fit_gdina(responses, q_matrix, max_iterations=5000)
    assert gdina.converged
    # Σ 2^K_j over the items' 3 2 2 4 4 1 3 1 1 4 3 2 4 2 2 2 3 4 5 4 attributes = 190 item
    # parameters, + 255 class probabilities
    assert gdina.parameters == 190 + 255
    # the saturated model contains DINA: its likelihood is at least DINA's
    assert gdina.log_likelihood > dina.log_likelihood
    # δ reproduces the group probabilities: P(all required mastered) = Σ δ
    for probabilities, delta in zip(gdina.group_success, gdina.delta, strict=True):
        assert delta.sum() == pytest.approx(probabilities[-1])
        assert delta[0] == pytest.approx(probabilities[0])


def simulate(
    seed: int, pupils: int, model: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A known Q-matrix (every attribute alone on 2 items, then pairs and triples)."""
    rng = np.random.default_rng(seed)
    attributes = 4
    single = np.vstack([np.eye(attributes, dtype=int)] * 2)
    pairs = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1], [1, 0, 1, 0],
                      [0, 1, 0, 1], [1, 1, 1, 0], [0, 1, 1, 1]])  # fmt: skip
    q_matrix = np.vstack([single, pairs, pairs])
    n_items = q_matrix.shape[0]
    profiles = attribute_profiles(attributes)
    truth = profiles[rng.integers(0, len(profiles), pupils)]
    guess = rng.uniform(0.05, 0.25, n_items)
    slip = rng.uniform(0.05, 0.25, n_items)
    if model == "DINA":
        eta = (truth @ q_matrix.T) == q_matrix.sum(axis=1)
        p = np.where(eta, 1 - slip, guess)
    else:  # additive in the share of required attributes mastered (a G-DINA special case)
        share = (truth @ q_matrix.T) / q_matrix.sum(axis=1)
        p = guess + (1 - slip - guess) * share
    responses = (rng.random((pupils, n_items)) < p).astype(float)
    return responses, q_matrix, truth, guess, slip


def test_dina_recovers_a_seeded_simulation() -> None:
    responses, q_matrix, truth, guess, slip = simulate(2026, 3000, "DINA")
    fit = fit_dina(responses, q_matrix)
    assert fit.converged and fit.guess is not None and fit.slip is not None
    # 24 items, 3,000 pupils: a guess rests on ≥ 750 non-masters (SE ≤ 0.016)
    assert np.abs(fit.guess - guess).max() < 0.05
    assert np.abs(fit.slip - slip).max() < 0.05
    assert np.sqrt(np.mean((fit.guess - guess) ** 2)) < 0.02
    assert np.sqrt(np.mean((fit.slip - slip) ** 2)) < 0.02
    attribute_accuracy = (fit.map_profiles == truth).mean()
    profile_accuracy = (fit.map_profiles == truth).all(axis=1).mean()
    assert attribute_accuracy > 0.93
    assert profile_accuracy > 0.78


def test_gdina_recovers_an_additive_simulation() -> None:
    responses, q_matrix, truth, guess, slip = simulate(7, 3000, "additive")
    fit = fit_gdina(responses, q_matrix)
    assert fit.converged
    # the lowest group of an item is its guess, the highest its 1 − slip
    lowest = np.array([p[0] for p in fit.group_success])
    highest = np.array([p[-1] for p in fit.group_success])
    assert np.abs(lowest - guess).max() < 0.06
    assert np.abs(highest - (1 - slip)).max() < 0.06
    assert (fit.map_profiles == truth).mean() > 0.85


def test_missing_responses_are_left_out_and_predicted() -> None:
    responses, q_matrix, *_ = simulate(3, 1000, "DINA")
    held = responses.copy()
    rng = np.random.default_rng(4)
    hidden = rng.random(held.shape) < 0.2
    held[hidden] = np.nan
    fit = fit_dina(held, q_matrix)
    predicted = fit.predict(held)
    assert predicted.shape == responses.shape
    # held-out answers: predictions better than the item means alone (Brier score)
    base = np.nanmean(held, axis=0)[None, :].repeat(len(held), axis=0)
    brier_fit = np.mean((predicted[hidden] - responses[hidden]) ** 2)
    brier_base = np.mean((base[hidden] - responses[hidden]) ** 2)
    assert brier_fit < 0.8 * brier_base


@pytest.mark.parametrize(
    ("responses", "q_matrix", "message"),
    [
        (np.ones((30, 2)), [[1, 0], [0, 0]], "item 1 requires no attribute"),
        (np.ones((30, 2)), [[1, 0], [1, 0]], "attribute 1 is required by no item"),
        (np.full((30, 2), 2.0), [[1, 0], [0, 1]], "1 \\(right\\), 0 \\(wrong\\)"),
        (np.ones((30, 3)), [[1, 0], [0, 1]], "pupils × 2 items"),
        (np.ones((5, 2)), [[1, 0], [0, 1]], "5 pupils"),
        (np.ones((30, 2)), [[1, 2], [0, 1]], "only 0 and 1"),
        (np.ones((30, 1)), [[1] * 13], "at most 12"),
        (np.column_stack([np.ones(30), np.full(30, np.nan)]), [[1, 0], [0, 1]], "item 1 was"),
    ],
)
def test_bad_input_is_an_invalid_input_error(
    responses: np.ndarray, q_matrix: list[list[int]], message: str
) -> None:
    with pytest.raises(DiagnosisModelInputError, match=message) as caught:
        fit_dina(responses, q_matrix)
    assert isinstance(caught.value, InvalidInputError)


def test_a_fit_stopped_early_says_so() -> None:
    responses, q_matrix, *_ = simulate(1, 200, "DINA")
    fit = fit_dina(responses, q_matrix, max_iterations=3)
    assert not fit.converged and fit.iterations == 3


def test_gdina_with_one_attribute_per_item_is_dina() -> None:
    # with K_j = 1 both models have two groups per item (not mastered / mastered): same model,
    # same start (0.2, 0.8), so the same likelihood and parameters
    rng = np.random.default_rng(12)
    q_matrix = np.vstack([np.eye(3, dtype=int)] * 4)
    truth = attribute_profiles(3)[rng.integers(0, 8, 400)]
    p = np.where(truth @ q_matrix.T == 1, 0.85, 0.15)
    responses = (rng.random(p.shape) < p).astype(float)
    dina, gdina = fit_dina(responses, q_matrix), fit_gdina(responses, q_matrix)
    assert gdina.log_likelihood == pytest.approx(dina.log_likelihood, abs=1e-9)
    assert gdina.parameters == dina.parameters == 2 * 12 + 7
    assert dina.guess is not None and dina.slip is not None
    np.testing.assert_allclose([g[0] for g in gdina.group_success], dina.guess, atol=1e-9)
    np.testing.assert_allclose([1 - g[1] for g in gdina.group_success], dina.slip, atol=1e-9)
    # EAP mastery is the posterior-weighted profile
    np.testing.assert_allclose(dina.mastery, dina.posterior @ dina.profiles, atol=1e-12)
