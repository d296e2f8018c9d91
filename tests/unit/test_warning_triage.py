"""Warnings a leader can act on: severity by the gap and its trend (decision 0018), the same
condition grouped across units, the roll-up per school and the week's short list — every
expected value worked out by hand from the rule in `indicators.warnings`' docstring."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from edubrain.indicators.warning_triage import (
    SchoolSize,
    group_warnings,
    pupils_affected,
    roll_up_schools,
    week_list,
)
from edubrain.indicators.warnings import (
    Level,
    Trend,
    gap_trend,
    grade,
    threshold_conditions,
)

SPORTS = "balance.sports_area_per_student"  # 小学 ≥ 7.5 m²/生, bands 5% / 15%
EQUIPMENT = "balance.equipment_value_per_student"  # 小学 ≥ 2000 元/生
RULE = "balance.schools_meeting_rule_share"
BANDS = (0.05, 0.15)


@pytest.mark.parametrize(
    ("value", "before", "trend", "level"),
    [
        # gap = (7.5 − value) ÷ 7.5; last year's gap likewise; a trend from 0.05 ÷ 4 = 0.0125
        (7.2, None, Trend.UNKNOWN, Level.YELLOW),  # 4% < 5%
        (6.6, None, Trend.UNKNOWN, Level.ORANGE),  # 12%: 5% ≤ gap < 15%
        (6.0, None, Trend.UNKNOWN, Level.RED),  # 20% ≥ 15%
        (7.2, 7.25, Trend.STABLE, Level.YELLOW),  # 4% vs 3.33%: +0.67 points < 1.25
        (6.0, 6.0, Trend.STABLE, Level.RED),  # a large stable gap stays red
        (6.6, 7.1, Trend.WORSE, Level.RED),  # 12% vs 5.33%: +6.67 points → one up
        (6.6, 6.0, Trend.BETTER, Level.YELLOW),  # 12% vs 20%: −8 points → one down
        (6.0, 5.0, Trend.BETTER, Level.ORANGE),  # 20% vs 33.3% → red one down
        (7.2, 7.6, Trend.NEW, Level.ORANGE),  # met last year, 4% now ≥ 1.25 → new, one up
        (7.45, 7.6, Trend.STABLE, Level.YELLOW),  # new but 0.67% < 1.25: no step
    ],
)
def test_severity_follows_the_gap_and_its_trend(
    value: float, before: float | None, trend: Trend, level: Level
) -> None:
    gap = (7.5 - value) / 7.5
    gap_before = None if before is None else max(0.0, (7.5 - before) / 7.5)
    assert gap_trend(gap, gap_before, BANDS[0]) is trend
    assert grade(gap, BANDS, trend) is level


def test_a_worsening_orange_gap_is_red_and_a_small_stable_one_is_yellow() -> None:
    # 7.0 → gap 6.67% (orange band), last year 7.2 → 4%: +2.67 points ≥ 1.25 → red
    assert grade(0.5 / 7.5, BANDS, gap_trend(0.5 / 7.5, 0.3 / 7.5, 0.05)) is Level.RED
    # a gap in the indicator's own unit (threshold 0, bands 2 and 4 subjects): 1 subject short,
    # 1 last year → stable yellow; 3 short, 1 last year → +2 ≥ 0.5 → orange one up → red
    assert grade(1, (2, 4), gap_trend(1, 1, 2)) is Level.YELLOW
    assert grade(3, (2, 4), gap_trend(3, 1, 2)) is Level.RED


def _row(
    indicator_id: str, unit: str, value: float, *, year: str = "2025-2026", grain: str = "school"
) -> dict[str, Any]:
    return {
        "indicator_id": indicator_id,
        "grain": grain,
        "unit_code": unit,
        "unit_name": f"学校{unit}",
        "stage": "primary",
        "school_year": year,
        "value": value,
        "urban_rural": "town",
    }


def test_threshold_conditions_grade_against_last_years_values() -> None:
    now = [_row(SPORTS, "A", 6.6), _row(SPORTS, "B", 6.6), _row(SPORTS, "C", 7.2)]
    before = [_row(SPORTS, "A", 7.1, year="2024-2025"), _row(SPORTS, "B", 6.0, year="2024-2025")]
    found = {c.unit_code: c for c in threshold_conditions(now, before)}
    assert (found["A"].level, found["A"].trend) == (Level.RED, "worse")
    assert (found["B"].level, found["B"].trend) == (Level.YELLOW, "better")
    assert (found["C"].level, found["C"].trend) == (Level.YELLOW, "unknown")  # no value before
    assert found["A"].gap == pytest.approx(0.12)
    assert "较上年差距扩大" in found["A"].message
    assert "较上年" not in found["C"].message


def test_a_school_missing_the_pass_or_fail_rule_is_orange_and_red_when_new() -> None:
    now = [_row(RULE, "A", 0.0), _row(RULE, "B", 0.0)]
    before = [_row(RULE, "A", 0.0, year="2024-2025"), _row(RULE, "B", 100.0, year="2024-2025")]
    found = {c.unit_code: c for c in threshold_conditions(now, before)}
    assert (found["A"].level, found["A"].trend) == (Level.ORANGE, "stable")
    assert (found["B"].level, found["B"].trend) == (Level.RED, "new")
    assert {c.unit_code: c.level for c in threshold_conditions(now)} == {
        "A": Level.ORANGE,
        "B": Level.ORANGE,
    }


def _warning(
    wid: str,
    indicator_id: str,
    unit: str,
    level: str,
    *,
    status: str = "open",
    grain: str = "school",
    trend: str = "unknown",
    gap: float = 0.1,
    stage: str = "primary",
) -> dict[str, Any]:
    key = f"threshold|{indicator_id}|0|{grain}|{unit}|{stage}"
    return {
        "warning_id": wid,
        "condition_key": key,
        "rule": "threshold",
        "indicator_id": indicator_id,
        "grain": grain,
        "unit_code": unit,
        "unit_name": f"单位{unit}",
        "stage": stage,
        "school_year": "2025-2026",
        "level": level,
        "status": status,
        "message": f"{unit} {indicator_id}",
        "value": 1.0,
        "reference": 7.5,
        "opened_at": datetime(2026, 1, 5),
        "updated_at": datetime(2026, 1, 5),
        "times_opened": 1,
        "trend": trend,
        "gap": gap,
    }


SCHOOLS = {
    "3301000001": SchoolSize(400, "primary", "339901"),
    "3301000002": SchoolSize(150, "primary", "339901"),
    "3301000003": SchoolSize(900, "primary", "339901"),
    "3301000004": SchoolSize(600, "junior", "339901"),
    "3302000001": SchoolSize(5000, "primary", "339902"),  # another county
}
A, B, C, D = "3301000001", "3301000002", "3301000003", "3301000004"

WARNINGS = [
    _warning("W1", SPORTS, A, "red", gap=0.20),
    _warning("W2", SPORTS, B, "yellow", gap=0.03),
    _warning("W3", SPORTS, C, "orange", gap=0.10, trend="worse"),
    _warning("W4", EQUIPMENT, A, "yellow", gap=0.04),
    _warning("W5", EQUIPMENT, D, "orange", gap=0.08, status="acknowledged", stage="junior"),
    _warning("W6", RULE, "339901", "red", grain="county", stage="", gap=0.3),
]


def test_the_same_condition_is_one_group_listing_its_units() -> None:
    groups = {g.indicator_id + "/" + g.stage: g for g in group_warnings(WARNINGS, SCHOOLS)}
    sports = groups[SPORTS + "/primary"]
    assert [u["unit_code"] for u in sports.units] == [A, C, B]  # worst first
    assert sports.levels == {"red": 1, "orange": 1, "yellow": 1}
    assert sports.level == "red"
    assert sports.pupils == 400 + 900 + 150
    assert sports.worsening == 1
    assert sports.title == "小学 生均体育运动场馆面积 未达到优质均衡学校标准（≥ 7.5m²/生）"
    # 学段 is part of the condition: the junior equipment warning is a group of its own
    assert groups[EQUIPMENT + "/primary"].pupils == 400
    assert groups[EQUIPMENT + "/junior"].pupils == 600
    # a county's warning weighs every pupil of the county's schools (not the other county's)
    county = groups[RULE + "/"]
    assert county.pupils == 400 + 150 + 900 + 600
    assert len(groups) == 4
    # worst group first: red ones by units (3 before 1), then orange, then yellow
    order = [g.indicator_id + "/" + g.stage for g in group_warnings(WARNINGS, SCHOOLS)]
    assert order == [SPORTS + "/primary", RULE + "/", EQUIPMENT + "/junior", EQUIPMENT + "/primary"]


def test_pupils_of_a_city_are_those_of_its_counties() -> None:
    city = _warning("W9", RULE, "339900", "red", grain="city", stage="")
    assert pupils_affected(city, SCHOOLS) == 400 + 150 + 900 + 600 + 5000


def test_a_regional_warning_weighs_the_schools_that_hold_the_same_warning() -> None:
    county = _warning("W8", SPORTS, "339901", "red", grain="stage_county")
    # schools A, B and C hold a 小学 sports warning: their pupils, not D's (初中) nor the
    # other county's
    groups = group_warnings([*WARNINGS, county], SCHOOLS)
    regional = next(g for g in groups if g.grain == "stage_county")
    assert regional.pupils == 400 + 150 + 900


def test_the_week_keeps_to_the_units_its_reader_decides_on() -> None:
    city = _warning("W9", RULE, "339900", "red", grain="city", stage="")
    items = week_list([*WARNINGS, city], SCHOOLS, decides=lambda r: r["grain"] != "city")
    assert "W9" not in [u["warning_id"] for i in items for u in i.group.units]
    assert len(week_list([*WARNINGS, city], SCHOOLS)) == 3


def test_one_line_per_school_with_its_counts_and_worst_item() -> None:
    lines = roll_up_schools(WARNINGS)
    assert [s.school_code for s in lines] == [A, C, D, B]
    a = lines[0]
    assert (a.level, a.levels, a.total) == ("red", {"red": 1, "orange": 0, "yellow": 1}, 2)
    assert a.worst["warning_id"] == "W1"
    assert {s.school_code: s.level for s in lines} == {
        A: "red",
        B: "yellow",
        C: "orange",
        D: "orange",
    }
    # the county's warning is no school's
    assert all(s.school_code != "339901" for s in lines)


def test_the_weeks_list_follows_its_rule() -> None:
    items = week_list(WARNINGS, SCHOOLS)
    # open red/orange only: W2, W4 (yellow) and W5 (acknowledged) are not for this week
    # both items red; the sports group has a worsening school (W3), the county's has none →
    # sports first although the county's item affects more pupils (2,050 against 1,300)
    assert [[u["warning_id"] for u in i.group.units] for i in items] == [["W1", "W3"], ["W6"]]
    assert [i.new_or_worse for i in items] == [True, False]
    sports = items[0]
    assert sports.group.pupils == 400 + 900
    assert sports.largest_gap == pytest.approx(0.20)


def test_the_week_orders_by_level_then_worsening_then_pupils_and_keeps_ten() -> None:
    rows = [
        _warning("R1", SPORTS, A, "red"),  # 400 pupils, not worsening
        _warning("R2", EQUIPMENT, B, "red", trend="new"),  # 150 pupils, new
        _warning("O1", "balance.teaching_area_per_student", C, "orange", trend="worse"),
        _warning("R3", "balance.multimedia_rooms_per100", C, "red"),  # 900 pupils
    ]
    items = week_list(rows, SCHOOLS)
    assert [i.group.units[0]["warning_id"] for i in items] == ["R2", "R3", "R1", "O1"]
    many = [_warning(f"M{n}", SPORTS, f"33010{n:05d}", "red", stage=f"s{n}") for n in range(1, 15)]
    assert len(week_list(many, SCHOOLS)) == 10
    assert len(week_list(many, SCHOOLS, limit=3)) == 3
