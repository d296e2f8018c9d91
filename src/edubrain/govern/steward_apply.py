"""The steward's decisions take effect at once: re-resolve only the persons they touch.

A full `edubrain govern` run re-trains the linkage model over every mention (minutes at a
county). A steward's decision changes none of the model's evidence — only the hard constraints
of the clustering — so its effect is confined to the mentions the stored links connect to the
decided pair. The run keeps what this needs: the predicted links (`link_edge`, ≥ GREY_LOW, with
their per-comparison weights) and the model's level weights (`link_level`).

`apply_decisions` (decision 0017, "Taking effect"): the pairs whose decision in force differs
from the one last applied (`steward.APPLIED_TABLE`) are the change. The region to re-resolve is
every connected component — over the strong links (≥ LINK_THRESHOLD) and every "same" decision,
old or new — that holds a mention of a changed pair. The clustering of a component depends only
on its own mentions, links and decisions (`linkage.cluster` works component by component), and
a component so formed holds every person the old and the new decisions made of its mentions, so
clustering the region alone gives its mentions exactly the persons a full run with the same
links and decisions gives them; IDs are kept, merged and split by the same rule
(`identity.assign_ids`, cluster order and new numbers alike). The golden records of the
region's persons and the queue items that involve its mentions are rebuilt; everything else is
kept as it is. All of it is written in one warehouse transaction: readers switch to the new
version whole (decision 0016).

What is not redone: mentions loaded since the last full run (they have no links yet) wait for
the next `edubrain govern`.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.govern.golden import (
    CONFLICT_TABLE,
    GOLDEN_TABLE,
    LINEAGE_TABLE,
    build_golden,
)
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
    connected_components,
    occasion_conflicts,
    own_numbered,
)
from edubrain.govern.mentions import load_mentions
from edubrain.govern.steward import (
    APPLIED_TABLE,
    REVIEW_TABLE,
    StewardError,
    applied_items,
    pair_of,
    review_items,
    with_sides,
)
from edubrain.sealing import check_key, sealer_for
from edubrain.standard.entities import person_registry
from edubrain.warehouse import open_warehouse

if TYPE_CHECKING:
    from edubrain.settings import Settings
    from edubrain.warehouse import Transaction, Warehouse

LINK_EDGE_TABLE = "link_edge"
LINK_LEVEL_TABLE = "link_level"
LEVEL_SCHEMA = pa.schema(
    [
        pa.field("comparison", pa.string()),
        pa.field("weight", pa.float64()),
        pa.field("label", pa.string()),
    ]
)


def write_linkage(
    tx: Transaction, edges: pa.Table, levels: Mapping[str, list[tuple[float, str]]]
) -> None:
    """Keep a run's links and level weights for `apply_decisions` (inside the run's
    transaction)."""
    tx.replace_table(LINK_EDGE_TABLE, edges)
    rows = [
        {"comparison": name, "weight": w, "label": label}
        for name, pairs in levels.items()
        for w, label in pairs
    ]
    tx.replace_table(LINK_LEVEL_TABLE, pa.Table.from_pylist(rows, LEVEL_SCHEMA))


def _levels(wh: Warehouse) -> dict[str, list[tuple[float, str]]]:
    out: dict[str, list[tuple[float, str]]] = defaultdict(list)
    if wh.has_table(LINK_LEVEL_TABLE):
        for row in wh.to_arrow(LINK_LEVEL_TABLE).to_pylist():
            out[str(row["comparison"])].append((float(row["weight"]), str(row["label"])))
    return dict(out)


@dataclass
class ApplySummary:
    run_id: str
    changed_pairs: int
    """Pairs whose decision in force differs from the one last applied."""
    mentions: int
    """Mentions re-resolved (the region)."""
    persons_before: int
    persons_after: int
    events: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "changed_pairs": self.changed_pairs,
            "mentions": self.mentions,
            "persons_before": self.persons_before,
            "persons_after": self.persons_after,
            "events": self.events,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
        }


def _applied(wh: Warehouse) -> dict[frozenset[str], bool]:
    if not wh.has_table(APPLIED_TABLE):
        return {}
    t = wh.to_arrow(APPLIED_TABLE)
    return {
        pair_of(left, right): verdict == "same"
        for left, right, verdict in zip(
            t.column("mention_key_l").to_pylist(),
            t.column("mention_key_r").to_pylist(),
            t.column("verdict").to_pylist(),
            strict=True,
        )
    }


def changed_pairs(
    applied: Mapping[frozenset[str], bool], verdicts: Sequence[Verdict]
) -> set[frozenset[str]]:
    """Pairs decided, withdrawn or reversed since the last application."""
    live = {pair_of(v.mention_key_l, v.mention_key_r): v.same for v in verdicts}
    return {p for p in set(live) | set(applied) if live.get(p) != applied.get(p)}


def _region(
    keys: pa.ChunkedArray | pa.Array,
    edges: pa.Table,
    same_pairs: Sequence[tuple[str, str]],
    seeds: set[str],
) -> np.ndarray:
    """A mask over `keys`: the mentions in a component (strong links + "same" decisions)
    with a seed mention."""
    keys = pa.chunked_array([keys]) if isinstance(keys, pa.Array) else keys
    strong = edges.filter(pc.greater_equal(edges.column("match_probability"), LINK_THRESHOLD))
    lefts = pa.concat_arrays([
        *strong.column("mention_key_l").cast(pa.string()).chunks,
        pa.array([a for a, _ in same_pairs], pa.string()),
    ])  # fmt: skip
    rights = pa.concat_arrays([
        *strong.column("mention_key_r").cast(pa.string()).chunks,
        pa.array([b for _, b in same_pairs], pa.string()),
    ])  # fmt: skip
    flat = pa.concat_arrays([c.cast(pa.string()) for c in keys.chunks]) if keys.num_chunks else (
        pa.array([], pa.string()))  # fmt: skip
    left = pc.index_in(lefts, value_set=flat)
    right = pc.index_in(rights, value_set=flat)
    both = pc.and_(pc.is_valid(left), pc.is_valid(right))
    label = connected_components(
        len(flat),
        np.asarray(left.filter(both).to_numpy(zero_copy_only=False), dtype=np.int64),
        np.asarray(right.filter(both).to_numpy(zero_copy_only=False), dtype=np.int64),
    )
    at = pc.index_in(pa.array(sorted(seeds), pa.string()), value_set=flat)
    wanted = np.unique(label[np.asarray(at.drop_null().to_numpy(zero_copy_only=False),
                                        dtype=np.int64)])  # fmt: skip
    return np.isin(label, wanted)


def apply_decisions(settings: Settings, verdicts: Sequence[Verdict]) -> ApplySummary:
    """Re-resolve the persons the decisions in force changed since the last application,
    without re-training; publish the result as one new warehouse version."""
    started = time.perf_counter()
    now = datetime.now().replace(microsecond=0)
    run_id = f"{now:%Y%m%dT%H%M%S}-steward-{secrets.token_hex(3)}"
    sealer = sealer_for(settings)
    seconds: dict[str, float] = {}
    with open_warehouse(settings) as wh:
        if not wh.has_table(LINK_EDGE_TABLE) or not wh.has_table(PERSON_MENTION_TABLE):
            raise StewardError("没有可用的关联结果：请先运行一次 edubrain govern")
        changed = changed_pairs(_applied(wh), verdicts)
        links = wh.to_arrow(PERSON_MENTION_TABLE)
        previous: dict[str, str] = dict(
            zip(links.column("mention_key").to_pylist(), links.column("person_id").to_pylist(),
                strict=True)
        )  # fmt: skip
        persons_before = len(set(previous.values()))
        if not changed:
            return ApplySummary(run_id, 0, 0, persons_before, persons_before)
        check_key(wh, sealer)
        edges = wh.to_arrow(LINK_EDGE_TABLE)
        levels = _levels(wh)
        applied_before = _applied(wh)
        all_keys = links.column("mention_key")
        known = set(all_keys.to_pylist())
        live = [v for v in verdicts if v.mention_key_l in known and v.mention_key_r in known]
        same_pairs = [(v.mention_key_l, v.mention_key_r) for v in live if v.same]
        same_pairs += [_two(p) for p, same in applied_before.items() if same]
        seeds = {k for p in changed for k in p}
        region_keys: set[str] = set(
            all_keys.filter(pa.array(_region(all_keys, edges, same_pairs, seeds))).to_pylist()
        )
        region_set = pa.array(sorted(region_keys), pa.string())
        touches = pc.or_(
            pc.is_in(edges.column("mention_key_l"), value_set=region_set),
            pc.is_in(edges.column("mention_key_r"), value_set=region_set),
        )
        region_edges = edges.filter(touches)
        # Only the mentions this needs are read (a county's are ~10 s): the region's, and every
        # mention of a person its links reach or a decision names (the queue weighs the links
        # inside them and counts their rows).
        ends = set(region_edges.column("mention_key_l").to_pylist()) | set(
            region_edges.column("mention_key_r").to_pylist()
        )
        decided = {k for v in live for k in (v.mention_key_l, v.mention_key_r)}
        decided |= {k for p in applied_before for k in p}
        wanted = {previous[k] for k in region_keys | ends | decided if k in previous}
        rows_of = links.filter(pc.is_in(links.column("person_id"), value_set=pa.array(
            sorted(wanted), pa.string())))  # fmt: skip
        numbers = sorted({n for n in rows_of.column("student_number").to_pylist() if n})
        mentions = load_mentions(wh, sealer, numbers=numbers)
        seconds["read"] = time.perf_counter() - started
        t = time.perf_counter()
        region = mentions.filter(pc.is_in(mentions.column("mention_key"), value_set=region_set))
        region_keys = set(region.column("mention_key").to_pylist())
        inside = pc.and_(
            pc.is_in(region_edges.column("mention_key_l"), value_set=region.column("mention_key")),
            pc.is_in(region_edges.column("mention_key_r"), value_set=region.column("mention_key")),
        )
        # A link leaving the region is a grey one (a strong one would have brought its other end
        # in): clustering never joins along it, and an occasion it shares spans two components.
        clustering = cluster(region, region_edges.filter(inside), live)
        members: dict[str, list[str]] = defaultdict(list)
        for key in region_keys:
            members[clustering.cluster_of[key]].append(key)
        persons = wh.to_arrow(PERSON_TABLE).to_pylist()
        load_of = dict(
            zip(region.column("mention_key").to_pylist(), region.column("load_id").to_pylist(),
                strict=True)
        )  # fmt: skip
        assignment = assign_ids(members, previous, persons, load_of, run_id=run_id, now=now)
        person_of = {**previous, **assignment.person_of}
        seconds["cluster"] = time.perf_counter() - t
        t = time.perf_counter()
        region_rows = pa.table(
            {
                "mention_key": region.column("mention_key"),
                "entity": region.column("entity"),
                "student_number": region.column("student_number"),
                "person_id": [person_of[k] for k in region.column("mention_key").to_pylist()],
                "load_id": region.column("load_id"),
                "run_id": [run_id] * region.num_rows,
            },
            PERSON_MENTION_SCHEMA,
        )
        kept = links.filter(
            pc.invert(pc.is_in(links.column("mention_key"), value_set=region.column("mention_key")))
        )
        person_mentions = pa.concat_tables([kept.cast(PERSON_MENTION_SCHEMA), region_rows])
        persons_table = pa.Table.from_pylist(assignment.persons, PERSON_SCHEMA)
        # A decision that moves nobody (a "different" on two persons already apart) changes the
        # queue only: the identities and golden records stay as they are, unwritten.
        moved = bool(assignment.events) or any(
            previous.get(k) != assignment.person_of[k] for k in region_keys
        )
        golden = build_golden(wh, region_rows, persons_table) if moved else None
        touched_persons = pa.array(
            sorted({previous[k] for k in region_keys if k in previous}
                   | set(assignment.person_of.values())),
            pa.string(),
        )  # fmt: skip
        seconds["golden"] = time.perf_counter() - t
        t = time.perf_counter()
        review = _region_review(
            wh, mentions, edges, region_edges, clustering.refused, person_of, region_keys,
            live, run_id, levels,
        )  # fmt: skip
        applied = with_sides(applied_items(live, edges, person_of, run_id, levels), mentions,
                             person_of)  # fmt: skip
        seconds["review"] = time.perf_counter() - t
        t = time.perf_counter()
        with wh.transaction() as tx:
            if golden is not None:
                tx.replace_table(PERSON_TABLE, persons_table)
                tx.replace_table(PERSON_MENTION_TABLE, person_mentions)
                tx.append_rows(
                    PERSON_EVENT_TABLE,
                    pa.Table.from_pylist(assignment.events, PERSON_EVENT_SCHEMA),
                )
                for name, fresh in (
                    (GOLDEN_TABLE, golden.student),
                    (LINEAGE_TABLE, golden.lineage),
                    (CONFLICT_TABLE, golden.conflicts),
                ):
                    tx.replace_table(name, _replace_persons(wh, name, touched_persons, fresh))
            tx.replace_table(REVIEW_TABLE, review)
            tx.replace_table(APPLIED_TABLE, applied)
        seconds["write"] = time.perf_counter() - t
    events: dict[str, int] = defaultdict(int)
    for e in assignment.events:
        events[str(e["event"])] += 1
    seconds["total"] = time.perf_counter() - started
    return ApplySummary(
        run_id=run_id,
        changed_pairs=len(changed),
        mentions=len(region_keys),
        persons_before=persons_before,
        persons_after=len(set(person_mentions.column("person_id").to_pylist())),
        events=dict(sorted(events.items())),
        seconds=seconds,
    )


def _two(pair: frozenset[str]) -> tuple[str, str]:
    a, b = sorted(pair)
    return a, b


def _replace_persons(wh: Warehouse, name: str, persons: pa.Array, fresh: pa.Table) -> pa.Table:
    """A golden table with the rows of `persons` replaced by `fresh`, in person order."""
    if not wh.has_table(name):
        return fresh
    old = wh.to_arrow(name)
    kept = old.filter(pc.invert(pc.is_in(old.column("person_id"), value_set=persons)))
    merged = pa.concat_tables([kept.cast(fresh.schema), fresh])
    order = [("person_id", "ascending")]
    if "field" in merged.schema.names:
        order.append(("field", "ascending"))
    return merged.sort_by(order)


def _region_review(
    wh: Warehouse,
    mentions: pa.Table,
    edges: pa.Table,
    region_edges: pa.Table,
    refused: list[tuple[str, str, float, str]],
    person_of: dict[str, str],
    region_keys: set[str],
    verdicts: list[Verdict],
    run_id: str,
    levels: dict[str, list[tuple[float, str]]],
) -> pa.Table:
    """The queue with the items about the region's mentions asked anew, the rest kept.

    A question whose either side is a region mention or person has only region candidates, so
    the two parts do not overlap. The region's candidates are judged against each mention's
    strongest link into its own person, so the links inside every person they reach come too.
    """
    ends = set(region_edges.column("mention_key_l").to_pylist()) | set(
        region_edges.column("mention_key_r").to_pylist()
    )
    reached = {person_of[k] for k in ends if k in person_of}
    members = pa.array(sorted(k for k, p in person_of.items() if p in reached), pa.string())
    near = edges.filter(
        pc.and_(
            pc.is_in(edges.column("mention_key_l"), value_set=members),
            pc.is_in(edges.column("mention_key_r"), value_set=members),
        )
    )
    same_person = pa.array(
        [person_of[a] == person_of[b] for a, b in zip(near.column("mention_key_l").to_pylist(),
                                                      near.column("mention_key_r").to_pylist(),
                                                      strict=True)],
        pa.bool_(),
    )  # fmt: skip
    inside = near.filter(same_person)
    scope_edges = pa.concat_tables(
        [
            inside,
            region_edges.filter(
                pc.invert(pc.is_in(_pairs(region_edges), value_set=_pairs(inside)))
            ),
        ]
    )
    loaded = mentions.column("mention_key")
    scope_edges = scope_edges.filter(
        pc.and_(
            pc.is_in(scope_edges.column("mention_key_l"), value_set=loaded),
            pc.is_in(scope_edges.column("mention_key_r"), value_set=loaded),
        )
    )
    keys = loaded.to_pylist()
    registry = person_registry().entity
    registry_keys = frozenset(
        k for k, e in zip(keys, mentions.column("entity").to_pylist(), strict=True)
        if e == registry
    )  # fmt: skip
    own = own_numbered(mentions)
    fresh = review_items(
        scope_edges,
        refused,
        person_of,
        registry_keys,
        verdicts,
        run_id,
        distinct=[
            (a, b) for a, b in occasion_conflicts(mentions, scope_edges) if a in own or b in own
        ],
        levels=levels,
    )
    about_region = pc.or_(
        pc.is_in(fresh.column("mention_key_l"), value_set=pa.array(sorted(region_keys))),
        pc.is_in(fresh.column("mention_key_r"), value_set=pa.array(sorted(region_keys))),
    )
    fresh = with_sides(fresh.filter(about_region), mentions, person_of)
    if wh.has_table(REVIEW_TABLE):
        old = wh.to_arrow(REVIEW_TABLE)
        region = pa.array(sorted(region_keys), pa.string())
        untouched = pc.invert(
            pc.or_(
                pc.is_in(old.column("mention_key_l"), value_set=region),
                pc.is_in(old.column("mention_key_r"), value_set=region),
            )
        )
        old = old.filter(untouched).cast(fresh.schema)
        # The kept items' persons may have been renamed by a merge: follow the new mapping.
        rows = old.to_pylist()
        for row in rows:
            row["person_id_l"] = person_of.get(row["mention_key_l"], row["person_id_l"])
            row["person_id_r"] = person_of.get(row["mention_key_r"], row["person_id_r"])
        fresh = pa.concat_tables([pa.Table.from_pylist(rows, fresh.schema), fresh])
    ordered = sorted(fresh.to_pylist(), key=lambda i: (-(i["impact"] or 0.0), i["review_id"]))
    return pa.Table.from_pylist(ordered, fresh.schema)


def _pairs(edges: pa.Table) -> pa.Array:
    return pc.binary_join_element_wise(
        edges.column("mention_key_l"), edges.column("mention_key_r"), "\x1f"
    )
