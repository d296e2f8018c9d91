"""The input every knowledge-tracing model reads: a response log and its Q-matrix.

A `ResponseLog` is a set of parallel arrays, one row per attempt (student, item, correct),
grouped by student and in time order within a student, plus the Q-matrix that tags every item
with its knowledge points (skills). Models never see names or identifiers: the caller maps
student numbers, item ids and knowledge-point codes to 0..n-1 first (see `index_codes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt
from scipy import sparse

from edubrain.errors import DiagnosisInputError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class ResponseLog:
    """Attempts grouped by student, time-ordered within each student.

    `q_matrix` is items × skills (0/1); row `i` lists the skills item `i` exercises.
    """

    student: IntArray
    item: IntArray
    correct: IntArray
    q_matrix: sparse.csr_array

    def __post_init__(self) -> None:
        n = self.student.size
        if self.item.size != n or self.correct.size != n:
            raise DiagnosisInputError("student, item and correct must have the same length")
        if n and (self.item.min() < 0 or self.item.max() >= self.q_matrix.shape[0]):
            raise DiagnosisInputError(
                f"item ids must lie in 0..{self.q_matrix.shape[0] - 1} (the Q-matrix rows)"
            )
        if n and not np.isin(self.correct, (0, 1)).all():
            raise DiagnosisInputError("correct must be 0 or 1")
        starts = self.student[1:] != self.student[:-1]
        if np.unique(self.student[np.r_[True, starts]]).size != int(starts.sum()) + (n > 0):
            raise DiagnosisInputError(
                "rows must be grouped by student "
                "(all of a student's attempts together, in time order)"
            )

    @classmethod
    def build(
        cls,
        student: npt.ArrayLike,
        item: npt.ArrayLike,
        correct: npt.ArrayLike,
        q_matrix: sparse.spmatrix | sparse.sparray | npt.ArrayLike,
        order: npt.ArrayLike | None = None,
    ) -> ResponseLog:
        """Make a log from loose columns; `order` (e.g. a timestamp) sorts within a student."""
        s = np.asarray(student, dtype=np.int64)
        keys: tuple[npt.NDArray[np.generic], ...] = (s,)
        if order is not None:
            keys = (np.asarray(order), s)
        sort = np.lexsort(keys)
        q = sparse.csr_array(q_matrix, dtype=np.float64)
        q.data[:] = 1.0
        return cls(
            s[sort],
            np.asarray(item, dtype=np.int64)[sort],
            np.asarray(correct, dtype=np.int64)[sort],
            q,
        )

    @property
    def size(self) -> int:
        return int(self.student.size)

    @property
    def n_items(self) -> int:
        return int(self.q_matrix.shape[0])

    @property
    def n_skills(self) -> int:
        return int(self.q_matrix.shape[1])

    @cached_property
    def position(self) -> IntArray:
        """0-based index of each row within its student's sequence."""
        n = self.size
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        first = np.r_[True, self.student[1:] != self.student[:-1]]
        start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
        return np.arange(n, dtype=np.int64) - start

    @cached_property
    def row_skills(self) -> sparse.csr_array:
        """rows × skills: the Q-matrix row of each attempt's item."""
        return sparse.csr_array(self.q_matrix[self.item])

    def skill_combination_keys(self) -> npt.NDArray[np.str_]:
        """Per item, its sorted skill set written as '3;17' ('' for an untagged item)."""
        q = self.q_matrix
        keys = [
            ";".join(str(int(j)) for j in sorted(q.indices[q.indptr[i] : q.indptr[i + 1]]))
            for i in range(q.shape[0])
        ]
        return np.array(keys, dtype=np.str_)

    def prior_counts(self, group: IntArray) -> tuple[FloatArray, FloatArray]:
        """Attempts and successes of the same student on the same `group` before each row."""
        return prior_counts(self.student, group, self.correct)

    def subset(self, rows: BoolArray | IntArray) -> ResponseLog:
        """The log restricted to some rows (kept in order)."""
        return ResponseLog(self.student[rows], self.item[rows], self.correct[rows], self.q_matrix)


def prior_counts(
    student: IntArray, group: IntArray, correct: IntArray
) -> tuple[FloatArray, FloatArray]:
    """Per row: earlier rows (and earlier correct rows) with the same student and group.

    "Earlier" is row order, which is time order within a student.
    """
    n = student.size
    if n == 0:
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((np.arange(n), group, student))
    s, g, c = student[order], group[order], correct[order].astype(np.float64)
    first = np.r_[True, (s[1:] != s[:-1]) | (g[1:] != g[:-1])]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    cum = np.cumsum(c) - c
    out_a = np.empty(n)
    out_w = np.empty(n)
    out_a[order] = (np.arange(n) - start).astype(np.float64)
    out_w[order] = cum - cum[start]
    return out_a, out_w


def roc_auc(y_true: npt.ArrayLike, score: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney U with mid-ranks for ties)."""
    y = np.asarray(y_true).astype(bool)
    ranks = _mid_ranks(np.asarray(score, dtype=np.float64))
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise DiagnosisInputError("AUC needs at least one correct and one wrong response")
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _mid_ranks(x: FloatArray) -> FloatArray:
    """1-based ranks; tied values share the mean of their ranks."""
    order = np.argsort(x, kind="mergesort")
    sorted_x = x[order]
    first = np.r_[True, sorted_x[1:] != sorted_x[:-1]]
    group = np.cumsum(first) - 1
    start = np.flatnonzero(first)
    end = np.r_[start[1:], x.size]
    mean_rank = (start + end + 1) / 2.0  # ranks start+1 .. end, averaged
    ranks = np.empty(x.size)
    ranks[order] = mean_rank[group]
    return ranks


def index_codes(values: npt.ArrayLike) -> tuple[npt.NDArray[np.str_], IntArray]:
    """Distinct codes (sorted) and each value's index into them."""
    codes, index = np.unique(np.asarray(values).astype(np.str_), return_inverse=True)
    return codes, index.astype(np.int64)
