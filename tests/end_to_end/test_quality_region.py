"""On a generated county, the consistency rule finds exactly the 体测 rows whose birth date the
generator swapped (day ↔ month, accepted at ingest), wherever the pupil has a 学籍 record, and
数据互通率 of the practice responses (练习作答) is what the generator's truth says."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from practice_truth import practice_interop_from_truth

from edubrain.govern.quality import UNKNOWN_SCHOOL, RuleContext, offending_rows
from edubrain.govern.scorecard import interop_rates, scorecard
from edubrain.ingest import ingest_paths
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("county")
    region = root / "region"
    generate_region(region, students=3000, seed=7)
    settings = Settings(home=root / "home", progress=False)
    # The knowledge folder holds the diagnosis module's entities (graph, items, practice).
    ingest_paths([region / "standard", region / "exports", region / "knowledge"], settings)
    return region, settings


def _swapped_rows(region: Path) -> dict[tuple[str, str], str]:
    """(student_number, school_year) of every swapped 体测 row → the detail 'true → written'."""
    with (region / "truth" / "faults.csv").open(encoding="utf-8") as fh:
        faults = [f for f in csv.DictReader(fh) if f["fault"] == "birth_date_day_month_swapped"]
    assert faults and all(f["file"].startswith("exports/tice/") for f in faults)
    out: dict[tuple[str, str], str] = {}
    for file in {f["file"] for f in faults}:
        with (region / file).open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        for f in faults:
            if f["file"] == file:
                row = rows[int(f["row"]) - 2]  # faults.csv rows as a spreadsheet shows them
                out[(row["学籍号"], row["学年"])] = f["detail"]
    return out


def test_birth_date_consistency_is_exactly_the_swapped_rows(county) -> None:
    region, settings = county
    swapped = _swapped_rows(region)
    ctx = RuleContext(as_of=date(2026, 3, 1))
    sealer = sealer_for(settings)
    assert sealer is not None  # 学籍号s are stored sealed; the exports hold them in clear
    with open_warehouse(settings) as wh:
        registered = {
            sealer.open_student_number(n)
            for n in wh.table("student").student_number.to_pyarrow().to_pylist()
        }
        found = offending_rows(wh, "consistency.fitness_test.birth_date", ctx).to_pyarrow()
        sex = offending_rows(wh, "consistency.fitness_test.sex", ctx).count().execute()
    expected = {key for key in swapped if key[0] in registered}
    assert len(expected) >= 0.8 * len(swapped)  # most pupils survive ingestion
    got = {
        (sealer.open_student_number(r["student_number"]), r["school_year"]): r["detail"]
        for r in found.to_pylist()
    }
    assert set(got) == expected
    for key, detail in got.items():
        true, written = swapped[key].split(" → ")
        assert detail == f"出生日期(体测系统) {written} ≠ 学籍 {true}"
    assert sex == 0  # the generator never changes a pupil's sex


def test_scorecard_accounts_for_every_row_read(county) -> None:
    _, settings = county
    with open_warehouse(settings) as wh:
        rows = scorecard(wh, RuleContext(as_of=date(2026, 3, 1)))
        loads = wh.table("loads").to_pyarrow().to_pylist()
    # Each file was loaded once: records + quarantined add up to what ingestion read.
    assert sum(r.records for r in rows) == sum(load["rows_read"] for load in loads)
    assert all(0 <= (r.score or 0) <= 100 for r in rows)


def test_practice_responses_interop_is_the_truths(county) -> None:
    region, settings = county
    expected = practice_interop_from_truth(region / "truth")
    unknown = expected.get(UNKNOWN_SCHOOL, (0, 0))
    total = sum(n for n, _ in expected.values())
    # The truth has both kinds: pupils whose 学籍 row was rejected, and most that resolve.
    assert total > 0 and unknown[0] > 0 and unknown[1] == 0 and unknown[0] < 0.1 * total
    with open_warehouse(settings) as wh:
        rates = interop_rates(wh).to_pyarrow().to_pylist()
    got = {
        r["school_code"]: (r["records"], r["resolved"])
        for r in rates
        if r["entity"] == "practice_response"
    }
    assert got == expected
