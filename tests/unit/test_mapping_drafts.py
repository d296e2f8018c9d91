"""A draft mapping for an export no mapping recognises: the column → field choices a data
officer would make by hand, the same checks a hand-written local mapping gets, and once saved
the file loads exactly the rows a hand-written mapping loads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from edubrain.errors import MappingError
from edubrain.ingest import ingest_paths
from edubrain.ingest.draft import VERSIONS_FOLDER, draft_for, save_draft
from edubrain.settings import Settings
from edubrain.sources.mapping import available_mappings, builtin_mappings
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse


def _number(n: int) -> str:
    body = f"339901201803050{n:02d}"
    return f"G{body}{id_check_char(body)}"


# Renamed (学生姓名, 全国学籍号, 学校代码, 班级号, 学生出生日期), reordered, two extra columns
# (备注, 身高), no 身份证件号/民族/住址, and a title row above the header.
HEADER = "学生姓名,全国学籍号,学生出生日期,性别,学校代码,学年,年级,班级号,学籍状态,备注,身高"
ROWS = [
    f"王小一,{_number(1)},2018-03-05,男,3399010001,2025-2026,二年级,1,在读,,121",
    f"李小二,{_number(2)},2018/04/06,女,3399010001,2025-2026,二年级,1,在读,转入,118",
    f"张小三,{_number(3)},2018-02-30,男,3399010001,2025-2026,二年级,2,在读,,125",  # no such day
]
HAND_WRITTEN = """
source: county_roll
label: 县学生名册
exports:
  - name: students
    entity: student
    files: ["学生名册*.csv"]
    format: csv
    encoding: gbk
    columns:
      student_number: {from: 全国学籍号}
      name: {from: 学生姓名}
      sex: {from: 性别, labels: true}
      birth_date: {from: 学生出生日期, parse: date, formats: ["%Y-%m-%d", "%Y/%m/%d"]}
      school_code: {from: 学校代码}
      school_year: {from: 学年}
      grade_code: {from: 年级, labels: true}
      class_no: {from: 班级号}
      status: {from: 学籍状态, labels: true}
"""


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "exports" / "学生名册2025.csv"
    path.parent.mkdir()
    text = "某县2025年学生名册\n" + HEADER + "\n" + "\n".join(ROWS) + "\n"
    path.write_bytes(text.encode("gbk"))
    return path


def test_the_draft_chooses_the_fields_an_officer_would(export: Path) -> None:
    draft = draft_for(export, builtin_mappings())
    assert (draft.entity, draft.based_on) == ("student", "xueji students")
    assert (draft.header_row, draft.encoding, draft.format) == (2, "gb18030", "csv")
    assert draft.files == ["学生名册*.csv"]
    assert {c.header: c.field for c in draft.columns} == {
        "学生姓名": "name",
        "全国学籍号": "student_number",
        "学生出生日期": "birth_date",  # names the field 出生日期
        "性别": "sex",
        "学校代码": "school_code",
        "学年": "school_year",
        "年级": "grade_code",
        "班级号": "class_no",
        "学籍状态": "status",
        "备注": None,
        "身高": None,
    }
    assert draft.problems() == []
    rules = draft.rules()
    # The built-in export's transforms and synonyms come along: 出生日期 is still read.
    assert rules["birth_date"].parse == "date" and "%Y/%m/%d" in rules["birth_date"].formats
    assert rules["birth_date"].aliases == ["出生日期", "出生年月日"]
    assert rules["name"].aliases == ["姓名"] and rules["sex"].labels


def test_a_draft_is_checked_like_a_hand_written_mapping(export: Path) -> None:
    draft = draft_for(export, builtin_mappings())
    no_name = draft.choose({"学生姓名": None})
    assert no_name.problems() == ["必填字段「姓名」还没有对应的列"]
    twice = draft.choose({"备注": "name"})
    assert any("每个字段只能来自一列" in p for p in twice.problems())
    with pytest.raises(MappingError, match="没有字段"):
        draft.choose({"身高": "no_such_field"})
    builtin = type(draft)(**{**vars(draft), "source": "xueji"})
    assert any("不能覆盖内置映射" in p for p in builtin.problems())
    with pytest.raises(MappingError, match="还不能保存"):
        save_draft(no_name, export.parent, by="t", now=datetime.now(UTC))


def _students(settings: Settings) -> list[dict[str, object]]:
    with open_warehouse(settings) as wh:
        rows = wh.to_arrow("student").to_pylist()
    keep = ("student_number", "name", "sex", "birth_date", "school_code", "grade_code",
            "class_no", "status")  # fmt: skip
    return sorted(({k: r[k] for k in keep} for r in rows), key=lambda r: str(r["name"]))


def test_a_saved_draft_loads_what_a_hand_written_mapping_loads(
    export: Path, tmp_path: Path
) -> None:
    keys = tmp_path / "data.key"
    drafted = Settings(home=tmp_path / "drafted", key_file=keys, progress=False)
    (before,) = ingest_paths([export], drafted)
    assert before.status == "failed"  # not recognised before the mapping is saved

    draft = draft_for(export, available_mappings(drafted.workspace.mappings))
    saved = save_draft(draft, drafted.workspace.mappings, by="office", now=datetime.now(UTC))
    assert saved.path == drafted.workspace.mappings / "xueji_local.yaml" and saved.version == 1
    (report,) = ingest_paths([export], drafted)
    assert (report.status, report.source, report.entity) == ("loaded", "xueji_local", "student")
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (3, 2, 1)

    by_hand = Settings(home=tmp_path / "by-hand", key_file=keys, progress=False)
    by_hand.workspace.mappings.mkdir(parents=True)
    (by_hand.workspace.mappings / "county_roll.yaml").write_text(HAND_WRITTEN, "utf-8")
    (hand_report,) = ingest_paths([export], by_hand)
    assert hand_report.rows_accepted == 2 and hand_report.reasons == report.reasons
    assert _students(drafted) == _students(by_hand)
    assert [r["name"] for r in _students(drafted)] == ["李小二", "王小一"]


def test_saving_again_keeps_the_version_before(export: Path, tmp_path: Path) -> None:
    folder = tmp_path / "mappings"
    draft = draft_for(export, builtin_mappings())
    first = save_draft(draft, folder, by="office", now=datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    second = save_draft(
        draft.choose({"身高": None, "备注": None}),
        folder,
        by="office2",
        now=datetime(2026, 12, 7, 3, 0, tzinfo=UTC),
    )
    assert (first.version, second.version) == (1, 2)
    kept = folder / VERSIONS_FOLDER / "xueji_local.v1.yaml"
    assert "第 1 版：office 于 2026-12-07T02:00:00+00:00 保存" in kept.read_text("utf-8")
    now = (folder / "xueji_local.yaml").read_text("utf-8")
    assert "第 2 版：office2" in now
    assert len(yaml.safe_load(now)["exports"]) == 1  # the same export, replaced
    assert sorted(p.name for p in folder.glob("*.yaml")) == ["xueji_local.yaml"]


def test_the_command_writes_the_draft_for_review(export: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from edubrain.cli.main import build_app

    out = tmp_path / "draft.yaml"
    env = {"EDUBRAIN_HOME": str(tmp_path / "home"), "EDUBRAIN_KEY_FILE": str(tmp_path / "k")}
    ran = CliRunner().invoke(
        build_app(), ["ingest", "draft-mapping", str(export), "--out", str(out)], env=env
    )
    assert ran.exit_code == 0, ran.output
    written = yaml.safe_load(out.read_text("utf-8"))
    (only,) = written["exports"]
    assert only["columns"]["name"]["from"] == "学生姓名" and "备注" not in str(only["columns"])
    assert not (tmp_path / "home" / "warehouse.duckdb").exists()  # nothing was loaded
