"""Linking through mixed-format anchors (`psychometrics.linking_mixed`).

- With 0/1 anchors only it is the 2PL linking of `psychometrics.linking` (itself checked against
  Kolen and Brennan's published constants): the same four constants.
- With graded anchors, a new form that is the old one exactly moved by θ_old = A·θ_new + B
  gives back A and B by every method (the criteria are zero there; mean/mean and mean/sigma
  are exact by construction).
"""

from __future__ import annotations

import numpy as np
import pytest

from edubrain.errors import IrtInputError
from edubrain.psychometrics.linking import METHODS, AnchorItems, link
from edubrain.psychometrics.linking_mixed import MixedAnchors, link_mixed


def test_dichotomous_anchors_give_the_2pl_linking_constants() -> None:
    rng = np.random.default_rng(3)
    a_old, b_old = rng.lognormal(0, 0.3, 8), rng.normal(0, 1, 8)
    # the new form: moved by A = 1.1, B = −0.3, with estimation noise
    a_new = a_old * 1.1 + rng.normal(0, 0.05, 8)
    b_new = (b_old + 0.3) / 1.1 + rng.normal(0, 0.08, 8)
    for method in METHODS:
        plain = link(AnchorItems.of(a_old, b_old), AnchorItems.of(a_new, b_new), method)  # type: ignore[arg-type]
        mixed = link_mixed(
            MixedAnchors.of(a_old, [[b] for b in b_old]),
            MixedAnchors.of(a_new, [[b] for b in b_new]),
            method,  # type: ignore[arg-type]
        )
        assert pytest.approx((plain.A, plain.B), abs=1e-6) == (mixed.A, mixed.B), method


def test_graded_anchors_moved_exactly_give_back_the_constants() -> None:
    old = MixedAnchors.of(
        [1.2, 0.8, 1.5, 1.0],
        [[-0.5], [0.3], [-1.0, 0.0, 1.1], [-0.4, 0.9]],
    )
    A, B = 1.25, 0.4  # noqa: N806 - θ_old = A·θ_new + B
    new = old.moved(1.0 / A, -B / A)  # the same items on the new form's scale
    for method in METHODS:
        found = link_mixed(old, new, method)  # type: ignore[arg-type]
        assert pytest.approx((A, B), abs=1e-5) == (found.A, found.B), method


def test_anchors_that_do_not_match_are_refused() -> None:
    one = MixedAnchors.of([1.0, 1.0], [[0.0], [0.5, 1.0]])
    other = MixedAnchors.of([1.0, 1.0], [[0.0], [0.5]])
    with pytest.raises(IrtInputError, match="same categories"):
        link_mixed(one, other)
    with pytest.raises(IrtInputError, match="increasing"):
        MixedAnchors.of([1.0], [[1.0, 0.5]])
    lonely = MixedAnchors.of([1.0], [[0.0]])
    with pytest.raises(IrtInputError, match="do not connect"):
        link_mixed(lonely, lonely)
