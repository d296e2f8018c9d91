"""f. Data: the quality score and 数据互通率 from governance (edubrain.govern.scorecard).

The one family no module declares: it measures the data of every installed module, so it is
derived from what governance measures — the person registry and the person-bearing records it
resolves to it. Built when the catalogue is listed (`family()`), as the registry's names are
known only then.

Computed when governance can compute them: 数据互通率 uses record linkage's resolver when
`edubrain govern` has run, and the plain 学籍 number match before. Records of no known school
count in the county when the region has one county (else under county "(unknown)") and in the
city.
"""

from __future__ import annotations

from edubrain.govern.persons import secondary_sources
from edubrain.govern.scorecard import person_bearing
from edubrain.indicators.definitions import Direction, Family, Grain, Indicator, Ratio
from edubrain.standard.entities import person_registry

GRAINS = (Grain.SCHOOL, Grain.COUNTY, Grain.CITY)
ORDER = 6


def family() -> Family:
    """The data family, its 数据互通率 reading the person registry and the person-bearing
    records governance resolves to it."""
    # The sources as their users call them, the installed modules' own (体测, 阅卷 …).
    sources = ", ".join(s.label_zh for s in secondary_sources())
    return Family(
        "data",
        "数据质量与互通 (data)",
        "The governance scorecard's share of records passing every quality rule, and 数据互通率.",
        (
            Indicator(
                id="data.interop_rate",
                family="data",
                name_zh="数据互通率",
                name_en="interoperability rate (records resolving to a 学籍 pupil)",
                unit="%",
                formula=Ratio(lambda inp: inp.interop(), "resolved", "records", 100),
                formula_text=(
                    f"person-bearing records ({sources}) whose 学籍号 "
                    "resolves to a registry pupil, directly or through record linkage ÷ all "
                    "such records × 100"
                ),
                grains=GRAINS,
                inputs=(person_registry().entity, *person_bearing()),
                direction=Direction.HIGHER,
                filters="all loaded records (not limited to the school year)",
                headline=True,
                decimals=2,
            ),
            Indicator(
                id="data.quality_score",
                family="data",
                name_zh="数据质量得分",
                name_en="data-quality score (records passing every rule)",
                unit="分",
                formula=Ratio(lambda inp: inp.quality(), "passed", "records", 100),
                formula_text=(
                    "records passing every quality rule (quarantined rows count as failing) ÷ "
                    "records × 100, summed over the scorecard's source × school × load units"
                ),
                grains=GRAINS,
                inputs=("quarantine", "loads"),
                direction=Direction.HIGHER,
                filters="all loaded records; timeliness judged on the day of computing",
                headline=True,
                decimals=2,
            ),
        ),
        order=ORDER,
    )
