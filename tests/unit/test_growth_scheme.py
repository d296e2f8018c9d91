"""综合素质评价 (issue 17, items 4 and 8): a scheme file is checked with file, line and reason
before anything is scored, and a term's scores follow the scheme's rules — each figure here is
worked out by hand from the rules as the scheme's docstring states them."""

from __future__ import annotations

from pathlib import Path

import pytest

from edubrain.modules.growth.scheme import (
    SchemeFileError,
    active_scheme,
    packaged_scheme,
    parse_scheme,
)
from edubrain.modules.growth.scoring import TOTAL, declines, score_term

SMALL = """\
id: small
name: 小方案
domains:
  - domain: moral
    name: 品德发展
    weight: 0.4
    base: 65
    rules:
      - {kind: 操行等级, levels: {A: 20, B: 12, C: 0, D: -20}}
      - {kind: 志愿服务, per_unit: 1, cap: 15}
      - {kind: 荣誉表彰, each: 5, cap: 10}
      - {kind: 违纪处分, each: -10, cap: 30}
  - domain: intellectual
    name: 学业发展
    weight: 0.6
    base: 0
    rules:
      - {kind: 学业等级, levels: {A: 95, B: 85, C: 70, D: 55}}
levels:
  - {name: 优秀, at_least: 85}
  - {name: 良好, at_least: 70}
  - {name: 待提高}
decline: 20
"""


def rec(kind: str, value: float | None = None, level: str | None = None) -> dict[str, object]:
    return {"kind": kind, "value": value, "level": level}


def test_a_term_is_scored_by_hand() -> None:
    scheme = parse_scheme(SMALL, "small.yaml")
    records = [
        rec("操行等级", level="B"),  # +12
        rec("志愿服务", 3), rec("志愿服务", 4), rec("志愿服务", 10),  # 17 hours, capped at +15
        rec("荣誉表彰"), rec("荣誉表彰"), rec("荣誉表彰"),  # 3 × 5 = 15, capped at +10
        rec("违纪处分"),  # −10
        rec("学业等级", level="B"), rec("学业等级", level="A"),  # the best: A = 95
        rec("研学旅行", 1),  # no rule names it: counted nowhere
    ]  # fmt: skip
    found = score_term(scheme, records)
    assert found.domains == {"moral": 65 + 12 + 15 + 10 - 10, "intellectual": 95.0}  # 92, 95
    assert found.total == pytest.approx(0.4 * 92 + 0.6 * 95)  # 93.8
    assert found.records == {"moral": 8, "intellectual": 2}
    assert scheme.level_of(92.0) == "优秀" and scheme.level_of(84.99) == "良好"
    assert scheme.level_of(70.0) == "良好" and scheme.level_of(69.9) == "待提高"


def test_scores_stay_within_0_and_100_and_a_domain_without_records_is_not_zero() -> None:
    scheme = parse_scheme(SMALL, "small.yaml")
    high = score_term(scheme, [rec("操行等级", level="A"), rec("志愿服务", 40),
                               rec("荣誉表彰"), rec("荣誉表彰")])  # fmt: skip
    assert high.domains["moral"] == 100.0  # 65 + 20 + 15 + 10 = 110 → 100
    low = score_term(scheme, [rec("操行等级", level="D")] + [rec("违纪处分")] * 5)
    assert low.domains["moral"] == 15.0  # 65 − 20 − 30 (five records, −50 capped at −30)
    assert low.domains["intellectual"] is None  # 无记录, not 0
    assert low.total is None  # the total needs every domain
    assert low.records["intellectual"] == 0


def test_a_fall_of_the_schemes_decline_raises_a_growth_warning() -> None:
    scheme = parse_scheme(SMALL, "small.yaml")
    first = score_term(scheme, [rec("操行等级", level="A"), rec("学业等级", level="A")])
    second = score_term(scheme, [rec("操行等级", level="C"), rec("学业等级", level="B")])
    third = score_term(scheme, [rec("学业等级", level="D")])  # 品德 无记录
    found = declines(scheme, [("2024/2", first), ("2025/1", second), ("2025/2", third)])
    assert found[0]["moral"] == (None, False)  # no earlier term
    assert found[1]["moral"] == (85.0, True)  # 85 → 65: fell by 20
    assert found[1]["intellectual"] == (95.0, False)  # 95 → 85: by 10 only
    assert found[1][TOTAL] == (pytest.approx(0.4 * 85 + 0.6 * 95), False)  # 91 → 77: by 14
    assert found[2]["intellectual"] == (85.0, True)  # 85 → 55: by 30
    assert found[2]["moral"] == (65.0, False)  # no score this term: no warning


@pytest.mark.parametrize(
    ("change", "line", "reason"),
    # the lines of SMALL, counted: 4 the domains list, 7 base, 10 志愿服务, 11 荣誉表彰, 13 the
    # second domain, 18 学业等级, 20 the levels list, 21 良好, 23 decline
    [
        (("weight: 0.6", "weight: 0.5"), 4, "权重之和应为1"),
        (("domain: intellectual", "domain: science"), 13, "没有「science」这一维度"),
        (("{kind: 学业等级,", "{kind: 志愿服务,"), 18, "已在「品德发展」中计分"),
        (
            ("{kind: 荣誉表彰, each: 5, cap: 10}", "{kind: 荣誉表彰, each: 5, per_unit: 1}"),
            11,
            "恰好有 each、per_unit、levels 之一",
        ),
        (("cap: 15", "cap: 0"), 10, "上限 cap 应大于0"),
        (("at_least: 70", "at_least: 90"), 21, "等级应从高到低排列"),
        (("decline: 20", "decline: -5"), 23, "decline 应在0到100之间"),
        (("base: 65", "base: 120"), 7, "基础分应在0到100之间"),
        (("name: 小方案", "name: [小方案"), 3, "不是有效的 YAML"),
        (("levels:\n  - {name: 优秀", "levls:\n  - {name: 优秀"), 20, "没有「levls」这一项"),
    ],
)
def test_a_broken_scheme_is_refused_with_its_line(
    change: tuple[str, str], line: int, reason: str
) -> None:
    old, new = change
    assert old in SMALL
    with pytest.raises(SchemeFileError) as caught:
        parse_scheme(SMALL.replace(old, new, 1), "bureau.yaml")
    assert caught.value.file == "bureau.yaml"
    assert caught.value.line == line, caught.value
    assert reason in caught.value.reason


def test_the_bureaus_file_replaces_the_example_and_two_files_are_refused(tmp_path: Path) -> None:
    assert active_scheme(tmp_path / "none").id == packaged_scheme().id == "example"
    (tmp_path / "ours.yaml").write_text(SMALL, encoding="utf-8")
    assert active_scheme(tmp_path).id == "small"
    (tmp_path / "theirs.yaml").write_text(SMALL, encoding="utf-8")
    with pytest.raises(SchemeFileError, match="只能有一个评价方案文件"):
        active_scheme(tmp_path)
