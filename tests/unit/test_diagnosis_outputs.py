"""Diagnosis outputs: recommendations (property-based), layered groups, the graph loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from edubrain.diagnosis.diagnose import (
    PracticePolicy,
    layer_groups,
    recommend,
    wrong_book,
)
from edubrain.diagnosis.graph import (
    ItemBank,
    KnowledgeGraph,
    Practice,
    build_graph,
    build_items,
)
from edubrain.diagnosis.responses import ResponseLog
from edubrain.errors import DiagnosisInputError


@st.composite
def scenarios(draw: st.DrawFn):
    n = draw(st.integers(1, 10))
    # a DAG: a point's prerequisites are among the points before it
    pre = tuple(
        np.array(sorted(draw(st.sets(st.integers(0, k - 1), max_size=3))) if k else [], np.int64)
        for k in range(n)
    )
    graph = KnowledgeGraph(
        np.array([f"K{k}" for k in range(n)]),
        np.array([f"point {k}" for k in range(n)]),
        np.full(n, "math"),
        np.full(n, "21"),
        pre,
    )
    n_items = draw(st.integers(1, 25))
    primary = np.array(draw(st.lists(st.integers(0, n - 1), min_size=n_items, max_size=n_items)))
    second = draw(st.lists(st.integers(-1, n - 1), min_size=n_items, max_size=n_items))
    rows, cols = list(range(n_items)), list(primary)
    for i, s in enumerate(second):
        if s >= 0 and s != primary[i]:
            rows.append(i)
            cols.append(s)
    q = sparse.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n_items, n))
    items = ItemBank(np.array([f"I{i}" for i in range(n_items)]), q, primary.astype(np.int64))
    unit = st.floats(0, 1, allow_nan=False)
    mastery = np.array(draw(st.lists(unit, min_size=n, max_size=n)))
    success = np.array(draw(st.lists(unit, min_size=n_items, max_size=n_items)))
    lo, hi = sorted(draw(st.tuples(unit, unit)))
    policy = PracticePolicy(
        band=(lo, hi),
        ready_at=draw(unit),
        mastered_at=draw(st.floats(0.01, 1)),
        count=draw(st.integers(1, 8)),
        per_point=draw(st.integers(1, 3)),
    )
    exclude = np.array(
        sorted(draw(st.sets(st.integers(0, n_items - 1), max_size=3))), dtype=np.int64
    )
    return graph, items, mastery, success, policy, exclude


def _points(items: ItemBank, i: int) -> np.ndarray:
    q = items.q_matrix
    return q.indices[q.indptr[i] : q.indptr[i + 1]]


def _qualifies(i, graph, items, mastery, success, policy, exclude) -> bool:
    lo, hi = policy.band
    pts = _points(items, i)
    ready = all((mastery[graph.prerequisites[k]] >= policy.ready_at).all() for k in pts)
    return (
        i not in set(exclude.tolist())
        and ready
        and lo <= success[i] <= hi
        and bool((mastery[pts] < policy.mastered_at).any())
    )


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_recommendations_respect_prerequisites_and_the_success_band(scenario):
    graph, items, mastery, success, policy, exclude = scenario
    recs = recommend(mastery, success, graph, items, policy, exclude)
    lo, hi = policy.band
    assert len(recs) <= policy.count
    for r in recs:
        assert lo <= r.success <= hi
        assert r.success == success[r.item]
        pts = _points(items, r.item)
        # every point the item exercises is prerequisite-ready
        for k in pts:
            assert (mastery[graph.prerequisites[k]] >= policy.ready_at).all()
        # the target is one of the item's points and is not yet mastered
        assert r.target_point in pts
        assert mastery[r.target_point] < policy.mastered_at
        assert r.item not in set(exclude.tolist())
    # weakest points first
    assert [r.target_mastery for r in recs] == sorted(r.target_mastery for r in recs)
    targets = [r.target_point for r in recs]
    assert all(targets.count(t) <= policy.per_point for t in targets)
    # nothing qualifying is withheld when there is room
    qualifying = [
        i
        for i in range(success.size)
        if _qualifies(i, graph, items, mastery, success, policy, exclude)
    ]
    if qualifying:
        assert recs
    else:
        assert recs == []


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.floats(0, 1, allow_nan=False), min_size=n * 4, max_size=n * 4),
            st.integers(1, 4),
            st.integers(1, 8),
        )
    )
)
def test_layers_have_usable_sizes_and_are_ordered(case):
    n, values, n_groups, min_size = case
    mastery = np.array(values).reshape(n, 4)
    layers = layer_groups(mastery, n_groups=n_groups, min_size=min_size)
    g = layers.mean_mastery.shape[0]
    sizes = np.bincount(layers.group, minlength=g)
    assert 1 <= g <= n_groups
    assert sizes.sum() == n
    if g > 1:
        assert sizes.min() >= min_size
    # layers are contiguous along the mastery axis: every score of layer j ≤ every of j+1
    for j in range(g - 1):
        assert layers.score[layers.group == j].max() <= layers.score[layers.group == j + 1].min()


def test_layers_find_three_planted_profiles():
    rng = np.random.default_rng(0)
    low = rng.normal(0.2, 0.03, (8, 5))
    mid = rng.normal(0.5, 0.03, (10, 5))
    high = rng.normal(0.85, 0.03, (12, 5))
    mastery = np.clip(np.vstack([high, low, mid]), 0, 1)
    layers = layer_groups(mastery, n_groups=3, min_size=4)
    expected = np.r_[np.full(12, 2), np.zeros(8, int), np.ones(10, int)]
    assert layers.group.tolist() == expected.tolist()
    assert (
        layers.mean_mastery[0].mean()
        < layers.mean_mastery[1].mean()
        < layers.mean_mastery[2].mean()
    )


def test_a_small_class_gets_fewer_layers():
    layers = layer_groups(np.linspace(0, 1, 7)[:, None], n_groups=3, min_size=4)
    assert layers.mean_mastery.shape[0] == 1  # 7 pupils cannot make two groups of 4


def test_practice_policy_refuses_a_reversed_band():
    with pytest.raises(DiagnosisInputError, match="band"):
        PracticePolicy(band=(0.8, 0.6))


def test_wrong_book_lists_latest_wrong_items_with_similar_unanswered_ones():
    # points: 0, 1; items 0,1,2 on point 0; item 3 on points 0+1; item 4 on point 1
    q = sparse.csr_array(np.array([[1, 0], [1, 0], [1, 0], [1, 1], [0, 1]], dtype=float))
    items = ItemBank(np.array(["a", "b", "c", "d", "e"]), q, np.array([0, 0, 0, 0, 1]))
    # student 0: item 0 wrong then right; item 4 wrong twice; item 1 wrong
    log = ResponseLog(
        np.zeros(5, np.int64), np.array([0, 4, 0, 4, 1]), np.array([0, 0, 1, 0, 0]), q
    )
    practice = Practice(log, np.array(["S1"]), np.zeros(5, "datetime64[s]"))
    success = np.array([0.5, 0.5, 0.55, 0.9, 0.4])
    book = wrong_book(practice, 0, items, success, similar_per_item=2)
    assert [(w.item, w.wrong_times) for w in book] == [(4, 2), (1, 1)]
    # item 4 (point 1): Jaccard 1/2 with item 3, nothing else unanswered shares point 1
    assert book[0].similar == (3,)
    # item 1 (point 0): item 2 (Jaccard 1) before item 3 (1/2); items 0, 4 already answered
    assert book[1].similar == (2, 3)


def test_graph_loader_orders_points_and_reports_every_problem():
    points = pd.DataFrame(
        {
            "kp_code": ["B", "A", "C"],
            "subject": "math",
            "grade_code": "21",
            "name": ["b", "a", "c"],
        }
    )
    edges = pd.DataFrame({"kp_code": ["B", "C"], "prerequisite_code": ["A", "B"]})
    graph = build_graph(points, edges)
    assert graph.codes.tolist() == ["A", "B", "C"]  # prerequisites first
    assert [p.tolist() for p in graph.prerequisites] == [[], [0], [1]]
    items = build_items(
        pd.DataFrame({"item_id": ["i1", "i2"], "knowledge_points": ["C;A", "B"]}), graph
    )
    assert items.primary.tolist() == [2, 1]  # the first listed code is the main point
    assert items.q_matrix.toarray().tolist() == [[1, 0, 1], [0, 1, 0]]

    cyclic = pd.DataFrame({"kp_code": ["A", "B", "Z"], "prerequisite_code": ["C", "A", "A"]})
    with pytest.raises(DiagnosisInputError) as err:
        build_graph(points, pd.concat([edges, cyclic]))
    assert "unknown kp_code Z" in str(err.value)
    assert "cycle" in str(err.value)
    with pytest.raises(DiagnosisInputError, match="unknown knowledge point Q"):
        build_items(pd.DataFrame({"item_id": ["i1"], "knowledge_points": ["Q"]}), graph)


def test_knowledge_folder_must_have_its_files(tmp_path: Path):
    from edubrain.diagnosis.graph import load_knowledge

    with pytest.raises(DiagnosisInputError, match=r"knowledge_point\.csv"):
        load_knowledge(tmp_path)
