"""Hostile files meet ingest's read bounds: refused in one line naming the file and the bound,
exit code 2, nothing loaded — or, for junk rows under a valid header, quarantined row by row.

Each file is a small-scale copy of a probe that used to take gigabytes (a 3 M-row xlsx, a zip
bomb, 200 MB of random text, a junk binary file); the bounds are set low through the same
`EDUBRAIN_INGEST_*` settings an operator would use, so the tests stay fast.
"""

from __future__ import annotations

import json
import random
import string
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from edubrain.cli import ingest_cmd
from edubrain.ingest import readers
from edubrain.settings import Settings
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse

HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)
TEACHER_HEADER = ["教职工号", "身份证号", "姓名", "性别", "出生日期", "最高学历", "专业技术职务",
                  "任教学科", "骨干教师级别", "学校标识码", "岗位类别", "年度培训学时"]  # fmt: skip


def student_row(seq: int, name: str = "王小一") -> str:
    body = f"430102201803{seq % 28 + 1:02d}{seq % 1000:03d}"
    number = f"G{body}{id_check_char(body)}"
    return f"{number},,{name},男,2018-03-05,汉族,,,4301020001,2025-2026,二年级,1,,在读"


def _app() -> typer.Typer:
    app = typer.Typer()
    ingest_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Keep `ingest` a sub-command."""

    return app


def run(home: Path, *args: str, **bounds: int):
    env = {"EDUBRAIN_HOME": str(home)}
    env.update({f"EDUBRAIN_INGEST_{name.upper()}": str(value) for name, value in bounds.items()})
    return CliRunner().invoke(_app(), ["ingest", *args], env=env)


def snapshot(home: Path) -> dict[str, list]:
    with open_warehouse(Settings(home=home)) as wh:
        return {
            n: wh.to_arrow(n).to_pylist() for n in ("student", "teacher", "quarantine", "loads")
        }


@pytest.fixture
def home(tmp_path: Path) -> Path:
    good = tmp_path / "学籍_学生信息_good.csv"
    good.write_bytes(f"{HEADER}\n{student_row(1)}\n".encode("gbk"))
    result = run(tmp_path / "home", str(good))
    assert result.exit_code == 0, result.output
    return tmp_path / "home"


def assert_refused(result, home: Path, before: dict, name: str, *words: str) -> None:
    """Exit 2, one line on stderr naming the file and the bound, no traceback, nothing loaded."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0] and all(w in lines[0] for w in words), lines[0]
    assert "Traceback" not in result.output
    assert snapshot(home) == before


# -- xlsx: many rows, zip bombs -----------------------------------------------------------


def teacher_book(tmp_path: Path, rows: int = 1) -> dict[str, bytes]:
    """The zip members of a valid teachers workbook with `rows` data rows."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "教职工"
    sheet.append(TEACHER_HEADER)
    for i in range(rows):
        sheet.append([f"T{i:05d}", "", "李老师", "女", "1985-06-12", "大学本科", "", "", "",
                      "4301020001", "专任教师", 72])  # fmt: skip
    path = tmp_path / "book.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def many_rows_sheet(members: dict[str, bytes], extra_rows: int) -> bytes:
    """The sheet XML with `extra_rows` more (repetitive, so tiny compressed) rows appended."""
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    row = (
        '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>T{r}</t></is></c>'
        '<c r="C{r}" t="inlineStr"><is><t>李老师</t></is></c></row>'
    )
    body = "".join(row.format(r=r) for r in range(3, 3 + extra_rows))
    return sheet.replace("</sheetData>", body + "</sheetData>").encode()


def test_xlsx_with_more_rows_than_the_bound_is_refused_before_it_is_built(
    home: Path, tmp_path: Path
) -> None:
    members = teacher_book(tmp_path)
    members["xl/worksheets/sheet1.xml"] = many_rows_sheet(members, 5_000)
    path = write_zip(tmp_path / "人事_教职工信息_rows.xlsx", members)
    before = snapshot(home)
    result = run(home, str(path), max_rows=1_000)
    assert_refused(result, home, before, path.name, "1,000 rows", "EDUBRAIN_INGEST_MAX_ROWS")


def test_xlsx_with_more_rows_than_excel_holds_is_refused(home: Path, tmp_path: Path) -> None:
    members = teacher_book(tmp_path)
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    empty_rows = "".join(f'<row r="{r}"/>' for r in range(3, 1_048_600))
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        "</sheetData>", empty_rows + "</sheetData>"
    ).encode()
    path = write_zip(tmp_path / "人事_教职工信息_excel.xlsx", members)
    before = snapshot(home)
    result = run(home, str(path))  # default bounds
    assert_refused(result, home, before, path.name, "1,048,576 rows", "Excel")


def zip_bomb(tmp_path: Path, name: str, zeros_mb: int, *, lie: bool) -> Path:
    """A teachers workbook plus a member of `zeros_mb` MiB of zeros; with `lie`, both of the
    zip's size fields for that member claim 1,000 bytes."""
    members = teacher_book(tmp_path)
    members["xl/worksheets/sheet2.xml"] = bytes(zeros_mb << 20)
    path = write_zip(tmp_path / name, members)
    if lie:
        data = bytearray(path.read_bytes())
        real = struct.pack("<I", zeros_mb << 20)
        fake = struct.pack("<I", 1_000)
        # Local header (offset 22) and central directory entry (offset 24) of the member.
        for signature, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = 0
            while (at := data.find(signature, at)) >= 0:
                if data[at + size_at : at + size_at + 4] == real:
                    data[at + size_at : at + size_at + 4] = fake
                at += 4
        path.write_bytes(bytes(data))
        with zipfile.ZipFile(path) as z:
            assert sum(i.file_size for i in z.infolist()) < 1 << 20  # the lie is in place
    return path


@pytest.mark.parametrize("lie", [False, True], ids=["declared", "sizes-forged"])
def test_zip_bomb_is_refused_while_inflating(home: Path, tmp_path: Path, lie: bool) -> None:
    path = zip_bomb(tmp_path, "人事_教职工信息_bomb.xlsx", 64, lie=lie)
    assert path.stat().st_size < 1 << 20
    before = snapshot(home)
    result = run(home, str(path), max_uncompressed_mb=16)
    assert_refused(result, home, before, path.name, "EDUBRAIN_INGEST_MAX_UNCOMPRESSED_MB")


# -- CSV: junk, random text, long fields, wide headers, too many rows ----------------------


def test_junk_binary_file_over_the_size_bound_is_refused_unread(home: Path, tmp_path: Path) -> None:
    path = tmp_path / "学籍_学生信息_junk.csv"
    path.write_bytes(random.Random(1).randbytes(3 << 20))
    before = snapshot(home)
    result = run(home, str(path), max_file_mb=2)
    assert_refused(result, home, before, path.name, "EDUBRAIN_INGEST_MAX_FILE_MB")


def random_lines(n: int, seed: int, *, width: int = 60) -> list[str]:
    rng = random.Random(seed)
    alphabet = string.ascii_letters + string.digits + " ,.;:!?-_/()" + "汉字测试乱码"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, width))) for _ in range(n)]


def test_random_text_under_a_valid_header_is_quarantined_row_by_row_in_chunks(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", 4096)  # many chunks from a small file
    lines = random_lines(3_000, seed=2)
    path = tmp_path / "学籍_学生信息_random.csv"
    path.write_bytes("\n".join([HEADER, *lines, ""]).encode("gbk"))
    result = run(home, "--json", str(path))
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    non_blank = len(lines)  # every line holds a character: none is skipped as empty
    assert report["rows_read"] == non_blank
    assert report["rows_quarantined"] == report["rows_read"] and report["rows_accepted"] == 0
    assert report["reasons"]["bad_format"] >= non_blank * 0.9  # wrong number of fields
    with open_warehouse(Settings(home=home)) as wh:
        quarantined = wh.to_arrow("quarantine").to_pylist()
    numbers = {r["row_number"] for r in quarantined if r["file"] == str(path)}
    # every row, numbered across chunks as a spreadsheet shows them (the header is row 1)
    assert numbers == set(range(2, non_blank + 2))


def test_junk_rows_read_in_small_parts_load_as_in_one(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = random_lines(2_000, seed=4)
    lines[700] = student_row(7, name="王七")  # well-shaped rows among the junk, in mid-part
    lines[1_300] = student_row(8, name="王八")
    path = tmp_path / "学籍_学生信息_random_parts.csv"
    path.write_bytes("\n".join([HEADER, *lines, ""]).encode("gbk"))
    whole = json.loads(run(tmp_path / "whole", "--json", str(path)).stdout)[0]
    parts: list[int] = []
    ragged = readers._read_csv_ragged

    def counted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for part in ragged(*args, **kwargs):  # type: ignore[arg-type]
            parts.append(part[0].num_rows)
            yield part

    monkeypatch.setattr(readers, "RAGGED_PART_ROWS", 97)
    monkeypatch.setattr(readers, "_read_csv_ragged", counted)
    split = json.loads(run(tmp_path / "split", "--json", str(path)).stdout)[0]
    assert len(parts) > 10 and sum(parts) == len(lines)
    keys = ("rows_read", "rows_accepted", "rows_quarantined", "reasons")
    assert {k: split[k] for k in keys} == {k: whole[k] for k in keys}
    assert split["rows_accepted"] == 2
    assert split["quarantine_records_added"] == whole["quarantine_records_added"]

    def stored(home: Path) -> list[tuple]:
        with open_warehouse(Settings(home=home)) as wh:
            rows = wh.to_arrow("quarantine").to_pylist()
        return sorted((r["row_number"], r["reason"], r["message"], r["raw"]) for r in rows)

    assert stored(tmp_path / "split") == stored(tmp_path / "whole")


def test_random_text_with_a_line_over_the_field_bound_is_refused(
    home: Path, tmp_path: Path
) -> None:
    lines = random_lines(2_000, seed=3)
    lines[1_500] = "x" * 5_000  # one long junk line far into the file
    path = tmp_path / "学籍_学生信息_random_long.csv"
    path.write_bytes("\n".join([HEADER, *lines, ""]).encode("gbk"))
    before = snapshot(home)
    result = run(home, str(path), max_field_bytes=1_024)
    assert_refused(
        result, home, before, path.name, "5,000 bytes", "EDUBRAIN_INGEST_MAX_FIELD_BYTES"
    )


def test_a_field_over_the_bound_in_an_xlsx_is_refused(home: Path, tmp_path: Path) -> None:
    members = teacher_book(tmp_path, rows=3)
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    long_cell = '<c r="C5" t="inlineStr"><is><t>' + "长" * 400 + "</t></is></c>"
    members["xl/worksheets/sheet1.xml"] = sheet.replace(
        "</sheetData>",
        f'<row r="5"><c r="A5" t="inlineStr"><is><t>T9</t></is></c>{long_cell}</row></sheetData>',
    ).encode()
    path = write_zip(tmp_path / "人事_教职工信息_long.xlsx", members)
    before = snapshot(home)
    result = run(home, str(path), max_field_bytes=1_000)
    assert_refused(
        result, home, before, path.name, "1,200 bytes", "EDUBRAIN_INGEST_MAX_FIELD_BYTES"
    )


def test_too_many_columns_are_refused(home: Path, tmp_path: Path) -> None:
    extra = ",".join(f"附加{i}" for i in range(40))
    path = tmp_path / "学籍_学生信息_wide.csv"
    path.write_bytes(f"{HEADER},{extra}\n{student_row(2)},{',' * 39}\n".encode("gbk"))
    before = snapshot(home)
    result = run(home, str(path), max_columns=30)
    assert_refused(result, home, before, path.name, "54 columns", "EDUBRAIN_INGEST_MAX_COLUMNS")


def test_a_file_over_the_row_bound_part_way_is_rolled_back_whole(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", 8192)  # chunks are written before the end
    rows = [student_row(seq, name=f"王{seq}") for seq in range(2, 1_502)]
    path = tmp_path / "学籍_学生信息_long.csv"
    path.write_bytes("\n".join([HEADER, *rows, ""]).encode("gbk"))
    before = snapshot(home)
    result = run(home, str(path), max_rows=1_000)
    assert_refused(result, home, before, path.name, "1,000 rows", "EDUBRAIN_INGEST_MAX_ROWS")


def test_chunked_reading_finds_duplicates_across_chunks_like_a_whole_read(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [student_row(seq, name=f"王{seq}") for seq in range(2, 602)]
    rows.append(rows[10])  # an exact copy of sheet row 12, in the last chunk
    rows.append(rows[20].replace("王22", "李22"))  # same 学籍号 as row 22, other content
    path = tmp_path / "学籍_学生信息_dups.csv"
    path.write_bytes("\n".join([HEADER, *rows, ""]).encode("gbk"))

    whole = json.loads(run(tmp_path / "whole", "--json", str(path)).stdout)[0]
    monkeypatch.setattr(readers, "CSV_CHUNK_BYTES", 4096)
    chunked = json.loads(run(tmp_path / "chunked", "--json", str(path)).stdout)[0]
    keys = ("rows_read", "rows_accepted", "rows_inserted", "rows_quarantined", "reasons")
    assert {k: chunked[k] for k in keys} == {k: whole[k] for k in keys}
    assert chunked["reasons"] == {"duplicate_row": 1, "duplicate_key": 1}
    with open_warehouse(Settings(home=tmp_path / "chunked")) as wh:
        messages = {r["row_number"]: r["message"] for r in wh.to_arrow("quarantine").to_pylist()}
    assert messages == {
        602: "与第 12 行完全相同（重复行）",
        603: "学籍号与第 22 行相同，但其他内容不同",
    }


def test_xlsx_rows_are_read_in_batches_with_their_numbers(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readers, "XLSX_CHUNK_ROWS", 7)
    members = teacher_book(tmp_path, rows=30)
    path = write_zip(tmp_path / "人事_教职工信息_batches.xlsx", members)
    result = run(home, "--json", str(path))
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert (report["rows_read"], report["rows_inserted"]) == (30, 30)


def test_bounds_are_settings_with_defaults_a_city_passes() -> None:
    settings = Settings.model_construct()
    assert settings.ingest_max_rows >= 1_000_000
    assert 4096 <= settings.ingest_max_field_bytes <= 65536
    assert settings.ingest_max_file_mb >= 1024
    bounds = readers.ReadBounds.from_settings(Settings(ingest_max_field_bytes=100))
    assert bounds.max_field_bytes == 100 and bounds.max_file_bytes == 2048 << 20
