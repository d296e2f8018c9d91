"""Cognitive diagnosis of an exam paper (`modules.exams.mastery`): a paper simulated here from a
known Q-matrix, known attribute profiles and known DINA guess/slip (the generator's exam truth
carries no attributes, so the truth is made in the test, with fixed seeds).

The expected classification accuracy is not a guess: with the generating parameters known, the
best any classifier can do on this paper is computed exactly by enumerating every response
pattern (2^13) against every profile (2^3), with the DINA likelihood written out here — the
Bayes accuracy of classifying each attribute by its posterior probability. A fitted model
estimates the parameters, so it may fall a little short of that optimum, never far: the test
allows 0.02 below it and 0.02 above it. The optimum on this paper is 0.967 (exact); sampling
luck on 2,000 pupils × 3 attributes moves an accuracy of 0.967 by an SD of ≈ 0.002, more since
a pupil's attributes share items, so 0.02 is several SDs (seed 20260 gives 0.969).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from edubrain.diagnosis.diagnose import group_means, most_missed
from edubrain.modules.exams.analysis import Paper
from edubrain.modules.exams.mastery import (
    MAX_ATTRIBUTES,
    PaperNotDiagnosableError,
    choose_attributes,
    diagnose_paper,
    dichotomise,
)

CODES = ("M7.1.1", "M7.1.2", "M7.2.1")
# items × attributes: three single-attribute items each, the three pairs, all three, and two
# more single-attribute items: every attribute identified by items of its own.
Q = np.array(
    [[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1],
     [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]
)  # fmt: skip
GUESS = np.array([0.10, 0.15, 0.20, 0.12, 0.18, 0.10, 0.15, 0.20, 0.12, 0.10, 0.15, 0.12, 0.10])
SLIP = np.array([0.10, 0.08, 0.15, 0.12, 0.10, 0.08, 0.10, 0.12, 0.15, 0.10, 0.12, 0.08, 0.10])
PUPILS = 2000


def _simulate(seed: int) -> tuple[Paper, np.ndarray]:
    """A paper of 13 items (odd items objective, 2 points, all or nothing; even items
    constructed, 6 points, a right answer scoring 4–6 and a wrong one 0–3) and the pupils'
    true profiles (each attribute mastered with probability 0.5, independently)."""
    rng = np.random.default_rng(seed)
    alpha = (rng.random((PUPILS, 3)) < 0.5).astype(int)
    eta = (alpha @ Q.T) == Q.sum(axis=1)[None, :]
    p = np.where(eta, 1 - SLIP[None, :], GUESS[None, :])
    right = rng.random(p.shape) < p
    maxima = np.where(np.arange(13) % 2 == 0, 2.0, 6.0)
    good = rng.integers(4, 7, right.shape).astype(float)  # 4, 5 or 6 of 6: ≥ 60 %
    bad = rng.integers(0, 4, right.shape).astype(float)  # 0–3 of 6: < 60 %
    scores = np.where(maxima[None, :] == 2.0, right * 2.0, np.where(right, good, bad)).astype(
        np.float64
    )
    tags = tuple(tuple(c for c, q in zip(CODES, row, strict=True) if q) for row in Q)
    paper = Paper(
        exam_id="E1",
        maximum=float(maxima.sum()),
        item_nos=tuple(range(1, 14)),
        item_maxima=maxima,
        item_types=tuple("objective" if m == 2 else "subjective" for m in maxima),
        knowledge_points=tags,
        students=tuple(f"S{i:05d}" for i in range(PUPILS)),
        scores=scores,
    )
    return paper, alpha


def _bayes_accuracy() -> float:
    """The expected share of attributes classified right by the posterior (> 0.5) under the
    true parameters and the true prior (uniform over the 8 profiles): exact, by enumeration."""
    profiles = np.array(list(itertools.product((0, 1), repeat=3)))
    patterns = np.array(list(itertools.product((0, 1), repeat=13)), dtype=float)
    eta = (profiles @ Q.T) == Q.sum(axis=1)[None, :]
    p = np.where(eta, 1 - SLIP[None, :], GUESS[None, :])  # profiles × items
    like = np.exp(patterns @ np.log(p).T + (1 - patterns) @ np.log(1 - p).T)  # patterns × prof
    joint = like / profiles.shape[0]
    posterior = joint / joint.sum(axis=1, keepdims=True)
    mastered = posterior @ profiles > 0.5  # patterns × attributes
    right = mastered[:, None, :] == profiles[None, :, :].astype(bool)  # patterns × prof × attr
    return float((joint[:, :, None] * right).sum() / 3)


def test_dichotomise_at_sixty_percent_of_the_item() -> None:
    scores = np.array([[0.0, 3.6, 2.0], [2.0, 3.5, 0.0]])
    assert dichotomise(scores, np.array([2.0, 6.0, 2.0])).tolist() == [[0, 1, 1], [1, 0, 0]]


def test_mastery_classification_and_dina_recovery_on_a_simulated_paper() -> None:
    paper, alpha = _simulate(seed=20260)
    found = diagnose_paper(paper)
    assert found.level == "point" and found.attributes == CODES
    # DINA generated the data: BIC must prefer it to G-DINA's 12 extra parameters
    assert found.chosen == "DINA"
    assert all(m.converged for m in found.models)
    expected = _bayes_accuracy()
    assert 0.9 < expected < 0.99  # the paper is informative but not perfect
    accuracy = float(((found.mastery > 0.5) == alpha.astype(bool)).mean())
    assert expected - 0.02 <= accuracy <= expected + 0.02
    # guess and slip within 0.06 of the truth item by item (about three standard errors for
    # the three-attribute item's slip, ≈ 250 masters) and 0.025 on average
    assert found.guess is not None and found.slip is not None
    assert np.abs(found.guess - GUESS).max() < 0.06
    assert np.abs(found.slip - SLIP).max() < 0.06
    assert np.abs(found.guess - GUESS).mean() < 0.025
    assert np.abs(found.slip - SLIP).mean() < 0.025


def _paper(tags: tuple[tuple[str, ...], ...], pupils: int, seed: int = 1) -> Paper:
    rng = np.random.default_rng(seed)
    n = len(tags)
    return Paper(
        exam_id="E2",
        maximum=float(n),
        item_nos=tuple(range(1, n + 1)),
        item_maxima=np.ones(n),
        item_types=(None,) * n,
        knowledge_points=tags,
        students=tuple(f"S{i}" for i in range(pupils)),
        scores=(rng.random((pupils, n)) < 0.6).astype(float),
    )


def test_too_many_attributes_are_refused_with_a_reason() -> None:
    chapters = tuple((f"M{c}.1",) for c in range(1, MAX_ATTRIBUTES + 2))
    with pytest.raises(PaperNotDiagnosableError, match=f"多于{MAX_ATTRIBUTES}个"):
        diagnose_paper(_paper(chapters * 2, pupils=5000))


def test_too_few_pupils_for_the_attributes_are_refused() -> None:
    six = tuple((f"M{c}.1",) for c in range(1, 7))
    with pytest.raises(PaperNotDiagnosableError, match=r"需要至少128名学生.*只有100名"):
        diagnose_paper(_paper(six * 2, pupils=100))


def test_points_roll_up_to_chapters_when_the_pupils_are_too_few() -> None:
    tags = tuple((f"M7.{c}.{p}",) for c in (1, 2) for p in range(1, 5))  # 8 points, 2 chapters
    assert choose_attributes(tags, 40) == ("chapter", ("M7.1", "M7.2"))
    assert choose_attributes(tags, 512) == ("point", tuple(sorted(t[0] for t in tags)))


def test_a_point_on_no_item_is_named() -> None:
    with pytest.raises(PaperNotDiagnosableError, match=r"M7\.9\.9没有出现在任何试题上"):
        diagnose_paper(_paper((("M7.1.1",), ("M7.1.2",)) * 3, 200), declared=("M7.1.1", "M7.9.9"))


def test_a_fit_that_does_not_converge_gives_no_mastery_and_says_so() -> None:
    paper, _ = _simulate(seed=7)
    found = diagnose_paper(paper, max_iterations=2)
    assert found.chosen is None and found.mastery.shape == (0, 3)
    assert any("没有收敛" in n for n in found.notices)


def test_group_means_and_most_missed_by_hand() -> None:
    mastery = np.array([[0.2, 0.8], [0.4, 0.6], [1.0, 0.0]])
    groups, means, counts = group_means(mastery, np.array(["b", "a", "b"]))
    assert groups.tolist() == ["a", "b"] and counts.tolist() == [1, 2]
    assert np.allclose(means, [[0.4, 0.6], [0.6, 0.4]])
    right = np.array([[1, 0, np.nan], [0, 0, 1], [1, 0, 0.0]])
    missed = most_missed(right, count=5)
    # item 1: 3 of 3 wrong; item 0: 1 of 3; item 2: 1 of the 2 who answered
    assert [(m.item, m.wrong, m.answered) for m in missed] == [(1, 3, 3), (2, 1, 2), (0, 1, 3)]


def test_single_attribute_items_make_the_two_models_one() -> None:
    """Items 1–9 need one attribute each: G-DINA is DINA there, fitted once, reported for both."""
    paper, _ = _simulate(seed=11)
    nine = Paper(
        paper.exam_id, float(paper.item_maxima[:9].sum()), paper.item_nos[:9],
        paper.item_maxima[:9], paper.item_types[:9], paper.knowledge_points[:9],
        paper.students, paper.scores[:, :9],
    )  # fmt: skip
    found = diagnose_paper(nine)
    dina, gdina = found.models
    assert (dina.model, gdina.model) == ("DINA", "G-DINA")
    assert gdina.log_likelihood == dina.log_likelihood and gdina.parameters == dina.parameters
    # DINA's parameters: 2 per item and 2^3 − 1 for the class prior
    assert dina.parameters == 2 * 9 + 7
    assert found.chosen == "DINA"
    assert any("同一个模型" in n for n in found.notices)
