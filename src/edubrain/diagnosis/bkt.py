"""Bayesian Knowledge Tracing (Corbett & Anderson 1995), fitted by EM, vectorised in numpy.

One two-state hidden Markov model per *unit* (a knowledge point, or — as in pyBKT and the
published ASSISTments runs — an item's combination of knowledge points), with parameters

    prior  P(L0)           learned before the first attempt
    learn  P(T)            unlearned → learned between attempts
    forget P(F)            learned → unlearned (0 unless `forgetting=True`)
    guess  P(G)            correct while unlearned
    slip   P(S)            wrong while learned

A *sequence* is one student's attempts on one unit, in time order. Every sequence of every unit
is run through forward-backward at once: sequences are sorted by length (longest first) so the
sequences still running at step t are a prefix, and each step is a handful of numpy operations
over that prefix. The M-step is a weighted `bincount` per unit. EM restarts (`n_starts`, drawn
from the generator passed in) run one after another and each unit keeps the start with its
highest likelihood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

import numpy as np
import numpy.typing as npt

from edubrain.diagnosis.base import read_model, write_model
from edubrain.diagnosis.responses import FloatArray, IntArray, ResponseLog
from edubrain.errors import DiagnosisInputError

PARAMETERS = ("prior", "learn", "forget", "guess", "slip")
_EPS = 1e-6


@dataclass
class _Sequences:
    """Attempts rearranged time-major: step t holds the first n_t sequences' t-th attempts."""

    rows: IntArray  # time-major position → row of the log
    offsets: IntArray  # step t occupies rows[offsets[t]:offsets[t+1]]
    unit: IntArray  # per sequence (longest first)
    obs: npt.NDArray[np.bool_]  # time-major correctness
    unit_tm: IntArray  # time-major unit of each attempt
    student: IntArray  # per sequence

    @property
    def n_sequences(self) -> int:
        return int(self.unit.size)

    def step(self, t: int) -> slice:
        return slice(int(self.offsets[t]), int(self.offsets[t + 1]))


def _arrange(student: IntArray, unit: IntArray, correct: IntArray) -> _Sequences:
    n = student.size
    order = np.lexsort((np.arange(n), student, unit))
    s, u = student[order], unit[order]
    first = np.r_[True, (s[1:] != s[:-1]) | (u[1:] != u[:-1])] if n else np.zeros(0, bool)
    seq_start = np.flatnonzero(first)
    lengths = np.diff(np.r_[seq_start, n])
    by_length = np.argsort(-lengths, kind="stable")
    seq_start, lengths = seq_start[by_length], lengths[by_length]
    t_max = int(lengths[0]) if lengths.size else 0
    # n_t = number of sequences longer than t, for t = 0..t_max-1
    active = lengths.size - np.searchsorted(lengths[::-1], np.arange(t_max), side="right")
    offsets = np.r_[0, np.cumsum(active)].astype(np.int64)
    seq_of = np.concatenate([np.arange(k) for k in active]) if t_max else np.zeros(0, np.int64)
    step_of = np.repeat(np.arange(t_max), active)
    rows = order[seq_start[seq_of] + step_of]
    return _Sequences(
        rows=rows.astype(np.int64),
        offsets=offsets,
        unit=u[seq_start].astype(np.int64),
        obs=correct[rows].astype(bool),
        unit_tm=unit[rows].astype(np.int64),
        student=s[seq_start].astype(np.int64),
    )


@dataclass
class _Pass:
    """Per-attempt results of one forward(-backward) pass, time-major."""

    predicted: FloatArray  # P(L_t | o_<t)
    filtered: FloatArray  # P(L_t | o_<=t)
    scale: FloatArray  # P(o_t | o_<t)
    smoothed: FloatArray = field(default_factory=lambda: np.zeros(0))  # P(L_t | all o)
    learn_events: FloatArray = field(default_factory=lambda: np.zeros(0))  # E[U_{t-1}→L_t]
    stay_unlearned: FloatArray = field(default_factory=lambda: np.zeros(0))  # E[U_{t-1}→U_t]
    forget_events: FloatArray = field(default_factory=lambda: np.zeros(0))  # E[L_{t-1}→U_t]
    stay_learned: FloatArray = field(default_factory=lambda: np.zeros(0))  # E[L_{t-1}→L_t]


def _forward(seq: _Sequences, params: FloatArray) -> _Pass:
    prior, learn, forget, guess, slip = (params[:, i][seq.unit] for i in range(5))
    m = seq.rows.size
    predicted, filtered, scale = np.empty(m), np.empty(m), np.empty(m)
    p = prior.copy()
    for t in range(seq.offsets.size - 1):
        sl = seq.step(t)
        n = sl.stop - sl.start
        o = seq.obs[sl]
        pl = p[:n]
        e_l = np.where(o, 1 - slip[:n], slip[:n])
        e_u = np.where(o, guess[:n], 1 - guess[:n])
        c = pl * e_l + (1 - pl) * e_u
        f = pl * e_l / c
        predicted[sl], filtered[sl], scale[sl] = pl, f, c
        p[:n] = f * (1 - forget[:n]) + (1 - f) * learn[:n]
    return _Pass(predicted, filtered, scale)


def _forward_backward(seq: _Sequences, params: FloatArray) -> _Pass:
    out = _forward(seq, params)
    _, learn, forget, guess, slip = (params[:, i][seq.unit] for i in range(5))
    m = seq.rows.size
    smoothed = np.empty(m)
    learn_ev, stay_u, forget_ev, stay_l = (np.zeros(m) for _ in range(4))
    b_l = np.ones(seq.n_sequences)
    b_u = np.ones(seq.n_sequences)
    for t in range(seq.offsets.size - 2, -1, -1):
        sl = seq.step(t)
        n = sl.stop - sl.start
        f = out.filtered[sl]
        g_l = f * b_l[:n]
        smoothed[sl] = g_l / (g_l + (1 - f) * b_u[:n])
        if t == 0:
            break
        prev = seq.step(t - 1)
        f_prev = out.filtered[prev][:n]
        o = seq.obs[sl]
        e_l = np.where(o, 1 - slip[:n], slip[:n])
        e_u = np.where(o, guess[:n], 1 - guess[:n])
        c = out.scale[sl]
        bl, bu = b_l[:n], b_u[:n]
        learn_ev[sl] = (1 - f_prev) * learn[:n] * e_l * bl / c
        stay_u[sl] = (1 - f_prev) * (1 - learn[:n]) * e_u * bu / c
        forget_ev[sl] = f_prev * forget[:n] * e_u * bu / c
        stay_l[sl] = f_prev * (1 - forget[:n]) * e_l * bl / c
        new_l = ((1 - forget[:n]) * e_l * bl + forget[:n] * e_u * bu) / c
        new_u = (learn[:n] * e_l * bl + (1 - learn[:n]) * e_u * bu) / c
        b_l[:n], b_u[:n] = new_l, new_u
    out.smoothed = smoothed
    out.learn_events, out.stay_unlearned = learn_ev, stay_u
    out.forget_events, out.stay_learned = forget_ev, stay_l
    return out


class BKT:
    """Standard BKT per unit; EM with random restarts; optional forgetting.

    `max_guess` / `max_slip` keep each unit's model from flipping into a degenerate one in which
    "learned" students are the ones who fail (the usual BKT identifiability guard).
    """

    kind: ClassVar[str] = "bkt"

    def __init__(
        self,
        *,
        forgetting: bool = False,
        n_starts: int = 3,
        max_iter: int = 100,
        tol: float = 1e-5,
        max_guess: float = 0.5,
        max_slip: float = 0.5,
    ) -> None:
        self.forgetting = forgetting
        self.n_starts = n_starts
        self.max_iter = max_iter
        self.tol = tol
        self.max_guess = max_guess
        self.max_slip = max_slip
        self.unit_keys: npt.NDArray[np.str_] = np.zeros(0, dtype=np.str_)
        self.params: FloatArray = np.zeros((0, 5))
        self.fallback: FloatArray = np.array([0.5, 0.1, 0.0, 0.2, 0.1])
        self.log_likelihood: float = float("nan")
        self.iterations: int = 0

    # ---- units -------------------------------------------------------------------------
    def _row_units(self, log: ResponseLog, keys: npt.NDArray[np.str_]) -> IntArray:
        """Index of each row's unit in `keys` (−1 when the unit is unknown)."""
        item_keys = log.skill_combination_keys()
        lookup = {k: i for i, k in enumerate(keys.tolist())}
        item_unit = np.array([lookup.get(k, -1) for k in item_keys.tolist()], dtype=np.int64)
        return item_unit[log.item] if log.size else np.zeros(0, dtype=np.int64)

    # ---- fitting -----------------------------------------------------------------------
    def fit(self, log: ResponseLog, rng: np.random.Generator) -> Self:
        if log.size == 0:
            raise DiagnosisInputError("cannot fit BKT on an empty response log")
        item_keys = log.skill_combination_keys()
        used = np.unique(item_keys[log.item])
        self.unit_keys = used
        unit = self._row_units(log, used)
        seq = _arrange(log.student, unit, log.correct)
        k = used.size
        best = np.zeros((k, 5))
        best_ll = np.full(k, -np.inf)
        for _ in range(max(1, self.n_starts)):
            params, ll_unit, iters = self._em(seq, k, self._initial(k, rng))
            better = ll_unit > best_ll
            best[better], best_ll[better] = params[better], ll_unit[better]
            self.iterations = max(self.iterations, iters)
        self.params = best
        self.log_likelihood = float(best_ll.sum())
        counts = np.bincount(unit, minlength=k).astype(np.float64)
        self.fallback = (best * counts[:, None]).sum(axis=0) / counts.sum()
        return self

    def _initial(self, k: int, rng: np.random.Generator) -> FloatArray:
        init = np.empty((k, 5))
        init[:, 0] = rng.uniform(0.2, 0.8, k)
        init[:, 1] = rng.uniform(0.05, 0.3, k)
        init[:, 2] = rng.uniform(0.01, 0.1, k) if self.forgetting else 0.0
        init[:, 3] = rng.uniform(0.05, 0.3, k)
        init[:, 4] = rng.uniform(0.05, 0.2, k)
        return init

    def _em(
        self, seq: _Sequences, k: int, params: FloatArray
    ) -> tuple[FloatArray, FloatArray, int]:
        first = np.zeros(seq.rows.size, dtype=bool)
        first[seq.step(0)] = True
        ut = seq.unit_tm
        obs = seq.obs.astype(np.float64)
        previous = -np.inf
        iters = 0

        def per_unit(w: FloatArray) -> FloatArray:
            out: FloatArray = np.bincount(ut, weights=w, minlength=k).astype(np.float64)
            return out

        while iters < self.max_iter:
            iters += 1
            fb = _forward_backward(seq, params)
            ll = float(np.log(fb.scale).sum())
            g_l, g_u = fb.smoothed, 1 - fb.smoothed
            new = params.copy()
            starts = per_unit(first.astype(np.float64))
            new[:, 0] = per_unit(np.where(first, g_l, 0.0)) / np.maximum(starts, _EPS)
            new[:, 1] = per_unit(fb.learn_events) / np.maximum(
                per_unit(fb.learn_events + fb.stay_unlearned), _EPS
            )
            if self.forgetting:
                new[:, 2] = per_unit(fb.forget_events) / np.maximum(
                    per_unit(fb.forget_events + fb.stay_learned), _EPS
                )
            new[:, 3] = per_unit(g_u * obs) / np.maximum(per_unit(g_u), _EPS)
            new[:, 4] = per_unit(g_l * (1 - obs)) / np.maximum(per_unit(g_l), _EPS)
            new[:, :2] = np.clip(new[:, :2], _EPS, 1 - _EPS)
            new[:, 2] = np.clip(new[:, 2], 0.0, 1 - _EPS)
            new[:, 3] = np.clip(new[:, 3], _EPS, self.max_guess)
            new[:, 4] = np.clip(new[:, 4], _EPS, self.max_slip)
            params = new
            if ll - previous < self.tol * seq.rows.size:
                break
            previous = ll
        fb = _forward(seq, params)
        ll_unit = np.bincount(ut, weights=np.log(fb.scale), minlength=k).astype(np.float64)
        return params, ll_unit, iters

    # ---- inference ---------------------------------------------------------------------
    def _unit_params(self, log: ResponseLog) -> tuple[IntArray, FloatArray]:
        unit = self._row_units(log, self.unit_keys)
        table = np.vstack([self.params, self.fallback[None, :]])
        return np.where(unit < 0, self.params.shape[0], unit), table

    def trace(self, log: ResponseLog) -> tuple[FloatArray, FloatArray]:
        """Per row: P(learned before the attempt) and P(learned after seeing it)."""
        unit, table = self._unit_params(log)
        seq = _arrange(log.student, unit, log.correct)
        fb = _forward(seq, table)
        before, after = np.empty(log.size), np.empty(log.size)
        before[seq.rows] = fb.predicted
        after[seq.rows] = fb.filtered
        return before, after

    def predict(self, log: ResponseLog) -> FloatArray:
        unit, table = self._unit_params(log)
        before, _ = self.trace(log)
        guess, slip = table[unit, 3], table[unit, 4]
        out: FloatArray = before * (1 - slip) + (1 - before) * guess
        return out

    # ---- persistence -------------------------------------------------------------------
    def save(self, path: Path) -> None:
        settings = {
            "forgetting": self.forgetting,
            "n_starts": self.n_starts,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "max_guess": self.max_guess,
            "max_slip": self.max_slip,
            "log_likelihood": self.log_likelihood,
            "parameters": list(PARAMETERS),
        }
        write_model(
            path,
            self.kind,
            settings,
            {"unit_keys": self.unit_keys, "params": self.params, "fallback": self.fallback},
        )

    @classmethod
    def load(cls, path: Path) -> Self:
        header, arrays = read_model(path, cls.kind)
        s = header["settings"]
        model = cls(
            forgetting=s["forgetting"],
            n_starts=s["n_starts"],
            max_iter=s["max_iter"],
            tol=s["tol"],
            max_guess=s["max_guess"],
            max_slip=s["max_slip"],
        )
        model.unit_keys = arrays["unit_keys"].astype(np.str_)
        model.params = arrays["params"].astype(np.float64)
        model.fallback = arrays["fallback"].astype(np.float64)
        model.log_likelihood = float(s["log_likelihood"])
        return model

    def parameter_table(self) -> dict[str, FloatArray]:
        """Fitted parameters by name, one value per unit (`unit_keys` order)."""
        return {name: self.params[:, i] for i, name in enumerate(PARAMETERS)}
