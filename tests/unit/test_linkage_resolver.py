"""数据互通率 through record linkage: a mention resolves to its person's 学籍 number."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from edubrain.govern.identity import PERSON_MENTION_SCHEMA, PERSON_MENTION_TABLE
from edubrain.govern.scorecard import linkage_resolver
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


def test_resolver_maps_each_mention_to_the_registry_number_of_its_person(tmp_path: Path) -> None:
    rows = [
        # (mention_key, entity, written number, person)
        ("student|G1", "student", "G1", "P1"),
        ("fitness_test|L1|2025-2026", "fitness_test", "L1", "P1"),  # an old temporary number
        ("item_score|G2", "item_score", "G2", "P2"),  # a person with no 学籍 record
    ]
    table = pa.table(
        {
            "mention_key": [r[0] for r in rows],
            "entity": [r[1] for r in rows],
            "student_number": [r[2] for r in rows],
            "person_id": [r[3] for r in rows],
            "load_id": ["L"] * 3,
            "run_id": ["R"] * 3,
        },
        PERSON_MENTION_SCHEMA,
    )
    with open_warehouse(Settings(home=tmp_path)) as wh:
        assert linkage_resolver(wh) is None  # before the first `edubrain govern`
        with wh.transaction() as tx:
            tx.replace_table(PERSON_MENTION_TABLE, table)
        resolver = linkage_resolver(wh)
        assert resolver is not None
        got = sorted(tuple(r.values()) for r in resolver.to_pyarrow().to_pylist())
    assert got == [("fitness_test", "L1", "G1"), ("student", "G1", "G1")]
