"""`edubrain ingest` through the CLI: reports, --json, and garbage files refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from edubrain.cli import ingest_cmd
from edubrain.settings import Settings
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse

HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)
BODY = "43010220180305001"
ROW = (
    f"G{BODY}{id_check_char(BODY)},,王小一,男,2018-03-05,汉族,,,4301020001,2025-2026,二年级,1,,在读"
)


def _app() -> typer.Typer:
    app = typer.Typer()
    ingest_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Keep `ingest` a sub-command."""

    return app


def run(home: Path, *args: str):
    return CliRunner().invoke(_app(), ["ingest", *args], env={"EDUBRAIN_HOME": str(home)})


def snapshot(home: Path) -> dict[str, list]:
    with open_warehouse(Settings(home=home)) as wh:
        return {n: wh.to_arrow(n).to_pylist() for n in ("student", "quarantine", "loads")}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    good = tmp_path / "学籍_学生信息_good.csv"
    good.write_bytes(f"{HEADER}\n{ROW}\n".encode("gbk"))
    result = run(tmp_path / "home", str(good))
    assert result.exit_code == 0, result.output
    return tmp_path / "home"


def _xlsx_bytes(tmp_path: Path) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "教职工"
    book.active.append(["教职工号"])
    book.save(tmp_path / "whole.xlsx")
    return (tmp_path / "whole.xlsx").read_bytes()


GARBAGE = {
    "empty": ("学籍_学生信息_empty.csv", lambda tmp: b"", (), "empty"),
    "blank": ("学籍_学生信息_blank.csv", lambda tmp: b"\r\n  \n", (), "empty"),
    "binary": ("学籍_学生信息_bin.csv", lambda tmp: bytes(range(256)) * 40, (), "binary"),
    "truncated xlsx": (
        "人事_教职工信息_cut.xlsx", lambda tmp: _xlsx_bytes(tmp)[:700], (), "xlsx"
    ),
    "utf-16 without its byte-order mark": (
        "学籍_学生信息_u16.csv", lambda tmp: f"{HEADER}\n{ROW}\n".encode("utf-16-le"), (),
        "binary",
    ),
    "10 MB field": (
        "阅卷_考试信息_big.csv",
        lambda tmp: ("考试编号,考试名称,学年,学期,科目,年级,考试日期,满分\n"
                     f"E1,{'长' * 3_500_000},2025-2026,1,数学,初一,2025-11-10,120\n").encode(),
        (), "EDUBRAIN_INGEST_MAX_FIELD_BYTES",
    ),
    "header lacks required columns": (
        "学籍_学生信息_hdr.csv", lambda tmp: "姓名,性别\n张三,男\n".encode("gbk"), (), "学籍号",
    ),
    "unrecognised file": ("readme.txt", lambda tmp: b"hello", (), "not a recognised export"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(GARBAGE))
def test_garbage_is_refused_in_one_line_and_loads_nothing(
    case: str, home: Path, tmp_path: Path
) -> None:
    name, content, options, words = GARBAGE[case]
    path = tmp_path / name
    path.write_bytes(content(tmp_path))
    before = snapshot(home)
    result = run(home, *options, str(path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and words in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert snapshot(home) == before


def test_other_files_still_load_and_json_reports_the_failure(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "学籍_学生信息_bad.csv"
    bad.write_bytes(b"")
    other = tmp_path / "school.csv"
    other.write_text(
        "school_code,name,stages,urban_rural,region_code\n4301020009,九中,junior,rural,430102\n",
        "utf-8",
    )
    result = run(home, "--json", str(bad), str(other))
    assert result.exit_code == 2
    reports = {Path(r["file"]).name: r for r in json.loads(result.stdout)}
    assert reports["学籍_学生信息_bad.csv"]["error"]
    assert reports["school.csv"]["rows_inserted"] == 1 and reports["school.csv"]["error"] is None
    assert len(snapshot(home)["loads"]) == 2


def test_table_output_and_idempotent_rerun(home: Path, tmp_path: Path) -> None:
    result = run(home, "--json", str(tmp_path / "学籍_学生信息_good.csv"))
    assert result.exit_code == 0
    (report,) = json.loads(result.stdout)
    assert (report["rows_unchanged"], report["rows_inserted"]) == (1, 0)
    result = run(home, str(tmp_path / "学籍_学生信息_good.csv"))
    assert result.exit_code == 0 and "1 loaded" in result.stdout


def test_unknown_source_is_a_usage_error(home: Path, tmp_path: Path) -> None:
    result = run(home, "--source", "nope", str(tmp_path))
    assert result.exit_code != 0
