"""Golden records: survivorship per field, lineage, value conflicts, steward value decisions.

A hand-built warehouse; every expected value below is reasoned from the rows, not read back:

* P1 has a registry record (学籍), two fitness rows and a health check. The fitness system has
  章伟 (a 同音字 variant of 张伟) and a day/month-swapped birth date, twice: the registry still
  wins (source priority beats majority), and both fields are conflicts.
* P2 has only fitness rows: 李娜/2016-05-05 twice, 李那/2016-05-06 once, newest: majority wins;
  its grade is the newest row's (recency).
* P3 has two health checks, 王芳 then 王方: one vote each, so the newer check decides (recency).
* P4 has no registry record: its 学籍号 is the number written most often (J twice, L once).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from edubrain.govern.golden import (
    CONFLICT_TABLE,
    GOLDEN_TABLE,
    LINEAGE_TABLE,
    GoldenError,
    build_golden,
    decide_value,
    write_golden,
)
from edubrain.govern.identity import (
    PERSON_MENTION_SCHEMA,
    PERSON_MENTION_TABLE,
    PERSON_SCHEMA,
    PERSON_TABLE,
)
from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.warehouse import LoadRecord, Warehouse, entity_schema, open_warehouse

NOW = datetime(2026, 3, 1)
GA, LB, GC, JD, LD = "GA0001", "LB0002", "GC0003", "JD0004", "LD0004"


def _load(load_id: str, ent: str, finished: datetime) -> LoadRecord:
    return LoadRecord(load_id, f"{ent}.csv", load_id, "test", ent, ent, finished, finished,
                      0, 0, 0, 0, 0, 0, "ok")  # fmt: skip


def _merge(wh: Warehouse, ent: str, load_id: str, finished: datetime, rows: list[dict]) -> None:
    e = entity(ent)
    with wh.transaction() as tx:
        tx.merge(e, pa.Table.from_pylist(rows, entity_schema(e)), load_id=load_id, source="test",
                 valid_from=finished)  # fmt: skip
        tx.record_load(_load(load_id, ent, finished))


def _fit(sn: str, year: str, name: str, birth: date, grade: str, tested: date) -> dict:
    return {"student_number": sn, "school_year": year, "grade_code": grade, "sex": "1",
            "student_name": name, "birth_date": birth, "test_date": tested}  # fmt: skip


# (mention_key, entity, written number, person)
MENTIONS = [
    (f"student|{GA}", "student", GA, "P1"),
    (f"fitness_test|{GA}|2024-2025", "fitness_test", GA, "P1"),
    (f"fitness_test|{GA}|2025-2026", "fitness_test", GA, "P1"),
    (f"health_check|{GA}|2025-10-01", "health_check", GA, "P1"),
    (f"item_score|{GA}", "item_score", GA, "P1"),
    (f"fitness_test|{LB}|2023-2024", "fitness_test", LB, "P2"),
    (f"fitness_test|{LB}|2024-2025", "fitness_test", LB, "P2"),
    (f"fitness_test|{LB}|2025-2026", "fitness_test", LB, "P2"),
    (f"health_check|{GC}|2025-03-01", "health_check", GC, "P3"),
    (f"health_check|{GC}|2025-10-01", "health_check", GC, "P3"),
    (f"item_score|{JD}", "item_score", JD, "P4"),
    (f"homework_submission|{JD}", "homework_submission", JD, "P4"),
    (f"fitness_test|{LD}|2025-2026", "fitness_test", LD, "P4"),
]
LOAD_OF = {"student": "L-student", "fitness_test": "L-fitness", "health_check": "L-health",
           "item_score": "L-items", "homework_submission": "L-homework"}  # fmt: skip


def _person_mentions(person_of: dict[str, str] | None = None) -> pa.Table:
    rows = [
        {"mention_key": k, "entity": e, "student_number": sn,
         "person_id": (person_of or {}).get(p, p), "load_id": LOAD_OF[e], "run_id": "R"}
        for k, e, sn, p in MENTIONS
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, PERSON_MENTION_SCHEMA)


def _persons(merged: dict[str, str] | None = None) -> pa.Table:
    ids = ["P1", "P2", "P3", "P4", "P9"]
    rows = [
        {"person_id": p, "status": "merged" if p in (merged or {}) else "active",
         "merged_into": (merged or {}).get(p), "created_run": "R", "created_load": None,
         "created_at": NOW}
        for p in ids
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, PERSON_SCHEMA)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path)
    with open_warehouse(settings) as wh:
        _merge(wh, "student", "L-student", datetime(2026, 1, 5), [
            {"student_number": GA, "id_number": "430102201503010011", "name": "张伟",
             "sex": "1", "birth_date": date(2015, 3, 1), "ethnicity": "01",
             "school_code": "S1", "school_year": "2025-2026", "grade_code": "13",
             "class_no": 2, "status": "enrolled"},
        ])  # fmt: skip
        _merge(wh, "fitness_test", "L-fitness", datetime(2026, 1, 6), [
            _fit(GA, "2024-2025", "章伟", date(2015, 1, 3), "12", date(2024, 11, 1)),
            _fit(GA, "2025-2026", "章伟", date(2015, 1, 3), "13", date(2025, 11, 1)),
            _fit(LB, "2023-2024", "李娜", date(2016, 5, 5), "11", date(2023, 11, 1)),
            _fit(LB, "2024-2025", "李娜", date(2016, 5, 5), "12", date(2024, 11, 1)),
            _fit(LB, "2025-2026", "李那", date(2016, 5, 6), "13", date(2025, 11, 1)),
            _fit(LD, "2025-2026", "赵六", date(2016, 7, 7), "13", date(2025, 11, 1)),
        ])  # fmt: skip
        _merge(wh, "health_check", "L-health", datetime(2026, 1, 7), [
            {"student_number": GA, "student_name": "张伟", "sex": "1",
             "check_date": date(2025, 10, 1), "height_cm": 130.0, "weight_kg": 28.0},
            {"student_number": GC, "student_name": "王芳", "sex": "2",
             "check_date": date(2025, 3, 1), "height_cm": 130.0, "weight_kg": 28.0},
            {"student_number": GC, "student_name": "王方", "sex": "2",
             "check_date": date(2025, 10, 1), "height_cm": 131.0, "weight_kg": 28.0},
        ])  # fmt: skip
    return settings


def _build(settings: Settings, merged: dict[str, str] | None = None):
    """One golden run, written like `govern` writes it; returns the golden record."""
    with open_warehouse(settings) as wh:
        pm = _person_mentions(merged)
        golden = build_golden(wh, pm, _persons(merged))
        with wh.transaction() as tx:
            tx.replace_table(PERSON_MENTION_TABLE, pm)
            tx.replace_table(PERSON_TABLE, _persons(merged))
            write_golden(tx, golden)
    return golden


def _lineage(golden) -> dict[tuple[str, str], dict]:
    return {(r["person_id"], r["field"]): r for r in golden.lineage.to_pylist()}


def _record(golden, person: str) -> dict:
    return next(r for r in golden.student.to_pylist() if r["person_id"] == person)


def test_source_priority_beats_majority(settings: Settings) -> None:
    golden = _build(settings)
    p1 = _record(golden, "P1")
    assert p1 == {
        "person_id": "P1", "student_number": GA, "name": "张伟", "sex": "1",
        "birth_date": date(2015, 3, 1), "ethnicity": "01", "id_number": "430102201503010011",
        "school_code": "S1", "grade_code": "13", "class_no": 2,
    }  # fmt: skip
    lineage = _lineage(golden)
    assert lineage["P1", "birth_date"]["rule"] == "source_priority"
    assert lineage["P1", "name"]["rule"] == "source_priority"
    assert lineage["P1", "grade_code"]["rule"] == "source_priority"
    # Everybody wrote sex 1 and the number GA: nothing had to be decided.
    assert lineage["P1", "sex"]["rule"] == "unanimous"
    assert lineage["P1", "student_number"]["rule"] == "unanimous"


def test_majority_when_no_priority_source_and_recency_breaks_ties(settings: Settings) -> None:
    golden = _build(settings)
    p2, p3 = _record(golden, "P2"), _record(golden, "P3")
    assert (p2["name"], p2["birth_date"], p2["grade_code"]) == ("李娜", date(2016, 5, 5), "13")
    assert p2["school_code"] is None and p2["ethnicity"] is None  # nobody wrote them
    lineage = _lineage(golden)
    assert lineage["P2", "name"]["rule"] == "majority"
    assert lineage["P2", "birth_date"]["rule"] == "majority"
    assert lineage["P2", "grade_code"]["rule"] == "recency"
    assert p3["name"] == "王方" and lineage["P3", "name"]["rule"] == "recency"
    # No registry record: the number written most often (J twice, L once).
    p4 = _record(golden, "P4")
    assert p4["student_number"] == JD and lineage["P4", "student_number"]["rule"] == "majority"


def test_lineage_names_the_mention_load_and_source(settings: Settings) -> None:
    lineage = _lineage(_build(settings))
    assert {k: lineage["P1", "birth_date"][k] for k in ("source", "load_id", "mention_key")} == {
        "source": "student", "load_id": "L-student", "mention_key": f"student|{GA}",
    }  # fmt: skip
    # 李娜 is held by the 2023 and 2024 rows: lineage names the newer one.
    assert lineage["P2", "name"]["mention_key"] == f"fitness_test|{LB}|2024-2025"
    assert lineage["P2", "name"]["load_id"] == "L-fitness"
    assert lineage["P3", "name"]["mention_key"] == f"health_check|{GC}|2025-10-01"
    # One lineage row per (person, field): 4 persons × 9 fields.
    assert len(lineage) == 4 * 9


def test_conflicts_are_recorded_only_where_values_disagree(settings: Settings) -> None:
    golden = _build(settings)
    conflicts = {(r["person_id"], r["field"]): r for r in golden.conflicts.to_pylist()}
    assert set(conflicts) == {
        ("P1", "name"), ("P1", "birth_date"), ("P1", "grade_code"),
        ("P2", "name"), ("P2", "birth_date"), ("P2", "grade_code"),
        ("P3", "name"), ("P4", "student_number"),
    }  # fmt: skip
    birth = conflicts["P1", "birth_date"]
    assert birth["chosen_value"] == "2015-03-01" and birth["rule"] == "source_priority"
    assert birth["chosen_mention_keys"] == [f"student|{GA}"]
    assert birth["other_values"] == [
        {"value": "2015-01-03", "mention_keys": [f"fitness_test|{GA}|2024-2025",
                                                 f"fitness_test|{GA}|2025-2026"]}
    ]  # fmt: skip
    grades = conflicts["P2", "grade_code"]["other_values"]
    assert [(o["value"], len(o["mention_keys"])) for o in grades] == [("11", 1), ("12", 1)]
    with open_warehouse(settings) as wh:
        assert wh.count(CONFLICT_TABLE) == 8
        assert wh.count(GOLDEN_TABLE) == 4 and wh.count(LINEAGE_TABLE) == 36


def test_a_value_decision_wins_persists_and_follows_a_merge(settings: Settings) -> None:
    _build(settings)
    with open_warehouse(settings) as wh:
        # The steward checked the birth certificate: the fitness system was right.
        decide_value(wh, "P1", "birth_date", "2015-01-03", by="王老师", note="出生证明",
                     now=NOW)  # fmt: skip
    for _ in range(2):  # two more runs: the decision still wins
        golden = _build(settings)
        assert _record(golden, "P1")["birth_date"] == date(2015, 1, 3)
        row = _lineage(golden)["P1", "birth_date"]
        assert (row["source"], row["rule"], row["mention_key"]) == (
            "steward", "steward_decision", None)  # fmt: skip
        # Decided: no longer in the steward's queue; the undecided name conflict still is.
        queued = {(r["person_id"], r["field"]) for r in golden.conflicts.to_pylist()}
        assert ("P1", "birth_date") not in queued and ("P1", "name") in queued
    # P1 is merged into P9: P9 carries P1's mentions, and the decision follows.
    golden = _build(settings, merged={"P1": "P9"})
    assert _record(golden, "P9")["birth_date"] == date(2015, 1, 3)
    assert not [r for r in golden.student.to_pylist() if r["person_id"] == "P1"]
    # The newest decision wins, also when made on the surviving ID.
    with open_warehouse(settings) as wh:
        active = decide_value(wh, "P1", "name", "章伟", by="李老师", note="", now=NOW)
        assert active == "P9"
        decide_value(wh, "P9", "birth_date", "2015-03-01", by="李老师", note="",
                     now=datetime(2026, 4, 1))  # fmt: skip
    golden = _build(settings, merged={"P1": "P9"})
    assert (_record(golden, "P9")["name"], _record(golden, "P9")["birth_date"]) == (
        "章伟", date(2015, 3, 1))  # fmt: skip


def test_bad_value_decisions_are_refused(settings: Settings) -> None:
    _build(settings)
    with open_warehouse(settings) as wh:
        with pytest.raises(GoldenError, match="field must be one of"):
            decide_value(wh, "P1", "shoe_size", "40", by="x", note="", now=NOW)
        with pytest.raises(GoldenError, match="not a valid birth_date"):
            decide_value(wh, "P1", "birth_date", "2015-13-01", by="x", note="", now=NOW)
        with pytest.raises(GoldenError, match="not a valid class_no"):
            decide_value(wh, "P1", "class_no", "二班", by="x", note="", now=NOW)
        with pytest.raises(GoldenError, match="unknown person"):
            decide_value(wh, "P7", "name", "某某", by="x", note="", now=NOW)
