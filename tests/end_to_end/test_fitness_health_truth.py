"""Issue 17's fitness, health and psychological screening figures, recomputed from the
generator's truth and compared with the platform's.

Generate a county (no injected faults: the comparison is of the scoring and the indicators, not
of the quarantine), ingest it, run the scoring job and the fitness indicators, then count from
`truth/fitness_test.csv` — the raw results as generated, before any export, linkage or
warehouse — by the standard's tables, and hold the county's 优良率 and 及格率 and each school's
test count against them.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from edubrain.ingest import ingest_paths
from edubrain.modules.fitness.scoring import ITEMS, score_tests
from edubrain.modules.health.screening import screen
from edubrain.modules.psych.scale import packaged_scales
from edubrain.modules.psych.scoring import score_responses
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.sources.generator.faults import FaultRates
from edubrain.usecases.compute import compute_indicators
from edubrain.usecases.fitness_scores import fitness_scores
from edubrain.usecases.health_screening import health_screening
from edubrain.usecases.psych_screening import psych_screening

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("fitness-truth")
    region = root / "region"
    generate_region(region, students=4000, seed=17, fault_rates=FaultRates().scaled(0.0))
    settings = Settings(home=root / "home", progress=False)
    ingest_paths([region / "standard", region / "exports"], settings)
    return region, settings


def _truth(region: Path) -> tuple[list[dict[str, str]], Counter[str]]:
    with (region / "truth" / "fitness_test.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))

    def value(x: str) -> float | None:
        return float(x) if x else None

    measures = {k: [value(r[k]) for r in rows] for k in ("height_cm", "weight_kg", *ITEMS)}
    scored = score_tests(
        [r["grade_code"] for r in rows],
        [r["sex"] for r in rows],
        measures,
        exemption=[r["exemption"] for r in rows],
    )
    return rows, Counter(str(level) for level in scored.level)


def test_county_rates_equal_the_truth(county: tuple[Path, Settings]) -> None:
    region, settings = county
    found = fitness_scores(settings)
    rows, levels = _truth(region)
    assert found.table.num_rows == len(rows)  # every test scored, none dropped
    summary = compute_indicators(settings, families=["fitness"])
    county_values = {v["indicator_id"]: v for v in summary.values if v["grain"] == "county"}
    complete = sum(n for level, n in levels.items() if level)
    good = levels["优秀"] + levels["良好"]
    passed = complete - levels["不及格"]
    assert county_values["fitness.good_rate"]["numerator"] == good
    assert county_values["fitness.good_rate"]["denominator"] == complete
    assert county_values["fitness.good_rate"]["value"] == pytest.approx(100 * good / complete)
    assert county_values["fitness.pass_rate"]["numerator"] == passed
    assert county_values["fitness.pass_rate"]["value"] == pytest.approx(100 * passed / complete)
    # the generator aims at roughly 25-35 % 优良 and 5-10 % 不及格 (modules/fitness/generator.py)
    assert 20 < 100 * good / complete < 40
    # 免予执行 / 暂缓执行: in no rate, counted in their own share; 补测 rows are the year's result
    exempt = sum(1 for r in rows if r["exemption"])
    assert exempt > 0
    assert county_values["fitness.exempt_share"]["numerator"] == exempt
    assert county_values["fitness.exempt_share"]["denominator"] == len(rows)
    assert (
        sum(1 for r in found.table.column("retest").to_pylist() if r)
        == sum(1 for r in rows if r["retest"] == "true")
        > 0
    )


def test_each_school_counts_its_own_pupils(county: tuple[Path, Settings]) -> None:
    region, settings = county
    fitness_scores(settings)
    summary = compute_indicators(settings, families=["fitness"])
    per_school = {
        v["unit_code"]: v["denominator"]
        for v in summary.values
        if v["indicator_id"] == "fitness.missing_share" and v["grain"] == "school"
    }
    with (region / "truth" / "fitness_test.csv").open(encoding="utf-8") as fh:
        tested = Counter(r["student_number"] for r in csv.DictReader(fh) if not r["exemption"])
    with (region / "truth" / "student.csv").open(encoding="utf-8") as fh:
        school_of = {r["student_number"]: r["school_code"] for r in csv.DictReader(fh)}
    expected = Counter(school_of[n] for n in tested if n in school_of)
    assert per_school == {k: float(v) for k, v in expected.items()}


def test_health_rates_equal_the_truth(county: tuple[Path, Settings]) -> None:
    """肥胖率 and 近视率 counted from the truth's checks (birth dates from the truth's 学籍) by
    the same tables equal the platform's, and no check without refraction is myopia."""
    region, settings = county
    found = health_screening(settings)
    with (region / "truth" / "health_check.csv").open(encoding="utf-8") as fh:
        checks = list(csv.DictReader(fh))
    with (region / "truth" / "student.csv").open(encoding="utf-8") as fh:
        born = {r["student_number"]: r["birth_date"] for r in csv.DictReader(fh)}
    assert found.table.num_rows == len(checks)

    def value(x: str) -> float:
        return float(x) if x else float("nan")

    names = ("height_cm", "weight_kg", "vision_left", "vision_right", "se_left", "se_right")
    truth = screen(
        [r["sex"] for r in checks],
        np.array([born.get(r["student_number"]) for r in checks], dtype="datetime64[D]"),
        np.array([r["check_date"] for r in checks], dtype="datetime64[D]"),
        {m: np.array([value(r[m]) for r in checks]) for m in names},
    )
    unrefracted = np.array([not r["se_left"] and not r["se_right"] for r in checks])
    assert not np.any((truth.vision_status == "筛查性近视") & unrefracted)
    summary = compute_indicators(settings, families=["health"])
    county_values = {v["indicator_id"]: v for v in summary.values if v["grain"] == "county"}
    weighed = int(np.sum(truth.weight_status != ""))
    obese = int(np.sum(truth.weight_status == "肥胖"))
    seen = int(np.sum(truth.vision_status != ""))
    myopic = int(np.sum(truth.vision_status == "筛查性近视"))
    assert (
        county_values["health.obesity_rate"]["numerator"],
        county_values["health.obesity_rate"]["denominator"],
    ) == (obese, weighed)
    assert (
        county_values["health.myopia_rate"]["numerator"],
        county_values["health.myopia_rate"]["denominator"],
    ) == (myopic, seen)
    assert county_values["health.myopia_rate"]["value"] == pytest.approx(100 * myopic / seen)


def test_psych_levels_equal_the_truth(county: tuple[Path, Settings]) -> None:
    """The screening levels scored from the truth's answers (before export, ingest and the
    wide sheet's unpivot) by the same scale equal those the platform stores, sitting by sitting
    in number."""
    region, settings = county
    found = psych_screening(settings)
    scale = packaged_scales()["wellbeing-example"]
    with (region / "truth" / "psych_answers.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    answers = np.array(
        [[float(r[f"q{item.no}"]) if r[f"q{item.no}"] else np.nan for item in scale.items]
         for r in rows]
    )  # fmt: skip
    truth = score_responses(scale, answers)
    assert found.table.num_rows == len(rows) > 100
    stored = Counter(str(v or "") for v in found.table.column("level").to_pylist())
    assert stored == Counter(str(v) for v in truth.level)
    assert sum(1 for w in found.table.column("warning").to_pylist() if w) == int(
        truth.warning.sum()
    )
