"""Exam papers of the synthetic region: items from a grade-subject's bank, anchors, item models.

A grade and subject has one item bank per county (`bank_item_id` = county-grade-subject-number).
Each year's paper of that grade and subject takes a block of anchor items (about 20–30 % of the
paper) from the previous year's paper of the same grade and subject — the same bank items,
with the same points, knowledge points and parameters — and new bank items otherwise (the
common-item non-equivalent groups design).

Item models, on the grade-subject's θ scale (D = 1):

- an objective item is scored 0 or full marks by the 2PL: P(full | θ) = σ(a(θ − b));
- a subjective item of m points scored in steps of s (1 point in mathematics, ½ otherwise) has
  K = m/s + 1 ordered categories and follows Samejima's graded response model:
  P(score ≥ k·s | θ) = σ(a(θ − b_k)), k = 1 … K − 1, with ordered thresholds b_k.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edubrain.sources.generator.columns import STR, Array, Table, cat
from edubrain.sources.generator.plan import allocate

OBJECTIVE, SUBJECTIVE = "objective", "subjective"
ANCHOR_SHARE = (0.2, 0.3)  # share of a paper's items taken from the previous year's paper
MIN_ANCHORS = 3


@dataclass(frozen=True)
class Item:
    """One bank item: what a paper prints and the parameters that generate its scores."""

    bank_item_id: str
    max_score: float
    item_type: str  # objective / subjective
    knowledge_points: str
    a: float  # slope
    thresholds: tuple[float, ...]  # (b,) for a 2PL item, b_1 … b_{K-1} for a graded item
    step: float  # points per category step (the full marks for an objective item)


@dataclass
class Paper:
    """One exam paper: its items in printed order (item_no = position + 1)."""

    exam_id: str
    items: list[Item]

    @property
    def item_no(self) -> Array:
        return np.arange(1, len(self.items) + 1, dtype=np.float64)

    @property
    def max_score(self) -> Array:
        return np.array([i.max_score for i in self.items], dtype=np.float64)

    @property
    def item_type(self) -> Array:
        return np.array([i.item_type for i in self.items], dtype=STR)

    @property
    def bank_item_id(self) -> Array:
        return np.array([i.bank_item_id for i in self.items], dtype=STR)

    @property
    def a(self) -> Array:
        return np.array([i.a for i in self.items], dtype=np.float64)

    def table(self) -> Table:
        """The exam_item rows (standard fields only)."""
        n = len(self.items)
        return {
            "exam_id": np.full(n, self.exam_id, dtype=STR),
            "item_no": self.item_no,
            "max_score": self.max_score,
            "item_type": self.item_type,
            "knowledge_points": np.array([i.knowledge_points for i in self.items], dtype=STR),
            "bank_item_id": self.bank_item_id,
        }


@dataclass
class Bank:
    """A county's item bank of one grade and subject: numbers new items as they are written."""

    prefix: str  # county-grade-subject, e.g. 339901-22-SX
    kp_prefix: str  # knowledge-point prefix, e.g. M8
    objective_points: int  # every objective item of this grade-subject is worth this much
    step: float  # subjective items' score step
    written: int = 0

    def new_id(self) -> str:
        self.written += 1
        return f"{self.prefix}-{self.written:04d}"


def _graded_thresholds(points: float, step: float, rng: np.random.Generator) -> tuple[float, ...]:
    steps = round(points / step)
    centre = rng.normal(-0.5, 0.8)
    half = rng.uniform(1.2, 2.0)
    spaced = np.linspace(-half, half, steps) if steps > 1 else np.zeros(1)
    jitter = rng.normal(0, 0.15, steps)
    return tuple(float(x) for x in np.round(np.sort(centre + spaced + jitter), 4))


def write_paper(
    exam_id: str,
    full: int,
    n_items: int,
    bank: Bank,
    previous: Paper | None,
    rng: np.random.Generator,
) -> Paper:
    """A paper of `n_items` items worth `full` marks, anchored to `previous` when given.

    Objective items come first, then subjective ones (as papers are printed); the anchors sit
    at random places in their section. Anchors are mostly objective items (a 2PL anchor can
    link two forms by every method); one in four may be a subjective item, kept only when the
    new items can still share the remaining marks (at least 4 points each).
    """
    pts = bank.objective_points
    n_obj = min(n_items - 4, int(full * rng.uniform(0.3, 0.45)) // pts)
    n_sub = n_items - n_obj
    anchor_obj: list[Item] = []
    anchor_sub: list[Item] = []
    if previous is not None:
        k = max(MIN_ANCHORS, round(rng.uniform(*ANCHOR_SHARE) * n_items))
        prev_obj = [i for i in previous.items if i.item_type == OBJECTIVE]
        prev_sub = [i for i in previous.items if i.item_type == SUBJECTIVE]
        k_sub = min(k // 4, len(prev_sub), n_sub)
        k_obj = min(k - k_sub, len(prev_obj), n_obj)
        anchor_obj = [prev_obj[j] for j in sorted(rng.choice(len(prev_obj), k_obj, replace=False))]
        anchor_sub = [prev_sub[j] for j in sorted(rng.choice(len(prev_sub), k_sub, replace=False))]
        new_sub = n_sub - len(anchor_sub)
        rest = full - n_obj * pts - sum(i.max_score for i in anchor_sub)
        if rest < 4 * new_sub or (new_sub == 0 and rest != 0):
            anchor_sub = []
    new_obj = n_obj - len(anchor_obj)
    new_sub = n_sub - len(anchor_sub)
    rest = full - n_obj * pts - sum(i.max_score for i in anchor_sub)
    sub_points = 4 + allocate(max(int(rest) - 4 * new_sub, 0), rng.uniform(0.5, 1.5, new_sub))

    n_new = new_obj + new_sub
    chapter = rng.integers(1, 7, n_new).astype(STR)
    kp1 = cat(bank.kp_prefix, ".", chapter, ".", rng.integers(1, 6, n_new).astype(STR))
    kp2 = cat(bank.kp_prefix, ".", chapter, ".", rng.integers(6, 9, n_new).astype(STR))
    two = rng.random(n_new) < 0.2
    kps = np.where(two, cat(kp1, ";", kp2), kp1).astype(STR)
    # Parameters are rounded to the 4 decimals the truth file prints, so it is exact.
    a_new = np.round(rng.uniform(0.7, 1.8, n_new), 4)
    b_obj = np.round(rng.normal(-0.8, 0.9, new_obj), 4)
    fresh = [
        Item(bank.new_id(), float(pts), OBJECTIVE, str(kps[j]), float(a_new[j]),
             (float(b_obj[j]),), float(pts))
        for j in range(new_obj)
    ]  # fmt: skip
    for j, p in enumerate(sub_points):
        thresholds = _graded_thresholds(float(p), bank.step, rng)
        fresh.append(
            Item(bank.new_id(), float(p), SUBJECTIVE, str(kps[new_obj + j]),
                 float(a_new[new_obj + j]), thresholds, bank.step)
        )  # fmt: skip
    items: list[Item] = []
    for section in (fresh[:new_obj] + anchor_obj, fresh[new_obj:] + anchor_sub):
        items += [section[j] for j in rng.permutation(len(section))]
    total = sum(i.max_score for i in items)
    if total != full:
        raise ValueError(f"{exam_id}: the items add up to {total}, not {full}")
    return Paper(exam_id, items)


def score(paper: Paper, theta: Array, rng: np.random.Generator) -> Array:
    """Item scores (pupils × items, in points) drawn from the item models at `theta`."""
    out = np.empty((theta.size, len(paper.items)), dtype=np.float64)
    for j, item in enumerate(paper.items):
        b = np.array(item.thresholds)
        at_least = 1 / (1 + np.exp(-item.a * (theta[:, None] - b[None, :])))  # pupils × steps
        u = rng.random(theta.size)
        out[:, j] = (u[:, None] < at_least).sum(axis=1) * item.step
    return out


def expected_total(paper: Paper, theta: Array) -> Array:
    """E[total score | θ] (the test characteristic curve) at each θ."""
    total = np.zeros(theta.size, dtype=np.float64)
    for item in paper.items:
        b = np.array(item.thresholds)
        total += item.step * (1 / (1 + np.exp(-item.a * (theta[:, None] - b[None, :])))).sum(1)
    return total


def parameter_rows(paper: Paper) -> Table:
    """The truth rows of exam_item_parameters.csv: a, and b (graded: thresholds joined by ';')."""
    b_text = [";".join(f"{x:.4f}" for x in i.thresholds) for i in paper.items]
    return {
        "exam_id": np.full(len(paper.items), paper.exam_id, dtype=STR),
        "item_no": paper.item_no.astype(np.int64).astype(STR),
        "bank_item_id": paper.bank_item_id,
        "a": np.array([f"{x:.4f}" for x in paper.a], dtype=STR),
        "b": np.array(b_text, dtype=STR),
    }
