"""Parameter recovery on the synthetic region's exams: 2PL item parameters and year-to-year links.

    python benchmarks/exam_recovery.py [--students 60000] [--seeds 1,2,3,4,5] [--json OUT]

For each seed, one county's pupils (`build_world`) sit the exams part's papers of the three
school years (`modules/exams/generator.exams`, no files written). For every junior grade and
subject (七–九年级 语文/数学/英语), the 期末 paper of each year is calibrated by
`psychometrics.irt.calibrate(model="2pl")` on its objective items (0/full → 0/1), and the two
years are linked by Stocking–Lord (`psychometrics.linking.link`) through their objective anchor
items (same `bank_item_id`).

Truth on the calibration's scale: MML puts the takers at N(0, 1), so the generating a, b are
moved to the takers' standardised scale (a·s, (b − m)/s with m, s the mean and SD of the
takers' true θ). The linking truth is θ_old = A·θ_new + B with A = s_new/s_old and
B = (m_new − m_old)/s_old: B is the true shift of the cohort mean in old-year SD units.
Prints bias and RMSE of a and b (all items pooled) and the error of A and B over every link.
The 数学 期末 papers of 2025-2026 (subjective items scored in whole points) are also calibrated
whole by the graded response model (`model="grm"`, a score of k steps = category k): bias and
RMSE of every slope and threshold. A score nobody got is merged into the one below first
(`calibrate` refuses an empty category as bad input): 语文 and 英语, scored in half points, leave
many of their essays' up to 70 categories empty, so only 数学 is used here.
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edubrain.modules.exams.abilities import SUBJECTS
from edubrain.modules.exams.generator import Exams, exams
from edubrain.modules.exams.papers import OBJECTIVE, Paper
from edubrain.psychometrics.irt import IrtCalibration, calibrate
from edubrain.psychometrics.linking import AnchorItems, link
from edubrain.sources.generator.plan import County
from edubrain.sources.generator.region import build_world


@dataclass
class Calibrated:
    """One paper's objective items calibrated by the 2PL, with their truth on the same scale."""

    paper: Paper
    bank_ids: list[str]
    fit: IrtCalibration
    true_a: np.ndarray  # on the takers' standardised scale
    true_b: np.ndarray
    mean: float  # the takers' true θ mean and SD
    sd: float


def county_exams(students: int, seed: int) -> Exams:
    """One county's exams (no files): the roster, then the exams part, from seeded streams."""
    rngs = np.random.default_rng(seed).spawn(7)
    world = build_world(County(0, "339901", "示范一县", students), rngs[:4])
    return exams(world.county, world, rngs[6])


def calibrate_paper(made: Exams, exam_id: str, subject: str) -> Calibrated:
    """The paper's objective items by the 2PL; truth moved to the takers' scale."""
    paper = made.papers[exam_id]
    sheet = next(s for s in made.sheets if s.exam_id == exam_id)
    assert made.cohorts is not None
    year = {"2023": 0, "2024": 1, "2025": 2}[exam_id.split("-")[1]]
    theta = made.cohorts.theta[year, SUBJECTS.index(subject), sheet.rows["_student"]]
    objective = [j for j, i in enumerate(paper.items) if i.item_type == OBJECTIVE]
    responses = sheet.scores[:, objective] / paper.max_score[objective]
    fit = calibrate(responses, "2pl", tolerance=1e-4)
    m, s = float(theta.mean()), float(theta.std())
    a = np.array([paper.items[j].a for j in objective])
    b = np.array([paper.items[j].thresholds[0] for j in objective])
    ids = [paper.items[j].bank_item_id for j in objective]
    return Calibrated(paper, ids, fit, a * s, (b - m) / s, m, s)


def link_years(old: Calibrated, new: Calibrated) -> tuple[float, float, float, float, int]:
    """Stocking–Lord through the objective anchors: (A, B, true A, true B, anchors)."""
    common = [i for i in new.bank_ids if i in old.bank_ids]
    o = [old.bank_ids.index(i) for i in common]
    n = [new.bank_ids.index(i) for i in common]
    found = link(
        AnchorItems.of(old.fit.a[o], old.fit.difficulty[o]),
        AnchorItems.of(new.fit.a[n], new.fit.difficulty[n]),
        "stocking_lord",
    )
    return found.A, found.B, new.sd / old.sd, (new.mean - old.mean) / old.sd, len(common)


def grm_errors(made: Exams, exam_id: str) -> tuple[list[float], list[float]]:
    """The whole paper by the graded response model (scores in steps → categories): errors of
    a and of every threshold against the truth on the takers' scale."""
    paper = made.papers[exam_id]
    sheet = next(s for s in made.sheets if s.exam_id == exam_id)
    assert made.cohorts is not None
    theta = made.cohorts.theta[2, SUBJECTS.index("math"), sheet.rows["_student"]]
    m, s = float(theta.mean()), float(theta.std())
    steps = np.array([i.step for i in paper.items])
    counts = np.round(sheet.scores / steps).astype(np.int64)
    # A score nobody got is merged into the one below (dense ranks of the observed scores):
    # category r is "scored at least the r-th observed score", whose true threshold is the
    # generating threshold of that score.
    coded = np.empty_like(counts)
    kept: list[np.ndarray] = []
    for j, item in enumerate(paper.items):
        seen = np.unique(counts[:, j])
        coded[:, j] = np.searchsorted(seen, counts[:, j])
        kept.append(np.array(item.thresholds)[seen[1:] - 1])
    fit = calibrate(coded, "grm", tolerance=1e-4)
    da = list(fit.a - paper.a * s)
    db: list[float] = []
    for j, true in enumerate(kept):
        db += list(fit.b[j, : true.size] - (true - m) / s)
    return da, db


def study(students: int, seeds: list[int]) -> dict[str, object]:
    da: list[float] = []
    db: list[float] = []
    links: list[tuple[float, float, float, float, int]] = []
    takers: list[float] = []
    ga: list[float] = []
    gb: list[float] = []
    for seed in seeds:
        made = county_exams(students, seed)
        for grade in ("21", "22", "23"):
            for subject, abbr in (("chinese", "YW"), ("math", "SX"), ("english", "YY")):
                ids = [f"339901-{y}-{t}-{grade}-{abbr}-QM" for y, t in
                       (("2023", "2"), ("2024", "2"), ("2025", "1"))]  # fmt: skip
                fits = [calibrate_paper(made, i, subject) for i in ids if i in made.papers]
                for f in fits:
                    takers.append(f.fit.pupils)
                    da += list(f.fit.a - f.true_a)
                    db += list(f.fit.difficulty - f.true_b)
                for old, new in itertools.pairwise(fits):
                    links.append(link_years(old, new))
            # 数学 scores subjective items in whole points: its 2025-2026 期末 by the GRM
            more_a, more_b = grm_errors(made, f"339901-2025-1-{grade}-SX-QM")
            ga += more_a
            gb += more_b
    err_a = np.array(da)
    err_b = np.array(db)
    arr = np.array(links)
    e_big_a, e_big_b = arr[:, 0] - arr[:, 2], arr[:, 1] - arr[:, 3]
    return {
        "students": students,
        "seeds": seeds,
        "papers": len(takers),
        "takers_median": float(np.median(takers)),
        "items": int(err_a.size),
        "bias_a": float(err_a.mean()),
        "rmse_a": float(np.sqrt((err_a**2).mean())),
        "bias_b": float(err_b.mean()),
        "rmse_b": float(np.sqrt((err_b**2).mean())),
        "links": int(arr.shape[0]),
        "anchors_median": float(np.median(arr[:, 4])),
        "true_B_abs_mean": float(np.abs(arr[:, 3]).mean()),
        "bias_A": float(e_big_a.mean()),
        "rmse_A": float(np.sqrt((e_big_a**2).mean())),
        "bias_B": float(e_big_b.mean()),
        "rmse_B": float(np.sqrt((e_big_b**2).mean())),
        "max_abs_B_error": float(np.abs(e_big_b).max()),
        "grm_items": len(ga),
        "grm_thresholds": len(gb),
        "grm_bias_a": float(np.mean(ga)),
        "grm_rmse_a": float(np.sqrt(np.mean(np.square(ga)))),
        "grm_bias_b": float(np.mean(gb)),
        "grm_rmse_b": float(np.sqrt(np.mean(np.square(gb)))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60_000)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = study(args.students, [int(s) for s in args.seeds.split(",")])
    for k, v in result.items():
        print(f"{k:>18}: {v:.4f}" if isinstance(v, float) else f"{k:>18}: {v}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
