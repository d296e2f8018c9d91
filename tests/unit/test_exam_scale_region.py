"""`edubrain exams scale` on the generated region's 七年级数学 papers, against the truth.

The region (20,000 pupils, seed 1) has four 七年级数学 papers: the 期末 of 2023-2024 and
2024-2025 and the 期中 and 期末 of 2025-2026, each with about 1,700 takers and 3–6 anchor items
(the same `bank_item_id`) shared with the previous year's 期末. Only their 阅卷 files (exam list,
paper structure and the four score sheets) are ingested; the job calibrates the four papers
(objective items 0/满分 → 2PL, the others graded) and links the later three to 2023-2024.

The truth (`truth/exam_item_parameters.csv`) is on the grade's common θ scale. An IRT scale is
fixed by its base group: ours says the 2023-2024 takers are N(0, 1), while the truth's takers of
that paper have their own mean and SD (`truth/exam_abilities.csv`), so our estimates are put on
the truth's origin and unit by that one pair before comparing (a* = a/σ, b* = σ·b + μ) — the
base year's convention, not a fitted correction: every later paper is compared through its own
chain of links.

Tolerances: with ~1,700 pupils a 2PL slope has a standard error of about 0.07–0.10 and a
difficulty near the paper's items (b ≈ −0.8 ± 0.9, a ≈ 0.7–1.8) about 0.06–0.12; linking
through 3–6 anchors adds about 0.05–0.10 to every difficulty of a paper, and the errors add up
along the chain (a 2025-2026 paper is two links from the base: about 0.1·√2 more). Measured
here (seed 1): over the 30 0/满分 items of the three linked papers RMSE a 0.127 and b 0.195;
per paper a 0.10–0.15, b 0.08 (the base) to 0.25 (2025-2026 期末). The bounds (a 0.2, b 0.3)
leave about 1.5 times that; a link that failed (the paper left on its own takers' scale)
misses by the cohort's year-to-year shift (0.1–0.3) plus the base offset (0.1–0.6 here).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from edubrain.cli.main import build_app
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.usecases.ingest import ingest
from edubrain.warehouse import open_warehouse

PAPERS = "-21-SX-"


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate_region(out, students=20000, seed=1, workers=1)
    return out


@pytest.fixture(scope="module")
def scaled(region: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = tmp_path_factory.mktemp("scale-region") / "home"
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    folder = region / "exports" / "yuejuan"
    files = [f for f in sorted(folder.iterdir()) if "成绩" not in f.name or PAPERS in f.name]
    loaded = ingest(settings, files)
    assert not loaded.failed
    env = {"EDUBRAIN_HOME": str(home), "EDUBRAIN_SEAL_CORE_FIELDS": "false"}
    result = CliRunner().invoke(build_app(), ["exams", "scale", "--json"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    with open_warehouse(settings, read_only=True) as wh:
        items = wh.to_arrow("exam_item_parameter").to_pandas()
        papers = wh.to_arrow("exam_scale_paper").to_pandas().set_index("exam_id")
    return {"outcome": json.loads(result.output), "items": items, "papers": papers}


def _compared(region: Path, scaled: dict[str, Any]) -> pd.DataFrame:
    """Each calibrated 0/满分 item's estimate (on the truth's origin and unit) beside its truth."""
    truth = pd.read_csv(region / "truth" / "exam_item_parameters.csv", dtype=str)
    truth["item_no"] = truth["item_no"].astype(int)
    abilities = pd.read_csv(region / "truth" / "exam_abilities.csv", dtype={"theta": float})
    taker = abilities.groupby("exam_id")["theta"].agg(["mean", "std"])
    papers = scaled["papers"]
    base = papers.index[papers["status"] == "base"]
    assert len(base) == 1
    mu, sd = taker.loc[base[0], "mean"], taker.loc[base[0], "std"]
    both = truth.merge(scaled["items"], on=["exam_id", "item_no"], suffixes=("_true", ""))
    both = both[both["model"] == "2pl"].copy()
    both["a_true"] = both["a_true"].astype(float)
    both["b_true"] = both["b_true"].astype(float)
    both["a_est"] = both["a"] / sd
    both["b_est"] = sd * both["b"].astype(float) + mu
    both["status"] = papers.loc[both["exam_id"], "status"].to_numpy()
    return both


def _rmse(x: pd.Series, y: pd.Series) -> float:
    return float(np.sqrt(np.mean((x.to_numpy() - y.to_numpy()) ** 2)))


def test_the_four_papers_are_linked_year_to_year(scaled: dict[str, Any]) -> None:
    papers = scaled["papers"]
    assert len(papers) == 4
    assert sorted(papers["status"]) == ["base", "linked", "linked", "linked"]
    base = papers.index[papers["status"] == "base"][0]
    assert "-2023-" in base
    linked = papers[papers["status"] == "linked"]
    assert set(linked["linked_to_year"]) == {"2023-2024"}
    assert (linked["anchors"] >= 3).all()
    # 2024-2025 links to 2023-2024; a 2025-2026 paper links to the 2024-2025 期末
    assert linked.loc[linked.index.str.contains("-2024-"), "linked_to_exam"].item() == base
    assert (
        linked.loc[linked.index.str.contains("-2025-"), "linked_to_exam"]
        .str.contains("-2024-")
        .all()
    )
    assert scaled["outcome"]["papers_linked"] == 3


def test_linked_parameters_recover_the_truth(region: Path, scaled: dict[str, Any]) -> None:
    both = _compared(region, scaled)
    linked = both[both["status"] == "linked"]
    assert len(linked) >= 15
    rmse_a = _rmse(linked["a_est"], linked["a_true"])
    rmse_b = _rmse(linked["b_est"], linked["b_true"])
    print(f"linked 0/满分 items: {len(linked)}, RMSE a {rmse_a:.3f}, RMSE b {rmse_b:.3f}")
    for exam_id, paper in both.groupby("exam_id"):
        print(
            exam_id,
            len(paper),
            f"RMSE a {_rmse(paper['a_est'], paper['a_true']):.3f}",
            f"RMSE b {_rmse(paper['b_est'], paper['b_true']):.3f}",
        )
    assert rmse_a < 0.2
    assert rmse_b < 0.3
    # no NaN, no infinite value anywhere in what the job wrote
    items = scaled["items"]
    assert np.isfinite(items["a"]).all() and np.isfinite(items["se_a"]).all()
