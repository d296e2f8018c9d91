"""Warnings: levels from the thresholds, one warning per condition, the lifecycle, trends and
plan targets — on the hand-made county of indicator_region.py, kept in the operational store
(SQLite in the test's home) as `edubrain indicators compute` keeps them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import indicator_region as region
import pytest
from indicator_region import COUNTY, FACILITY, J1, P1, S1

from edubrain.errors import ConfigError
from edubrain.indicators.catalogue import indicator, indicators
from edubrain.indicators.plans import load_plans, parse_plan
from edubrain.indicators.run import compute_catalogue
from edubrain.indicators.warnings import Status, WarningStateError, WarningStore
from edubrain.service.store import open_store
from edubrain.warehouse import open_warehouse

T0 = datetime(2025, 12, 10, 9, 0, 0)
STAFF = [indicator("staffing.students_per_staff")]


def _find(store: WarningStore, key_part: str) -> list:
    return [w for w in store.all() if key_part in w.condition_key]


def test_threshold_warning_levels_follow_the_bands(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    with open_warehouse(settings) as wh, open_store(settings) as book:
        compute_catalogue(
            wh, warnings=book, indicators=[i for i in indicators() if i.family != "data"], now=T0
        )
        store = WarningStore(book)
        # S1: 16.67 pupils per staff vs 12.5 → 33% over → 红 (bands 5% / 15%)
        staff = _find(store, f"staffing.students_per_staff|0|school|{S1}")
        assert [w.level for w in staff] == ["red"]
        # J1 junior homework 100 min vs 90 → 11% over → 橙 (bands 10% / 30%)
        hw = _find(store, f"homework.written_minutes_junior|0|school|{J1}")
        assert [w.level for w in hw] == ["orange"]
        # P1 grades 1–2: 7.5 written minutes where none are allowed → 黄 (bands 10 / 30 min)
        low = _find(store, f"homework.written_minutes_grades_1_2|0|school|{P1}")
        assert [w.level for w in low] == ["yellow"]
        # J1 has a 66-pupil class: 1 超大班额 class vs 0 → 黄 (bands 2 / 5 classes)
        big = _find(store, f"class_size.super_large_classes|0|school|{J1}")
        assert [w.level for w in big] == ["yellow"]
        # the county's 小学 rule share is 50% vs 100% → 红
        rule = _find(store, f"balance.schools_meeting_rule_share|0|stage_county|{COUNTY}")
        assert {w.stage: w.level for w in rule} == {"primary": "red"}
        assert all(w.status == Status.OPEN for w in store.all())
        assert "教督〔2017〕6号" in rule[0].message and "〔据二手资料〕" in rule[0].message


def test_one_warning_per_condition_and_the_lifecycle(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    with open_warehouse(settings) as wh, open_store(settings) as book:
        store = WarningStore(book)
        first = compute_catalogue(wh, warnings=book, indicators=STAFF, now=T0)
        assert first.warnings is not None and first.warnings.opened == 1
        [w] = store.all()
        # recomputing the same data keeps the one warning, unchanged
        again = compute_catalogue(wh, warnings=book, indicators=STAFF, now=T0 + timedelta(hours=1))
        assert again.warnings is not None and again.warnings.unchanged == 1
        assert [x.warning_id for x in store.all()] == [w.warning_id]
        # a person acknowledges it
        store.acknowledge(w.warning_id, "王主任", "核编中", T0 + timedelta(hours=2))
        assert store.get(w.warning_id).status == Status.ACKNOWLEDGED
        with pytest.raises(WarningStateError):
            store.acknowledge(w.warning_id, "王主任", "again", T0)
    # S1 hires 5 staff: 250 / 20 = 12.5 meets the standard
    hires = [
        {**region._teachers()[0], "staff_number": f"NEW{i}", "school_code": S1} for i in range(5)
    ]
    region.load(settings, {"teacher": region._teachers() + hires}, load_id="L2")
    with open_warehouse(settings) as wh, open_store(settings) as book:
        store = WarningStore(book)
        cleared = compute_catalogue(wh, warnings=book, indicators=STAFF, now=T0 + timedelta(days=1))
        assert cleared.warnings is not None and cleared.warnings.resolved == 1
        w = store.get(w.warning_id)
        assert w.status == Status.RESOLVED and w.resolved_by == "system"
    # the hires move to P1: the same warning reopens, it is not a new one
    moved = [{**h, "school_code": P1} for h in hires]
    region.load(settings, {"teacher": region._teachers() + moved}, load_id="L3")
    with open_warehouse(settings) as wh, open_store(settings) as book:
        store = WarningStore(book)
        back = compute_catalogue(wh, warnings=book, indicators=STAFF, now=T0 + timedelta(days=2))
        assert back.warnings is not None and back.warnings.reopened == 1
        [again_w] = store.all()
        assert again_w.warning_id == w.warning_id and again_w.times_opened == 2
        store.resolve(again_w.warning_id, "李科长", "已申请附加编制", T0 + timedelta(days=3))
        events = [e["event"] for e in store.events(again_w.warning_id)]
    assert events == ["opened", "acknowledged", "auto_resolved", "reopened", "resolved"]


def test_an_indicator_not_computed_does_not_resolve_its_warnings(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    with open_warehouse(settings) as wh, open_store(settings) as book:
        compute_catalogue(wh, warnings=book, indicators=STAFF, now=T0)
        other = compute_catalogue(
            wh, warnings=book, indicators=[indicator("class_size.mean_size")], now=T0
        )
        assert other.warnings is not None and other.warnings.resolved == 0
        assert [w.status for w in WarningStore(book).all()] == ["open"]


def test_trend_across_school_years(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    # In 2024 every school had ≥ 1000 Mbps; in 2025 P2 (500) and S1 (100) do not: 100% → 66.7%
    older = [
        {"school_code": s, "survey_year": 2024, **f, "outbound_bandwidth_mbps": 1000.0}
        for s, f in FACILITY.items()
    ]
    region.load(settings, {"facility_survey": region.tables()["facility_survey"] + older}, "L2")
    share = [indicator("info.gigabit_school_share")]
    with open_warehouse(settings) as wh, open_store(settings) as book:
        compute_catalogue(wh, warnings=book, school_year="2024-2025", indicators=share, now=T0)
        compute_catalogue(wh, warnings=book, school_year="2025-2026", indicators=share, now=T0)
        trend = _find(WarningStore(book), f"trend|info.gigabit_school_share|county|{COUNTY}")
    # (66.7 − 100) / 100 = −33% → worse by ≥ 30% → 红
    assert [(w.level, round(w.value, 2), w.reference) for w in trend] == [("red", 66.67, 100.0)]


def test_gap_to_plan_target_and_the_checklist(tmp_path: Path) -> None:
    settings = region.build(tmp_path)
    plans = load_plans(None)  # the built-in seed 000 plan: 万兆 10% (2020) → 70% (2025)
    with open_warehouse(settings) as wh, open_store(settings) as book:
        ten_gigabit = [indicator("info.ten_gigabit_school_share")]
        compute_catalogue(wh, warnings=book, indicators=ten_gigabit, plans=plans, now=T0)
        gap = _find(WarningStore(book), f"info.ten_gigabit_school_share|county|{COUNTY}")
    # 2025 is the target year: expected 70; measured 16.7 → behind (70 − 16.7) / 60 = 89% → 红
    assert [(w.rule, w.level, w.reference) for w in gap] == [("target_gap", "red", 70.0)]
    target = next(t for p in plans for t in p.targets
                  if t.indicator_id == "info.ten_gigabit_school_share")  # fmt: skip
    assert target.expected(2023) == pytest.approx(10 + 60 * 3 / 5)
    assert target.progress(100 / 6) == pytest.approx((100 / 6 - 10) / 60)


def test_a_bureau_plan_replaces_the_built_in_one_and_bad_plans_are_refused(
    tmp_path: Path,
) -> None:
    (tmp_path / "mine.yaml").write_text(
        "id: seed000-informatization-14th\ntitle: 本县规划\ndocument: 本县文件\n"
        "baseline_year: 2022\ntarget_year: 2027\ntargets:\n"
        "  - {indicator: info.new_space_school_share, baseline: 50, target: 90}\n",
        encoding="utf-8",
    )
    plans = {p.id: p for p in load_plans(tmp_path)}
    mine = plans["seed000-informatization-14th"]
    assert mine.title == "本县规划" and [t.target for t in mine.targets] == [90]
    assert "seed002-common-requirements" in plans
    with pytest.raises(ConfigError) as err:
        parse_plan({"id": "x", "title": "t", "document": "d", "targets": [
            {"indicator": "no.such", "baseline": 1, "target": 2},
            {"indicator": "info.new_space_school_share", "baseline": "a", "target": 2},
        ]}, "bad.yaml")  # fmt: skip
    message = str(err.value)
    for problem in ("baseline_year", "unknown indicator 'no.such'", "expected a number"):
        assert problem in message
