"""Record linkage, persistent IDs and steward decisions on small hand-made data.

Expected outcomes are reasoned by hand: 张伟/章伟 are homophones (both zhang wei); a J 学籍号 in
the registry is a different pupil from a G one; a steward's word beats the model.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edubrain.govern.evaluation import pairwise_score
from edubrain.govern.identity import (
    PERSON_MENTION_SCHEMA,
    PERSON_MENTION_TABLE,
    assign_ids,
    format_person_id,
)
from edubrain.govern.linkage import (
    Verdict,
    cluster,
    cluster_exactly,
    occasion_conflicts,
    staff_clusters,
)
from edubrain.govern.mentions import MENTION_SCHEMA, name_pinyin
from edubrain.govern.steward import StewardError, check_decision, review_items, verdicts_from
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

NOW = datetime(2026, 1, 1)


def _mentions(rows: list[tuple[str, str, str | None]]) -> pa.Table:
    """(mention_key, student_number, id_key) rows; other columns empty."""
    entity = [key.split("|", 1)[0] for key, _, _ in rows]
    data = {name: [None] * len(rows) for name in MENTION_SCHEMA.names}
    data["mention_key"] = [r[0] for r in rows]
    data["student_number"] = [r[1] for r in rows]
    data["id_key"] = [r[2] for r in rows]
    data["entity"] = entity
    data["rows"] = [1] * len(rows)
    return pa.table(data, MENTION_SCHEMA)


def _edges(*edges: tuple[str, str, float]) -> pa.Table:
    return pa.table(
        {
            "mention_key_l": [e[0] for e in edges],
            "mention_key_r": [e[1] for e in edges],
            "match_probability": [e[2] for e in edges],
        }
    )


def test_homophones_share_pinyin() -> None:
    assert name_pinyin("张伟") == name_pinyin("章伟") == "zhang wei"
    assert name_pinyin("张伟") != name_pinyin("张玮明")


REG_A = ("student|G110101201001010011", "G110101201001010011", "110101201001010011")
REG_B = ("student|J110101201001019999", "J110101201001019999", None)
FIT_A = ("fitness_test|L110101201001011234|2025-2026", "L110101201001011234", None)


def test_strong_links_join_and_registry_numbers_never_do() -> None:
    mentions = _mentions([REG_A, REG_B, FIT_A])
    # The fitness row looks like both pupils; the edge to A is far stronger.
    edges = _edges((FIT_A[0], REG_A[0], 0.9999), (FIT_A[0], REG_B[0], 0.95))
    result = cluster(mentions, edges, [])
    assert result.cluster_of[FIT_A[0]] == result.cluster_of[REG_A[0]]
    assert result.cluster_of[REG_B[0]] != result.cluster_of[REG_A[0]]
    assert [r[3] for r in result.refused] == ["different permanent identifiers"]


def test_equally_likely_candidates_are_not_guessed() -> None:
    mentions = _mentions([REG_A, REG_B, FIT_A])
    edges = _edges((FIT_A[0], REG_A[0], 0.99), (FIT_A[0], REG_B[0], 0.99))
    result = cluster(mentions, edges, [])
    assert len(set(result.cluster_of.values())) == 3
    assert {r[3] for r in result.refused} == {"ambiguous"}


def test_steward_decisions_are_hard_constraints() -> None:
    mentions = _mentions([REG_A, FIT_A])
    edges = _edges((FIT_A[0], REG_A[0], 0.9999))
    apart = cluster(mentions, edges, [Verdict(FIT_A[0], REG_A[0], same=False)])
    assert apart.cluster_of[FIT_A[0]] != apart.cluster_of[REG_A[0]]
    together = cluster(mentions, _edges(), [Verdict(FIT_A[0], REG_A[0], same=True)])
    assert together.cluster_of[FIT_A[0]] == together.cluster_of[REG_A[0]]


def _partition(cluster_of: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for key, root in cluster_of.items():
        groups.setdefault(root, set()).add(key)
    return {frozenset(g) for g in groups.values()}


# Small pools, so random mentions share ID numbers and 学籍号 often and conflicts are common.
_ENTITIES = st.sampled_from(["student", "fitness_test", "item_score"])
_NUMBERS = st.sampled_from(["G1", "G2", "J3", "L4", "", None])
_IDS = st.sampled_from(["110101201001010011", "110101201001010029", "", None])


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(_ENTITIES, _NUMBERS, _IDS), min_size=1, max_size=12),
    raw_edges=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 11), st.sampled_from([0.5, 0.91, 0.95,
                                                                           0.99, 0.9999])),
        max_size=30,
    ),
    raw_verdicts=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.booleans()),
                          max_size=3),
    occasions=st.lists(st.sampled_from([None, [1], [2], [1, 2]]), min_size=12, max_size=12),
)  # fmt: skip
def test_bulk_clustering_equals_edge_by_edge(
    rows: list[tuple[str, str | None, str | None]],
    raw_edges: list[tuple[int, int, float]],
    raw_verdicts: list[tuple[int, int, bool]],
    occasions: list[list[int] | None],
) -> None:
    """The bulk path only skips work: same partition and same refusals as the exact loop."""
    keys = [f"{entity}|{i}" for i, (entity, _, _) in enumerate(rows)]
    mentions = _mentions(
        [(k, number, ident) for k, (_, number, ident) in zip(keys, rows, strict=True)]
    )
    # Mentions of one source answering one occasion are two pupils (`occasion_conflicts`).
    column = pa.array(occasions[: len(keys)], pa.list_(pa.int64()))
    mentions = mentions.set_column(
        mentions.schema.get_field_index("occasions"), "occasions", column
    )
    n = len(keys)
    edges = _edges(*[(keys[a % n], keys[b % n], p) for a, b, p in raw_edges if a % n != b % n])
    verdicts = [Verdict(keys[a % n], keys[b % n], same) for a, b, same in raw_verdicts
                if a % n != b % n]  # fmt: skip
    bulk = cluster(mentions, edges, verdicts)
    exact = cluster_exactly(mentions, edges, verdicts)
    assert _partition(bulk.cluster_of) == _partition(exact.cluster_of)
    assert sorted(bulk.refused) == sorted(exact.refused)


def test_staff_records_with_one_id_number_are_one_person() -> None:
    staff = pa.table(
        {
            "mention_key": ["teacher|T003", "teacher|T001", "teacher|T002", "teacher|T004"],
            "id_key": ["110101198001010011", "110101198001010011", None, "110101198502020022"],
        }
    )
    # T001 and T003: the same person re-hired under a new 教职工号; T002 has no ID number.
    assert staff_clusters(staff) == {
        "teacher|T001": ["teacher|T001", "teacher|T003"],
        "teacher|T002": ["teacher|T002"],
        "teacher|T004": ["teacher|T004"],
    }


def test_ids_survive_growth_and_record_merge_and_split() -> None:
    first = assign_ids({"a": ["a1", "a2"], "b": ["b1"]}, {}, [], {}, run_id="r1", now=NOW)
    pa_, pb = first.person_of["a1"], first.person_of["b1"]
    assert {pa_, pb} == {format_person_id(1), format_person_id(2)}
    assert [e["event"] for e in first.events] == ["create", "create"]
    # A new mention joins a; a brand-new person c appears: old IDs unchanged.
    second = assign_ids(
        {"a": ["a1", "a2", "a3"], "b": ["b1"], "c": ["c1"]},
        first.person_of,
        first.persons,
        {},
        run_id="r2",
        now=NOW,
    )
    assert second.person_of["a3"] == pa_ and second.person_of["b1"] == pb
    assert second.person_of["c1"] == format_person_id(3)
    # a and b become one: the older ID survives, one merge event.
    third = assign_ids(
        {"ab": ["a1", "a2", "a3", "b1"], "c": ["c1"]},
        second.person_of,
        second.persons,
        {},
        run_id="r3",
        now=NOW,
    )
    assert third.person_of["b1"] == pa_
    assert [(e["event"], e["old_id"], e["new_id"]) for e in third.events] == [("merge", pb, pa_)]
    # a2 leaves: a split-off with a fresh ID, never a reused one.
    fourth = assign_ids(
        {"ab": ["a1", "a3", "b1"], "x": ["a2"], "c": ["c1"]},
        third.person_of,
        third.persons,
        {},
        run_id="r4",
        now=NOW,
    )
    assert fourth.person_of["a1"] == pa_
    assert fourth.person_of["a2"] == format_person_id(4)
    assert [(e["event"], e["old_id"]) for e in fourth.events] == [("split", pa_)]


def test_pairwise_score_counts_pairs() -> None:
    # Truth: {1, 2, 3} are one pupil (the L number is pupil G1); prediction splits off 3.
    numbers = ["G1", "G1", "L9", "G2"]
    score = pairwise_score(numbers, ["p", "p", "q", "r"], {"L9": "G1"})
    assert (score.true_pairs, score.predicted_pairs, score.correct_pairs) == (3, 1, 1)
    assert score.precision == 1.0 and score.recall == pytest.approx(1 / 3)


def test_decisions_persist_and_newest_wins(tmp_path) -> None:
    settings = Settings(home=tmp_path)
    with open_store(settings) as store:
        store.record_steward_decision(REG_A[0], FIT_A[0], "different", by="王老师", note="", at=NOW)
        # Later, on the same pair named the other way round: it overrides the first.
        store.record_steward_decision(
            FIT_A[0], REG_A[0], "same", by="李老师", note="checked", at=datetime(2026, 2, 1)
        )
        store.record_steward_decision(REG_B[0], FIT_A[0], "different", by="王老师", note="", at=NOW)
    with open_store(settings) as store:
        verdicts = verdicts_from(store.steward_decisions())
    assert {(frozenset((v.mention_key_l, v.mention_key_r)), v.same) for v in verdicts} == {
        (frozenset((REG_A[0], FIT_A[0])), True),
        (frozenset((REG_B[0], FIT_A[0])), False),
    }


def test_a_decision_is_checked_against_the_warehouse(tmp_path) -> None:
    person = format_person_id(1)
    with open_warehouse(Settings(home=tmp_path)) as wh:
        # Before any linkage run a person ID means nothing; mention keys pass as given.
        with pytest.raises(StewardError, match="run `edubrain govern` first"):
            check_decision(wh, person, REG_B[0], "different")
        assert check_decision(wh, REG_A[0], FIT_A[0], "same") == (REG_A[0], FIT_A[0])
        links = [
            {"mention_key": key, "entity": key.split("|")[0], "person_id": person}
            for key in (REG_A[0], FIT_A[0])
        ]
        with wh.transaction() as tx:
            tx.replace_table(
                PERSON_MENTION_TABLE, pa.Table.from_pylist(links, PERSON_MENTION_SCHEMA)
            )
        # A person stands for its smallest mention key: "fitness_test|…" < "student|…".
        assert check_decision(wh, person, REG_B[0], "different") == (FIT_A[0], REG_B[0])
        for left, right, verdict in (
            (person, FIT_A[0], "different"),  # the same mention twice
            (REG_A[0], FIT_A[0], "maybe"),
            (format_person_id(2), REG_B[0], "same"),  # no such person
        ):
            with pytest.raises(StewardError):
                check_decision(wh, left, right, verdict)


# The steward's queue (steward.review_items): only questions the identifiers cannot answer.
REG_C = ("student|G110101201001010038", "G110101201001010038", "110101201001010038")
FIT_C = ("fitness_test|G110101201001010038|2025-2026", "G110101201001010038", "110101201001010038")
HW_A = ("homework_submission|G110101201001010011", "G110101201001010011", "110101201001010011")
HW_L = ("homework_submission|L110101201001019876", "L110101201001019876", None)
REGISTRY = frozenset({REG_A[0], REG_B[0], REG_C[0]})


def _queue(
    rows: list[tuple[str, str, str | None]],
    edges: pa.Table,
    verdicts: list[Verdict] | None = None,
) -> list[tuple[str, str, str]]:
    mentions = _mentions(rows)
    clustering = cluster(mentions, edges, verdicts or [])
    person_of = clustering.cluster_of
    table = review_items(edges, clustering.refused, person_of, REGISTRY, verdicts or [], "run")
    return sorted((r["mention_key_l"], r["mention_key_r"], r["reason"]) for r in table.to_pylist())


def test_a_resemblance_weaker_than_both_own_links_is_not_asked() -> None:
    # A's 作业 and C's 体测 carry their own pupils' numbers (p ≈ 1 to the registry record); that
    # they also share a birth date (0.55, or even 0.99 refused for two ID numbers) asks nothing.
    edges = _edges(
        (HW_A[0], REG_A[0], 0.99999),
        (FIT_C[0], REG_C[0], 0.99999),
        (HW_A[0], FIT_C[0], 0.55),
        (HW_A[0], REG_C[0], 0.99),
    )
    assert _queue([REG_A, REG_C, HW_A, FIT_C], edges) == []


def test_a_torn_mention_is_asked_once_per_candidate_pupil() -> None:
    # An old temporary number on a 作业 row fits A and C equally (birth date and class).
    edges = _edges(
        (HW_A[0], REG_A[0], 0.99999),
        (FIT_C[0], REG_C[0], 0.99999),
        (HW_L[0], REG_A[0], 0.99),
        (HW_L[0], HW_A[0], 0.99),
        (HW_L[0], REG_C[0], 0.99),
        (HW_L[0], FIT_C[0], 0.99),
    )
    queue = _queue([REG_A, REG_C, HW_A, FIT_C, HW_L], edges)
    # One item per candidate, naming the registry record.
    assert queue == [(HW_L[0], REG_A[0], "ambiguous"), (HW_L[0], REG_C[0], "ambiguous")]
    # The steward rules A out: the row joins C and nothing is asked any more.
    decided = [Verdict(HW_L[0], REG_A[0], same=False)]
    mentions = _mentions([REG_A, REG_C, HW_A, FIT_C, HW_L])
    clustering = cluster(mentions, edges, decided)
    assert clustering.cluster_of[HW_L[0]] == clustering.cluster_of[REG_C[0]]
    assert _queue([REG_A, REG_C, HW_A, FIT_C, HW_L], edges, decided) == []


def test_a_lone_mention_with_a_grey_link_is_asked() -> None:
    edges = _edges((FIT_A[0], REG_A[0], 0.7))
    assert _queue([REG_A, FIT_A], edges) == [(FIT_A[0], REG_A[0], "grey band: not linked")]


def test_two_look_alike_registrations_are_asked_once() -> None:
    # Possible 重复学籍: the registry records (and their 体测 rows) look alike; the registry
    # holds one record per pupil, so only a steward can merge them. One item, the records'.
    edges = _edges(
        (FIT_C[0], REG_C[0], 0.99999),
        (REG_B[0], REG_C[0], 0.995),
        (REG_B[0], FIT_C[0], 0.995),
    )
    queue = _queue([REG_B, REG_C, FIT_C], edges)
    assert queue == [(REG_B[0], REG_C[0], "different permanent identifiers")]
    apart = [Verdict(REG_B[0], REG_C[0], same=False)]
    assert _queue([REG_B, REG_C, FIT_C], edges, apart) == []


def test_one_pupil_answers_an_assignment_once() -> None:
    # A 作业 row with an old temporary number answers assignment 7; its birth date and class
    # fit A and C alike (0.99 each). C handed in assignment 7 under C's own number, A did not:
    # the row is A's — no guess, no question.
    mentions = _mentions([REG_A, REG_C, HW_A, HW_L, FIT_C])
    hw_c = ("homework_submission|G110101201001010038", "G110101201001010038", REG_C[2])
    mentions = pa.concat_tables([mentions, _mentions([hw_c])])
    occasions = {HW_A[0]: [5, 6], HW_L[0]: [7], hw_c[0]: [5, 6, 7], FIT_C[0]: [2025]}
    keys = mentions.column("mention_key").to_pylist()
    column = pa.array([occasions.get(k) for k in keys], pa.list_(pa.int64()))
    mentions = mentions.set_column(
        mentions.schema.get_field_index("occasions"), "occasions", column
    )
    edges = _edges(
        (HW_A[0], REG_A[0], 0.99999),
        (hw_c[0], REG_C[0], 0.99999),
        (FIT_C[0], REG_C[0], 0.99999),
        (HW_L[0], REG_A[0], 0.99),
        (HW_L[0], HW_A[0], 0.99),
        (HW_L[0], REG_C[0], 0.99),
        (HW_L[0], hw_c[0], 0.99),
    )
    assert occasion_conflicts(mentions, edges) == [(HW_L[0], hw_c[0])]
    result = cluster(mentions, edges, [])
    assert result.cluster_of[HW_L[0]] == result.cluster_of[REG_A[0]]
    assert result.cluster_of[HW_L[0]] != result.cluster_of[REG_C[0]]
    assert {r[3] for r in result.refused} == {"both answer one occasion"}
    distinct = occasion_conflicts(mentions, edges)
    queue = review_items(edges, result.refused, result.cluster_of, REGISTRY, [], "run",
                         distinct=distinct)  # fmt: skip
    assert queue.num_rows == 0


def test_two_temporary_rows_for_one_assignment_settle_nothing() -> None:
    # Two classmates born on one day (A, C) each wrote assignment 7 under an old temporary
    # number. The two rows are two pupils, but which is whose the data cannot say: each stays
    # torn and is asked, rather than the first guess confirming the second.
    l2 = ("homework_submission|L110101201001015555", "L110101201001015555", None)
    hw_c = ("homework_submission|G110101201001010038", "G110101201001010038", REG_C[2])
    rows = [REG_A, REG_C, HW_A, hw_c, HW_L, l2]
    mentions = _mentions(rows)
    occasions = {HW_A[0]: [5, 6], hw_c[0]: [5, 6], HW_L[0]: [7], l2[0]: [7]}
    keys = mentions.column("mention_key").to_pylist()
    column = pa.array([occasions.get(k) for k in keys], pa.list_(pa.int64()))
    mentions = mentions.set_column(
        mentions.schema.get_field_index("occasions"), "occasions", column
    )
    edges = _edges(
        (HW_A[0], REG_A[0], 0.99999),
        (hw_c[0], REG_C[0], 0.99999),
        *[(row, pupil, 0.99) for row in (HW_L[0], l2[0]) for pupil in (REG_A[0], REG_C[0])],
        (HW_L[0], l2[0], 0.99),
    )
    result = cluster(mentions, edges, [])
    for row in (HW_L[0], l2[0]):
        assert result.cluster_of[row] == row  # left alone, not guessed
    queue = review_items(edges, result.refused, result.cluster_of, REGISTRY, [], "run")
    asked = {(r["mention_key_l"], r["mention_key_r"]) for r in queue.to_pylist()}
    assert {(row, pupil) for row in (HW_L[0], l2[0]) for pupil in (REG_A[0], REG_C[0])} <= asked
