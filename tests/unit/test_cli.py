"""The real console entry point: one-line errors with exit codes, and the data-office views."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edubrain.standard.identifiers import id_check_char

HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)


def edubrain(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDUBRAIN_HOME": str(home)}
    env.pop("EDUBRAIN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "edubrain", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_binary_file_is_refused_in_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "学籍_学生信息_binary.csv"
    garbage.write_bytes(bytes(range(256)) * 64)
    result = edubrain(tmp_path / "home", "ingest", str(garbage))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and garbage.name in lines[0], result.stderr


def test_unknown_entity_is_a_usage_error(tmp_path: Path) -> None:
    result = edubrain(tmp_path, "standard", "show", "pupil")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("edubrain: error: unknown entity 'pupil'")


def test_quarantine_lists_rejected_rows_with_reasons(tmp_path: Path) -> None:
    body = "43010220180305001"
    good = f"G{body}{id_check_char(body)}"
    wrong_check = "0" if good[-1] != "0" else "1"
    rows = [
        f"{good},,王小一,男,2018-03-05,汉族,,,4301020001,2025-2026,二年级,1,,在读",
        f"{good[:-1]}{wrong_check},,李小二,女,2018-04-05,汉族,,,4301020001,2025-2026,二年级,1,,在读",
    ]
    export = tmp_path / "学籍_学生信息_1.csv"
    export.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("gbk"))
    home = tmp_path / "home"
    assert edubrain(home, "ingest", str(export)).returncode == 0
    result = edubrain(home, "quarantine", "--json")
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)
    assert record["row_number"] == 3  # as a spreadsheet shows it: the header is row 1
    assert record["field"] == "student_number"
    assert record["reason"] == "bad_check_digit"
    assert Path(record["file"]).name == export.name


def test_an_invalid_setting_is_named_in_one_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EDUBRAIN_WAREHOUSE_MEMORY_LIMIT", "plenty")
    result = edubrain(tmp_path / "home", "quality", "--rules")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "EDUBRAIN_WAREHOUSE_MEMORY_LIMIT" in lines[0], result.stderr
