"""综合素质评价 on a generated county (issue 17, item 4): the job scores every pupil-term of the
records as the example scheme says — recounted here from `truth/growth_record.csv` with the
example's numbers written out — and a bureau's own scheme file changes the scores with no
change of code."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from edubrain.ingest import ingest_paths
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.sources.generator.faults import FaultRates
from edubrain.usecases.growth_scores import growth_scores
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("growth")
    region = root / "region"
    generate_region(region, students=2500, seed=29, fault_rates=FaultRates().scaled(0.0))
    settings = Settings(home=root / "home", progress=False)
    ingest_paths([region / "standard", region / "exports"], settings)
    return region, settings


def _truth(region: Path, settings: Settings) -> dict[tuple[str, str, str], list[dict[str, str]]]:
    """The generated records by pupil-term, the 学籍号 as the warehouse keeps it (a G number
    sealed at rest, decision 0011)."""
    sealer = sealer_for(settings)
    assert sealer is not None
    found: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    with (region / "truth" / "growth_record.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            pupil = sealer.seal_student_number(r["student_number"])
            found[(pupil, r["school_year"], r["term"])].append(r)
    return found


def _stored(settings: Settings) -> dict[tuple[str, str, str, str], dict[str, object]]:
    with open_warehouse(settings, read_only=True) as wh:
        rows = wh.to_arrow("growth_score").to_pylist()
    return {(r["student_number"], r["school_year"], r["term"], r["domain"]): r for r in rows}


def _example_moral(records: list[dict[str, str]]) -> float:
    """schemes/example.yaml's 品德发展, written out: 65 + 操行等级 (A 20, B 12, C 0, D −20) +
    志愿服务 hours (≤ 15) + 5 per 荣誉表彰 (≤ 10) − 10 per 违纪处分 (≤ 30), within 0–100."""
    conduct = {"A": 20, "B": 12, "C": 0, "D": -20}
    levels = [conduct[r["level"]] for r in records if r["kind"] == "操行等级"]
    hours = sum(float(r["value"]) for r in records if r["kind"] == "志愿服务")
    honours = sum(1 for r in records if r["kind"] == "荣誉表彰")
    faults = sum(1 for r in records if r["kind"] == "违纪处分")
    points = (max(levels) if levels else 0) + min(hours, 15) + min(5 * honours, 10)
    return min(100.0, max(0.0, 65 + points - min(10 * faults, 30)))


def _example_labour(records: list[dict[str, str]]) -> float:
    """劳动实践: 60 + 劳动时长 hours (≤ 30) + 2 per 劳动任务 (≤ 10)."""
    hours = sum(float(r["value"]) for r in records if r["kind"] == "劳动时长")
    tasks = sum(1 for r in records if r["kind"] == "劳动任务")
    return min(100.0, 60 + min(hours, 30) + min(2 * tasks, 10))


def test_every_pupil_term_is_scored_by_the_example(county: tuple[Path, Settings]) -> None:
    region, settings = county
    truth = _truth(region, settings)
    found = growth_scores(settings)
    assert found.table.num_rows == 6 * len(truth)  # five domains and the total, each term
    stored = _stored(settings)
    for (pupil, year, term), records in truth.items():
        moral = stored[(pupil, year, term, "moral")]["score"]
        assert moral == pytest.approx(_example_moral(records)), (pupil, year, term)
        labour = stored[(pupil, year, term, "labour")]["score"]
        assert labour == pytest.approx(_example_labour(records))
        arts = [r for r in records if r["domain"] == "aesthetic"]
        total = stored[(pupil, year, term, "total")]
        assert (total["score"] is None) == (not arts)  # no arts record: 美 无记录, no total
    assert any("研学旅行" in line for line in found.notes)  # a kind no rule names, reported


def test_a_bureaus_scheme_changes_the_scores_without_code(county: tuple[Path, Settings]) -> None:
    region, settings = county
    truth = _truth(region, settings)
    schemes = settings.workspace.schemes
    schemes.mkdir(parents=True, exist_ok=True)
    (schemes / "county.yaml").write_text(
        "id: county-2026\nname: 本县综合素质评价方案\n"
        "domains:\n"
        "  - {domain: moral, name: 思想品德, weight: 0.5, base: 50,\n"
        "     rules: [{kind: 志愿服务, each: 4}, {kind: 违纪处分, each: -25}]}\n"
        "  - {domain: labour, name: 劳动素养, weight: 0.5, base: 40,\n"
        "     rules: [{kind: 劳动时长, per_unit: 2, cap: 50}]}\n"
        "levels: [{name: 优秀, at_least: 90}, {name: 合格, at_least: 60}, {name: 不合格}]\n",
        encoding="utf-8",
    )
    try:
        found = growth_scores(settings)
    finally:
        (schemes / "county.yaml").unlink()
    stored = _stored(settings)
    assert {k[3] for k in stored} == {"moral", "labour", "total"}
    assert found.table.column("scheme_id").unique().to_pylist() == ["county-2026"]
    checked = 0
    for (pupil, year, term), records in truth.items():
        visits = sum(1 for r in records if r["kind"] == "志愿服务")
        faults = sum(1 for r in records if r["kind"] == "违纪处分")
        hours = sum(float(r["value"]) for r in records if r["kind"] == "劳动时长")
        row = stored[(pupil, year, term, "moral")]
        if visits or faults:
            assert row["score"] == pytest.approx(min(100, max(0, 50 + 4 * visits - 25 * faults)))
            labour = min(100.0, 40 + min(2 * hours, 50))
            total = stored[(pupil, year, term, "total")]
            assert total["score"] == pytest.approx(0.5 * row["score"] + 0.5 * labour, abs=0.01)
            assert total["level"] == ("优秀" if total["score"] >= 90 else
                                      "合格" if total["score"] >= 60 else "不合格")  # fmt: skip
            checked += 1
        else:
            assert row["score"] is None  # 无记录 under this scheme
    assert checked > 1000
