"""Issue 17's teacher indicators (参训率, 数字素养达标率), recomputed from the generator's truth
and compared with the platform's.

Generate a county without injected faults, ingest it, compute the `teachers` family, then count
from `truth/teacher.csv`, `truth/teacher_training.csv` and `truth/teacher_literacy.csv` — the
records as generated — by the rules the indicators state: 专任教师 of the roster; 参训 = any
提升工程2.0 record up to the year; 合格 = one with result passed; 达标 = this year's assessment at
合格 or above, a teacher not assessed counting as not 达标.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from edubrain.ingest import ingest_paths
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.sources.generator.faults import FaultRates
from edubrain.usecases.compute import compute_indicators

pytestmark = pytest.mark.slow
YEAR = "2025-2026"


def _read(region: Path, name: str) -> list[dict[str, str]]:
    with (region / "truth" / f"{name}.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("teachers-truth")
    region = root / "region"
    generate_region(region, students=4000, seed=23, fault_rates=FaultRates().scaled(0.0))
    settings = Settings(home=root / "home", progress=False)
    ingest_paths([region / "standard", region / "exports"], settings)
    return region, settings


def test_teacher_rates_equal_the_truth(county: tuple[Path, Settings]) -> None:
    region, settings = county
    teachers = {r["staff_number"]: r["school_code"] for r in _read(region, "teacher")
                if r["post"] == "teacher"}  # fmt: skip
    training = _read(region, "teacher_training")
    literacy = _read(region, "teacher_literacy")
    took_part = {r["staff_number"] for r in training
                 if r["programme_kind"] == "ict2" and r["school_year"] <= YEAR}  # fmt: skip
    passed = {r["staff_number"] for r in training if r["programme_kind"] == "ict2"
              and r["school_year"] <= YEAR and r["result"] == "passed"}  # fmt: skip
    assessed = {r["staff_number"] for r in literacy if r["school_year"] == YEAR}
    passing = ("excellent", "good", "pass")
    meets = {r["staff_number"] for r in literacy
             if r["school_year"] == YEAR and r["level"] in passing}  # fmt: skip

    summary = compute_indicators(settings, families=["teachers"])
    values = {(v["indicator_id"], v["grain"], v["unit_code"]): v for v in summary.values}
    expected = {
        "teachers.ict2_participation_rate": took_part,
        "teachers.ict2_pass_rate": passed,
        "teachers.literacy_rate": meets,
        "teachers.literacy_assessed_share": assessed,
    }
    county_code = next(iter({k[2] for k in values if k[1] == "county"}))
    for indicator, counted in expected.items():
        found = values[(indicator, "county", county_code)]
        numerator = len(counted & set(teachers))
        assert found["denominator"] == len(teachers), indicator
        assert found["numerator"] == numerator, indicator
        assert found["value"] == pytest.approx(100 * numerator / len(teachers)), indicator
        per_school = Counter(teachers[s] for s in counted if s in teachers)
        staff = Counter(teachers.values())
        for school, n in staff.items():
            value = values[(indicator, "school", school)]
            assert (value["numerator"], value["denominator"]) == (per_school[school], n)
    # the generator aims at a take-up in the 90s and 达标 in the 80s (modules/teachers/generator.py)
    rate = values[("teachers.ict2_participation_rate", "county", county_code)]["value"]
    assert 85 < rate < 100
    meets_rate = values[("teachers.literacy_rate", "county", county_code)]["value"]
    assert 60 < meets_rate < 95
