"""The exam score matrix pivoted in Arrow/NumPy, and the item parameters' standard errors.

The matrix: rows are the distinct pupils in sorted order, columns the paper's items in its
order; a score without a value and an item the paper does not list stay 0 (as the reports have
always read them), whatever the order of the rows and however they are cut into batches.

The standard errors (`psychometrics.irt_errors`) are checked against what they estimate: over
replications of a seeded 2PL paper (1,000 pupils × 6 items), the mean standard error of each
parameter is the standard deviation of its estimates. With 40 replications that SD is itself
known to about ±11 % (1/√(2·39)), so the ratio of the two, averaged over the 12 parameters,
is required within 0.8–1.25.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from edubrain.modules.exams.matrix import pivot_batches, pivot_scores
from edubrain.psychometrics.irt import calibrate
from edubrain.psychometrics.irt_errors import item_errors


def test_rows_become_the_matrix_whatever_their_order_and_batches() -> None:
    rows = pa.table(
        {
            "student_number": ["S3", "S1", "S2", "S1", "S3", "S2", "S1", "S2"],
            "item_no": [2, 5, 2, 2, 5, 9, 7, 5],
            "score": [1.5, 4.0, None, 0.5, 3.0, 8.0, 2.0, 1.0],
        }
    )
    pupils, matrix = pivot_scores((2, 5, 7), rows)
    assert pupils == ("S1", "S2", "S3")
    # S2's item 2 has no value (0); S2's item 9 is not on the paper (left out)
    expected = np.array([[0.5, 4.0, 2.0], [0.0, 1.0, 0.0], [1.5, 3.0, 0.0]])
    assert matrix == pytest.approx(expected)
    batches = rows.to_batches(max_chunksize=3)
    assert len(batches) == 3
    again = pivot_batches((2, 5, 7), pa.array(["S1", "S2", "S3"]), batches)
    assert again == pytest.approx(expected)
    nobody, empty = pivot_scores((1,), rows.slice(0, 0))
    assert nobody == () and empty.shape == (0, 1)


def test_standard_errors_are_the_spread_of_the_estimates() -> None:
    rng = np.random.default_rng(7)
    a = np.array([0.8, 1.0, 1.2, 1.5, 0.9, 1.3])
    b = np.array([-1.0, -0.4, 0.0, 0.5, 1.0, -1.5])
    estimates, errors = [], []
    for _ in range(40):
        theta = rng.normal(size=1000)
        p = 1.0 / (1.0 + np.exp(-a * (theta[:, None] - b)))
        x = (rng.random(p.shape) < p).astype(np.int64)
        fit = calibrate(x, "2pl", tolerance=1e-5)
        se = item_errors(fit, x)
        estimates.append(np.concatenate([fit.a, fit.b[:, 0]]))
        errors.append(np.concatenate([se.se_a, se.se_b[:, 0]]))
    ratio = np.mean(np.mean(errors, axis=0) / np.std(estimates, axis=0, ddof=1))
    print(f"mean SE / SD of estimates: {ratio:.3f}")
    assert 0.8 < ratio < 1.25, ratio
