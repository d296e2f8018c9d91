"""End-to-end ingestion of hand-built exports: counts, reasons, idempotency, history, atomicity.

Expected values are worked out by hand from the fixture rows written in each test.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from edubrain.ingest import FileReport, ingest_paths, summarise
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import history_table, open_warehouse
from edubrain.warehouse.duckdb_backend import _DuckDBTransaction

AS_OF = date(2026, 3, 1)
STUDENT_HEADER = (
    "学籍号,身份证件号,姓名,性别,出生日期,民族,户口所在地代码,现住址,学校标识码,学年,年级,班号,"
    "入学年份,学籍状态"
)


def id_number(birth: str, seq: int) -> str:
    body = f"430102{birth}{seq:03d}"
    return body + id_check_char(body)


def student(seq: int, birth: str = "20180305", shown_birth: str | None = None, **over: str) -> str:
    idn = id_number(birth, seq)
    cells = {
        "学籍号": "G" + idn, "身份证件号": idn, "姓名": f"王小{seq}", "性别": "男",
        "出生日期": shown_birth or birth, "民族": "汉族", "户口所在地代码": "430102",
        "现住址": "长沙市芙蓉路1号", "学校标识码": "4301020001", "学年": "2025-2026",
        "年级": "二年级", "班号": "1", "入学年份": "2024", "学籍状态": "在读",
    }  # fmt: skip
    cells.update(over)
    return ",".join(cells.values())


def write_gbk(path: Path, header: str, rows: list[str]) -> Path:
    path.write_bytes(("\r\n".join([header, *rows]) + "\r\n").encode("gbk"))
    return path


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def ingest(path: Path, settings: Settings, **kw: str) -> FileReport:
    (report,) = ingest_paths([path], settings, as_of=AS_OF, **kw)
    assert report.error is None, report.error
    return report


def table(settings: Settings, name: str) -> list[dict]:
    with open_warehouse(settings) as wh:
        return wh.to_arrow(name).to_pylist()


def eight_students(tmp_path: Path) -> Path:
    rows = [
        student(1),
        student(2, "20171120", shown_birth="2017.11.20"),  # unpadded-style dotted date
        student(3, shown_birth="2018.2.30"),  # impossible date → bad_date
        student(4, "20180101", shown_birth="20180101"),
        student(5, 身份证件号=id_number("20180305", 5)[:17] + "0"),  # wrong check digit
        student(6, "20171231", shown_birth="2017/12/31"),
        student(7, 性别="未知", 姓名=""),  # unknown_code + missing_required: one row
        student(8, shown_birth="43164"),  # Excel serial of 2018-03-05
    ]
    return write_gbk(tmp_path / "学籍_学生信息_2025.csv", STUDENT_HEADER, rows)


def test_gbk_students_with_three_bad_rows(tmp_path: Path, settings: Settings) -> None:
    report = ingest(eight_students(tmp_path), settings)
    assert (report.source, report.export, report.entity) == ("xueji", "students", "student")
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (8, 5, 3)
    assert (report.rows_inserted, report.rows_updated, report.rows_unchanged) == (5, 0, 0)
    assert report.reasons == {
        "missing_required": 1, "bad_check_digit": 1, "bad_date": 1, "unknown_code": 1,
    }  # fmt: skip
    quarantine = sorted(table(settings, "quarantine"), key=lambda r: r["row_number"])
    assert [(r["row_number"], r["field"], r["reason"]) for r in quarantine] == [
        (4, "birth_date", "bad_date"),  # rows as a spreadsheet shows them: the header is row 1
        (6, "id_number", "bad_check_digit"),
        (8, "name", "missing_required"),  # priority: missing_required before unknown_code
        (8, "sex", "unknown_code"),
    ]
    assert "'2018.2.30'" in quarantine[0]["message"] and "出生日期" in quarantine[0]["message"]
    assert json.loads(quarantine[0]["raw"])["出生日期"] == "2018.2.30"
    assert {r["file_sha256"] for r in quarantine} == {report.sha256}
    students = {r["name"]: r for r in table(settings, "student")}
    assert students["王小1"]["sex"] == "1" and students["王小1"]["ethnicity"] == "01"
    assert students["王小1"]["grade_code"] == "12" and students["王小1"]["status"] == "enrolled"
    assert students["王小2"]["birth_date"] == date(2017, 11, 20)
    assert students["王小8"]["birth_date"] == date(2018, 3, 5)
    assert students["王小1"]["class_no"] == 1 and students["王小1"]["_source"] == "xueji"
    (load,) = table(settings, "loads")
    assert (load["rows_read"], load["rows_quarantined"], load["status"]) == (8, 3, "loaded")


def test_the_same_file_again_changes_nothing(tmp_path: Path, settings: Settings) -> None:
    path = eight_students(tmp_path)
    ingest(path, settings)
    before = {name: table(settings, name) for name in ("student", "quarantine")}
    again = ingest(path, settings)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 5)
    assert again.quarantine_records_added == 0
    assert {name: table(settings, name) for name in before} == before
    assert table(settings, history_table("student")) == []


def test_a_re_export_updates_only_changed_rows_and_keeps_history(
    tmp_path: Path, settings: Settings
) -> None:
    first = ingest(eight_students(tmp_path), settings)
    rows = [
        student(1),
        student(2, "20171120", 姓名="王小二"),  # renamed → updated
        student(3),  # fixed → inserted
        student(4, "20180101"),
        student(6, "20171231"),
        student(8),  # the same values written differently: unchanged
    ]
    second = ingest(write_gbk(tmp_path / "学籍_学生信息_2025b.csv", STUDENT_HEADER, rows), settings)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (1, 1, 4)
    (old,) = table(settings, history_table("student"))
    assert old["name"] == "王小2" and old["_load_id"] == first.load_id
    assert old["_superseded_by"] == second.load_id and old["_valid_to"] is not None
    names = {r["name"] for r in table(settings, "student")}
    assert "王小二" in names and "王小2" not in names and "王小3" in names


@pytest.mark.parametrize("interrupt", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_a_failure_between_quarantine_and_merge_rolls_the_file_back(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch, interrupt: BaseException
) -> None:
    ingest(write_gbk(tmp_path / "学籍_学生信息_a.csv", STUDENT_HEADER, [student(1)]), settings)
    before = {n: table(settings, n) for n in ("student", "quarantine", "loads")}

    def explode(*args: object, **kwargs: object) -> None:
        raise interrupt

    monkeypatch.setattr(_DuckDBTransaction, "merge", explode)
    with pytest.raises(type(interrupt)):
        ingest_paths([eight_students(tmp_path)], settings, as_of=AS_OF)
    monkeypatch.undo()
    assert {n: table(settings, n) for n in before} == before


def test_xlsx_teachers(tmp_path: Path, settings: Settings) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "教职工"
    sheet.append(
        [
            "教职工号",
            "身份证号",
            "姓名",
            "性别",
            "出生日期",
            "最高学历",
            "专业技术职务",
            "任教学科",
            "骨干教师级别",
            "学校标识码",
            "岗位类别",
            "年度培训学时",
        ]
    )
    base = ["4301020001", "专任教师", 72]
    sheet.append(["T001", id_number("19850612", 1), "李老师", "女", datetime(1985, 6, 12),
                  "大学本科", "一级教师", "语文、数学", "县级", *base])  # fmt: skip
    sheet.append(["T002", id_number("19900101", 2), "赵老师", "男", 32874,  # serial: 1990-01-01
                  "硕士研究生", "高级", "英语", "无", *base])  # fmt: skip
    sheet.append(["T003", "", "钱老师", "男", "2012-05-01", "大学本科", "", "", "", *base])
    sheet.append([None] * 12)  # an empty row is skipped, its number is not reused
    sheet.append(["T004", "", "孙老师", "男", "1970.1.1", "博士后", "", "语文,体育", "", *base])
    path = tmp_path / "人事_教职工信息_2025.xlsx"
    book.save(path)
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (4, 2, 2)
    assert report.reasons == {"unknown_code": 1, "implausible_birth_date": 1}
    teachers = {r["staff_number"]: r for r in table(settings, "teacher")}
    assert teachers["T001"]["subjects"] == "chinese;math"
    assert teachers["T001"]["birth_date"] == date(1985, 6, 12)
    assert teachers["T002"]["birth_date"] == date(1990, 1, 1)
    assert teachers["T002"]["education"] == "postgraduate" and teachers["T002"]["title"] == "senior"
    assert teachers["T001"]["training_hours"] == 72.0
    rows = {(r["row_number"], r["reason"]) for r in table(settings, "quarantine")}
    assert rows == {(4, "implausible_birth_date"), (6, "unknown_code")}  # 博士后 is no label


def test_jsonl_submissions_with_nested_fields_and_mixed_types(
    tmp_path: Path, settings: Settings
) -> None:
    lines = [
        {"task_id": "HW1", "student": {"xjh": "G" + id_number("20180305", 1)},
         "submitted_at": "2025-10-08T19:30:00", "duration_sec": 1800, "score_rate": 0.9},
        {"task_id": "HW1", "student": {"xjh": "G" + id_number("20180305", 2)},
         "submitted_at": "2025-10-08 19:30", "duration_sec": "600", "score_rate": "0.5"},
        {"task_id": "HW1", "student": {"xjh": "G" + id_number("20180305", 3)},
         "submitted_at": None, "duration_sec": 60, "score_rate": 1.5},
    ]  # fmt: skip
    path = tmp_path / "作业_提交_202510.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8")
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted) == (3, 1)
    assert report.reasons == {"bad_date": 1, "out_of_range": 1}
    (row,) = table(settings, "homework_submission")
    assert row["minutes_spent"] == pytest.approx(30.0)
    assert row["submitted_at"] == datetime(2025, 10, 8, 19, 30)
    raws = {r["row_number"]: json.loads(r["raw"]) for r in table(settings, "quarantine")}
    assert raws[3]["score_rate"] == 1.5


def test_jsonl_with_mixed_types_and_a_broken_line_is_refused(
    tmp_path: Path, settings: Settings
) -> None:
    lines = [
        '{"task_id": "HW1", "student": {"xjh": "G1"}, "duration_sec": 60}',
        '{"task_id": "HW1", "student": {"xjh": "G2"}, "duration_sec": "6O"}',
        '{"task_id": "HW1", "student": {"xjh": "G3"}, "duration_sec": 60',
    ]
    path = tmp_path / "作业_提交_broken.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    (report,) = ingest_paths([path], settings, as_of=AS_OF)
    assert report.status == "failed"
    assert report.error is not None and "line 3" in report.error
    assert table(settings, "homework_submission") == []


def test_wide_score_sheet_is_unpivoted_one_record_per_item(
    tmp_path: Path, settings: Settings
) -> None:
    sn = ["G" + id_number("20130305", i) for i in (1, 2, 3)]
    text = "\n".join([
        "考试编号,学籍号,姓名,第1题,第2题,第3题",
        f"E1,{sn[0]},甲,3,5,8.5",
        f"E1,{sn[1]},乙,abc,5,",  # item 1 bad_number, item 3 missing_required
        f"E1,{sn[2]},丙,2,250,0",  # item 2 out_of_range
        f"E1,{sn[0]},甲,3,5,8.5",  # an exact copy of row 1: three duplicate_row records
    ]) + "\n"  # fmt: skip
    path = tmp_path / "阅卷_成绩_E1.csv"
    path.write_text(text, "utf-8")
    report = ingest(path, settings)
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (12, 6, 6)
    assert report.reasons == {
        "missing_required": 1, "bad_number": 1, "out_of_range": 1, "duplicate_row": 3,
    }  # fmt: skip
    sealer = sealer_for(settings)
    assert sealer is not None  # the G numbers are stored sealed
    scores = {
        (sealer.open_student_number(r["student_number"]), r["item_no"]): r["score"]
        for r in table(settings, "item_score")
    }
    assert scores[(sn[0], 3)] == 8.5 and scores[(sn[2], 3)] == 0.0 and len(scores) == 6
    quarantine = {(r["row_number"], r["reason"]) for r in table(settings, "quarantine")}
    assert quarantine == {
        (3, "bad_number"), (3, "missing_required"), (4, "out_of_range"), (5, "duplicate_row"),
    }  # fmt: skip
    assert ingest(path, settings).rows_unchanged == 6


def test_fitness_times_in_minutes_and_seconds(tmp_path: Path, settings: Settings) -> None:
    sn = "G" + id_number("20100305", 1)
    header = (
        "年级编号,学籍号,姓名,性别,出生日期,学年,测试日期,身高,体重,1000米跑,800米跑,50米×8往返跑"
    )
    rows = [
        f"31,{sn},甲,1,2010-03-05,2025-2026,2025/10/12,１７０．５,60,3'35\",,1:50",
        f"31,{sn[:-1]}X,乙,1,2010-03-05,2024-2025,2025-10-12,170,60,3′35″,,110",
    ]
    path = tmp_path / "体测_芙蓉区_2025.csv"
    path.write_text("\n".join([header, *rows]) + "\n", "utf-8-sig")
    report = ingest(path, settings)
    assert report.rows_accepted == 1 and report.reasons == {"bad_check_digit": 1}
    (row,) = table(settings, "fitness_test")
    assert row["run_1000m"] == 215.0 and row["shuttle_run_50x8"] == 110.0
    assert row["height_cm"] == 170.5 and row["test_date"] == date(2025, 10, 12)


def test_standard_csv_and_parquet(tmp_path: Path, settings: Settings) -> None:
    csv_path = tmp_path / "school.csv"
    csv_path.write_text(
        "school_code,name,stages,urban_rural,region_code,is_boarding,longitude\n"
        "4301020001,芙蓉区第一小学,primary,urban,430102,false,112.98\n"
        "4301020002,芙蓉区一贯制学校,primary;junior,urban,430102,是,\n",
        "utf-8",
    )
    report = ingest(csv_path, settings)
    assert (report.source, report.rows_accepted) == ("standard", 2)
    schools = {r["school_code"]: r for r in table(settings, "school")}
    assert schools["4301020002"]["stages"] == "primary;junior"
    assert schools["4301020002"]["is_boarding"] is True
    assert schools["4301020001"]["longitude"] == 112.98

    exams = pa.table({
        "exam_id": ["E1", "E2"], "name": ["期中数学", "期中语文"],
        "school_year": ["2025-2026"] * 2, "term": ["1", "1"], "subject": ["math", "chinese"],
        "grade_code": ["21", "21"], "exam_date": pa.array([date(2025, 11, 10)] * 2),
        "max_score": [120.0, 2000.0],
    })  # fmt: skip
    parquet_path = tmp_path / "exams_export.parquet"
    pq.write_table(exams, parquet_path)
    report = ingest(parquet_path, settings, entity="exam")
    assert (report.rows_accepted, report.reasons) == (1, {"out_of_range": 1})
    (exam,) = table(settings, "exam")
    assert exam["exam_date"] == date(2025, 11, 10) and exam["max_score"] == 120.0


def test_folders_are_searched_and_unmatched_files_skipped(
    tmp_path: Path, settings: Settings
) -> None:
    folder = tmp_path / "exports"
    (folder / "sub").mkdir(parents=True)
    write_gbk(folder / "sub" / "学籍_学生信息_x.csv", STUDENT_HEADER, [student(1)])
    (folder / "notes.txt").write_text("hello", "utf-8")
    reports = ingest_paths([folder], settings, as_of=AS_OF)
    assert sorted((Path(r.file).name, r.status) for r in reports) == [
        ("notes.txt", "skipped"), ("学籍_学生信息_x.csv", "loaded"),
    ]  # fmt: skip
    summary = summarise(reports)
    assert (summary["loaded"], summary["skipped"], summary["rows_inserted"]) == (1, 1, 1)


def test_the_next_files_first_chunk_is_read_while_this_file_commits() -> None:
    """The look-ahead is a chunk, not an item: the markers between two files must not use it
    up, or the reader idles through the writer's commit."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime

    from edubrain.ingest.pipeline import _ahead, _FileEnd, _FileStart

    second_chunk_read = threading.Event()

    def items():
        yield _FileStart(None, "a", datetime(2026, 1, 1))  # type: ignore[arg-type]
        yield "chunk of a"
        yield _FileEnd()
        yield _FileStart(None, "b", datetime(2026, 1, 1))  # type: ignore[arg-type]
        second_chunk_read.set()
        yield "chunk of b"
        yield _FileEnd()

    seen = []
    with ThreadPoolExecutor(1) as pool:
        for item in _ahead(items(), pool):
            seen.append(item)
            if isinstance(item, _FileEnd) and len(seen) == 3:
                # The writer commits file a now; b's chunk is being read meanwhile.
                assert second_chunk_read.wait(timeout=10)
    assert [s if isinstance(s, str) else type(s).__name__ for s in seen] == [
        "_FileStart", "chunk of a", "_FileEnd", "_FileStart", "chunk of b", "_FileEnd"
    ]  # fmt: skip


def test_the_reader_runs_at_most_read_ahead_chunks_ahead_of_the_writer() -> None:
    """Memory follows READ_AHEAD + 1 chunks: the reader runs on through quick files, but a
    writer stuck on one chunk holds the reader at READ_AHEAD chunks ready."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime

    from edubrain.ingest.pipeline import READ_AHEAD, _ahead, _FileStart

    assert READ_AHEAD >= 2
    produced = 0
    ahead_full = threading.Event()

    def items():
        nonlocal produced
        yield _FileStart(None, "a", datetime(2026, 1, 1))  # type: ignore[arg-type]
        for n in range(10):
            produced += 1
            if produced == 1 + READ_AHEAD:
                ahead_full.set()
            yield f"chunk {n}"

    with ThreadPoolExecutor(1) as pool:
        stream = _ahead(items(), pool)
        assert isinstance(next(stream), _FileStart)
        assert next(stream) == "chunk 0"  # the writer now holds chunk 0 …
        assert ahead_full.wait(timeout=10)  # … while the reader readies the next READ_AHEAD
        time.sleep(0.2)  # and goes no further
        assert produced == 1 + READ_AHEAD
        assert list(stream) == [f"chunk {n}" for n in range(1, 10)]
