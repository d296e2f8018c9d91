"""Seeded simulators that draw response logs from known parameters.

Used to check that each model recovers what generated the data (tests, docs). Every function
takes the numpy `Generator` it draws from; the same generator state gives the same log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import expit

from edubrain.diagnosis.responses import BoolArray, FloatArray, ResponseLog


@dataclass(frozen=True)
class SimulatedBKT:
    log: ResponseLog
    learned_before: BoolArray  # true latent state at each attempt, before answering
    learned_final: BoolArray  # students × units, after each student's last attempt


def simulate_bkt(
    params: FloatArray,
    n_students: int,
    attempts_per_unit: int,
    rng: np.random.Generator,
) -> SimulatedBKT:
    """Every student practises every unit `attempts_per_unit` times, units interleaved.

    `params` is units × 5 (prior, learn, forget, guess, slip). Item u exercises skill u only.
    """
    k = params.shape[0]
    prior, learn, forget, guess, slip = (params[:, i] for i in range(5))
    units = np.tile(np.repeat(np.arange(k), attempts_per_unit), (n_students, 1))
    units = rng.permuted(units, axis=1)  # each student's own interleaving
    state = rng.random((n_students, k)) < prior[None, :]
    length = units.shape[1]
    correct = np.empty_like(units)
    before = np.empty(units.shape, dtype=bool)
    who = np.arange(n_students)
    for t in range(length):
        u = units[:, t]
        s = state[who, u]
        before[:, t] = s
        p = np.where(s, 1 - slip[u], guess[u])
        correct[:, t] = rng.random(n_students) < p
        move = rng.random(n_students)
        state[who, u] = np.where(s, move >= forget[u], move < learn[u])
    log = ResponseLog(
        np.repeat(who, length).astype(np.int64),
        units.ravel().astype(np.int64),
        correct.ravel().astype(np.int64),
        sparse.csr_array(np.eye(k)),
    )
    return SimulatedBKT(log, before.ravel(), state.copy())


def simulate_rasch(
    ability: FloatArray, difficulty: FloatArray, per_student: int, rng: np.random.Generator
) -> ResponseLog:
    """Each student answers `per_student` items drawn without replacement."""
    n, m = ability.size, difficulty.size
    items = np.argsort(rng.random((n, m)), axis=1)[:, :per_student]
    p = expit(ability[:, None] - difficulty[items])
    correct = rng.random(p.shape) < p
    return ResponseLog(
        np.repeat(np.arange(n), per_student).astype(np.int64),
        items.ravel().astype(np.int64),
        correct.ravel().astype(np.int64),
        sparse.csr_array(np.eye(m)),
    )


def simulate_pfa(
    q_matrix: sparse.csr_array,
    easiness: FloatArray,
    attempt_weight: FloatArray,
    win_weight: FloatArray,
    n_students: int,
    length: int,
    rng: np.random.Generator,
    intercept: float = 0.0,
) -> ResponseLog:
    """PFA in Gervet et al.'s encoding: logit P = b + Σ_k∈skills(item) easiness_k
    + attempt_weight_k·log(1+prior attempts on k) + win_weight_k·log(1+prior successes on k)."""
    n_items = q_matrix.shape[0]
    q = q_matrix.toarray() > 0
    attempts = np.zeros((n_students, q.shape[1]))
    wins = np.zeros((n_students, q.shape[1]))
    items = rng.integers(0, n_items, (n_students, length))
    correct = np.empty((n_students, length), dtype=np.int64)
    for t in range(length):
        mask = q[items[:, t]]
        z = intercept + (
            mask * (easiness + attempt_weight * np.log1p(attempts) + win_weight * np.log1p(wins))
        ).sum(axis=1)
        c = rng.random(n_students) < expit(z)
        correct[:, t] = c
        attempts += mask
        wins += mask * c[:, None]
    return ResponseLog(
        np.repeat(np.arange(n_students), length).astype(np.int64),
        items.ravel().astype(np.int64),
        correct.ravel(),
        sparse.csr_array(q.astype(np.float64)),
    )


__all__ = ["SimulatedBKT", "simulate_bkt", "simulate_pfa", "simulate_rasch"]
