"""Pairwise precision and recall of the linkage against the synthetic region's truth.

Who a mention is about: the 学籍号 it was written with, unless the generator wrote a temporary
(L) number instead of the pupil's real one — `truth/faults.csv` records each such row as a
`student_number_variant` fault whose detail names both numbers. Temporary numbers are random
per row, so the written number identifies the row's true pupil.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from edubrain.errors import InvalidInputError

_VARIANT = re.compile(r"temporary L number (L\w+) instead of (G\w+)")


class TruthError(InvalidInputError):
    """The truth folder is missing or not in the generator's layout."""


@dataclass(frozen=True)
class PairwiseScore:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "precision": round(self.precision, 6),
            "recall": round(self.recall, 6),
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
        }


def true_student_numbers(truth: Path) -> dict[str, str]:
    """Written temporary number → the true 学籍号, from the generator's fault manifest."""
    path = truth / "faults.csv"
    if not path.is_file():
        raise TruthError(f"{path}: no such file (expected a generator truth folder)")
    out: dict[str, str] = {}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("fault") != "student_number_variant":
                continue
            match = _VARIANT.fullmatch(row.get("detail", ""))
            if match is None:
                raise TruthError(f"{path}: cannot read the variant detail {row.get('detail')!r}")
            out[match.group(1)] = match.group(2)
    return out


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(
    student_numbers: list[str], persons: list[str], true_numbers: dict[str, str]
) -> PairwiseScore:
    """Score person assignments of mentions (their written numbers, parallel lists)."""
    truth = [true_numbers.get(n, n) for n in student_numbers]
    true_pairs = sum(_pairs(c) for c in Counter(truth).values())
    predicted = sum(_pairs(c) for c in Counter(persons).values())
    correct = sum(_pairs(c) for c in Counter(zip(truth, persons, strict=True)).values())
    return PairwiseScore(true_pairs, predicted, correct)
