"""The steward's queue as people work it: undo events, states, the order by impact, bulk
semantics and the side-by-side view (`govern.steward`, `service.steward_queue`).

Expected values are worked out by hand from the rows below."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edubrain.govern.steward import impact, live_decisions, uncertainty, verdicts_from
from edubrain.service.steward_queue import (
    APPLIED,
    APPLYING,
    NOT_IN_SCOPE,
    NOTHING_TO_UNDO,
    PENDING,
    SAME_MENTION,
    Decision,
    decide_many,
    side_by_side,
    with_states,
)
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.standard.entities import DataClass

T0 = datetime(2026, 3, 1, 9, 0)


def _events(*steps: tuple[str, str, str]) -> list[dict[str, Any]]:
    return [
        {"decision_id": i, "mention_key_l": a, "mention_key_r": b, "verdict": v,
         "decided_by": "s", "decided_at": T0 + timedelta(minutes=i)}
        for i, (a, b, v) in enumerate(steps)
    ]  # fmt: skip


# ---- undo: the newest event wins; undoing an undo restores --------------------------------


def test_the_newest_decision_on_a_pair_wins_whichever_way_it_is_named() -> None:
    live = live_decisions(_events(("a", "b", "same"), ("b", "a", "different")))
    assert [d["verdict"] for d in live.values()] == ["different"]


def test_an_undo_withdraws_the_decision_and_the_pair_is_asked_again() -> None:
    assert live_decisions(_events(("a", "b", "same"), ("a", "b", "undo"))) == {}
    assert verdicts_from(_events(("a", "b", "same"), ("b", "a", "undo"))) == []


def test_undoing_an_undo_restores_the_decision_it_withdrew() -> None:
    events = _events(("a", "b", "different"), ("a", "b", "undo"), ("a", "b", "undo"))
    assert [(v.mention_key_l, v.same) for v in verdicts_from(events)] == [("a", False)]
    # and a third undo withdraws it again
    events += _events(("a", "b", "undo"))
    assert verdicts_from(events) == []


def test_an_undo_uncovers_the_earlier_decision_on_the_pair() -> None:
    events = _events(("a", "b", "same"), ("a", "b", "different"), ("a", "b", "undo"))
    assert [v.same for v in verdicts_from(events)] == [True]


def test_an_undo_touches_only_its_own_pair_and_an_undo_of_nothing_does_nothing() -> None:
    events = _events(("c", "d", "undo"), ("a", "b", "same"), ("c", "d", "same"),
                     ("c", "d", "undo"))  # fmt: skip
    assert {frozenset(p) for p in live_decisions(events)} == {frozenset(("a", "b"))}


# ---- ordering by impact ----------------------------------------------------------------------


def test_uncertainty_is_the_binary_entropy_of_the_probability() -> None:
    assert uncertainty(0.5) == 1.0
    assert uncertainty(1.0) == uncertainty(0.0) == 0.0
    # H(0.9) = -(0.9 log2 0.9 + 0.1 log2 0.1) = 0.1368 + 0.3322
    assert uncertainty(0.9) == pytest.approx(0.468996, abs=1e-6)


def test_impact_is_the_smaller_persons_rows_times_the_uncertainty() -> None:
    assert impact(12, 3, 0.5) == 3.0  # a 3-row person would move: 3 × 1 bit
    assert impact(40, 40, 0.9) == pytest.approx(40 * 0.468996, abs=1e-4)


def _item(rid: str, impact_value: float, a: str, b: str) -> dict[str, Any]:
    return {"review_id": rid, "mention_key_l": a, "mention_key_r": b, "impact": impact_value}


def test_the_queue_puts_pairs_to_decide_first_each_part_by_impact() -> None:
    review = [_item("r1", 0.5, "a", "b"), _item("r2", 3.0, "c", "d"), _item("r3", 1.0, "e", "f")]
    applied = [{**_item("r4", 9.0, "g", "h"), "verdict": "same"}]
    events = _events(("g", "h", "same"), ("e", "f", "different"))
    rows = with_states(review, applied, events)
    assert [(r["review_id"], r["state"]) for r in rows] == [
        ("r2", PENDING), ("r3", APPLYING), ("r1", PENDING), ("r4", APPLIED)]  # fmt: skip
    labels = {r["review_id"]: r["state_label"] for r in rows}
    assert labels == {"r1": "待定", "r2": "待定", "r3": "已判定·生效中", "r4": "已生效"}


def test_a_withdrawn_decision_is_taking_effect_until_applied() -> None:
    applied = [{**_item("r4", 9.0, "g", "h"), "verdict": "same"}]
    rows = with_states([], applied, _events(("g", "h", "same"), ("g", "h", "undo")))
    assert (rows[0]["state"], rows[0]["state_label"], rows[0]["decision"]) == (
        APPLYING, "已撤销·生效中", None)  # fmt: skip


# ---- bulk: each on its own -----------------------------------------------------------------


def test_a_bulk_decision_keeps_the_good_ones_and_refuses_each_bad_one(tmp_path: Path) -> None:
    known = {"A": "student|1", "B": "fitness_test|1|2025", "C": "student|2"}
    decisions = [
        Decision("A", "B", "same"),
        Decision("A", "X", "different"),  # X is not in the caller's scope
        Decision("C", "C", "same"),  # one mention twice
        Decision("B", "C", "undo"),  # nothing decided on that pair
        Decision("A", "C", "different"),
    ]
    with open_store(Settings(home=tmp_path, progress=False)) as store:
        outcome = decide_many(store, decisions, known.get, by="steward", at=T0)
        stored = [(d["mention_key_l"], d["mention_key_r"], d["verdict"])
                  for d in store.steward_decisions()]  # fmt: skip
    assert [d["index"] for d in outcome.recorded] == [0, 4]
    assert outcome.refused == [
        {"index": 1, "reason": NOT_IN_SCOPE},
        {"index": 2, "reason": SAME_MENTION},
        {"index": 3, "reason": NOTHING_TO_UNDO},
    ]
    assert stored == [("student|1", "fitness_test|1|2025", "same"),
                      ("student|1", "student|2", "different")]  # fmt: skip


# ---- side by side ----------------------------------------------------------------------------

G = "G" + "330102201503071234"  # shaped like a 学籍号 (G + an ID number); nothing is looked up
L = "L" + "339901201503070001"


def _pair() -> dict[str, Any]:
    left = {
        "entity": "student",
        "student_number": G,
        "name": "张伟",
        "sex": "1",
        "birth_date": "2015-03-07",
        "school_code": "3399010001",
        "grade_code": "13",
        "class_no": "2",
        "load_id": "L1",
        "rows": 1,
    }
    right = {
        **left,
        "entity": "homework_submission",
        "student_number": L,
        "name": "章伟",
        "class_no": "3",
        "load_id": "L2",
        "rows": 14,
    }
    return {"side_l": left, "side_r": right}  # fmt: skip


def test_fields_that_differ_are_flagged() -> None:
    fields = {f["field"]: f for f in side_by_side(_pair(), frozenset(DataClass), None)}
    differs = {name for name, f in fields.items() if f["differs"]}
    assert differs == {"name", "class_no", "source", "rows", "student_number"}
    assert (fields["sex"]["left"], fields["source"]["right"]) == ("男", "作业提交")
    assert fields["grade_code"]["left"] == "小学三年级"  # code 13 by its name in the code table


def test_the_sides_are_masked_per_clearance() -> None:
    core = {f["field"]: f for f in side_by_side(_pair(), frozenset(DataClass), None)}
    assert (core["student_number"]["left"], core["name"]["right"]) == (G, "章伟")
    sensitive = frozenset({DataClass.SENSITIVE})
    shown = {f["field"]: f for f in side_by_side(_pair(), sensitive, None)}
    assert shown["student_number"]["left"] == "G" + "*" * 18  # a G number carries the ID number
    assert shown["student_number"]["right"] == L  # a J/L number only the birth date
    none: frozenset[DataClass] = frozenset()
    plain = {f["field"]: f for f in side_by_side(_pair(), none, None)}
    assert (plain["name"]["left"], plain["birth_date"]["left"]) == ("张*", "2015-**-**")
    assert plain["student_number"]["right"] == "L" + "*" * 18
    assert plain["name"]["differs"]  # the flag is the stored values', the same for every role
