"""A steward's decision takes effect without a full run (`govern.steward_apply`).

Re-resolving only the components the changed decisions touch must give every mention the same
person as a full `edubrain govern` run with the same decisions, on the same warehouse: the
comparison below runs both from one copy of a small generated region and compares them whole
(every mention's person, every person's status, every golden record).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from edubrain.govern.golden import GOLDEN_TABLE
from edubrain.govern.identity import PERSON_MENTION_TABLE, PERSON_TABLE
from edubrain.govern.linkage import Verdict
from edubrain.govern.run import govern
from edubrain.govern.steward import APPLIED_TABLE, REVIEW_TABLE
from edubrain.govern.steward_apply import apply_decisions, changed_pairs
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.usecases.ingest import ingest
from edubrain.warehouse import open_warehouse


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("steward-apply")
    generate_region(root / "region", students=400, seed=5)
    settings = Settings(home=root / "home", progress=False)
    ingest(settings, [root / "region" / "standard", root / "region" / "exports"])
    govern(settings)
    return root / "home"


def _copy(governed: Path, to: Path) -> Settings:
    shutil.copytree(governed, to)
    return Settings(home=to, progress=False)


def _state(settings: Settings) -> tuple[dict[str, str], list[dict], list[dict]]:
    with open_warehouse(settings, read_only=True) as wh:
        links = wh.to_arrow(PERSON_MENTION_TABLE).to_pylist()
        persons = wh.to_arrow(PERSON_TABLE).select(["person_id", "status", "merged_into"])
        golden = wh.to_arrow(GOLDEN_TABLE).sort_by("person_id").to_pylist()
    return {r["mention_key"]: r["person_id"] for r in links}, persons.to_pylist(), golden


def _decisions(settings: Settings) -> list[Verdict]:
    """Two registry records of two pupils said to be one (a merge), and a pupil's registry
    record said to be apart from one of its own fitness rows (a split)."""
    mapping, _, _ = _state(settings)
    registry = sorted(k for k in mapping if k.startswith("student|"))
    # Mention keys are pseudonyms under this installation's own key, so their order differs
    # from one home to the next: pick by property, not by position.
    a = registry[0]
    b = next(k for k in registry if mapping[k] != mapping[a])
    fitness_of: dict[str, list[str]] = {}
    for key, person in mapping.items():
        if key.startswith("fitness_test|"):
            fitness_of.setdefault(person, []).append(key)
    pupil = next(
        k
        for k in registry
        if k not in (a, b)
        and mapping[k] not in (mapping[a], mapping[b])
        and fitness_of.get(mapping[k])
    )
    fitness = sorted(fitness_of[mapping[pupil]])
    return [Verdict(a, b, True), Verdict(pupil, fitness[0], False)]


def test_touched_clusters_alone_give_the_full_runs_persons(governed: Path, tmp_path: Path) -> None:
    quick = _copy(governed, tmp_path / "quick")
    full = _copy(governed, tmp_path / "full")
    verdicts = _decisions(quick)
    before, _, _ = _state(quick)

    summary = apply_decisions(quick, verdicts)
    govern(full, verdicts=verdicts)

    after, persons_quick, golden_quick = _state(quick)
    expected, persons_full, golden_full = _state(full)
    assert summary.changed_pairs == 2
    assert 0 < summary.mentions < len(before) / 10  # only the touched components
    assert after == expected
    assert persons_quick == persons_full
    assert golden_quick == golden_full
    a, b = verdicts[0].mention_key_l, verdicts[0].mention_key_r
    assert after[a] == after[b]  # merged
    c, d = verdicts[1].mention_key_l, verdicts[1].mention_key_r
    assert after[c] != after[d]  # split
    changed = {k for k in before if before[k] != after[k]}
    assert d in changed


def test_undoing_restores_the_persons_before_the_decision(governed: Path, tmp_path: Path) -> None:
    quick = _copy(governed, tmp_path / "undo")
    before, _, _ = _state(quick)
    verdicts = _decisions(quick)
    apply_decisions(quick, verdicts)
    summary = apply_decisions(quick, [])  # both withdrawn
    after, _, _ = _state(quick)
    assert summary.changed_pairs == 2
    # The same partition; the merged pupil's second ID is retired, so the split-off one is new.
    groups = lambda m: {frozenset(k for k in m if m[k] == p) for p in set(m.values())}  # noqa: E731
    assert groups(after) == groups(before)
    with open_warehouse(quick, read_only=True) as wh:
        assert wh.count(APPLIED_TABLE) == 0
        assert wh.has_table(REVIEW_TABLE)


def test_nothing_changed_writes_nothing(governed: Path, tmp_path: Path) -> None:
    quick = _copy(governed, tmp_path / "same")
    assert apply_decisions(quick, []).changed_pairs == 0


def test_changed_pairs_are_decided_withdrawn_or_reversed() -> None:
    ab, cd, ef = frozenset(("a", "b")), frozenset(("c", "d")), frozenset(("e", "f"))
    applied = {ab: True, cd: False}
    now = [Verdict("a", "b", True), Verdict("d", "c", True), Verdict("e", "f", False)]
    assert changed_pairs(applied, now) == {cd, ef}
    assert changed_pairs(applied, []) == {ab, cd}
