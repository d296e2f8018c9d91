"""b. Class size: 大班额 (56人以上, ≥ 56) and 超大班额 (66人以上, ≥ 66), counts and shares, and
classes over the standard class size (policy_thresholds.md §3). A class's size is the number
of its enrolled pupils in the 学籍 registry this school year.
"""

from __future__ import annotations

import math
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
from edubrain.modules.roster.frames import class_sizes

if TYPE_CHECKING:
    import ibis.expr.types as ir

LARGE, SUPER_LARGE = 56, 66  # "56人以上" includes 56 (policy_thresholds.md §3, counting note)
STANDARD_SIZE = {"primary": 45, "junior": 50, "senior": 50}

BAND_SOURCE = Source(
    "国发〔2016〕40号 (56人以上大班额, 66人以上超大班额); counting ≥56 / ≥66 by the education-"
    "statistics bands 56–60, 61–65, 66及以上",
    Reliability.SECONDARY,
    "that '56人以上' includes 56 is unverified (U)",
)
RATIO_SOURCE = Source(
    "教育部、国家发展改革委、财政部 2019《关于切实做好义务教育薄弱环节改善与能力提升工作的意见》: "
    "2020年底全部消除66人以上超大班额，全国大班额比例控制在5%以内",
    Reliability.SECONDARY,
)
STANDARD_SOURCE = Source(
    "建标102-2002 第六条 班额 (小学45, 初中50, 高中50); 优质均衡 班额 小学≤45 初中≤50",
    Reliability.SECONDARY,
    "the 2017 办法's class-size text was not retrieved",
)
GRAINS = (Grain.SCHOOL, Grain.STAGE_COUNTY, Grain.COUNTY, Grain.CITY)
INPUTS = ("student", "school")
FILTERS = "classes with at least one enrolled pupil this school year"


def classes(inp: Inputs) -> ir.Table:
    return inp.shared("class_size", lambda: _classes(inp))


def _classes(inp: Inputs) -> ir.Table:
    c = class_sizes(inp)
    standard = ibis.cases(
        *((c.stage == stage, float(n)) for stage, n in STANDARD_SIZE.items()), else_=None
    )
    return c.mutate(
        one=ibis.literal(1.0),
        size_f=c.size.cast("float64"),
        is_large=(c.size >= LARGE).cast("int64"),
        is_super_large=(c.size >= SUPER_LARGE).cast("int64"),
        over_standard=(c.size > standard).fill_null(False).cast("int64"),
    )


def _indicator(
    key: str,
    zh: str,
    en: str,
    unit: str,
    formula: Ratio,
    text: str,
    thresholds: tuple[Threshold, ...] = (),
    *,
    direction: Direction | None = Direction.LOWER,
    headline: bool = False,
    decimals: int = 2,
) -> Indicator:
    return Indicator(
        id=f"class_size.{key}",
        family="class_size",
        name_zh=zh,
        name_en=en,
        unit=unit,
        formula=formula,
        formula_text=text,
        grains=GRAINS,
        inputs=INPUTS,
        direction=direction,
        thresholds=thresholds,
        filters=FILTERS,
        headline=headline,
        decimals=decimals,
    )


FAMILY = Family(
    "class_size",
    "班额 (class size)",
    "大班额 (≥56) and 超大班额 (≥66) classes, their shares, the mean class size and the share "
    "of classes above the standard size.",
    (
        _indicator("large_classes", "大班额班级数（56人及以上）", "classes of 56 or more", "个",
                   Ratio(classes, "is_large"), "count of classes with size ≥ 56",
                   decimals=0),
        _indicator("large_class_share", "大班额比例", "share of classes of 56 or more", "%",
                   Ratio(classes, "is_large", "one", 100),
                   "classes with size ≥ 56 ÷ all classes × 100",
                   (Threshold("<=", {"*": 5}, RATIO_SOURCE, (Grain.COUNTY, Grain.CITY),
                              "大班额比例控制在5%以内"),),
                   headline=True),
        _indicator("super_large_classes", "超大班额班级数（66人及以上）", "classes of 66 or more",
                   "个", Ratio(classes, "is_super_large"), "count of classes with size ≥ 66",
                   (Threshold("<=", {"*": 0}, RATIO_SOURCE, GRAINS, "全部消除超大班额",
                              bands=(2, 5)),),
                   decimals=0),
        _indicator("super_large_class_share", "超大班额比例", "share of classes of 66 or more",
                   "%", Ratio(classes, "is_super_large", "one", 100),
                   "classes with size ≥ 66 ÷ all classes × 100", headline=True),
        _indicator("mean_size", "平均班额", "mean class size", "人/班",
                   Ratio(classes, "size_f", "one"), "enrolled pupils ÷ classes",
                   direction=None, decimals=1),
        _indicator("over_standard_share", "超标准班额班级比例", "share of classes over the "
                   "standard size (小学 45, 初中/高中 50)", "%",
                   Ratio(classes, "over_standard", "one", 100),
                   "classes larger than the 学段's standard size ÷ all classes × 100",
                   # Over the standard but under 56 is 偏大 (46–55), not 大班额, which has
                   # warnings of its own (红 included): 黄 below 30% of the classes, 橙 from
                   # 30%; 红 only when the share grows since last year (decision 0018).
                   (Threshold("<=", {"*": 0}, STANDARD_SOURCE, (Grain.SCHOOL,),
                              "所有班级不超过标准班额",
                              bands=(30, math.inf)),)),
    ),
    (BAND_SOURCE,),
    order=2,
    explain_columns=("size",),
)  # fmt: skip
