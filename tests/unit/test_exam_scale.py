"""`edubrain exams scale` on a hand-made warehouse: calibration, linking, bad input, the page.

Two 七年级数学 papers generated from known 2PL parameters on one θ scale:

- X (2024-2025 期末, the base): 20 items, 3,000 pupils θ ~ N(0, 1).
- Y (2025-2026 期末): 20 items of which 10 are X's (the same 题库编号, the same parameters),
  one of the others a graded item worth 2 points; 3,000 pupils θ ~ N(0.5, 1.2²), the first
  242 of them school J1's (indicator_region), so a head teacher sees class 21/1's part of it.

Y is calibrated on its own pupils (mean 0, SD 1), so the constants that put it on X's scale are
θ_X = 1.2·θ_Y + 0.5 (A = 1.2, B = 0.5), and its linked parameters are the generating ones.
With 3,000 pupils a 2PL difficulty near the middle has a standard error of about
1/√(3000 · a² · 0.2) ≈ 0.04–0.06 and a slope about 0.05; ten anchors add a linking error of the
same order to B (the anchors' mean difficulty error / √10 · √2 ≈ 0.03). The tolerances below —
RMSE of a and of b under 0.15 over Y's items, A within 0.1 of 1.2 and B within 0.1 of 0.5 — are
about twice to three times these, so they fail for a wrong link (A = 1, B = 0 misses by 0.2 and
0.5) but not for sampling noise at this seed.

Bad input, each a Chinese sentence in the job's report and the paper's row:
- Z (2025-2026 期中, 七年级数学) shares 2 items with X and Y: fewer than 3 anchors → not linked;
- W (八年级数学) has an item every pupil got right and 12 pupils: too few for a model;
- V (八年级语文) has a score above an item's 分值.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from indicator_region import COUNTY, J1, YEAR, load, tables
from typer.testing import CliRunner

from accounts import bearer_for
from edubrain.cli.main import build_app
from edubrain.modules.exams.scaling import ScaleOptions, ScalePaper, scale_papers
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases import jobs
from edubrain.warehouse import open_warehouse

PUPILS = 3000
ANCHORS = 10
J1_PUPILS = [
    f"S05{grade}{c:02d}{k:03d}" for grade, c, n in (("21", 1, 55), ("21", 2, 56),
                                                   ("21", 3, 65), ("21", 4, 66))
    for k in range(n)
]  # fmt: skip


def _truth(seed: int = 16) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    a_x = rng.lognormal(0.0, 0.25, 20)
    b_x = rng.normal(0.0, 1.0, 20)
    a_y = np.concatenate([a_x[:ANCHORS], rng.lognormal(0.0, 0.25, 10)])
    b_y = np.concatenate([b_x[:ANCHORS], rng.normal(0.5, 1.0, 10)])
    return {"a_x": a_x, "b_x": b_x, "a_y": a_y, "b_y": b_y}


TRUTH = _truth()
# Y's item 20 is graded (0, 1, 2 points) with thresholds on the common scale
GRADED = (1.1, np.array([0.0, 1.2]))


def _dichotomous(rng: np.random.Generator, theta: np.ndarray, a: np.ndarray, b: np.ndarray):  # type: ignore[no-untyped-def]
    p = 1.0 / (1.0 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    return (rng.random(p.shape) < p).astype(float)


def _papers() -> dict[str, tuple[np.ndarray, list[str], list[float], list[str | None]]]:
    rng = np.random.default_rng(17)
    theta_x = rng.normal(0.0, 1.0, PUPILS)
    x = _dichotomous(rng, theta_x, TRUTH["a_x"], TRUTH["b_x"])
    theta_y = rng.normal(0.5, 1.2, PUPILS)
    y = _dichotomous(rng, theta_y, TRUTH["a_y"], TRUTH["b_y"])
    a, thresholds = GRADED
    star = 1.0 / (1.0 + np.exp(-a * (theta_y[:, None] - thresholds[None, :])))
    y[:, 19] = (rng.random(PUPILS)[:, None] < star).sum(axis=1)
    z = _dichotomous(rng, rng.normal(0.0, 1.0, 800), TRUTH["a_x"][:8], TRUTH["b_x"][:8])
    w = _dichotomous(rng, rng.normal(0.0, 1.0, 12), TRUTH["a_x"][:6], TRUTH["b_x"][:6])
    w[:, 2] = 1.0
    v = _dichotomous(rng, rng.normal(0.0, 1.0, 500), TRUTH["a_x"][:6], TRUTH["b_x"][:6])
    v[0, 1] = 3.0
    others = [f"P{n:05d}" for n in range(40000)]
    x_pupils = others[:PUPILS]
    y_pupils = J1_PUPILS + others[10000 : 10000 + PUPILS - len(J1_PUPILS)]
    bank_x = [f"K{n:03d}" for n in range(20)]
    bank_y = bank_x[:ANCHORS] + [f"K{100 + n:03d}" for n in range(10)]
    return {
        "X": (x, x_pupils, [1.0] * 20, bank_x),
        "Y": (y, y_pupils, [1.0] * 19 + [2.0], bank_y),
        # Z: 2 of X's items and 6 items of its own
        "Z": (z, others[20000:20800], [1.0] * 8, bank_x[:2] + [f"Z{n}" for n in range(6)]),
        "W": (w, others[30000:30012], [1.0] * 6, [None] * 6),
        "V": (v, others[31000:31500], [1.0] * 6, [None] * 6),
    }


EXAMS = {  # exam id: (name, school year, term, grade, subject, date)
    "X": ("七年级数学期末2024", "2024-2025", "2", "21", "math", date(2025, 1, 15)),
    "Y": ("七年级数学期末2025", YEAR, "2", "21", "math", date(2026, 1, 15)),
    "Z": ("七年级数学期中2025", YEAR, "1", "21", "math", date(2025, 11, 10)),
    "W": ("八年级数学小测", YEAR, "1", "22", "math", date(2025, 11, 12)),
    "V": ("八年级语文小测", YEAR, "1", "22", "chinese", date(2025, 11, 13)),
}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("scale") / "home"
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    load(settings, tables())
    for n, (exam_id, (scores, pupils, maxima, banks)) in enumerate(_papers().items()):
        name, year, term, grade, subject, when = EXAMS[exam_id]
        load(
            settings,
            {
                "exam": [{"exam_id": exam_id, "name": name, "school_year": year, "term": term,
                          "subject": subject, "grade_code": grade, "exam_date": when,
                          "max_score": float(sum(maxima))}],
                "exam_item": [{"exam_id": exam_id, "item_no": j + 1, "max_score": m,
                               "item_type": "objective", "bank_item_id": banks[j]}
                              for j, m in enumerate(maxima)],
                "item_score": [{"exam_id": exam_id, "student_number": s, "item_no": j + 1,
                                "score": float(v)}
                               for s, row in zip(pupils, scores.tolist(), strict=True)
                               for j, v in enumerate(row)],
            },
            load_id=f"S{n}",
        )  # fmt: skip
    return settings


def edubrain(home: Path, *args: str) -> str:
    env = {"EDUBRAIN_HOME": str(home), "EDUBRAIN_SEAL_CORE_FIELDS": "false"}
    result = CliRunner().invoke(build_app(), list(args), env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@pytest.fixture(scope="module")
def scaled(settings: Settings) -> dict[str, Any]:
    said = edubrain(settings.home, "exams", "scale", "--json")
    with open_warehouse(settings, read_only=True) as wh:
        return {
            "said": said,
            "items": wh.to_arrow("exam_item_parameter").to_pylist(),
            "papers": {r["exam_id"]: r for r in wh.to_arrow("exam_scale_paper").to_pylist()},
            "scores": wh.to_arrow("exam_scale_score"),
        }


def _rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.mean((x - y) ** 2)))


def test_linked_parameters_recover_the_generating_ones(scaled: dict[str, Any]) -> None:
    papers = scaled["papers"]
    assert papers["X"]["status"] == "base" and papers["X"]["linked_to_year"] == "2024-2025"
    y = papers["Y"]
    assert (y["status"], y["linked_to_exam"], y["anchors"]) == ("linked", "X", ANCHORS)
    assert y["model"] == "grm"  # a graded item: the paper is one GRM calibration
    assert y["A"] == pytest.approx(1.2, abs=0.1) and y["B"] == pytest.approx(0.5, abs=0.1)
    # the four methods' constants are all there and agree roughly
    for method in ("stocking_lord", "haebara", "mean_mean", "mean_sigma"):
        assert y[f"{method}_A"] == pytest.approx(1.2, abs=0.2), method
        assert y[f"{method}_B"] == pytest.approx(0.5, abs=0.2), method
    rows = {(r["exam_id"], r["item_no"]): r for r in scaled["items"]}
    for exam_id, a_true, b_true in (("X", TRUTH["a_x"], TRUTH["b_x"]),
                                    ("Y", TRUTH["a_y"], TRUTH["b_y"])):  # fmt: skip
        a = np.array([rows[(exam_id, j + 1)]["a"] for j in range(19)])
        b = np.array([float(rows[(exam_id, j + 1)]["b"]) for j in range(19)])
        assert _rmse(a, a_true[:19]) < 0.15, exam_id
        assert _rmse(b, b_true[:19]) < 0.15, exam_id
        assert all(rows[(exam_id, j + 1)]["linked_to_year"] == "2024-2025" for j in range(19))
    graded = rows[("Y", 20)]
    assert graded["model"] == "grm"
    thresholds = np.array([float(t) for t in graded["b"].split(";")])
    assert thresholds == pytest.approx(GRADED[1], abs=0.25)
    assert graded["a"] == pytest.approx(GRADED[0], abs=0.25)
    # standard errors: positive and of the size worked out above
    se_b = np.array([float(rows[("Y", j + 1)]["se_b"]) for j in range(19)])
    assert np.all((se_b > 0.02) & (se_b < 0.3))
    # Y's pupils on X's scale: mean 0.5, SD 1.2 (EAP shrinks the SD a little)
    scores = scaled["scores"].filter(pa.compute.equal(scaled["scores"]["exam_id"], "Y"))
    theta = scores["theta"].to_numpy()
    assert theta.mean() == pytest.approx(0.5, abs=0.1)
    assert 1.0 < theta.std() < 1.25
    assert scores["scale_score"].to_numpy() == pytest.approx(500 + 100 * theta, abs=0.06)
    assert np.all(np.isfinite(scores["se"].to_numpy()))


def test_bad_input_is_a_sentence_in_the_report(scaled: dict[str, Any]) -> None:
    papers = scaled["papers"]
    assert papers["Z"]["status"] == "unlinked"
    assert "共同题最多只有2道，少于3道" in papers["Z"]["notices"]
    assert papers["W"]["status"] == "not_calibrated"
    assert "第3题全体学生得满分，无法估计其参数" in papers["W"]["notices"]
    assert "参加考试的学生只有12人" in papers["W"]["notices"]
    assert papers["V"]["status"] == "not_calibrated"
    assert "第2题有1个得分超过该题分值1分" in papers["V"]["notices"]
    said = scaled["said"]
    for line in ("少于3道", "只有12人", "超过该题分值"):
        assert line in said
    for row in scaled["items"]:
        assert row["a"] is not None and np.isfinite(row["a"])
    assert "nan" not in said.lower()


def _paper(scores: np.ndarray) -> ScalePaper:
    n, items = scores.shape
    numbers = tuple(range(1, items + 1))
    pupils = tuple(f"S{i}" for i in range(n))
    return ScalePaper("T", "测验", YEAR, "math", "21", "2025-11-01", numbers, np.ones(items),
                      (None,) * items, pupils, scores)  # fmt: skip


def test_no_convergence_and_divergence_are_sentences() -> None:
    x, *_ = _papers()["X"]
    slow = scale_papers([_paper(x[:600])], ScaleOptions(max_iterations=2))[0]
    assert slow.status == "not_calibrated"
    assert "本卷项目反应理论定标未收敛：EM迭代2次后" in slow.notices[0]
    guttman = x[:400, :6].copy()
    guttman[:, 5] = (guttman[:, :5].sum(axis=1) >= 3).astype(float)
    diverged = scale_papers([_paper(guttman)])[0]
    assert diverged.status == "not_calibrated"
    assert "第6题的区分度参数趋于无穷" in diverged.notices[0]


def test_the_job_runs_through_the_jobs_path(settings: Settings, scaled: dict[str, Any]) -> None:
    job = jobs.run_now(settings, "scale", {"method": "haebara", "min_anchors": 3}, by="test")
    assert job["status"] == "succeeded", job
    assert job["outcome"]["papers_linked"] == 1
    assert "等值到2024-2025学年的量尺" in job["log"]
    with open_warehouse(settings, read_only=True) as wh:
        y = next(r for r in wh.to_arrow("exam_scale_paper").to_pylist() if r["exam_id"] == "Y")
    assert y["method"] == "haebara" and y["A"] == pytest.approx(y["haebara_A"])
    bad = jobs.run_now(settings, "scale", {"method": "equipercentile"}, by="test")
    assert bad["status"] == "failed" and "等值方法应为" in bad["error"]
    # the runs so far leave the default tables again
    assert jobs.run_now(settings, "scale", {}, by="test")["status"] == "succeeded"


def test_the_exam_page_shows_parameters_and_constants(
    settings: Settings, scaled: dict[str, Any]
) -> None:
    with open_store(settings) as store:
        head = bearer_for(store, "head1", Role.HEAD_TEACHER,
                          Scope(ScopeLevel.CLASS, f"{J1}/{YEAR}/21/1"))  # fmt: skip
        leader = bearer_for(store, "leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        page = client.get("/exams?exam=Y&tab=scale", headers=leader)
        assert page.status_code == 200, page.text
        assert "项目反应理论" in page.text and "等值常数" in page.text
        assert "20 / 20" in page.text and "built-in" not in page.text  # 定标题数
        assert "斯托金–洛德特征曲线法" in page.text and "海巴拉特征曲线法" in page.text
        api = client.get("/api/v1/exams/Y/scale", headers=leader).json()
        assert api["paper"]["status"] == "linked" and len(api["items"]) == 20
        sheet = client.get("/api/v1/exams/Y/scale.xlsx", headers=leader)
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        # the county's pupils in Y: J1's 242 (the others are in no roster), aggregated
        assert api["scores"]["pupils"] == 242
        # the head teacher: Y has her class's 55 pupils; their scale scores as an aggregate
        mine = client.get("/api/v1/exams/Y/scale", headers=head).json()
        assert mine["scores"]["pupils"] == 55 and mine["scores"]["mean"] is not None
        assert client.get("/exams?exam=Y&tab=scale", headers=head).status_code == 200
        # X has none of her pupils: 404, as for an exam that does not exist
        assert client.get("/api/v1/exams/X/scale", headers=head).status_code == 404
        # a pupil's own scale score: the head teacher is cleared for 敏感 scores, the bureau
        # leader is not (masked)
        ref = client.get("/api/v1/students?limit=1", headers=head).json()["items"][0]["ref"]
        own = client.get(f"/api/v1/students/{ref}/scale-scores", headers=head).json()
        assert [e["exam_id"] for e in own["exams"]] == ["Y"]
        assert own["exams"][0]["scale_score"] is not None and not own["scores_masked"]
        masked = client.get(f"/api/v1/students/{ref}/scale-scores", headers=leader).json()
        assert masked["scores_masked"] and masked["exams"][0]["scale_score"] is None
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="exam_scale_score")]
    assert {e.actor for e in trail} >= {"head1", "leader"}
