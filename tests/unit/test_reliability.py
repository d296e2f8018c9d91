"""McDonald's ω against covariance matrices with a known one-factor structure (the loadings and
unique variances are chosen, so ω is known exactly), and its failure cases."""

from __future__ import annotations

import numpy as np
import pytest

from edubrain.psychometrics.reliability import omega_total


def _moments(loadings: list[float], uniques: list[float]) -> tuple[np.ndarray, np.ndarray, float]:
    lam, psi = np.array(loadings), np.array(uniques)
    cov = np.outer(lam, lam) + np.diag(psi)
    return np.diag(cov), cov.sum(axis=1), float(cov.sum())


@pytest.mark.parametrize(
    ("loadings", "uniques"),
    [
        ([0.5, 0.5, 0.5, 0.5], [0.3, 0.3, 0.3, 0.3]),  # tau-equivalent: ω = α
        ([0.2, 0.3, 0.4, 2.5, 3.0], [0.2, 0.2, 0.25, 4.0, 5.0]),  # choice items and essays
        ([0.45] * 20 + [1.8, 2.2], [0.2] * 20 + [3.0, 3.5]),
    ],
)
def test_recovers_omega_of_a_one_factor_matrix(loadings: list[float], uniques: list[float]) -> None:
    v, c, total = _moments(loadings, uniques)
    expected = sum(loadings) ** 2 / (sum(loadings) ** 2 + sum(uniques))
    assert omega_total(v, c, total) == pytest.approx(expected, abs=1e-10)


def test_omega_exceeds_alpha_when_loadings_differ() -> None:
    loadings, uniques = [0.2, 0.3, 0.4, 2.5, 3.0], [0.2, 0.2, 0.25, 4.0, 5.0]
    v, c, total = _moments(loadings, uniques)
    k = len(v)
    alpha = k / (k - 1) * (1 - v.sum() / total)
    # by hand: L = 6.4, Σλ² = 15.54, Σψ = 9.65, var(total) = 6.4² + 9.65 = 50.61
    # → ω = 40.96 / 50.61 = 0.8093; α = 5/4 × (1 − (15.54 + 9.65) / 50.61) = 0.6278
    assert total == pytest.approx(50.61)
    assert omega_total(v, c, total) == pytest.approx(40.96 / 50.61, abs=1e-10)
    assert alpha == pytest.approx(1.25 * (1 - 25.19 / 50.61), abs=1e-10)


def test_no_solution_is_none() -> None:
    assert omega_total([1.0, 1.0], [1.5, 1.5], 3.0) is None  # two items
    assert omega_total([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], 3.0) is None  # nothing shared
    assert omega_total([1.0, 1.0, 1.0], [0.5, 1.5, 1.5], 3.0) is None  # negative sharing
    assert omega_total([1.0, 1.0, 1.0], [1.5, 1.5, 1.5], 0.0) is None
