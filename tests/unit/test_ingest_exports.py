"""Exports as bureaus have them: saved as xlsx or Unicode text, in UTF-8 with or without BOM,
with a title row above the header and a 合计 row below the data, a renamed header, an extra
column — each read to the expected rows, the report naming what ingest did.

Every fixture is written by the test (made-up pupils); expected values are worked out by hand.
Row numbers are the ones a spreadsheet shows: the header line (and any title row) counted.
"""

from __future__ import annotations

import codecs
import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from edubrain.cli import ingest_cmd
from edubrain.ingest import FileReport, ingest_paths
from edubrain.settings import Settings
from edubrain.sources.mapping import parse_mapping
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse

AS_OF = date(2026, 3, 1)
HEADER = [
    "学籍号", "身份证件号", "姓名", "性别", "出生日期", "民族", "户口所在地代码", "现住址",
    "学校标识码", "学年", "年级", "班号", "入学年份", "学籍状态",
]  # fmt: skip


def id_number(seq: int) -> str:
    body = f"43010220180305{seq:03d}"
    return body + id_check_char(body)


def student(seq: int, **over: str) -> dict[str, str]:
    idn = id_number(seq)
    cells = {
        "学籍号": "G" + idn, "身份证件号": idn, "姓名": f"王小{seq}", "性别": "男",
        "出生日期": "2018-03-05", "民族": "汉族", "户口所在地代码": "430102",
        "现住址": "长沙市芙蓉路1号", "学校标识码": "4301020001", "学年": "2025-2026",
        "年级": "二年级", "班号": "1", "入学年份": "2024", "学籍状态": "在读",
    }  # fmt: skip
    cells.update(over)
    return cells


def lines(header: list[str], rows: list[dict[str, str]], sep: str = ",") -> list[str]:
    return [sep.join(header), *(sep.join(r[h] for h in header) for r in rows)]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def ingest(path: Path, settings: Settings) -> FileReport:
    (report,) = ingest_paths([path], settings, as_of=AS_OF)
    assert report.error is None, report.error
    return report


def table(settings: Settings, name: str) -> list[dict]:
    with open_warehouse(settings) as wh:
        return wh.to_arrow(name).to_pylist()


def quarantined(settings: Settings) -> set[tuple[int, str]]:
    return {(r["row_number"], r["reason"]) for r in table(settings, "quarantine")}


THREE = [student(1), student(2, 性别="未知"), student(3)]  # row 2 of the data: unknown_code


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("gbk", "GBK/GB18030"),
        ("gb18030", "GBK/GB18030"),
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 (带 BOM)"),
    ],
)
def test_a_csv_in_any_of_the_encodings_bureaus_save(
    encoding: str, named: str, tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "学籍_学生信息_2025.csv"  # the mapping declares gbk
    path.write_bytes(("\r\n".join(lines(HEADER, THREE)) + "\r\n").encode(encoding))
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)
    assert report.encoding == named and report.format == "csv"
    assert quarantined(settings) == {(3, "unknown_code")}  # header row 1, data rows 2-4
    assert {r["name"] for r in table(settings, "student")} == {"王小1", "王小3"}


def test_a_rare_name_character_in_gb18030_is_read(tmp_path: Path, settings: Settings) -> None:
    rare = "王䶮"  # U+4DAE: four bytes in GB18030, not in GBK
    path = tmp_path / "学籍_学生信息_rare.csv"
    path.write_bytes(
        ("\r\n".join(lines(HEADER, [student(1, 姓名=rare)])) + "\r\n").encode("gb18030")
    )
    report = ingest(path, settings)
    assert (report.rows_accepted, report.encoding) == (1, "GBK/GB18030")
    assert [r["name"] for r in table(settings, "student")] == [rare]


def test_excel_unicode_text_utf16_tab_separated(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "学籍_学生信息_2025.txt"  # Excel: 另存为 "Unicode 文本"
    text = "\r\n".join(lines(HEADER, THREE, sep="\t")) + "\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    report = ingest(path, settings)
    assert (report.source, report.export) == ("xueji", "students")
    assert (report.rows_read, report.rows_accepted) == (3, 2)
    assert report.encoding == "UTF-16 (Unicode 文本)"
    assert quarantined(settings) == {(3, "unknown_code")}


def test_xlsx_export_with_a_title_row_and_a_total_row(tmp_path: Path, settings: Settings) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["XX县2025学年学籍信息导出"])  # row 1: title
    sheet.append([])  # row 2: blank
    sheet.append(HEADER)  # row 3: header
    for row in THREE:  # rows 4-6; row 5 has 性别 未知
        sheet.append([row[h] for h in HEADER])
    sheet.append(["合计", "3人"])  # row 7
    path = tmp_path / "学籍_学生信息_2025.xlsx"  # the mapping knows only the CSV
    book.save(path)
    report = ingest(path, settings)
    assert (report.format, report.encoding) == ("xlsx", None)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)
    assert (report.header_row, report.title_rows, report.total_rows) == (3, [1], [7])
    assert quarantined(settings) == {(5, "unknown_code")}  # as Excel shows the row
    notes = "；".join(report.layout_notes())
    assert "第 1 行" in notes and "表头在第 3 行" in notes and "合计行（第 7 行）" in notes


def test_csv_title_row_and_total_rows_are_skipped_and_counted(
    tmp_path: Path, settings: Settings
) -> None:
    text = [
        "XX县2025学年学籍信息导出,,",  # row 1
        *lines(HEADER, THREE),  # header row 2, data rows 3-5
        "," * (len(HEADER) - 1),  # row 6: Excel's empty row, skipped like a workbook's
        "合计,3",  # row 7: fewer fields — a total, not a bad_format row
        ",总计：3人",  # row 8: total in the second cell
    ]
    path = tmp_path / "学籍_学生信息_title.csv"
    path.write_bytes(("\r\n".join(text) + "\r\n").encode("gbk"))
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)
    assert (report.header_row, report.title_rows, report.total_rows) == (2, [1], [7, 8])
    assert quarantined(settings) == {(4, "unknown_code")}


def test_a_renamed_header_in_another_order_is_read_by_its_synonym(
    tmp_path: Path, settings: Settings
) -> None:
    renamed = {"姓名": "学生姓名", "身份证件号": "身份证号"}
    header = [renamed.get(h, h) for h in reversed(HEADER)]  # other names, other order
    rows = [{renamed.get(k, k): v for k, v in r.items()} for r in THREE]
    path = tmp_path / "学籍_学生信息_renamed.csv"
    path.write_bytes(("\n".join(lines(header, rows)) + "\n").encode("gbk"))
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted) == (3, 2)
    assert report.renamed_columns == {"身份证号": "身份证件号", "学生姓名": "姓名"}
    assert {r["name"] for r in table(settings, "student")} == {"王小1", "王小3"}
    assert report.extra_columns == []


def test_extra_columns_are_reported_not_dropped_silently(
    tmp_path: Path, settings: Settings
) -> None:
    header = [*HEADER, "备注", "联系电话"]
    rows = [r | {"备注": "转入", "联系电话": "13800000000"} for r in THREE]
    path = tmp_path / "学籍_学生信息_extra.csv"
    path.write_bytes(("\n".join(lines(header, rows)) + "\n").encode("gbk"))
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted) == (3, 2)
    assert report.extra_columns == ["备注", "联系电话"]
    assert "2 个未映射的列未导入：备注，联系电话" in report.layout_notes()
    (bad,) = table(settings, "quarantine")
    assert bad["row_number"] == 3 and json.loads(bad["raw"])["备注"] == "转入"


def test_an_unrecognised_file_says_what_it_looks_like(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "名单.csv"
    header = [*HEADER, "备注", "家长微信"]
    path.write_bytes(
        ("\n".join(lines(header, [student(1) | {"备注": "", "家长微信": ""}]))).encode()
    )
    (report,) = ingest_paths([path], settings, as_of=AS_OF)
    assert report.status == "failed" and report.note is not None
    assert report.note.startswith("看起来像 学籍系统 导出（xueji students）")
    assert "有 2 个未知列（备注、家长微信）" in report.note and "--source xueji" in report.note


def test_a_skipped_file_in_a_folder_says_why(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "说明.docx").write_bytes(b"PK\x03\x04")
    book = openpyxl.Workbook()
    book.active.append(["XX县学生名单"])
    book.active.append([*HEADER, "备注"])
    book.save(folder / "名单.xlsx")
    (folder / "学籍_学生信息_ok.xlsx").write_bytes((folder / "名单.xlsx").read_bytes())
    reports = {Path(r.file).name: r for r in ingest_paths([folder], settings, as_of=AS_OF)}
    assert reports["学籍_学生信息_ok.xlsx"].status == "loaded"  # an xlsx is no longer skipped
    assert reports["说明.docx"].status == "skipped"
    assert (
        reports["说明.docx"].note is not None
        and "不是可导入的文件类型" in reports["说明.docx"].note
    )
    assert reports["名单.xlsx"].status == "skipped"
    note = reports["名单.xlsx"].note
    assert note is not None and note.startswith("看起来像 学籍系统 导出") and "1 个未知列" in note


def test_an_xls_that_is_not_a_workbook_is_refused_in_chinese(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "学籍_学生信息_old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not really a compound file")
    (report,) = ingest_paths([path], settings, as_of=AS_OF)
    assert report.status == "failed" and report.error is not None
    assert (
        report.error.startswith("不是可读的 Excel 97-2003 (.xls) 工作簿")
        and ".xlsx" in report.error
    )


def test_a_mapping_alias_may_not_name_another_column() -> None:
    text = """
source: x
label: X
exports:
  - name: s
    entity: school
    files: ["x*.csv"]
    format: csv
    columns:
      school_code: {from: 学校标识码, aliases: [学校名称]}
      name: {from: 学校名称}
      stages: {from: 学段}
      urban_rural: {from: 城乡}
      region_code: {from: 区县}
"""
    with pytest.raises(Exception, match="alias '学校名称' names another column"):
        parse_mapping(text, "x.yaml")


def test_the_cli_prints_what_it_did_with_the_file_under_its_table(tmp_path: Path) -> None:
    app = typer.Typer()
    ingest_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Keep `ingest` a sub-command."""

    text = [
        "XX县2025学年学籍信息导出",
        *lines([*HEADER, "备注"], [r | {"备注": ""} for r in THREE]),
    ]
    path = tmp_path / "学籍_学生信息_cli.csv"
    path.write_bytes(("\r\n".join([*text, "合计,3"]) + "\r\n").encode("utf-8-sig"))
    result = CliRunner().invoke(
        app, ["ingest", str(path)], env={"EDUBRAIN_HOME": str(tmp_path / "home")}
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert (
        "学籍_学生信息_cli.csv：编码：UTF-8 (带 BOM)；跳过表头上方 1 行（第 1 行），表头在第 2 行；"
        "跳过 1 个合计行（第 6 行）；1 个未映射的列未导入：备注"
    ) in flat


def test_a_utf8_row_in_a_gbk_file_is_still_an_encoding_error(
    tmp_path: Path, settings: Settings
) -> None:
    header, first, second, third = lines(HEADER, [student(1), student(2, 姓名="赵磊"), student(3)])
    # Row 3 saved as UTF-8: read as GB18030, 赵磊's bytes end in a user-defined character
    # (U+E5CF), which counts as a bad byte as GBK would have it — in 姓名, before 性别's U+FFFD.
    data = b"\r\n".join(
        [header.encode("gbk"), first.encode("gbk"), second.encode(), third.encode("gbk")]
    )
    path = tmp_path / "学籍_学生信息_mixed.csv"
    path.write_bytes(data + b"\r\n")
    report = ingest(path, settings)
    assert report.encoding == "GBK/GB18030"
    assert (report.rows_read, report.rows_accepted, report.reasons) == (
        3,
        2,
        {"encoding_error": 1, "unknown_code": 1},
    )
    (bad,) = [r for r in table(settings, "quarantine") if r["reason"] == "encoding_error"]
    assert bad["row_number"] == 3 and bad["message"].startswith("列“姓名”")


def test_xlsx_rows_keep_their_numbers_when_the_sheet_starts_lower(
    tmp_path: Path, settings: Settings
) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for j, name in enumerate(HEADER, start=2):  # header in row 3, from column B
        sheet.cell(row=3, column=j, value=name)
    for i, row in enumerate(THREE, start=4):  # data rows 4-6; row 5 has 性别 未知
        for j, name in enumerate(HEADER, start=2):
            sheet.cell(row=i, column=j, value=row[name])
    path = tmp_path / "学籍_学生信息_low.xlsx"
    book.save(path)
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted, report.header_row) == (3, 2, 3)
    assert report.title_rows == [] and report.extra_columns == []
    assert quarantined(settings) == {(5, "unknown_code")}
