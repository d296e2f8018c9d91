"""Every quality rule fires on the defective region (exactly the expected rows) and passes on
the clean one; drill-down, school derivation, timeliness and the rule documentation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import pytest
from quality_region import (
    B1,
    C1,
    NO_SCHOOL,
    PRACTISED,
    S1,
    S2,
    A,
    X,
    clean,
    defective,
    write_and_ingest,
)

from edubrain.govern.quality import (
    UNKNOWN_SCHOOL,
    Dimension,
    RuleContext,
    UnknownRuleError,
    offending_columns,
    offending_rows,
    rule,
    rules,
)
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.standard.entities import entities, entity
from edubrain.warehouse import LOADS_TABLE, Warehouse, open_warehouse

DOCS = Path(__file__).resolve().parents[2] / "docs"
NAMES = {A[n]: f"A{n}" for n in A} | {X: "X", B1: "B1", C1: "C1"}
Y = "2025-2026"
CLASS_S1 = (S1, Y, "12", "1")

# rule id → the offending records (natural keys; pupils by their name in quality_region) and
# the school each is attributed to.
EXPECTED: dict[str, set[tuple[tuple[str, ...], str]]] = {
    "completeness.class.head_teacher_staff_number": {((S1, Y, "12", "3"), S1)},
    "completeness.exam_item.knowledge_points": {(("E1", "2"), UNKNOWN_SCHOOL)},
    # K1 ← K3 ← K2 ← K1: every edge of the cycle, none of the edges that only touch it.
    "consistency.knowledge_prerequisite.cycle": {
        (("K2", "K1"), UNKNOWN_SCHOOL),
        (("K3", "K2"), UNKNOWN_SCHOOL),
        (("K1", "K3"), UNKNOWN_SCHOOL),
    },
    "completeness.fitness_test.birth_date": {(("A6", Y), S1)},
    "completeness.fitness_test.test_date": {(("A5", Y), S1)},
    "completeness.guardian.phone": {(("A2", "mother"), S1)},
    "completeness.health_check.sex": {(("A4", "2025-10-15"), S1)},
    "completeness.health_check.vision_left": {(("A1", "2025-10-15"), S1)},
    "completeness.health_check.vision_right": {(("A1", "2025-10-15"), S1)},
    "completeness.homework_submission.submitted_at": {(("H1", "A2"), S1)},
    "completeness.school.enrolment_zone": {((S2,), S2)},
    "completeness.school.latitude": {((S1,), S1)},
    "completeness.school.longitude": {((S2,), S2)},
    "completeness.student.hukou_region": {(("A7",), S1)},
    "completeness.student.id_number": {(("A8",), S1)},
    "completeness.teacher.id_number": {(("T3",), S1)},
    "completeness.teacher.title": {(("T2",), S2)},
    "consistency.exam.max_score": {(("E2",), UNKNOWN_SCHOOL)},
    "consistency.fitness_test.birth_date": {(("A3", Y), S1)},
    "consistency.fitness_test.grade_code": {(("A2", Y), S1)},
    "consistency.fitness_test.sex": {(("A1", Y), S1), (("A2", Y), S1), (("A3", Y), S1)},
    "consistency.fitness_test.student_name": {(("A1", Y), S1)},
    "consistency.health_check.sex": {(("A3", "2025-10-15"), S1)},
    "consistency.health_check.student_name": {(("A2", "2025-10-15"), S1)},
    "referential_integrity.attendance.student": {(("X", "2025-10-21"), UNKNOWN_SCHOOL)},
    "referential_integrity.class.head_teacher_staff_number": {((S2, Y, "12", "1"), S2)},
    "referential_integrity.class.school": {((NO_SCHOOL, Y, "12", "1"), NO_SCHOOL)},
    "referential_integrity.exam_item.exam": {(("E3", "1"), UNKNOWN_SCHOOL)},
    "referential_integrity.facility_survey.school": {((NO_SCHOOL, "2025"), NO_SCHOOL)},
    "referential_integrity.fitness_test.student": {(("X", Y), UNKNOWN_SCHOOL)},
    "referential_integrity.growth_record.student": {(("R2",), UNKNOWN_SCHOOL)},
    "referential_integrity.guardian.student": {(("X", "father"), UNKNOWN_SCHOOL)},
    "referential_integrity.health_check.student": {(("X", "2025-10-15"), UNKNOWN_SCHOOL)},
    "referential_integrity.psych_response.student": {
        (("X", "wellbeing-example", "2025-11-05", "1"), UNKNOWN_SCHOOL)
    },
    "referential_integrity.homework_assignment.class": {(("H3",), S1)},
    # The submission's school is the school that set the homework, known or not.
    "referential_integrity.homework_submission.homework_assignment": {
        (("H9", "A3"), UNKNOWN_SCHOOL)
    },
    "referential_integrity.homework_submission.student": {(("H1", "X"), S1)},
    "referential_integrity.item_score.exam_item": {(("E1", "A2", "3"), S1)},
    "referential_integrity.item_score.student": {(("E1", "X", "1"), UNKNOWN_SCHOOL)},
    "referential_integrity.knowledge_prerequisite.knowledge_point": {
        (("K8", "K1"), UNKNOWN_SCHOOL)
    },
    "referential_integrity.knowledge_prerequisite.prerequisite_code": {
        (("K3", "K9"), UNKNOWN_SCHOOL)
    },
    # P4 lists an unknown code; P5 lists none.
    "referential_integrity.practice_item.knowledge_points": {
        (("P4",), UNKNOWN_SCHOOL),
        (("P5",), UNKNOWN_SCHOOL),
    },
    # A response belongs to its pupil's school.
    "referential_integrity.practice_response.practice_item": {(("A3", "P9", PRACTISED), S1)},
    "referential_integrity.practice_response.student": {(("X", "P1", PRACTISED), UNKNOWN_SCHOOL)},
    "referential_integrity.school.region": {((S2,), S2)},
    "referential_integrity.student.class": {(("C1",), S1)},
    "referential_integrity.teacher.school": {(("T5",), NO_SCHOOL)},
    "referential_integrity.teacher_literacy.teacher": {(("T9", Y), UNKNOWN_SCHOOL)},
    "referential_integrity.teacher_training.teacher": {(("T9", "PX1"), UNKNOWN_SCHOOL)},
    "referential_integrity.teaching_assignment.class": {(("T1", S1, Y, "12", "7", "math"), S1)},
    "referential_integrity.teaching_assignment.teacher": {
        (("T8", S1, Y, "12", "1", "english"), S1)
    },
    "uniqueness.student.id_number": {(("A5",), S1), (("A6",), S1)},
    "uniqueness.teacher.id_number": {(("T1",), S1), (("T4",), S1)},
    "validity.homework_assignment.due_date": {(("H2",), S2)},
    "validity.item_score.score": {(("E1", "A1", "2"), S1)},
    "validity.term.end_date": {((Y, "2"), UNKNOWN_SCHOOL)},
}
ROW_RULES = [r.id for r in rules() if r.dimension is not Dimension.TIMELINESS]
TIMELINESS_RULES = [r.id for r in rules() if r.dimension is Dimension.TIMELINESS]


class Region(NamedTuple):
    wh: Warehouse
    day: date  # the (UTC) day it was loaded: timeliness is measured from it


def _region(data: dict[str, list[dict]], root: Path) -> Iterator[Region]:
    settings = write_and_ingest(data, root)
    with open_warehouse(settings) as wh:
        loads = wh.table(LOADS_TABLE)
        last = loads.aggregate(last=loads.finished_at.max()).to_pyarrow()
        yield Region(wh, last["last"][0].as_py().date())


@pytest.fixture(scope="module")
def defective_region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    yield from _region(defective(), tmp_path_factory.mktemp("defective"))


@pytest.fixture(scope="module")
def clean_region(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Region]:
    yield from _region(clean(), tmp_path_factory.mktemp("clean"))


def found(wh: Region, rule_id: str, ctx: RuleContext) -> set[tuple[tuple[str, ...], str]]:
    r = rule(rule_id)
    rows = r.offending(wh, ctx).to_pyarrow().to_pylist()
    key = entity(r.entity).natural_key
    sealer = sealer_for(Settings())
    assert sealer is not None  # 学籍号s are stored sealed; NAMES knows them in clear
    return {
        (
            tuple(NAMES.get(sealer.open_text(str(row[k])), str(row[k])) for k in key),
            row["school_code"],
        )
        for row in rows
    }


def test_every_row_rule_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(ROW_RULES)


@pytest.mark.parametrize("rule_id", ROW_RULES)
def test_rule_fires_on_exactly_the_defective_rows(defective_region: Region, rule_id: str) -> None:
    ctx = RuleContext(as_of=defective_region.day)
    assert found(defective_region.wh, rule_id, ctx) == EXPECTED[rule_id]


@pytest.mark.parametrize("rule_id", [r.id for r in rules()])
def test_rule_passes_on_the_clean_region(clean_region: Region, rule_id: str) -> None:
    ctx = RuleContext(as_of=clean_region.day + timedelta(days=45))
    assert found(clean_region.wh, rule_id, ctx) == set()


@pytest.mark.parametrize("rule_id", TIMELINESS_RULES)
def test_timeliness_fires_for_every_row_of_a_stale_feed(clean_region: Region, rule_id: str) -> None:
    ctx = RuleContext(as_of=clean_region.day + timedelta(days=46))
    rows = rule(rule_id).offending(clean_region.wh, ctx).to_pyarrow().to_pylist()
    assert len(rows) == clean_region.wh.count(rule(rule_id).entity) > 0
    assert all("46 天 (上限 45)" in row["detail"] for row in rows)


def test_offending_rows_have_the_common_shape(defective_region: Region) -> None:
    ctx = RuleContext(as_of=defective_region.day)
    for r in rules():
        assert tuple(r.offending(defective_region.wh, ctx).columns) == offending_columns(r.entity)


# The diagnosis module's rules as people read them (issue 15): entities and fields by their
# Chinese labels, the codes as written.
DIAGNOSIS_DETAILS = {
    "referential_integrity.practice_item.knowledge_points": {
        ("P4",): "知识点中没有 K7（共 1 个未知编码）",  # K1;K7: K1 exists
        ("P5",): "未标注知识点",  # " ; ": no code at all
    },
    "consistency.knowledge_prerequisite.cycle": {
        ("K2", "K1"): "知识点先修关系成环：K1 最终又以 K2 为先修",
        ("K3", "K2"): "知识点先修关系成环：K2 最终又以 K3 为先修",
        ("K1", "K3"): "知识点先修关系成环：K3 最终又以 K1 为先修",
    },
    "referential_integrity.knowledge_prerequisite.knowledge_point": {
        ("K8", "K1"): "知识点中没有知识点编码 K8"
    },
    "referential_integrity.knowledge_prerequisite.prerequisite_code": {
        ("K3", "K9"): "知识点中没有先修知识点编码 K9"
    },
    "referential_integrity.practice_response.practice_item": {
        ("A3", "P9", PRACTISED): "练习题中没有练习题编号 P9"
    },
}


def _details(region: Region, rule_id: str) -> dict[tuple[str, ...], str]:
    r = rule(rule_id)
    rows = r.offending(region.wh, RuleContext(as_of=region.day)).to_pyarrow().to_pylist()
    sealer = sealer_for(Settings())
    assert sealer is not None
    key = entity(r.entity).natural_key
    return {
        tuple(NAMES.get(sealer.open_text(str(row[k])), str(row[k])) for k in key): row["detail"]
        for row in rows
    }


@pytest.mark.parametrize("rule_id", sorted(DIAGNOSIS_DETAILS))
def test_diagnosis_details_are_chinese(defective_region: Region, rule_id: str) -> None:
    assert _details(defective_region, rule_id) == DIAGNOSIS_DETAILS[rule_id]


def test_no_detail_shows_an_internal_name(defective_region: Region) -> None:
    """Every row rule's message starts in Chinese and names no entity or field by its code."""
    codes = {e.name for e in entities()} | {f for e in entities() for f in e.field_names}
    snake = re.compile(r"[a-z]+(?:_[a-z]+)+")  # `knowledge_point`, `student_number` …
    for rule_id in ROW_RULES:
        for key, detail in _details(defective_region, rule_id).items():
            assert re.match(r"[\u4e00-\u9fff]", detail), (rule_id, key, detail)
            named = {w for w in snake.findall(detail) if w in codes}
            assert not named, (rule_id, key, detail)


def test_detail_says_what_disagrees(defective_region: Region) -> None:
    ctx = RuleContext(as_of=defective_region.day)
    rows = offending_rows(defective_region.wh, "consistency.fitness_test.birth_date", ctx)
    (row,) = rows.to_pyarrow().to_pylist()
    assert row["detail"] == "出生日期(体测系统) 2018-03-13 ≠ 学籍 2018-03-03"
    assert (row["_source"], row["school_code"]) == ("standard", S1)


def test_drill_down_filters_by_school_and_limits(defective_region: Region) -> None:
    ctx = RuleContext(as_of=defective_region.day)
    wh = defective_region.wh
    all_rows = offending_rows(wh, "completeness.school.longitude", ctx).to_pyarrow()
    s1 = offending_rows(wh, "completeness.school.longitude", ctx, school=S1).to_pyarrow()
    sex = offending_rows(wh, "consistency.fitness_test.sex", ctx, limit=2).to_pyarrow()
    assert all_rows.num_rows == 1
    assert s1.num_rows == 0
    sealer = sealer_for(Settings())
    assert sealer is not None  # stored sealed: the limit takes the first keys in stored order
    sealed = sorted(sealer.seal_student_number(a) for a in (A[1], A[2], A[3]))
    assert sex["student_number"].to_pylist() == sealed[:2]


def test_unknown_rule_is_a_clear_error() -> None:
    with pytest.raises(UnknownRuleError, match="unknown quality rule 'nope'"):
        rule("nope")


def test_rule_ids_are_unique_and_well_formed() -> None:
    ids = [r.id for r in rules()]
    assert len(ids) == len(set(ids))
    for r in rules():
        assert r.id.startswith(f"{r.dimension.value}.{r.entity}")
        assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", r.id)
        assert r.description_zh and r.description_en


def test_every_rule_is_documented() -> None:
    text = (DOCS / "quality-rules.md").read_text("utf-8")  # generated by `edubrain docs`
    missing = [r.id for r in rules() if f"`{r.id}`" not in text]
    assert not missing, f"rules not in docs/quality-rules.md: {missing}"
    for d in Dimension:
        assert f"`{d.value}`" in text
