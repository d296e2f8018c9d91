"""Knowledge-tracing models recover the parameters that generated seeded simulations.

Expected values are the simulation's own parameters (or hand calculations), never the code's
output. Tolerances are stated next to each check with the reason for their size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from edubrain.diagnosis import BKT, IRT1PL, PFA, BestLR, ResponseLog, load_model, roc_auc
from edubrain.diagnosis.simulate import simulate_bkt, simulate_pfa, simulate_rasch
from edubrain.errors import DiagnosisInputError

# prior, learn, forget, guess, slip — three skills of different character
TRUE_BKT = np.array(
    [
        [0.30, 0.15, 0.0, 0.20, 0.10],
        [0.50, 0.05, 0.0, 0.25, 0.08],
        [0.20, 0.30, 0.0, 0.15, 0.15],
    ]
)


@pytest.fixture(scope="module")
def bkt_simulation():
    sim = simulate_bkt(
        TRUE_BKT, n_students=2000, attempts_per_unit=15, rng=np.random.default_rng(7)
    )
    model = BKT().fit(sim.log, np.random.default_rng(11))
    return sim, model


def test_bkt_recovers_known_parameters(bkt_simulation):
    _, model = bkt_simulation
    # items are skills 0..2, so units are "0", "1", "2" in that order
    assert model.unit_keys.tolist() == ["0", "1", "2"]
    # 30,000 attempts per skill: sampling error of each parameter is ~0.01-0.02, so an
    # absolute tolerance of 0.05 leaves room without letting a wrong E-step through.
    for name, column in (("prior", 0), ("learn", 1), ("guess", 3), ("slip", 4)):
        np.testing.assert_allclose(
            model.params[:, column], TRUE_BKT[:, column], atol=0.05, err_msg=name
        )
    assert np.all(model.params[:, 2] == 0.0)  # forgetting is off by default


def test_bkt_mastery_correlates_with_true_mastery(bkt_simulation):
    sim, model = bkt_simulation
    _, after = model.trace(sim.log)
    last = np.zeros((2000, 3), dtype=np.int64)
    last[sim.log.student, sim.log.item] = np.arange(sim.log.size)  # rows are in time order
    estimated = after[last].ravel()
    assert np.corrcoef(estimated, sim.learned_final.ravel())[0, 1] >= 0.8


def test_bkt_with_forgetting_recovers_the_forget_rate():
    truth = TRUE_BKT.copy()
    truth[:, 2] = [0.05, 0.02, 0.08]
    sim = simulate_bkt(truth, n_students=2000, attempts_per_unit=15, rng=np.random.default_rng(3))
    model = BKT(forgetting=True).fit(sim.log, np.random.default_rng(4))
    np.testing.assert_allclose(model.params[:, 2], truth[:, 2], atol=0.04)
    np.testing.assert_allclose(model.params[:, 1], truth[:, 1], atol=0.06)


def test_bkt_first_prediction_is_the_prior_through_guess_and_slip():
    model = BKT()
    model.unit_keys = np.array(["0"])
    model.params = np.array([[0.4, 0.2, 0.0, 0.2, 0.1]])
    log = ResponseLog.build([0, 0], [0, 0], [1, 0], np.eye(1))
    p = model.predict(log)
    # hand calculation: P(correct_1) = 0.4·0.9 + 0.6·0.2 = 0.48;
    # after a correct answer P(L) = 0.36/0.48 = 0.75, then learning: 0.75 + 0.25·0.2 = 0.8,
    # so P(correct_2) = 0.8·0.9 + 0.2·0.2 = 0.76
    np.testing.assert_allclose(p, [0.48, 0.76])


def test_rasch_recovers_item_difficulty():
    rng = np.random.default_rng(5)
    ability = rng.standard_normal(400)
    difficulty = rng.normal(0.0, 1.0, 30)
    log = simulate_rasch(ability, difficulty, per_student=30, rng=rng)
    model = IRT1PL().fit(log, np.random.default_rng(0))
    # 400 answers per item: standard error ≈ 1/sqrt(400·0.2) ≈ 0.11 on the logit scale
    assert np.abs(model.difficulty - difficulty).mean() <= 0.2
    assert np.corrcoef(model.difficulty, difficulty)[0, 1] >= 0.97
    # 30 answers per student: ability SE ≈ 0.45, plus shrinkage towards the N(0,1) prior
    assert np.corrcoef(model.ability(np.arange(400)), ability)[0, 1] >= 0.85
    # a student not in the fit gets the prior mean
    assert model.ability(np.array([10_000]))[0] == 0.0


def test_pfa_recovers_known_coefficients():
    rng = np.random.default_rng(9)
    k = 6
    q = sparse.csr_array(np.repeat(np.eye(k), 3, axis=0))  # 3 items per skill
    easiness = np.array([-1.0, -0.5, 0.0, 0.3, 0.6, 1.0])
    attempt_w = np.array([0.1, -0.1, 0.2, 0.0, -0.2, 0.1])
    win_w = np.array([0.5, 0.7, 0.3, 0.6, 0.4, 0.8])
    log = simulate_pfa(q, easiness, attempt_w, win_w, n_students=3000, length=30, rng=rng)
    model = PFA(l2=1e-3).fit(log, np.random.default_rng(0))
    est_easy = (
        model.coef[:k] + model.intercept
    )  # every row has one skill: only the sum is identified
    est_att, est_win = model.coef[k : 2 * k], model.coef[2 * k : 3 * k]
    # 15,000 attempts per skill; the count features are correlated, so ±0.15 on each weight
    np.testing.assert_allclose(est_easy, easiness, atol=0.15)
    np.testing.assert_allclose(est_att, attempt_w, atol=0.15)
    np.testing.assert_allclose(est_win, win_w, atol=0.15)


def test_best_lr_features_by_hand():
    # items: 0 → skill 0; 1 → skills 0 and 1; student 7 answers 0 (right), 1 (wrong), 0 (right)
    q = np.array([[1, 0], [1, 1]])
    log = ResponseLog.build([7, 7, 7], [0, 1, 0], [1, 0, 1], q)
    model = BestLR()
    model.n_items, model.n_skills = 2, 2
    x = model.design(log).toarray()
    ln = np.log1p
    expected = np.array(
        [
            # item 1-hot | skills | skill attempts | skill wins | item a, item w, total a, total w
            [1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            [0, 1, 1, 1, ln(1), ln(0), ln(1), ln(0), 0, 0, ln(1), ln(1)],
            [1, 0, 1, 0, ln(2), 0, ln(1), 0, ln(1), ln(1), ln(2), ln(1)],
        ]
    )
    np.testing.assert_allclose(x, expected)


def test_roc_auc_by_hand():
    # 4 pairs (positive, negative): (0.35 > 0.1), (0.35 < 0.4), (0.8 > 0.1), (0.8 > 0.4) → 3/4
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # a tie between a positive and a negative counts one half
    assert roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)


@pytest.mark.parametrize("factory", [BKT, IRT1PL, PFA, BestLR])
def test_save_and_load_round_trip(factory, tmp_path: Path):
    rng = np.random.default_rng(1)
    log = simulate_pfa(
        sparse.csr_array(np.eye(3)), np.zeros(3), np.zeros(3), np.full(3, 0.5), 50, 8, rng
    )
    model = factory().fit(log, np.random.default_rng(2))
    path = tmp_path / "model.npz"
    model.save(path)
    again = load_model(path)
    assert type(again) is factory
    np.testing.assert_array_equal(again.predict(log), model.predict(log))
    with np.load(path, allow_pickle=False) as npz:  # plain arrays: loads without pickle
        assert "__header__" in npz.files


def test_loading_a_model_of_another_kind_is_refused(tmp_path: Path):
    log = ResponseLog.build([0, 0, 1, 1], [0, 1, 0, 1], [1, 0, 0, 1], np.eye(2))
    path = tmp_path / "irt.npz"
    IRT1PL().fit(log, np.random.default_rng(0)).save(path)
    with pytest.raises(DiagnosisInputError, match="irt1pl"):
        BKT.load(path)
    (tmp_path / "junk.npz").write_bytes(b"not a model")
    with pytest.raises(DiagnosisInputError, match="not a model file"):
        load_model(tmp_path / "junk.npz")


def test_response_log_must_be_grouped_by_student():
    with pytest.raises(DiagnosisInputError, match="grouped by student"):
        ResponseLog(
            np.array([0, 1, 0]),
            np.array([0, 0, 0]),
            np.array([1, 1, 0]),
            sparse.csr_array(np.eye(1)),
        )
    # build() sorts by student (and by an order column within a student)
    log = ResponseLog.build([1, 0, 1], [0, 0, 0], [1, 0, 0], np.eye(1), order=[5, 1, 2])
    assert log.student.tolist() == [0, 1, 1]
    assert log.correct.tolist() == [0, 0, 1]
