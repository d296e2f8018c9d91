"""The data standard: code tables, entity definitions, generated docs, mappings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from edubrain.errors import MappingError, UnknownEntityError
from edubrain.sources.mapping import builtin_mappings, parse_mapping
from edubrain.standard.codes import code_table, grade_stage, grade_year_index
from edubrain.standard.entities import DataClass, entities, entity

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "codes"


@pytest.mark.skipif(not REFERENCE.exists(), reason="shared/reference is not beside the repo")
def test_packaged_code_tables_match_the_reference() -> None:
    for table, file_name, key in [
        ("ethnicity", "ethnicity_gbt3304.csv", "code"),
        ("sex", "sex_gbt2261_1.csv", "code"),
        ("grade", "grade_codes.csv", "grade_code"),
    ]:
        with (REFERENCE / file_name).open(encoding="utf-8") as fh:
            codes = {row[key] for row in csv.DictReader(fh)}
        assert set(code_table(table).codes) == codes


def test_national_codes_by_hand() -> None:
    assert code_table("ethnicity").codes["01"] == "汉族"
    assert len([c for c in code_table("ethnicity").codes if c.isdigit() and int(c) <= 56]) == 56
    assert code_table("sex").label_lookup()["女"] == "2"
    assert code_table("grade").label_lookup()["七年级"] == "21"


def test_grade_arithmetic() -> None:
    assert [grade_year_index(g) for g in ("11", "16", "21", "23", "31", "33")] == [
        1,
        6,
        7,
        9,
        10,
        12,
    ]
    assert grade_year_index("41") is None
    assert (grade_stage("14"), grade_stage("22"), grade_stage("32")) == (
        "primary",
        "junior",
        "senior",
    )


def test_every_entity_is_coherent() -> None:
    names = [e.name for e in entities()]
    assert len(names) == len(set(names))
    for e in entities():
        fields = e.field_names
        assert len(fields) == len(set(fields)), e.name
        assert set(e.natural_key) <= set(fields), e.name
        for key in e.natural_key:
            assert e.field(key).required, f"{e.name}.{key} is a key but optional"
        for f in e.fields:
            assert f.name.isascii() and f.name == f.name.lower(), f.name
            if f.code_table:
                code_table(f.code_table)


def test_identity_numbers_are_core_data() -> None:
    for e in entities():
        if "id_number" in e.field_names:
            assert e.field("id_number").data_class is DataClass.CORE


def test_unknown_entity_names_the_known_ones() -> None:
    with pytest.raises(UnknownEntityError, match="student"):
        entity("pupil")


def test_builtin_mappings_cover_the_seven_sources() -> None:
    assert set(builtin_mappings()) == {
        "xueji",
        "renshi",
        "yuejuan",
        "tice",
        "tijian",
        "zuoye",
        "zhuangbei",
    }


def test_a_new_source_is_just_a_mapping_file() -> None:
    text = """
source: district_sis
label: 区级学籍
exports:
  - name: pupils
    entity: guardian
    files: ["family_*.csv"]
    format: csv
    columns:
      student_number: {from: XJH}
      relation: {from: REL, values: {"1": father, "2": mother}}
      name: {from: NAME}
"""
    mapping = parse_mapping(text, "district_sis.yaml")
    assert mapping.export_for("family_2025.csv") is not None
    assert mapping.export_for("other.csv") is None


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("student_number: {from: XJH}\n      name: {from: N}", "required field 'relation'"),
        (
            "student_number: {from: XJH}\n      relation: {from: R}\n      name: {from: N}\n"
            "      shoe_size: {from: S}",
            "no field 'shoe_size'",
        ),
        (
            "student_number: {from: XJH}\n      relation: {from: R, values: {a: uncle}}\n"
            "      name: {from: N}",
            "not a code of guardian_relation",
        ),
    ],
)
def test_bad_mappings_are_refused(columns: str, message: str) -> None:
    text = f"""
source: broken
label: broken
exports:
  - name: x
    entity: guardian
    files: ["x.csv"]
    format: csv
    columns:
      {columns}
"""
    with pytest.raises(MappingError, match=message):
        parse_mapping(text, "broken.yaml")


def test_every_reason_code_is_documented() -> None:
    from edubrain.ingest import Reason

    doc = (ROOT / "docs" / "ingestion.md").read_text("utf-8")
    missing = [r.value for r in Reason if f"`{r.value}`" not in doc]
    assert not missing, f"docs/ingestion.md does not explain {missing}"
