"""The synthetic region's exams over three years: truth files, anchors, and parameter recovery.

Expected values come from the generator's truth files (read as text, never from its objects)
and, for recovery, from the truth moved onto the calibration's scale; the recovery tolerances
come from the sample sizes (see each test).
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from edubrain.sources.generator import generate_region

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from exam_recovery import calibrate_paper, county_exams, link_years

N = 1200
YEARS = {"2023-2024", "2024-2025", "2025-2026"}


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exam-region")
    generate_region(out, students=N, seed=23)
    return out


def _truth(region: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(region / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def test_exams_span_three_school_years_with_the_agreed_ids(region: Path) -> None:
    exams = _truth(region, "exam")
    assert set(exams["school_year"]) == YEARS
    form = re.compile(r"^339901-(2023|2024|2025)-([12])-(\d\d)-(YW|SX|YY)-(QZ|QM)$")
    for row in exams.itertuples():
        m = form.match(row.exam_id)
        assert m, row.exam_id
        start, term, grade, _, kind = m.groups()
        assert row.school_year == f"{start}-{int(start) + 1}" and row.term == term
        assert row.grade_code == grade
        if start != "2025":  # past years: the 期末 of term 2 only
            assert (term, kind) == ("2", "QM")
    # a pupil now in 八年级 sat 七年级's 期末 last year and 六年级's the year before
    ab = _truth(region, "exam_abilities")
    now = _truth(region, "student").set_index("student_number")["grade_code"]
    for exam_id, grade in (("339901-2024-2-21-SX-QM", "22"), ("339901-2023-2-16-SX-QM", "22")):
        takers = ab.loc[ab["exam_id"] == exam_id, "student_number"]
        known = takers[takers.isin(now.index)]  # a registry row rejected by a fault is absent
        assert len(known) > 0.9 * len(takers) > 0 and set(now[known]) == {grade}


def test_item_parameters_agree_with_the_item_truth_and_export(region: Path) -> None:
    params = _truth(region, "exam_item_parameters")
    items = _truth(region, "exam_item")
    key = ["exam_id", "item_no", "bank_item_id"]
    assert sorted(map(tuple, params[key].to_numpy())) == sorted(map(tuple, items[key].to_numpy()))
    assert set(params["exam_id"]) == set(_truth(region, "exam")["exam_id"])
    with (region / "exports/yuejuan/阅卷_试卷结构_339901.csv").open(encoding="utf-8") as fh:
        exported = {(r["考试编号"], r["题号"], r["题库编号"]) for r in csv.DictReader(fh)}
    assert exported == set(map(tuple, items[key].to_numpy()))
    # a graded item carries one threshold per score step, ordered
    for row in params.merge(items, on=key).itertuples():
        b = [float(x) for x in row.b.split(";")]
        if row.item_type == "objective":
            assert len(b) == 1
        else:
            step = 1.0 if "-SX-" in row.exam_id else 0.5
            assert len(b) == round(float(row.max_score) / step) and b == sorted(b)


def test_abilities_cover_every_score_sheet_row(region: Path) -> None:
    ab = _truth(region, "exam_abilities")
    faults = _truth(region, "faults")
    dups = Counter(faults.loc[faults["fault"] == "duplicate_row", "file"])
    sheets = sorted((region / "exports/yuejuan").glob("阅卷_成绩_*.csv"))
    per_exam = Counter(ab["exam_id"])
    assert {p.stem.removeprefix("阅卷_成绩_") for p in sheets} == set(per_exam)
    for path in sheets:
        with path.open(encoding="utf-8") as fh:
            rows = sum(1 for _ in fh) - 1
        rel = f"exports/yuejuan/{path.name}"
        assert rows - dups[rel] == per_exam[path.stem.removeprefix("阅卷_成绩_")], path.name
    scored = _truth(region, "item_score")[["exam_id", "student_number"]].drop_duplicates()
    known = set(map(tuple, ab[["exam_id", "student_number"]].to_numpy()))
    assert set(map(tuple, scored.to_numpy())) <= known
    assert len(ab) == len(ab.drop_duplicates(["exam_id", "student_number"]))


def test_anchors_repeat_across_years_as_the_same_items(region: Path) -> None:
    items = _truth(region, "exam_item").merge(
        _truth(region, "exam_item_parameters"), on=["exam_id", "item_no", "bank_item_id"]
    )
    items["chain"] = items["exam_id"].str.slice(12)  # grade-subject-kind after county-year-term
    items["year"] = items["exam_id"].str.slice(7, 11).astype(int)
    items["grade_subject"] = items["exam_id"].str.slice(14, 20)
    same = ["max_score", "item_type", "knowledge_points", "a", "b"]
    anchored = 0
    for _, chain in items.groupby("grade_subject"):
        papers = dict(list(chain.groupby("exam_id")))
        seen: set[str] = set()
        for year in sorted(set(chain["year"])):
            before = chain[(chain["year"] == year - 1) & chain["exam_id"].str.endswith("QM")]
            for exam_id in sorted(set(chain.loc[chain["year"] == year, "exam_id"])):
                paper = papers[exam_id].set_index("bank_item_id")
                if before.empty:
                    assert not set(paper.index) & seen, exam_id
                    continue
                old = before.set_index("bank_item_id")
                common = sorted(set(paper.index) & set(old.index))
                share = len(common) / len(paper)
                assert len(common) >= 3 and 0.15 <= share <= 0.5, (exam_id, len(common))
                assert paper.loc[common, same].equals(old.loc[common, same])
                # new items are new: nothing else comes back from an older paper
                assert not (set(paper.index) - set(common)) & seen, exam_id
                anchored += 1
            seen |= set(chain.loc[chain["year"] == year, "bank_item_id"])
    assert anchored >= 20


def _expected_total(params: pd.DataFrame, items: pd.DataFrame, theta: np.ndarray) -> np.ndarray:
    """E[total | θ] from the truth text: Σ step·Σ_k σ(a(θ − b_k)) (2PL: step = full marks)."""
    total = np.zeros_like(theta)
    for p, it in zip(params.itertuples(), items.itertuples(), strict=True):
        b = np.array([float(x) for x in p.b.split(";")])
        top = float(it.max_score)
        step = top if len(b) == 1 else top / len(b)
        total += step * (1 / (1 + np.exp(-float(p.a) * (theta[:, None] - b)))).sum(axis=1)
    return total


def test_scores_follow_the_true_abilities_through_the_item_models(region: Path) -> None:
    """Each paper's mean total equals the mean of E[total | θ] of its pupils, within 4 SE."""
    ab = _truth(region, "exam_abilities")
    params = _truth(region, "exam_item_parameters")
    items = _truth(region, "exam_item")
    scores = _truth(region, "item_score")
    scores["score"] = scores["score"].astype(float)
    checked = 0
    for exam_id, takers in ab.groupby("exam_id"):
        mine = scores[scores["exam_id"] == exam_id]
        its = items[items["exam_id"] == exam_id]
        full = its.set_index("item_no")["max_score"].astype(float)
        objective = set(its.loc[its["item_type"] == "objective", "item_no"])
        obj = mine[mine["item_no"].isin(objective)]
        assert ((obj["score"] == 0) | (obj["score"] == full[obj["item_no"]].to_numpy())).all()
        complete = mine.groupby("student_number")["score"].agg(["sum", "count"])
        complete = complete[complete["count"] == len(its)]
        if len(complete) < 30:
            continue
        theta = takers.set_index("student_number")["theta"].astype(float)[complete.index]
        expected = _expected_total(
            params[params["exam_id"] == exam_id], its, theta.to_numpy(dtype=float)
        )
        diff = complete["sum"].to_numpy() - expected
        se = diff.std(ddof=1) / np.sqrt(diff.size)
        assert abs(diff.mean()) <= 4 * se, (exam_id, diff.mean(), se)
        # and the true θ orders the pupils: totals rise with θ
        assert np.corrcoef(theta, complete["sum"])[0, 1] > 0.7, exam_id
        checked += 1
    assert checked >= 20


def test_value_added_truth_names_known_schools_classes_and_outcome_exams(region: Path) -> None:
    school = _truth(region, "school_value_added")
    klass = _truth(region, "class_value_added")
    exams = _truth(region, "exam").set_index("exam_id")
    codes = set(_truth(region, "school")["school_code"])
    cls = _truth(region, "class")
    now = set(cls["school_code"] + "/" + cls["grade_code"] + "/" + cls["class_no"])
    for va in (school, klass):
        assert len(va) > 0 and set(va["school_year"]) == {"2024-2025", "2025-2026"}
        assert (exams.loc[va["exam_id"], "grade_code"].to_numpy() == va["grade_code"]).all()
        assert (exams.loc[va["exam_id"], "subject"].to_numpy() == va["subject"]).all()
        effect, points = va["effect_theta"].astype(float), va["effect_score"].astype(float)
        assert ((np.sign(effect) == np.sign(points)) | (effect == 0)).all()
    assert set(school["school_code"]) <= codes
    current = klass[klass["school_year"] == "2025-2026"]
    assert set(current["class_code"]) <= now
    # a school's effect is one per year and subject, whatever the grade
    per = school.groupby(["school_code", "school_year", "subject"])["effect_theta"].nunique()
    assert (per == 1).all()
    readme = (region / "truth" / "README.md").read_text(encoding="utf-8")
    for name in (
        "exam_item_parameters",
        "exam_abilities",
        "school_value_added",
        "class_value_added",
    ):
        assert f"{name}.csv" in readme


def test_a_declining_school_falls_in_every_subject(region: Path) -> None:
    """The truth README: about 6 % of junior and senior schools (at least one) decline, their
    yearly change −0.15 in 2024-2025 and −0.30 in 2025-2026, so their effect falls by exactly
    0.15 from one year to the next in every subject (others move by a random N(0, 0.14))."""
    va = _truth(region, "school_value_added")
    va = va.drop_duplicates(["school_code", "school_year", "subject"])
    va["effect"] = va["effect_theta"].astype(float)
    wide = va.pivot_table(index=["school_code", "subject"], columns="school_year", values="effect")
    fall = (wide["2025-2026"] - wide["2024-2025"]).dropna().groupby("school_code")
    declining = [code for code, d in fall if np.allclose(d, -0.15, atol=2e-4)]
    assert 1 <= len(declining) <= max(1, round(0.2 * fall.ngroups))


def test_the_same_seed_gives_the_same_exams() -> None:
    one, two = county_exams(3000, 5), county_exams(3000, 5)
    assert list(one.papers) == list(two.papers)
    for a, b in zip(one.sheets, two.sheets, strict=True):
        assert np.array_equal(a.scores, b.scores)


# ---- recovery ----------------------------------------------------------------------------
# One county of 30,000 pupils (seed 2): 八年级 数学's 期末 of 2024-2025 and of 2025-2026 each
# have about 2,650 takers. The benchmark (benchmarks/exam_recovery.py, docs/psychometrics.md)
# measured, over 5 seeds of 60,000 pupils (median 5,207 takers a paper), RMSE 0.073 for a,
# 0.074 for b, 0.046 for the Stocking–Lord A and 0.032 for its B; an RMSE shrinks as 1/√n,
# so here about 0.10 (a, b), 0.064 (A) and 0.045 (B).
RECOVERY_STUDENTS, RECOVERY_SEED = 30_000, 2
TAKERS_BENCHMARK = 5_207
RMSE_AB, RMSE_LINK_A, RMSE_LINK_B = 0.074, 0.046, 0.032


@pytest.fixture(scope="module")
def maths() -> tuple[object, object]:
    made = county_exams(RECOVERY_STUDENTS, RECOVERY_SEED)
    old = calibrate_paper(made, "339901-2024-2-22-SX-QM", "math")
    new = calibrate_paper(made, "339901-2025-1-22-SX-QM", "math")
    return old, new


def test_2pl_parameters_of_a_paper_are_recovered(maths: tuple) -> None:
    """RMSE of a and b at most twice what 1/√n scaling of the benchmark's 0.074 predicts, and
    no bias beyond 0.1 (one SE of the mean error of ~15 items is about 0.03)."""
    _, new = maths
    scale = np.sqrt(TAKERS_BENCHMARK / new.fit.pupils)
    for est, true in ((new.fit.a, new.true_a), (new.fit.difficulty, new.true_b)):
        err = est - true
        assert np.sqrt((err**2).mean()) <= 2 * RMSE_AB * scale
        assert abs(err.mean()) <= 0.1
    # the truth had to be moved to the takers' scale: their mean is not 0
    assert abs(new.mean) > 0.1


def test_stocking_lord_recovers_the_shift_of_the_cohort_mean(maths: tuple) -> None:
    """θ_old = A·θ_new + B: B is the true shift of 八年级's mean from 2024-2025 to 2025-2026
    in last year's SD units. Tolerance 3 × 0.032·√(5,207/n) (n the smaller paper's takers):
    three times the RMSE the benchmark measured, scaled to this sample. The shift itself
    is larger than that tolerance, so a link that missed it would fail."""
    old, new = maths
    big_a, big_b, true_a, true_b, anchors = link_years(old, new)
    n = min(old.fit.pupils, new.fit.pupils)
    tolerance = 3 * RMSE_LINK_B * np.sqrt(TAKERS_BENCHMARK / n)
    assert anchors >= 3
    assert abs(true_b) > tolerance
    assert abs(big_b - true_b) <= tolerance
    assert abs(big_a - true_a) <= 3 * RMSE_LINK_A * np.sqrt(TAKERS_BENCHMARK / n)
