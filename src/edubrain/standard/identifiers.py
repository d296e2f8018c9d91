"""Identifier checks of the standard: 居民身份证号码 (GB 11643) and 全国学籍号.

Each rule exists twice by necessity: a scalar form (for the generator and for messages) and a
vectorised form (numpy over many values at once) for ingestion at city scale. Tests hold the two
to the same answers.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import numpy.typing as npt

# GB 11643 / ISO 7064 MOD 11-2: weight of position i (1-based) is 2^(18-i) mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"  # indexed by (sum mod 11)

_ID_SHAPE = re.compile(r"\d{17}[\dX]")
_STUDENT_NUMBER_SHAPE = re.compile(r"[GJL]\d{17}[\dX]")


def id_check_char(first17: str) -> str:
    """The check character for the first 17 digits of an ID number."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


EARLIEST_BIRTH_YEAR = 1800  # a birth date before this is a typo, not a person


def _is_real_date(yyyymmdd: str) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return born.year >= EARLIEST_BIRTH_YEAR


def id_number_problem(value: str) -> str | None:
    """None if `value` is a well-formed 18-character ID number, else the reason code."""
    if not _ID_SHAPE.fullmatch(value):
        return "bad_format"
    if not _is_real_date(value[6:14]):
        return "bad_date"
    if id_check_char(value[:17]) != value[17]:
        return "bad_check_digit"
    return None


def student_number_problem(value: str) -> str | None:
    """None if `value` is a well-formed 学籍号, else the reason code.

    G numbers carry the pupil's ID number, so their body must pass GB 11643. J and L bodies
    have no confirmed check rule (shared/reference/codes/id_and_student_number.md), so only
    their shape and embedded birth date are checked.
    """
    if not _STUDENT_NUMBER_SHAPE.fullmatch(value):
        return "bad_format"
    if value[0] == "G":
        return id_number_problem(value[1:])
    if not _is_real_date(value[7:15]):
        return "bad_date"
    return None


def id_number_problems(values: npt.NDArray[np.str_]) -> npt.NDArray[np.object_]:
    """Vectorised `id_number_problem` over an array of (normalised, non-null) strings.

    Returns an object array holding None or the reason code for each value.
    """
    values = np.asarray(values, dtype=np.str_)
    out = np.full(values.shape, None, dtype=object)
    if values.size == 0:
        return out
    shape_ok = np.char.str_len(values) == 18
    fixed = np.where(shape_ok, values, "000000000000000000").astype("U18")
    # View the 18 characters of each value as code points.
    chars = fixed.view(np.uint32).reshape(-1, 18)
    digits = chars[:, :17].astype(np.int64) - ord("0")
    last = chars[:, 17]
    shape_ok &= np.all((digits >= 0) & (digits <= 9), axis=1)
    shape_ok &= ((last >= ord("0")) & (last <= ord("9"))) | (last == ord("X"))
    out[~shape_ok] = "bad_format"

    years = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    months = digits[:, 10] * 10 + digits[:, 11]
    days = digits[:, 12] * 10 + digits[:, 13]
    date_ok = real_dates(years, months, days)
    out[shape_ok & ~date_ok] = "bad_date"

    sums = digits @ np.array(ID_WEIGHTS)
    expected = np.frombuffer(ID_CHECK_CHARS.encode(), dtype=np.uint8)[sums % 11]
    check_ok = expected.astype(np.uint32) == last
    out[shape_ok & date_ok & ~check_ok] = "bad_check_digit"
    return out


def real_dates(
    years: npt.NDArray[np.int64], months: npt.NDArray[np.int64], days: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_]:
    """True where (year, month, day) is a real Gregorian calendar date."""
    leap = ((years % 4 == 0) & (years % 100 != 0)) | (years % 400 == 0)
    month_len = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    safe_months = np.clip(months, 0, 12)
    limit = month_len[safe_months] + ((safe_months == 2) & leap)
    real: npt.NDArray[np.bool_] = (
        (years >= EARLIEST_BIRTH_YEAR)
        & (months >= 1)
        & (months <= 12)
        & (days >= 1)
        & (days <= limit)
    )
    return real


def student_number_problems(values: npt.NDArray[np.str_]) -> npt.NDArray[np.object_]:
    """Vectorised `student_number_problem`."""
    values = np.asarray(values, dtype=np.str_)
    out = np.full(values.shape, None, dtype=object)
    if values.size == 0:
        return out
    length_ok = np.char.str_len(values) == 19
    prefix = np.where(length_ok, np.char.ljust(values, 1).astype("U1"), "")
    prefix_ok = length_ok & np.isin(prefix, ["G", "J", "L"])
    out[~prefix_ok] = "bad_format"
    body = np.where(prefix_ok, values, "G" + "0" * 18).astype("U19")
    body = np.array([b[1:] for b in body], dtype="U18") if body.size else body
    body_problems = id_number_problems(body)
    is_g = prefix == "G"
    g_rows = prefix_ok & is_g
    out[g_rows] = body_problems[g_rows]
    # J/L: shape and date only — re-use the ID scan but ignore its check-digit verdict.
    jl_rows = prefix_ok & ~is_g
    jl = body_problems[jl_rows]
    jl[jl == "bad_check_digit"] = None
    out[jl_rows] = jl
    return out
