"""zh-CN number and date formats of the cockpit, against hand-written expectations."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from edubrain.cockpit import format as fmt
from edubrain.cockpit.outline import parse_outline
from edubrain.errors import ConfigError


def test_numbers_group_by_thousands_and_keep_the_decimals() -> None:
    assert fmt.number(1234567.891, 2) == "1,234,567.89"
    assert fmt.number(0.5, 0) == "0"  # banker's rounding is Python's, 0.5 → 0
    assert fmt.number(None) == "—"
    assert fmt.number(float("nan")) == "—"


def test_counts_read_in_wan_from_ten_thousand() -> None:
    assert fmt.count(9_999) == "9,999"
    assert fmt.count(58_414) == "5.8万"
    assert fmt.count(58_414, "en") == "58,414"


def test_indicator_values_carry_their_unit() -> None:
    assert fmt.indicator_value(95.2, "%", 1) == "95.2%"
    assert fmt.indicator_value(4234.576, "元/生", 2) == "4,234.58 元/生"
    assert fmt.indicator_value(0.3124, "", 3) == "0.312"
    assert fmt.indicator_value(None, "%", 1) == "—"


def test_dates_and_school_years_in_chinese() -> None:
    assert fmt.day(date(2026, 3, 1)) == "2026年3月1日"
    assert fmt.day("2026-03-01T08:30:00") == "2026年3月1日"
    assert fmt.day(date(2026, 3, 1), "en") == "2026-03-01"
    assert fmt.moment(datetime(2026, 3, 1, 8, 5)) == "2026年3月1日 08:05"
    assert fmt.moment("2026-03-02T00:30:00+00:00") == "2026年3月2日 00:30 UTC"
    assert fmt.moment("2026-03-02T08:30:00+08:00") == "2026年3月2日 08:30 +0800"


def test_a_time_shows_in_the_bureau_zone_by_its_name() -> None:
    from zoneinfo import ZoneInfo

    utc = "2026-03-02T00:30:00+00:00"  # the audit trail keeps UTC
    shanghai = ZoneInfo("Asia/Shanghai")
    assert fmt.moment(utc, "zh", shanghai) == "2026年3月2日 08:30 北京时间"
    assert fmt.moment(utc, "en", shanghai).endswith("08:30 Beijing time")
    assert fmt.moment(utc, "zh", ZoneInfo("Asia/Urumqi")) == "2026年3月2日 06:30 Asia/Urumqi"
    # A job's time already in the zone is named, not numbered.
    assert fmt.moment(datetime(2026, 3, 2, 8, 30, tzinfo=shanghai)).endswith("08:30 北京时间")
    # A time with no zone is shown as it is.
    assert fmt.moment(datetime(2026, 3, 1, 8, 5), "zh", shanghai) == "2026年3月1日 08:05"
    assert fmt.school_year("2025-2026") == "2025—2026学年"
    assert fmt.stage("junior") == "初中"


def test_an_outline_must_be_polygons() -> None:
    square = [[[120, 29], [121, 29], [121, 30], [120, 30], [120, 29]]]
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "Polygon", "coordinates": square},
    }
    parsed = parse_outline(feature, "outline.geojson")
    assert parsed["type"] == "FeatureCollection"
    assert parsed["features"][0]["properties"]["name"] == "区域1"
    line = {**feature, "geometry": {"type": "LineString", "coordinates": square[0]}}
    with pytest.raises(ConfigError, match="feature 1 is not a Polygon"):
        parse_outline({"type": "FeatureCollection", "features": [line]}, "outline.geojson")
    with pytest.raises(ConfigError, match="no polygon"):
        parse_outline({"type": "FeatureCollection", "features": []}, "outline.geojson")


def test_every_text_the_pages_translate_has_its_english() -> None:
    """t('…') in a template, menu items and role names: each has an English entry."""
    import re
    from importlib import resources

    from edubrain.cockpit.i18n import EN
    from edubrain.cockpit.render import NAV, ROLE_ZH, module_nav

    folder = resources.files("edubrain.cockpit") / "templates"
    used = {
        text
        for entry in folder.iterdir()
        if entry.name.endswith(".html")
        for text in re.findall(r"\bt\('([^']+)'\)", entry.read_text("utf-8"))
    }
    used |= {item.label for item in (*NAV, *module_nav())} | set(ROLE_ZH.values())
    # The names the pages give codes (cockpit.labels) and what an error page says.
    from edubrain.cockpit import labels
    from edubrain.cockpit.pages import ERROR_MESSAGES, PAGE_NOT_FOUND

    for names in (labels.PERMISSION_ZH, labels.ACTION_ZH, labels.OUTCOME_ZH,
                  labels.RESOURCE_ZH, labels.MATCH_REASON_ZH, labels.MATCH_LEVEL_ZH,
                  ERROR_MESSAGES):  # fmt: skip
        used |= set(names.values())
    used.add(PAGE_NOT_FOUND)
    assert sorted(used - set(EN)) == []


def test_a_zh_page_shows_the_chinese_part_of_a_message_for_both_languages() -> None:
    from edubrain.cockpit.labels import chinese_part

    both = (
        "表头（第 1 行）缺少必需列 年级编号 (its header lacks required column(s) 年级编号; a "
        "mapping rule may list other names of a column under `aliases`)"
    )
    assert chinese_part(both) == "表头（第 1 行）缺少必需列 年级编号"
    assert chinese_part("不是可导入的文件类型（.pdf） (not a table file)") == (
        "不是可导入的文件类型（.pdf）"
    )
    assert chinese_part("日期无效（如 2019-04-30）") == "日期无效（如 2019-04-30）"  # no gloss
    assert chinese_part("only English") == "only English"  # nothing Chinese to keep
    assert chinese_part(None) == ""


def test_warning_history_reads_in_chinese() -> None:
    from edubrain.cockpit.labels import warning_actor, warning_event, warning_note

    assert [warning_event(e) for e in ("opened", "auto_resolved", "acknowledged")] == [
        "开启",
        "重算后自动解除",
        "认领",
    ]
    assert warning_actor("system") == "系统" and warning_actor("王老师") == "王老师"
    assert warning_note("was red") == "原为红色" and warning_note("已核实") == "已核实"
    assert warning_event("opened", "en") == "opened" and warning_note("was red", "en") == "was red"
