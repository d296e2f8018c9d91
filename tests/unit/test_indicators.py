"""Indicator formulas checked against the reference documents and hand arithmetic.

Expected values come from policy_thresholds.md (the 差异系数 worked example) or are worked out
by hand in tests/unit/indicator_region.py, never from the code's own output.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path

import ibis
import indicator_region as region
import pytest
from indicator_region import CITY, COUNTY, J1, P1, P2, P3, P4, S1

from edubrain.indicators.catalogue import indicator, indicators
from edubrain.indicators.definitions import (
    Grain,
    Indicator,
    Reliability,
    WeightedCV,
    cv_from_sums,
)
from edubrain.indicators.engine import compute_values
from edubrain.indicators.explain import explain
from edubrain.indicators.inputs import Inputs
from edubrain.indicators.run import compute_catalogue
from edubrain.warehouse import open_warehouse

NOW = datetime(2025, 12, 10, 9, 0, 0)
# The worked example 《县域义务教育校际均衡指标计算方法（以生均图书册数为例）》
# (policy_thresholds.md §1.2): 5 primary schools, students and books.
STUDENTS = (45, 37, 89, 76, 55)
BOOKS = (279, 137, 935, 160, 402)


def _book_cv_indicator() -> Indicator:
    def base(_inputs: Inputs) -> ibis.Table:
        return ibis.memtable(
            {
                "school_code": [f"S{i}" for i in range(5)],
                "stage": ["primary"] * 5,
                "county_code": ["C"] * 5,
                "city_code": ["M"] * 5,
                "students": [float(p) for p in STUDENTS],
                "books": [float(b) for b in BOOKS],
            }
        )

    return Indicator(
        id="test.books_cv", family="test", name_zh="生均图书册数差异系数", name_en="books CV",
        unit="", formula=WeightedCV(base, "books", "students"), formula_text="",
        grains=(Grain.STAGE_COUNTY,), inputs=(),
    )  # fmt: skip


def test_weighted_cv_reproduces_the_worked_example() -> None:
    # X̄ = 1913/302 = 6.334; Σ weighted squared deviations = 10.65 … S = 3.264; CV = 0.515.
    inputs = Inputs(None, "2025-2026")  # type: ignore[arg-type] # the base reads no table
    [row] = compute_values(inputs, [_book_cv_indicator()]).rows
    assert row["denominator"] == 302 and row["numerator"] == 1913
    assert round(row["numerator"] / row["denominator"], 3) == 6.334
    assert round(row["value"], 3) == 0.515
    assert round(row["value"] * 1913 / 302, 3) == pytest.approx(3.264, abs=0.001)  # S
    # The unweighted population CV of the same data is 0.489 — the wrong formula.
    xs = [b / p for b, p in zip(BOOKS, STUDENTS, strict=True)]
    mean = sum(xs) / 5
    unweighted = math.sqrt(sum((x - mean) ** 2 for x in xs) / 5) / mean
    assert round(unweighted, 3) == 0.489 and round(row["value"], 3) != 0.489


def test_cv_from_sums_matches_the_definition() -> None:
    p = sum(STUDENTS)
    sx = sum(BOOKS)
    sxx = sum(b * b / s for b, s in zip(BOOKS, STUDENTS, strict=True))
    assert round(cv_from_sums(p, sx, sxx) or 0, 3) == 0.515
    assert cv_from_sums(0, 0, 0) is None


@pytest.fixture(scope="module")
def computed(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str, str], float]:
    settings = region.build(tmp_path_factory.mktemp("ind"))
    with open_warehouse(settings) as wh:
        summary = compute_catalogue(
            wh, indicators=[i for i in indicators() if i.family != "data"], now=NOW
        )
    return {
        (r["indicator_id"], r["grain"], r["unit_code"], r["stage"]): r["value"]
        for r in summary.values
    }


def v(values: dict, ind: str, grain: str, unit: str, stage: str = "") -> float:
    return values[(ind, grain, unit, stage)]


def test_the_school_rule_six_of_seven_and_85_percent(computed: dict) -> None:
    met = "balance.indicators_met"
    assert [v(computed, met, "school", s, "primary") for s in (P1, P2, P3, P4)] == [7, 6, 6, 5]
    assert v(computed, met, "school", J1, "junior") == 7
    rule = "balance.schools_meeting_rule_share"
    assert [v(computed, rule, "school", s, "primary") for s in (P1, P2, P3, P4)] == [
        100, 100, 0, 0,
    ]  # fmt: skip
    assert v(computed, rule, "stage_county", COUNTY, "primary") == 50
    assert v(computed, rule, "stage_county", COUNTY, "junior") == 100
    assert v(computed, rule, "county", COUNTY) == 60
    assert v(computed, rule, "city", CITY) == 60
    share = "balance.share_meeting.multimedia_rooms_per100"
    assert v(computed, share, "stage_county", COUNTY, "primary") == 50  # P1, P3


def test_resource_values_per_school_and_pooled(computed: dict) -> None:
    assert v(computed, "balance.multimedia_rooms_per100", "school", P2, "primary") == 2.0
    assert v(computed, "balance.sports_area_per_student", "school", P3, "primary") == 6.0
    # 13 本科+ teachers for 242 pupils (the 专科 teacher is not above the 初中 requirement)
    assert v(computed, "balance.qualified_teachers_per100", "school", J1, "junior") == (
        pytest.approx(100 * 13 / 242)
    )
    # pooled over the four 小学: (800 + 800 + 600 + 600) / 400 = 7.0
    assert v(computed, "balance.sports_area_per_student", "stage_county", COUNTY, "primary") == 7
    # the exactly-equal 2500 元 meets its requirement
    assert v(computed, "balance.equipment_value_per_student", "school", J1, "junior") == 2500


def test_cv_per_stage_on_the_tiny_county(computed: dict) -> None:
    # 小学 sports area per pupil: 8, 8, 6, 6 with equal weights → X̄ = 7, S = 1, CV = 1/7.
    cv = v(computed, "balance.cv.sports_area_per_student", "stage_county", COUNTY, "primary")
    assert cv == pytest.approx(1 / 7)
    # one 初中 only: no variation
    assert v(computed, "balance.cv.sports_area_per_student", "stage_county", COUNTY, "junior") == 0


def test_class_size_boundaries(computed: dict) -> None:
    assert v(computed, "class_size.large_classes", "school", J1, "junior") == 3  # 56, 65, 66
    assert v(computed, "class_size.super_large_classes", "school", J1, "junior") == 1  # 66
    assert v(computed, "class_size.large_classes", "school", P1, "primary") == 0  # 55 is not
    assert v(computed, "class_size.large_class_share", "school", J1, "junior") == 75
    assert v(computed, "class_size.large_class_share", "county", COUNTY) == pytest.approx(
        100 * 3 / 17
    )
    assert v(computed, "class_size.super_large_class_share", "county", COUNTY) == pytest.approx(
        100 / 17
    )
    assert v(computed, "class_size.over_standard_share", "school", J1, "junior") == 100
    assert v(computed, "class_size.over_standard_share", "school", P1, "primary") == 50  # 55 > 45
    assert v(computed, "class_size.mean_size", "school", J1, "junior") == 60.5


def test_staffing_ratios_against_the_standard(computed: dict) -> None:
    assert v(computed, "staffing.students_per_staff", "school", P1, "primary") == pytest.approx(
        100 / 6
    )
    assert v(computed, "staffing.students_per_staff", "school", S1, "senior") == pytest.approx(
        250 / 15
    )
    assert v(computed, "staffing.staff_short", "school", S1, "senior") == pytest.approx(5)
    assert v(computed, "staffing.staff_short", "school", P1, "primary") == 0
    assert v(computed, "staffing.students_per_teacher", "school", J1, "junior") == (
        pytest.approx(242 / 14)
    )
    assert v(computed, "staffing.subjects_short", "school", P2, "primary") == 1  # music
    assert v(computed, "staffing.subjects_short", "school", P1, "primary") == 0
    assert v(computed, "staffing.schools_short_of_subject_teachers_share", "county", COUNTY) == 50
    assert v(computed, "balance.pe_art_teachers_per100", "school", J1, "junior") == (
        pytest.approx(300 / 242)
    )


def test_homework_minutes_against_the_limits(computed: dict) -> None:
    assert v(computed, "homework.written_minutes_grades_3_6", "school", P1, "primary") == 52.5
    assert v(computed, "homework.written_minutes_grades_1_2", "school", P1, "primary") == 7.5
    assert v(computed, "homework.written_minutes_junior", "school", J1, "junior") == 100
    assert v(computed, "homework.classes_over_limit_share", "county", COUNTY) == pytest.approx(
        200 / 3
    )


def test_informatization_shares(computed: dict) -> None:
    assert v(computed, "info.gigabit_school_share", "county", COUNTY) == pytest.approx(400 / 6)
    assert v(computed, "info.ten_gigabit_school_share", "county", COUNTY) == pytest.approx(100 / 6)
    assert v(computed, "info.multimedia_classroom_share", "county", COUNTY) == pytest.approx(
        100 * 15 / 17
    )
    assert v(computed, "info.gigabit_school_share", "school", P2, "primary") == 0


def test_every_threshold_names_its_source_and_reliability() -> None:
    for ind in indicators():
        for th in ind.thresholds:
            assert th.source.document and th.source.reliability in set(Reliability), ind.id
            assert th.grains and set(th.grains) <= set(ind.grains), ind.id
        assert ind.formula_text and ind.inputs, ind.id


def test_explain_shows_inputs_arithmetic_threshold_and_provenance(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    with open_warehouse(settings) as wh:
        compute_catalogue(wh, indicators=[indicator("staffing.students_per_staff"),
                                          indicator("balance.cv.sports_area_per_student")],
                          now=NOW)  # fmt: skip
        out = explain(wh, "staffing.students_per_staff", S1)
        cv = explain(wh, "balance.cv.sports_area_per_student", P1)
    assert out["value"] == pytest.approx(250 / 15)
    assert out["arithmetic"].startswith("Σ students 250 ÷ Σ staff 15 = 16.66")
    assert out["thresholds"][0]["value"] == 12.5 and out["thresholds"][0]["met"] is False
    assert out["thresholds"][0]["reliability"] == "S"
    assert out["stored"]["matches_recomputation"] is True
    teacher = out["stored"]["inputs"]["teacher"]
    assert teacher["rows"] == len(region._teachers())
    assert (teacher["loads"], teacher["last_load_id"]) == (1, "L1-teacher")
    assert cv["value"] == pytest.approx(1 / 7) and cv["input_rows"] == 4
    assert "CV = S ÷ X̄ = 0.142857" in cv["arithmetic"]
