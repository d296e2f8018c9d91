"""`edubrain govern`: mentions → Splink links → constrained clusters → persistent IDs → queue
→ golden records.

Everything one run writes (persons, mention → person, events, review queue, golden records,
lineage and value conflicts) lands in one warehouse transaction, so an interrupted run leaves
the previous identities intact. The steward's decisions live in the operational store; the
caller loads them (`steward.verdicts_from`) and hands them in.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from edubrain.errors import EmptyWorkspaceError
from edubrain.govern.evaluation import pairwise_score, true_student_numbers
from edubrain.govern.golden import build_golden, write_golden
from edubrain.govern.identity import (
    PERSON_EVENT_SCHEMA,
    PERSON_EVENT_TABLE,
    PERSON_MENTION_SCHEMA,
    PERSON_MENTION_TABLE,
    PERSON_SCHEMA,
    PERSON_TABLE,
    assign_ids,
)
from edubrain.govern.linkage import (
    LINK_THRESHOLD,
    Verdict,
    cluster,
    occasion_conflicts,
    own_numbered,
    predict_links,
    staff_clusters,
)
from edubrain.govern.mentions import load_mentions, staff_mentions
from edubrain.govern.steward import (
    APPLIED_TABLE,
    REVIEW_TABLE,
    applied_items,
    review_items,
    with_sides,
)
from edubrain.govern.steward_apply import write_linkage
from edubrain.sealing import check_key, sealer_for
from edubrain.settings import Settings
from edubrain.standard.entities import person_registry
from edubrain.warehouse import Warehouse, open_warehouse


@dataclass
class GovernSummary:
    run_id: str
    mentions: dict[str, int]
    persons: int
    links: int
    events: dict[str, int]
    review_items: int
    staff_persons: int = 0
    value_conflicts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    evaluation: dict[str, float | int] | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "run_id": self.run_id,
            "mentions": self.mentions,
            "persons": self.persons,
            "staff_persons": self.staff_persons,
            "links": self.links,
            "events": self.events,
            "review_items": self.review_items,
            "value_conflicts": self.value_conflicts,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }
        if self.evaluation is not None:
            out["evaluation"] = self.evaluation
        return out


def _previous(wh: Warehouse) -> tuple[dict[str, str], list[dict[str, object]]]:
    if not wh.has_table(PERSON_MENTION_TABLE) or not wh.has_table(PERSON_TABLE):
        return {}, []
    links = wh.to_arrow(PERSON_MENTION_TABLE)
    previous = dict(
        zip(
            links.column("mention_key").to_pylist(),
            links.column("person_id").to_pylist(),
            strict=True,
        )
    )
    return previous, wh.to_arrow(PERSON_TABLE).to_pylist()


def govern(
    settings: Settings,
    *,
    verdicts: Sequence[Verdict] = (),
    truth: Path | None = None,
    threads: int = 0,
) -> GovernSummary:
    """Link every person mention in the warehouse and (re)assign persistent person IDs.

    `verdicts` are the steward's decisions (newest per pair), hard constraints on clustering.
    """
    started = time.perf_counter()
    now = datetime.now().replace(microsecond=0)
    run_id = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
    true_numbers = true_student_numbers(truth) if truth is not None else None
    sealer = sealer_for(settings)
    if true_numbers is not None and sealer is not None:
        # The generator's truth is in clear; the warehouse holds sealed G numbers.
        true_numbers = {
            sealer.seal_student_number(k): sealer.seal_student_number(v)
            for k, v in true_numbers.items()
        }
    with open_warehouse(settings) as wh:
        check_key(wh, sealer)
        mentions = load_mentions(wh, sealer)
        if mentions.num_rows == 0:  # Splink cannot train on nothing
            raise EmptyWorkspaceError(
                settings.home,
                "edubrain ingest 学籍导出文件夹",
                missing="工作区还没有学生数据",
                missing_en="no pupil records yet",
            )
        seconds = {"mentions": time.perf_counter() - started}
        linkage = predict_links(
            mentions,
            threads=threads or settings.warehouse_threads,
            memory_limit=settings.warehouse_memory_limit,
            spill_dir=settings.workspace.linkage_spill,
        )
        seconds.update(linkage.seconds)
        t = time.perf_counter()
        clustering = cluster(mentions, linkage.edges, list(verdicts))
        keys: list[str] = mentions.column("mention_key").to_pylist()
        members: dict[str, list[str]] = defaultdict(list)
        for key in keys:
            members[clustering.cluster_of[key]].append(key)
        staff = staff_mentions(wh)
        staff_keys: list[str] = staff.column("mention_key").to_pylist()
        members.update(staff_clusters(staff))
        previous, persons = _previous(wh)
        load_of = dict(zip(keys, mentions.column("load_id").to_pylist(), strict=True))
        load_of.update(zip(staff_keys, staff.column("load_id").to_pylist(), strict=True))
        assignment = assign_ids(members, previous, persons, load_of, run_id=run_id, now=now)
        seconds["cluster"] = time.perf_counter() - t
        person_of = assignment.person_of
        staff = staff.append_column("student_number", pa.nulls(len(staff_keys), pa.string()))
        person_mentions = _person_mentions(mentions, person_of, run_id)
        staff_person_mentions = _person_mentions(staff, person_of, run_id)
        registry = person_registry().entity
        registry_keys = frozenset(
            k for k, e in zip(keys, mentions.column("entity").to_pylist(), strict=True)
            if e == registry
        )  # fmt: skip
        own = own_numbered(mentions)
        review = review_items(
            linkage.edges,
            clustering.refused,
            person_of,
            registry_keys,
            list(verdicts),
            run_id,
            distinct=[
                (a, b)
                for a, b in occasion_conflicts(mentions, linkage.edges)
                if a in own or b in own
            ],
            levels=linkage.levels,
        )
        review = with_sides(review, mentions, person_of)
        applied = with_sides(
            applied_items(verdicts, linkage.edges, person_of, run_id, linkage.levels),
            mentions,
            person_of,
        )
        t = time.perf_counter()
        persons_table = pa.Table.from_pylist(assignment.persons, PERSON_SCHEMA)
        golden = build_golden(wh, person_mentions, persons_table)  # pupils' golden records
        seconds["golden"] = time.perf_counter() - t
        with wh.transaction() as tx:
            tx.replace_table(PERSON_TABLE, persons_table)
            tx.replace_table(
                PERSON_MENTION_TABLE, pa.concat_tables([person_mentions, staff_person_mentions])
            )
            tx.append_rows(
                PERSON_EVENT_TABLE, pa.Table.from_pylist(assignment.events, PERSON_EVENT_SCHEMA)
            )
            tx.replace_table(REVIEW_TABLE, review)
            tx.replace_table(APPLIED_TABLE, applied)
            write_linkage(tx, linkage.edges, linkage.levels)
            write_golden(tx, golden)
    evaluation = None
    if true_numbers is not None:
        score = pairwise_score(
            mentions.column("student_number").to_pylist(),
            [person_of[k] for k in keys],
            true_numbers,
        )
        evaluation = score.as_dict()
    events: dict[str, int] = defaultdict(int)
    for e in assignment.events:
        events[str(e["event"])] += 1
    entity_counts: dict[str, int] = defaultdict(int)
    for ent in mentions.column("entity").to_pylist():
        entity_counts[ent] += 1
    for ent in staff.column("entity").to_pylist():
        entity_counts[ent] += 1
    seconds["total"] = time.perf_counter() - started
    return GovernSummary(
        run_id=run_id,
        mentions=dict(sorted(entity_counts.items())),
        persons=len({person_of[k] for k in keys}),
        staff_persons=len({person_of[k] for k in staff_keys}),
        links=sum(
            1 for p in linkage.edges.column("match_probability").to_pylist() if p >= LINK_THRESHOLD
        ),
        events=dict(sorted(events.items())),
        review_items=review.num_rows,
        value_conflicts=golden.conflicts.num_rows,
        seconds=seconds,
        evaluation=evaluation,
    )


def _person_mentions(mentions: pa.Table, person_of: dict[str, str], run_id: str) -> pa.Table:
    """`person_mention` rows for these mentions: each key with the person it now belongs to."""
    keys: list[str] = mentions.column("mention_key").to_pylist()
    return pa.table(
        {
            "mention_key": keys,
            "entity": mentions.column("entity"),
            "student_number": mentions.column("student_number"),
            "person_id": [person_of[k] for k in keys],
            "load_id": mentions.column("load_id"),
            "run_id": [run_id] * len(keys),
        },
        PERSON_MENTION_SCHEMA,
    )
