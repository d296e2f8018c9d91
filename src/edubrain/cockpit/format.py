"""Chinese number and date formats for the pages (and their English twins).

zh-CN groups digits by thousands with a comma like en (`12,345.6`, which is also what
`Intl.NumberFormat('zh-CN')` prints); counts of ten thousand and more read in 万 in prose
(`6.2万`), dates read `2026年3月1日`, school years `2025—2026学年`.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from edubrain.indicators.warnings import STAGE_LABELS

DASH = "—"

STAGE_EN = {"primary": "primary", "junior": "junior secondary", "senior": "senior secondary"}
LEVEL_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色"}
STATUS_ZH = {"open": "待处理", "acknowledged": "已认领", "resolved": "已解决"}
GRAIN_ZH = {"school": "学校", "stage_county": "学段×区县", "county": "区县", "city": "市"}


def number(value: float | int | None, decimals: int = 2) -> str:
    """`12,345.68`; None (not computable) is a dash."""
    if value is None or value != value:
        return DASH
    return f"{value:,.{decimals}f}"


def count(value: int | None, lang: str = "zh") -> str:
    """A count as prose: `8,765`, `6.2万` from ten thousand on in Chinese."""
    if value is None:
        return DASH
    if lang == "zh" and abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    return f"{value:,}"


def indicator_value(value: float | None, unit: str, decimals: int) -> str:
    """The value with its unit: `95.20%`, `1.23 m²`, `0.312`."""
    text = number(value, decimals)
    if text == DASH or not unit:
        return text
    return f"{text}{unit}" if unit in ("%", "‰") else f"{text} {unit}"


def _parsed(value: date | datetime | str) -> date | datetime | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def day(value: date | datetime | str | None, lang: str = "zh") -> str:
    """`2026年3月1日` (zh) or `2026-03-01` (en)."""
    if value is None or value == "":
        return DASH
    when = _parsed(value)
    if when is None:
        return str(value)
    if lang != "zh":
        return when.strftime("%Y-%m-%d")
    return f"{when.year}年{when.month}月{when.day}日"


# Zones people name rather than number: Asia/Shanghai is 北京时间 (China has one clock).
ZONE_NAMES: dict[str, tuple[str, str]] = {
    "Asia/Shanghai": ("北京时间", "Beijing time"),
    "Asia/Hong_Kong": ("香港时间", "Hong Kong time"),
    "Asia/Macau": ("澳门时间", "Macau time"),
    "Asia/Taipei": ("台北时间", "Taipei time"),
    "UTC": ("UTC", "UTC"),
}


def zone_name(when: datetime, lang: str = "zh") -> str:
    """How a time's zone reads: 北京时间 for Asia/Shanghai, a zone's key (`Asia/Urumqi`)
    otherwise, `UTC`, or the offset (`+0900`) of a zone that has no name."""
    zone = when.tzinfo
    if isinstance(zone, ZoneInfo):
        names = ZONE_NAMES.get(zone.key)
        return (names[0] if lang == "zh" else names[1]) if names else zone.key
    offset = when.utcoffset()
    if offset is None:
        return ""
    return "UTC" if not offset else f"{when:%z}"


def moment(value: datetime | str | None, lang: str = "zh", zone: tzinfo | None = None) -> str:
    """`2026年3月1日 08:30 北京时间` (zh) or `2026-03-01 08:30 Beijing time` (en): with `zone`
    (the bureau's, setting `timezone`), a time that carries its zone (the audit trail's are
    UTC) is shown in it; the zone is named (`zone_name`). A time without one is shown as is."""
    if value is None or value == "":
        return DASH
    when = _parsed(value)
    if not isinstance(when, datetime):
        return str(value)
    if zone is not None and when.utcoffset() is not None:
        when = when.astimezone(zone)
    name = zone_name(when, lang)
    return f"{day(when, lang)} {when:%H:%M}{' ' + name if name else ''}"


def school_year(value: str | None, lang: str = "zh") -> str:
    """`2025—2026学年` from `2025-2026`."""
    if not value:
        return DASH
    if lang != "zh":
        return value
    return value.replace("-", "—") + "学年"


def stage(value: str | None, lang: str = "zh") -> str:
    if not value:
        return ""
    return STAGE_LABELS.get(value, value) if lang == "zh" else STAGE_EN.get(value, value)
