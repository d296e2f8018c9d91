"""心理筛查's scale files and scoring, against hand calculations.

Every broken scale file is refused with its file, line and reason before anything is scored;
scores are checked by hand on the packaged example (reverse items, the missing-answer rule,
levels at their bounds) and on a small sum-scored scale; the withheld counts by the rule.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from edubrain.modules.psych.reads import withheld_counts
from edubrain.modules.psych.scale import (
    ScaleFileError,
    available_scales,
    packaged_scales,
    parse_scale,
)
from edubrain.modules.psych.scoring import score_responses

SMALL = """\
id: tiny
name: 小量表
response: {min: 0, max: 3}
scoring: sum
max_missing: 0
subscales:
  - {id: a, name: 甲}
  - {id: b, name: 乙}
items:
  - {no: 1, subscale: a, text: 一}
  - {no: 2, subscale: a, reverse: true, text: 二}
  - {no: 3, subscale: b, text: 三}
levels:
  - {name: 高, at_least: 6, warning: true}
  - {name: 低}
"""


def example():
    return packaged_scales()["wellbeing-example"]


def test_the_example_scale_is_whole() -> None:
    scale = example()
    assert len(scale.items) == 20 and [s.id for s in scale.subscales] == [
        "mood",
        "anxiety",
        "social",
        "study",
    ]
    assert sum(item.reverse for item in scale.items) == 6
    assert scale.warning_levels == ("预警",)


def test_reverse_items_subscales_and_total_by_hand() -> None:
    scale = example()
    answers = np.full((2, 20), 1.0)
    answers[1] = 4.0
    scored = score_responses(scale, answers)
    # all 1: the 6 reverse items count 4 → total (14 × 1 + 6 × 4) / 20 = 1.9;
    # 情绪困扰 (items 1–5, 2 and 5 reversed) (1 + 4 + 1 + 1 + 4) / 5 = 2.2
    assert scored.total[0] == 1.9 and scored.subscale_scores["mood"][0] == 2.2
    # all 4: (14 × 4 + 6 × 1) / 20 = 3.1 → 预警 (≥ 3.0), a warning
    assert scored.total[1] == 3.1 and scored.level[1] == "预警" and scored.warning[1]
    assert scored.level[0] == "正常" and not scored.warning[0]
    assert list(scored.status) == ["完整", "完整"]


def test_levels_at_their_bounds() -> None:
    scale = example()
    assert scale.level_of(3.0).name == "预警"  # type: ignore[union-attr]
    assert scale.level_of(2.9999).name == "关注"  # type: ignore[union-attr]
    assert scale.level_of(2.5).name == "关注"  # type: ignore[union-attr]
    assert scale.level_of(2.4999).name == "正常"  # type: ignore[union-attr]
    assert scale.level_of(float("nan")) is None


def test_missing_and_invalid_answers_are_never_zero() -> None:
    scale = example()
    answers = np.full((3, 20), 2.0)  # reverse items 2 → 3: mood (2+3+2+2+3)/5 = 2.4
    answers[0, 0] = np.nan  # one blank in 情绪困扰 (max_missing 1): scored from the other four
    answers[1, [0, 2]] = np.nan  # two blanks in one subscale: that subscale and the total unscored
    answers[2, 5] = 7.0  # outside 1–4: invalid, counted as blank
    scored = score_responses(scale, answers)
    assert scored.subscale_scores["mood"][0] == 2.5  # (3 + 2 + 2 + 3) / 4
    assert scored.status[0] == "部分缺答" and scored.unanswered[0] == 1
    assert math.isnan(scored.subscale_scores["mood"][1]) and math.isnan(scored.total[1])
    assert scored.status[1] == "缺答过多" and scored.level[1] == "" and not scored.warning[1]
    assert scored.invalid[2] == 1 and scored.status[2] == "部分缺答"


def test_a_sum_scored_scale_by_hand() -> None:
    scale = parse_scale(SMALL, "tiny.yaml")
    scored = score_responses(scale, np.array([[3.0, 0.0, 3.0], [1.0, 2.0, 0.0]]))
    # item 2 reversed (0 + 3 − x): [3, 3, 3] → 甲 6, 乙 3, total 9 → 高; [1, 1, 0] → 2 → 低
    assert scored.subscale_scores["a"].tolist() == [6.0, 2.0]
    assert scored.total.tolist() == [9.0, 2.0]
    assert scored.level.tolist() == ["高", "低"] and scored.warning.tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("id: x\nname: [\n", 3, "不是有效的 YAML"),
        (SMALL.replace("scoring: sum", "scoring: median"), 4, "scoring 应是 mean 或 sum"),
        (SMALL.replace("subscale: b, text: 三", "subscale: c, text: 三"), 12, "没有在 subscales"),
        (SMALL.replace("{no: 3,", "{no: 2,"), 12, "题号2重复"),
        (SMALL.replace("at_least: 6", "at_least: 60"), 14, "不在得分范围"),
        (SMALL.replace("  - {name: 低}", "  - {name: 低, at_least: 1}"), 15, "最后一级"),
        (SMALL.replace("response: {min: 0, max: 3}", "response: {min: 3, max: 0}"), 3, "max"),
        (SMALL.replace("max_missing: 0", "max_missing: -1"), 5, "max_missing"),
        (SMALL.replace("name: 小量表\n", "name: 小量表\ncolour: red\n"), 3, "没有「colour」"),
        (SMALL.replace("  - {id: b, name: 乙}\n", "  - {id: b, name: 乙}\n  - {id: c, name: 丙}\n"),
         7, "没有题目"),
        ("", 0, "文件是空的"),
    ],
)  # fmt: skip
def test_a_broken_scale_file_names_its_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(ScaleFileError) as caught:
        parse_scale(text, "bureau.yaml")
    assert caught.value.file == "bureau.yaml"
    assert caught.value.line == line, str(caught.value)
    assert reason in caught.value.reason


def test_a_bureau_scale_replaces_or_adds_and_a_broken_one_stops_everything(
    tmp_path: Path,
) -> None:
    (tmp_path / "tiny.yaml").write_text(SMALL, encoding="utf-8")
    found = available_scales(tmp_path)
    assert set(found) == {"wellbeing-example", "tiny"}
    (tmp_path / "broken.yaml").write_text(SMALL.replace("id: tiny", "id: other\nitems: 3"), "utf-8")
    with pytest.raises(ScaleFileError) as caught:
        available_scales(tmp_path)
    assert caught.value.file.endswith("broken.yaml")


def test_small_counts_are_withheld_with_a_second_cell_when_alone() -> None:
    order = ["预警", "关注", "正常"]
    # 3 alone is withheld, and the smallest other non-zero cell with it
    assert withheld_counts({"预警": 3, "关注": 40, "正常": 300}, order) == {
        "预警": None,
        "关注": None,
        "正常": 300,
    }
    # two small cells withhold each other; a zero is shown
    assert withheld_counts({"预警": 2, "关注": 4, "正常": 300}, order) == {
        "预警": None,
        "关注": None,
        "正常": 300,
    }
    assert withheld_counts({"预警": 0, "关注": 12, "正常": 300}, order) == {
        "预警": 0,
        "关注": 12,
        "正常": 300,
    }
    # a total row withholds what some school's row withheld
    assert withheld_counts({"预警": 9, "关注": 40, "正常": 300}, order, {"预警"}) == {
        "预警": None,
        "关注": None,
        "正常": 300,
    }
