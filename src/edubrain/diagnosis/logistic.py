"""The logistic family of knowledge-tracing models: IRT-1PL, PFA and Best-LR.

All three are a logistic regression of correctness on a sparse feature row per attempt; they
differ only in the features (Gervet, Koedinger, Schneider & Mitchell 2020, "When is deep
learning the best approach to knowledge tracing?", JEDM 12(3)):

    IRT-1PL   item one-hot (difficulty) + student one-hot (ability)
    PFA       skill many-hot + per-skill log(1+prior attempts) and log(1+prior successes)
    Best-LR   PFA's features + item one-hot + item-level and total log(1+prior attempts /
              successes)

"Prior" counts only the same student's earlier rows, so a prediction never sees its own label.
The fit is L2-penalised maximum likelihood (penalty ½·l2·‖w‖², intercept unpenalised; l2 = 1
is scikit-learn's default C = 1), solved with SciPy's L-BFGS-B on the sparse design matrix
with an analytic gradient. An IRT student ability penalised this way is a N(0, 1/l2) prior;
students not seen in the fit get the prior mean 0, so on new students IRT-1PL predicts from
item difficulty alone (as in Gervet et al.'s table).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
from scipy import sparse
from scipy.special import expit

from edubrain.diagnosis.base import read_model, write_model
from edubrain.diagnosis.responses import FloatArray, IntArray, ResponseLog, prior_counts
from edubrain.errors import DiagnosisInputError


def fit_logistic(
    x: sparse.csr_array,
    y: FloatArray,
    *,
    l2: float = 1.0,
    max_iter: int = 1000,
    tol: float = 1e-6,
) -> tuple[FloatArray, float, int]:
    """Coefficients, intercept and iterations of an L2-penalised logistic regression."""
    from scipy import optimize  # slow to import; only fitting needs it

    n, d = x.shape
    xt = sparse.csr_array(x.T)

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        w, b = theta[:d], theta[d]
        z = x @ w + b
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * l2 * float(w @ w)
        r = expit(z) - y
        grad = np.empty(d + 1)
        grad[:d] = xt @ r + l2 * w
        grad[d] = r.sum()
        return loss, grad

    result = optimize.minimize(
        objective,
        np.zeros(d + 1),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol * max(1, n) ** 0.5, "ftol": 1e-12},
    )
    theta = np.asarray(result.x, dtype=np.float64)
    return theta[:d], float(theta[d]), int(result.nit)


def _one_hot(index: IntArray, width: int) -> sparse.csr_array:
    """One column per value; a negative index gives an empty row."""
    keep = index >= 0
    rows = np.flatnonzero(keep)
    return sparse.csr_array((np.ones(rows.size), (rows, index[keep])), shape=(index.size, width))


def _phi(x: FloatArray) -> FloatArray:
    out: FloatArray = np.log1p(x)
    return out


def skill_counts(log: ResponseLog) -> tuple[sparse.csr_array, sparse.csr_array]:
    """rows × skills: log(1+prior attempts) and log(1+prior successes) on each of the row's
    skills, by the same student (zero outside the row's skills)."""
    rs = log.row_skills.tocoo()
    order = np.lexsort((rs.col, rs.row))
    row, skill = rs.row[order].astype(np.int64), rs.col[order].astype(np.int64)
    # rows stay in log order within a skill, so "earlier" still means earlier in time
    attempts, wins = prior_counts(log.student[row], skill, log.correct[row])
    shape = (log.size, log.n_skills)
    a = sparse.csr_array((_phi(attempts), (row, skill)), shape=shape)
    w = sparse.csr_array((_phi(wins), (row, skill)), shape=shape)
    return a, w


class _LogisticTracer:
    """Shared fit / predict / save / load; subclasses define the design matrix."""

    kind: ClassVar[str] = ""

    def __init__(self, *, l2: float = 1.0, max_iter: int = 1000) -> None:
        self.l2 = l2
        self.max_iter = max_iter
        self.n_items = 0
        self.n_skills = 0
        self.coef: FloatArray = np.zeros(0)
        self.intercept = 0.0
        self.iterations = 0

    def design(self, log: ResponseLog) -> sparse.csr_array:
        raise NotImplementedError

    def _prepare(self, log: ResponseLog) -> None:
        """Remember what the design depends on (called by fit before `design`)."""

    def _check(self, log: ResponseLog) -> None:
        if (log.n_items, log.n_skills) != (self.n_items, self.n_skills):
            raise DiagnosisInputError(
                f"{self.kind}: fitted on a {self.n_items}×{self.n_skills} Q-matrix, "
                f"given {log.n_items}×{log.n_skills}"
            )

    def fit(self, log: ResponseLog, rng: np.random.Generator) -> Self:
        """Fit by penalised maximum likelihood; deterministic, so `rng` is not drawn from."""
        del rng  # the optimum is unique (strictly convex objective): no random start needed
        if log.size == 0:
            raise DiagnosisInputError(f"cannot fit {self.kind} on an empty response log")
        self.n_items, self.n_skills = log.n_items, log.n_skills
        self._prepare(log)
        x = self.design(log)
        self.coef, self.intercept, self.iterations = fit_logistic(
            x, log.correct.astype(np.float64), l2=self.l2, max_iter=self.max_iter
        )
        return self

    def predict(self, log: ResponseLog) -> FloatArray:
        self._check(log)
        out: FloatArray = expit(self.design(log) @ self.coef + self.intercept)
        return out

    def _extra_arrays(self) -> dict[str, Any]:
        return {}

    def _restore(self, arrays: dict[str, Any]) -> None:
        """Read back what `_extra_arrays` wrote."""

    def save(self, path: Path) -> None:
        settings = {
            "l2": self.l2,
            "max_iter": self.max_iter,
            "n_items": self.n_items,
            "n_skills": self.n_skills,
            "intercept": self.intercept,
        }
        write_model(path, self.kind, settings, {"coef": self.coef, **self._extra_arrays()})

    @classmethod
    def load(cls, path: Path) -> Self:
        header, arrays = read_model(path, cls.kind)
        s = header["settings"]
        model = cls(l2=s["l2"], max_iter=s["max_iter"])
        model.n_items, model.n_skills = int(s["n_items"]), int(s["n_skills"])
        model.intercept = float(s["intercept"])
        model.coef = arrays.pop("coef").astype(np.float64)
        model._restore(arrays)
        return model


class IRT1PL(_LogisticTracer):
    """Rasch model: logit P = ability(student) − difficulty(item), abilities ~ N(0, 1/l2)."""

    kind = "irt1pl"

    def __init__(self, *, l2: float = 1.0, max_iter: int = 1000) -> None:
        super().__init__(l2=l2, max_iter=max_iter)
        self.student_ids: IntArray = np.zeros(0, dtype=np.int64)

    def _prepare(self, log: ResponseLog) -> None:
        self.student_ids = np.unique(log.student)

    def _student_index(self, student: IntArray) -> IntArray:
        pos = np.searchsorted(self.student_ids, student)
        pos = np.minimum(pos, max(self.student_ids.size - 1, 0))
        known = self.student_ids.size > 0
        hit = (self.student_ids[pos] == student) if known else np.zeros(student.size, bool)
        return np.where(hit, pos, -1)

    def design(self, log: ResponseLog) -> sparse.csr_array:
        return sparse.hstack(
            [
                _one_hot(log.item, self.n_items),
                _one_hot(self._student_index(log.student), self.student_ids.size),
            ],
            format="csr",
        )

    @property
    def difficulty(self) -> FloatArray:
        """Per item: −(item coefficient + intercept), on the logit scale."""
        out: FloatArray = -(self.coef[: self.n_items] + self.intercept)
        return out

    def ability(self, student: IntArray) -> FloatArray:
        """Fitted ability per student (0, the prior mean, for students not in the fit)."""
        idx = self._student_index(np.asarray(student, dtype=np.int64))
        theta = self.coef[self.n_items :]
        out: FloatArray = np.where(idx >= 0, theta[np.maximum(idx, 0)], 0.0)
        return out

    def _extra_arrays(self) -> dict[str, Any]:
        return {"student_ids": self.student_ids}

    def _restore(self, arrays: dict[str, Any]) -> None:
        self.student_ids = arrays["student_ids"].astype(np.int64)


class PFA(_LogisticTracer):
    """Performance Factors Analysis as encoded by Gervet et al. (flags -s -sc -a -w)."""

    kind = "pfa"

    def design(self, log: ResponseLog) -> sparse.csr_array:
        attempts, wins = skill_counts(log)
        return sparse.hstack([log.row_skills, attempts, wins], format="csr")


class BestLR(_LogisticTracer):
    """Gervet et al.'s best logistic regression (flags -i -s -ic -sc -tc -a -w)."""

    kind = "best_lr"

    def design(self, log: ResponseLog) -> sparse.csr_array:
        attempts, wins = skill_counts(log)
        item_a, item_w = log.prior_counts(log.item)
        total_a, total_w = log.prior_counts(np.zeros(log.size, dtype=np.int64))
        dense = np.column_stack([_phi(item_a), _phi(item_w), _phi(total_a), _phi(total_w)])
        return sparse.hstack(
            [
                _one_hot(log.item, self.n_items),
                log.row_skills,
                attempts,
                wins,
                sparse.csr_array(dense),
            ],
            format="csr",
        )
