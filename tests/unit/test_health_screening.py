"""Health screening against WS/T 586-2018, WS/T 456-2014 and the screening definition of myopia.

Expected values are the reference tables' own cut-offs (`reference/bmi_wst586_2018.csv`,
`reference/malnutrition_wst456_2014.csv`): every row's values are tried at, just above and just
below the edge, for both sexes and every half-year group; ages are counted by hand.
"""

from __future__ import annotations

import csv
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from edubrain.modules.health.screening import (
    MYOPIA,
    POOR_NO_REFRACTION,
    POOR_NOT_MYOPIC,
    age_in_months,
    screen,
)

PACKAGED = resources.files("edubrain.modules.health").joinpath("reference")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "reference"
CHECKED = date(2025, 9, 22)


def rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(PACKAGED.joinpath(name).read_text("utf-8").splitlines()))


def born(months: int) -> date:
    """A birth date `months` completed months before CHECKED."""
    total = CHECKED.year * 12 + CHECKED.month - 1 - months
    return date(total // 12, total % 12 + 1, CHECKED.day)


def weigh(sex: str, months: int, bmis: list[float], height: float = 100.0) -> list[str]:
    n = len(bmis)
    found = screen(
        [sex] * n,
        [born(months)] * n,
        [CHECKED] * n,
        {"height_cm": [height] * n, "weight_kg": [b * (height / 100) ** 2 for b in bmis]},
    )
    return found.weight_status.tolist()


def test_age_in_completed_months() -> None:
    got = age_in_months(
        [date(2019, 9, 22), date(2019, 9, 23), date(2019, 3, 31), None],
        [CHECKED, CHECKED, date(2025, 3, 30), CHECKED],
    )
    assert got.tolist() == [72, 71, 71, -1]


def test_overweight_and_obesity_at_every_edge() -> None:
    checked = 0
    for r in rows("bmi_wst586_2018.csv"):
        months = int(r["age_group_from_months"])
        over, obese = float(r["overweight_bmi_min"]), float(r["obesity_bmi_min"])
        got = weigh(r["sex_code"], months, [over - 0.1, over, obese - 0.1, obese, obese + 0.1])
        # 0.1 below 超重 can be 消瘦 only at ages with a thinness table, never at these values
        assert got == ["正常", "超重", "超重", "肥胖", "肥胖"], r
        if r["age_group_to_months_exclusive"]:
            last = int(r["age_group_to_months_exclusive"]) - 1  # the group's last month
            assert weigh(r["sex_code"], last, [over, over - 0.1]) == ["超重", "正常"], r
        checked += 1
    assert checked == 50


def test_thinness_and_stunting_at_every_edge() -> None:
    checked = 0
    for r in rows("malnutrition_wst456_2014.csv"):
        months = int(r["age_group_from_months"])
        severe = float(r["moderate_severe_thinness_bmi_max"])
        mild = float(r["mild_thinness_bmi_max"])
        got = weigh(r["sex_code"], months, [severe, severe + 0.1, mild, mild + 0.1])
        assert got[0] == "中重度消瘦" and got[-1] == "正常", r
        assert got[1] == ("轻度消瘦" if severe + 0.1 <= mild + 1e-9 else "正常"), r
        assert got[2] == ("轻度消瘦" if mild > severe else "中重度消瘦"), r
        stunt = float(r["stunting_height_max_cm"])
        heights = [stunt, stunt + 0.1]
        found = screen(
            [r["sex_code"]] * 2,
            [born(months)] * 2,
            [CHECKED] * 2,
            {"height_cm": heights, "weight_kg": [20.0] * 2},
        )
        assert found.stunted.tolist() == [True, False], r
        assert "WS/T 456" in found.uncertain[0]  # the ≤ at this edge is not confirmed
        checked += 1
    assert checked == 48


def test_outside_six_to_eighteen_nothing_is_classified() -> None:
    assert weigh("1", 71, [30.0]) == [""]
    # 18 and over: WS/T 586's adult row (24 / 28); WS/T 456 has no row
    assert weigh("1", 230, [23.9, 24.0, 28.0, 10.0]) == ["正常", "超重", "肥胖", "正常"]


def _vision(acuity: tuple[float, float], se: tuple[float | None, float | None]) -> str:
    found = screen(
        ["1"],
        [born(100)],
        [CHECKED],
        {
            "vision_left": [acuity[0]],
            "vision_right": [acuity[1]],
            "se_left": [np.nan if se[0] is None else se[0]],
            "se_right": [np.nan if se[1] is None else se[1]],
        },
    )
    return str(found.vision_status[0])


@pytest.mark.parametrize(
    ("acuity", "se", "expected"),
    [
        ((4.9, 5.0), (-0.5, 0.0), MYOPIA),  # both conditions in the left eye
        ((4.9, 5.0), (-0.25, 0.0), POOR_NOT_MYOPIC),  # refraction above −0.50 D
        ((4.9, 4.9), (None, None), POOR_NO_REFRACTION),  # never myopia without refraction
        ((5.0, 5.0), (-3.0, -3.0), "视力正常"),  # acuity 5.0 is not below 5.0
        ((5.1, 4.8), (0.0, -1.0), MYOPIA),  # the right eye
        ((4.8, 5.0), (0.0, -2.0), POOR_NOT_MYOPIC),  # the conditions must hold in one eye
    ],
)
def test_myopia_needs_low_acuity_and_refraction_in_one_eye(
    acuity: tuple[float, float], se: tuple[float | None, float | None], expected: str
) -> None:
    assert _vision(acuity, se) == expected


@pytest.mark.skipif(
    not SHARED.is_dir(), reason="the shared reference folder is not beside the repo"
)
def test_packaged_tables_are_the_reference() -> None:
    for name in ("bmi_wst586_2018.csv", "malnutrition_wst456_2014.csv"):
        assert PACKAGED.joinpath(name).read_bytes() == (SHARED / name).read_bytes(), name


class _Tables:
    """The warehouse as the screening job reads it, from in-memory tables."""

    def __init__(self, tables: dict[str, dict[str, list[object]]]) -> None:
        self._tables = tables

    def has_table(self, name: str) -> bool:
        return name in self._tables

    def table(self, name: str) -> object:
        import ibis

        return ibis.memtable(self._tables[name])


def test_the_job_takes_the_registrys_sex_where_the_check_has_none() -> None:
    from datetime import datetime

    from edubrain.modules.health.screening_job import screen_health

    # WS/T 586 at 9.0 years (108–113 months): 男 超重 ≥ 18.5, 肥胖 ≥ 20.8; 女 肥胖 ≥ 20.4 — a
    # BMI of 20.4 is 肥胖 for a girl and 超重 for a boy.
    months = 110
    tables = _Tables(
        {
            "health_check": {
                "student_number": ["A", "B"],
                "sex": [None, "1"],
                "check_date": [CHECKED, CHECKED],
                "height_cm": [100.0, 100.0],
                "weight_kg": [20.4, 20.4],
                "vision_left": [5.0, 5.0],
                "vision_right": [5.0, 5.0],
                "se_left": [None, None],
                "se_right": [None, None],
            },
            "student": {
                "student_number": ["A", "B"],
                "school_year": ["2025-2026", "2025-2026"],
                "school_code": ["S1", "S1"],
                "grade_code": ["14", "14"],
                "birth_date": [born(months), born(months)],
                "sex": ["2", "2"],  # B's check says 1: the check's own value stands
            },
        }
    )
    found = screen_health(tables, screened_at=datetime(2026, 1, 1))  # type: ignore[arg-type]
    rows = {r["student_number"]: r for r in found.table.to_pylist()}
    assert (rows["A"]["sex"], rows["A"]["weight_status"]) == ("2", "肥胖")
    assert (rows["B"]["sex"], rows["B"]["weight_status"]) == ("1", "超重")
    assert rows["A"]["school_code"] == "S1" and rows["A"]["age_months"] == 110
