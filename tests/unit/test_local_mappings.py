"""A bureau's own source: a mapping file in EDUBRAIN_HOME/mappings, no code change."""

from __future__ import annotations

from pathlib import Path

from edubrain.ingest import ingest_paths
from edubrain.settings import Settings
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse

MAPPING = """
source: district_family
label: 区级家校通
exports:
  - name: contacts
    entity: guardian
    files: ["家校通_*.csv"]
    format: csv
    encoding: gbk
    columns:
      student_number: {from: 学生学籍号}
      relation: {from: 称谓, values: {爸爸: father, 妈妈: mother}}
      name: {from: 家长姓名}
      phone: {from: 手机}
"""


def test_a_new_source_loads_from_its_mapping_file_alone(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    settings.workspace.mappings.mkdir(parents=True)
    (settings.workspace.mappings / "district_family.yaml").write_text(MAPPING, "utf-8")
    body = "33990120180305001"
    pupil = f"G{body}{id_check_char(body)}"
    export = tmp_path / "家校通_2025.csv"
    export.write_bytes(
        (
            "学生学籍号,称谓,家长姓名,手机\n"
            f"{pupil},爸爸,王大明,13800001111\n"
            f"{pupil},妈妈,李小红,1390000222\n"  # 10 digits: bad_format
            f"{pupil},舅舅,张三,13700003333\n"  # no such relation: unknown_code
        ).encode("gbk")
    )
    (report,) = ingest_paths([export], settings)
    assert (report.source, report.entity) == ("district_family", "guardian")
    assert (report.rows_read, report.rows_accepted) == (3, 1)
    assert report.reasons == {"bad_format": 1, "unknown_code": 1}
    with open_warehouse(settings) as wh:
        (row,) = wh.to_arrow("guardian").to_pylist()
    assert (row["relation"], row["name"], row["phone"]) == ("father", "王大明", "13800001111")
