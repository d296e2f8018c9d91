"""ID-number and 学籍号 rules, against the test vectors in shared/reference/codes/."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from edubrain.standard.identifiers import (
    id_check_char,
    id_number_problem,
    id_number_problems,
    real_dates,
    student_number_problem,
    student_number_problems,
)


def test_reference_vectors_pass() -> None:
    # id_and_student_number.md: S = 167 → X, and S = 195 → 4.
    assert id_check_char("11010519491231002") == "X"
    assert id_check_char("44052418800101001") == "4"
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("440524188001010014") is None


def test_each_problem_is_named() -> None:
    assert id_number_problem("440524188001010015") == "bad_check_digit"
    assert id_number_problem("44052418800230001X") == "bad_date"  # 30 February
    assert id_number_problem("4405241880010100") == "bad_format"
    assert id_number_problem("44052418800101001x") == "bad_format"  # callers upper-case first


def test_student_numbers() -> None:
    assert student_number_problem("G11010519491231002X") is None
    assert student_number_problem("G110105194912310021") == "bad_check_digit"
    # L: school division + birth date + 4 random digits, no check digit.
    assert student_number_problem("L331122201503071234") is None
    assert student_number_problem("L331122201513071234") == "bad_date"
    assert student_number_problem("K11010519491231002X") == "bad_format"
    assert student_number_problem("G11010519491231002") == "bad_format"


def test_real_dates_know_leap_years() -> None:
    years = np.array([2000, 1900, 2024, 2023, 2023])
    months = np.array([2, 2, 2, 2, 4])
    days = np.array([29, 29, 29, 29, 31])
    assert real_dates(years, months, days).tolist() == [True, False, True, False, False]


_digits = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(
    st.lists(
        _digits.flatmap(lambda d: st.sampled_from([d + c for c in "0123456789X"]) | st.just(d)),
        max_size=30,
    )
)
def test_vectorised_id_check_agrees_with_scalar(values: list[str]) -> None:
    got = id_number_problems(np.array(values, dtype=np.str_)).tolist()
    assert got == [id_number_problem(v) for v in values]


@given(
    st.lists(
        st.tuples(st.sampled_from("GJLKX"), _digits, st.sampled_from("0123456789X")).map(
            lambda t: "".join(t)
        ),
        max_size=30,
    )
)
def test_vectorised_student_number_agrees_with_scalar(values: list[str]) -> None:
    got = student_number_problems(np.array(values, dtype=np.str_)).tolist()
    assert got == [student_number_problem(v) for v in values]
