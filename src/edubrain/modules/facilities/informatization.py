"""e. Informatization (教育信息化) from the facility survey (办学条件普查).

The items are the measurable ones of 缙云县教育信息化“十四五”发展规划（2021—2025年） (表1 completed
"十三五" indicators, 表2 "十四五" indicators) and of the 共性要求 of 江苏省智慧教育样板区建设指南
（苏教信函〔2023〕2号）.
Baselines and targets of a plan live in a plan file (`plans/`), not here; the thresholds here
are the fixed requirements written in the seeds themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.definitions import (
    Direction,
    Family,
    Grain,
    Indicator,
    Ratio,
    Reliability,
    Source,
    Threshold,
)
from edubrain.indicators.inputs import Inputs
from edubrain.modules.facilities.frames import school_facility_frame
from edubrain.modules.roster.frames import class_sizes

if TYPE_CHECKING:
    import ibis.expr.types as ir

SEED_000_T1 = Source(
    "缙云县教育信息化“十四五”发展规划（2021—2025年） 表1 “十三五”规划主要指标",
    Reliability.VERIFIED,
)
SEED_000_T2 = Source(
    "缙云县教育信息化“十四五”发展规划（2021—2025年） 表2 “十四五”规划主要指标",
    Reliability.VERIFIED,
)
SEED_002 = Source(
    "江苏省智慧教育样板区建设指南（苏教信函〔2023〕2号） 一、(一) 共性要求",
    Reliability.VERIFIED,
)
GRAINS = (Grain.SCHOOL, Grain.COUNTY, Grain.CITY)
REGION = (Grain.COUNTY, Grain.CITY)
INPUTS = ("facility_survey", "school")
FILTERS = "schools with this year's facility survey"


def surveyed_schools(inp: Inputs) -> ir.Table:
    return inp.shared("info_schools", lambda: _surveyed_schools(inp))


def _surveyed_schools(inp: Inputs) -> ir.Table:
    t = school_facility_frame(inp)
    sizes = class_sizes(inp)
    per = sizes.group_by(_c_school=sizes.school_code).aggregate(classes=sizes.count())
    j = t.left_join(per, t.school_code == per._c_school)
    j = j.select(*t.columns, classes=j.classes.fill_null(0).cast("float64"))
    rooms = j.multimedia_classrooms.fill_null(0).cast("float64")
    return j.mutate(
        one=ibis.literal(1.0),
        rooms_covering=ibis.least(rooms, j.classes),
        gigabit=(j.outbound_bandwidth_mbps >= 1000).fill_null(False).cast("int64"),
        ten_gigabit=(j.outbound_bandwidth_mbps >= 10000).fill_null(False).cast("int64"),
        full_wireless=(j.wireless_coverage >= 1.0).fill_null(False).cast("int64"),
        ipv6=j.ipv6_enabled.fill_null(False).cast("int64"),
        has_new_space=(j.new_type_spaces >= 1).fill_null(False).cast("int64"),
        has_recording=(j.recording_classrooms >= 1).fill_null(False).cast("int64"),
        computers_f=j.computers.cast("float64"),
        # No registry this year (an older survey year): per-pupil values are unknown, not 0.
        pupils=ibis.ifelse(j.students > 0, j.students, ibis.null("float64")),
        books_f=j.books.cast("float64"),
    )


def _share(
    key: str,
    zh: str,
    en: str,
    flag: str,
    text: str,
    threshold: Threshold | None = None,
    *,
    notes: str = "",
    headline: bool = False,
) -> Indicator:
    return Indicator(
        id=f"info.{key}",
        family="info",
        name_zh=zh,
        name_en=en,
        unit="%",
        formula=Ratio(surveyed_schools, flag, "one", 100),
        formula_text=text + " (at a school: 100 yes, 0 no)",
        grains=GRAINS,
        inputs=INPUTS,
        direction=Direction.HIGHER,
        thresholds=(threshold,) if threshold else (),
        filters=FILTERS,
        notes=notes,
        headline=headline,
        decimals=1,
    )


FAMILY = Family(
    "info",
    "教育信息化 (informatization)",
    "Network, classroom and equipment items of 缙云县教育信息化“十四五”发展规划's tables and of "
    "江苏省智慧教育样板区建设指南（苏教信函〔2023〕2号）'s 共性要求, from the facility survey; "
    "plan baselines and targets come from `plans/` files.",
    (
        _share("gigabit_school_share", "出口带宽达到1000Mbps的学校比例",
               "share of schools with ≥ 1000 Mbps outbound bandwidth", "gigabit",
               "schools with outbound_bandwidth_mbps ≥ 1000 ÷ surveyed schools × 100",
               Threshold(">=", {"*": 95}, SEED_002, REGION, "共性要求 2: 达95%"),
               headline=True),
        _share("full_wireless_school_share", "无线网络全覆盖学校比例",
               "share of schools with full wireless coverage", "full_wireless",
               "schools with wireless_coverage = 100% ÷ surveyed schools × 100",
               Threshold(">=", {"*": 100}, SEED_002, REGION, "共性要求 2: 无线网络实现校园全覆盖")),
        _share("ipv6_school_share", "支持IPv6的学校比例", "share of schools whose network "
               "supports IPv6", "ipv6", "schools with ipv6_enabled ÷ surveyed schools × 100",
               Threshold(">=", {"*": 90}, SEED_002, REGION,
                         "共性要求 2: 支持IPv6访问的教育网络、网站和系统比例达90%"),
               notes="proxy: the requirement counts networks, websites and systems; the "
                     "survey records one IPv6 flag per school"),
        Indicator(
            id="info.multimedia_classroom_share",
            family="info",
            name_zh="拥有交互式多媒体设备的教室占比",
            name_en="share of classrooms with interactive multimedia equipment",
            unit="%",
            formula=Ratio(surveyed_schools, "rooms_covering", "classes", 100),
            formula_text=(
                "Σ min(multimedia_classrooms, classes) ÷ Σ classes × 100 per school, classes "
                "counted from this year's 学籍 (a school's extra rooms do not cover another's)"
            ),
            grains=GRAINS,
            inputs=(*INPUTS, "student"),
            direction=Direction.HIGHER,
            thresholds=(
                Threshold(">=", {"*": 95}, SEED_002, REGION, "共性要求 3: 达95%"),
                Threshold(">=", {"*": 100}, SEED_000_T1, REGION, "表1-1 交互式多媒体覆盖率 100"),
            ),
            filters=FILTERS,
            headline=True,
            decimals=1,
        ),
        _share("ten_gigabit_school_share", "万兆互联学校比例",
               "share of schools on a ≥ 10 Gbps link", "ten_gigabit",
               "schools with outbound_bandwidth_mbps ≥ 10000 ÷ surveyed schools × 100",
               notes="proxy for 表2-1 教育城域网万兆互联覆盖率; target in the plan file"),
        _share("new_space_school_share", "建有新型教学空间的学校比例",
               "share of schools with a new-type learning space", "has_new_space",
               "schools with new_type_spaces ≥ 1 ÷ surveyed schools × 100",
               notes="表2-2; target in the plan file"),
        _share("recording_classroom_school_share", "录播教室覆盖率",
               "share of schools with a recording classroom", "has_recording",
               "schools with recording_classrooms ≥ 1 ÷ surveyed schools × 100",
               Threshold(">=", {"*": 100}, SEED_000_T1, REGION, "表1-7 录播教室覆盖率 100")),
        Indicator(
            id="info.students_per_computer",
            family="info",
            name_zh="计算机生机比",
            name_en="pupils per computer",
            unit="生/台",
            formula=Ratio(surveyed_schools, "pupils", "computers_f"),
            formula_text="Σ 在校生 ÷ Σ computers",
            grains=GRAINS,
            inputs=(*INPUTS, "student"),
            direction=Direction.LOWER,
            thresholds=(Threshold("<=", {"*": 4}, SEED_000_T1, REGION, "表1-2 生机比 4:1"),),
            filters=FILTERS,
            decimals=2,
        ),
        Indicator(
            id="info.books_per_student",
            family="info",
            name_zh="生均图书册数",
            name_en="library books per pupil",
            unit="册/生",
            formula=Ratio(surveyed_schools, "books_f", "pupils"),
            formula_text="Σ books ÷ Σ 在校生",
            grains=GRAINS,
            inputs=(*INPUTS, "student"),
            direction=Direction.HIGHER,
            thresholds=(Threshold(">=", {"*": 30}, SEED_000_T1, REGION, "表1-4 生均图书 30册"),),
            filters=FILTERS,
            decimals=2,
        ),
    ),
    order=5,
)  # fmt: skip
