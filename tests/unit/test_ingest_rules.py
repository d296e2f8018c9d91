"""Each validation rule can fire and can pass; normalisation of dates, times, codes, text."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from edubrain.ingest import ingest_paths
from edubrain.ingest.normalise import (
    clean_text,
    format_regex,
    parse_datetimes,
    parse_minsec,
)
from edubrain.settings import Settings
from edubrain.standard.identifiers import id_check_char

AS_OF = date(2026, 3, 1)


def idn(birth: str, seq: int = 1) -> str:
    body = f"430102{birth}{seq:03d}"
    return body + id_check_char(body)


SCHOOL = {
    "school_code": "4301020001", "name": "一小", "stages": "primary", "urban_rural": "urban",
    "region_code": "430102", "longitude": "112.9", "latitude": "28.2", "is_boarding": "否",
}  # fmt: skip
STUDENT = {
    "student_number": "G" + idn("20180305"), "id_number": idn("20180305"), "name": "王一",
    "sex": "1", "birth_date": "2018-03-05", "school_code": "4301020001",
    "school_year": "2025-2026", "grade_code": "12", "class_no": "1", "status": "enrolled",
}  # fmt: skip
TEACHER = {
    "staff_number": "T1", "name": "李", "sex": "2", "birth_date": "1985-06-12",
    "education": "bachelor", "school_code": "4301020001", "post": "teacher",
}  # fmt: skip
BASE = {"school": SCHOOL, "student": STUDENT, "teacher": TEACHER}


def reasons(tmp_path: Path, entity: str, *rows: dict[str, str]) -> dict[str, int]:
    header = list(BASE[entity])
    lines = [",".join(header)] + [",".join(r.get(h, "") for h in header) for r in rows]
    tmp_path.mkdir()
    path = tmp_path / f"{entity}.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    (report,) = ingest_paths([path], Settings(home=tmp_path / "home"), as_of=AS_OF)
    assert report.error is None, report.error
    return report.reasons


CASES = [
    # (entity, field, bad value, reason, good value)
    ("school", "name", "", "missing_required", "二小"),
    ("school", "school_code", "43010200", "bad_format", "4301020002"),
    ("school", "region_code", "43010", "bad_format", "430103"),
    ("school", "region_code", "991234", "unknown_code", "110101"),
    ("school", "urban_rural", "metro", "unknown_code", "rural"),
    ("school", "stages", "primary;college", "unknown_code", "primary；junior"),
    ("school", "longitude", "east", "bad_number", "１１３．５"),
    ("school", "latitude", "60", "out_of_range", "54"),
    ("school", "is_boarding", "maybe", "bad_format", "Y"),
    ("school", "name", "一\ufffd小", "encoding_error", "一 小"),
    ("student", "id_number", idn("20180305")[:17] + "0", "bad_check_digit", idn("20180305")),
    ("student", "id_number", "4301022018023000" + "1X", "bad_date", idn("20180305").lower()),
    ("student", "id_number", "43010220180305", "bad_format", ""),
    ("student", "student_number", "X" + idn("20180305"), "bad_format", "g" + idn("20180305")),
    ("student", "birth_date", "2018-02-29", "bad_date", "2018-02-28"),
    ("student", "birth_date", "2010-03-05", "implausible_birth_date", "2016-03-05"),
    ("student", "class_no", "1.5", "bad_number", "2"),
    ("student", "class_no", "41", "out_of_range", "40"),
    ("student", "sex", "男", "unknown_code", "2"),  # standard files carry codes, not labels
    ("teacher", "birth_date", "2010-01-01", "implausible_birth_date", "1960-01-01"),
    ("teacher", "birth_date", "1950-01-01", "implausible_birth_date", "2008-02-28"),
]


@pytest.mark.parametrize(("entity", "field", "bad", "reason", "good"), CASES)
def test_rule_fires_and_passes(
    tmp_path: Path, entity: str, field: str, bad: str, reason: str, good: str
) -> None:
    assert reasons(tmp_path / "bad", entity, BASE[entity] | {field: bad}) == {reason: 1}
    assert reasons(tmp_path / "good", entity, BASE[entity] | {field: good}) == {}


def test_duplicate_row_and_duplicate_key(tmp_path: Path) -> None:
    other = STUDENT | {"name": "王二"}
    assert reasons(tmp_path / "a", "student", STUDENT, other, STUDENT) == {
        "duplicate_key": 1, "duplicate_row": 1,
    }  # fmt: skip
    second = STUDENT | {"student_number": "G" + idn("20180305", 2), "id_number": idn("20180305", 2)}
    assert reasons(tmp_path / "b", "student", STUDENT, second) == {}


def test_dates_by_format_in_order() -> None:
    text = pa.array(["2015.3.7", "20150307", "2015/03/07", "42070", "2015.2.30", "1.5", None])
    formats = ["%Y-%m-%d", "%Y.%m.%d", "%Y%m%d", "%Y/%m/%d", "excel_serial"]
    got = parse_datetimes(text, formats, with_time=False).to_pylist()
    assert got == [date(2015, 3, 7)] * 4 + [None, None, None]
    stamps = parse_datetimes(pa.array(["2025-10-08T19:30:05", "45938.5"]),
                             ["%Y-%m-%dT%H:%M:%S", "excel_serial"], with_time=True)  # fmt: skip
    assert stamps.to_pylist() == [datetime(2025, 10, 8, 19, 30, 5), datetime(2025, 10, 8, 12)]
    assert format_regex("%Y%m%d") == r"^(?P<Y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$"


def test_minutes_and_seconds() -> None:
    text = pa.array(["3'35\"", "3′35″", "3:35", "3分35秒", "215", "3'", "abc"])
    normal = clean_text(text)
    assert parse_minsec(normal).to_pylist() == [215.0] * 5 + [None, None]


def test_clean_text_folds_width_trims_and_nulls_empty() -> None:
    assert clean_text(pa.array(["　ＡＢ１２ ", "", "  ", "（平方米）"])).to_pylist() == [
        "AB12", None, None, "(平方米)",
    ]  # fmt: skip


def test_a_missing_school_year_is_only_missing_required(tmp_path: Path) -> None:
    # The age rule must skip the row quietly (it once cast NaN to int, a warning = error here).
    assert reasons(tmp_path / "t", "student", {**STUDENT, "school_year": ""}) == {
        "missing_required": 1
    }
