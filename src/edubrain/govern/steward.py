"""The steward's review queue and decisions (人工审核).

A decision names two mentions (or two persons, through one of their mentions) and says whether
they are the same pupil. Decisions are kept in the operational store (people's work, written
while the service holds the warehouse read-only), only ever appended; the newest on a pair
wins, and every `edubrain govern` run applies them as hard constraints before clustering, so a
decision outlives any re-training. This module checks a decision against the warehouse and
turns stored decisions into verdicts; the caller records and loads them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from edubrain.errors import InvalidInputError
from edubrain.govern.identity import ID_PREFIX, PERSON_MENTION_TABLE
from edubrain.govern.linkage import (
    AMBIGUITY_BITS,
    GREY_HIGH,
    STEWARD_APART,
    STEWARD_SAME,
    WEIGHT_PREFIX,
    Verdict,
    explain_weights,
    occasion_partners,
    ruled_out,
    weight,
)
from edubrain.warehouse import Warehouse

if TYPE_CHECKING:
    from edubrain.sealing import Sealer

REVIEW_TABLE = "review_queue"
SIDE_FIELDS = ("entity", "student_number", "name", "sex", "birth_date", "school_code",
               "grade_code", "class_no", "load_id")  # fmt: skip
SIDE = pa.struct([*(pa.field(f, pa.string()) for f in SIDE_FIELDS), pa.field("rows", pa.int64())])

REVIEW_SCHEMA = pa.schema(
    [
        pa.field("review_id", pa.string()),
        pa.field("mention_key_l", pa.string()),
        pa.field("mention_key_r", pa.string()),
        pa.field("person_id_l", pa.string()),
        pa.field("person_id_r", pa.string()),
        pa.field("match_probability", pa.float64()),
        pa.field("reason", pa.string()),
        pa.field("run_id", pa.string()),
        # Why the model scored the pair: each comparison's match weight and level.
        pa.field(
            "match_weights",
            pa.list_(
                pa.struct(
                    [
                        pa.field("comparison", pa.string()),
                        pa.field("level", pa.string()),
                        pa.field("weight", pa.float64()),
                    ]
                )
            ),
        ),
        # Side by side (`with_sides`): what each mention says, as the warehouse holds it
        # (a G 学籍号 sealed); the service masks it per clearance.
        pa.field("side_l", SIDE),
        pa.field("side_r", SIDE),
        # Ordered by impact (`impact`): the source rows behind each person, and the rule's value.
        pa.field("records_l", pa.int64()),
        pa.field("records_r", pa.int64()),
        pa.field("impact", pa.float64()),
    ]
)
VERDICTS = ("same", "different")
UNDO = "undo"
"""An event that reverses the newest event still in force on its pair (`live_decisions`)."""

# The decisions the warehouse's identities were last resolved with: the pair as queued (its
# sides, weights and impact) and the verdict applied. Written by `edubrain govern` and by the
# steward job (`govern.steward_apply`); the queue compares it with the store's decisions to
# tell 已判定·生效中 from 已生效.
APPLIED_TABLE = "steward_applied"
APPLIED_SCHEMA = REVIEW_SCHEMA.append(pa.field("verdict", pa.string()))


class StewardError(InvalidInputError):
    """A review decision that cannot be applied (unknown mention or person, bad verdict)."""


def review_id(left: str, right: str) -> str:
    """A short stable id for an unordered pair of mentions."""
    a, b = sorted((left, right))
    return hashlib.sha256(f"{a}\n{b}".encode()).hexdigest()[:12]


def review_items(
    edges: pa.Table,
    refused: Sequence[tuple[str, str, float, str]],
    person_of: Mapping[str, str],
    registry_keys: frozenset[str],
    verdicts: Sequence[Verdict],
    run_id: str,
    *,
    distinct: Sequence[tuple[str, str]] = (),
    levels: Mapping[str, list[tuple[float, str]]] | None = None,
    ambiguity_bits: float = AMBIGUITY_BITS,
) -> pa.Table:
    """The pairs a steward is asked about: only those whose answer the data cannot give.

    Candidates are the pairs left in two different persons: links refused by the clustering
    (two permanent identifiers, or a mention torn between two people) and grey-band pairs
    (GREY_LOW ≤ p < GREY_HIGH). Most of them are no question at all. At the default county
    (60,000 pupils) 2,555 of the 2,563 pairs queued before this rule were different pupils
    whose mentions were each already tied to their own pupil, and far more strongly: a 体测
    row written with pupil A's own 学籍号 (probability ~1 to A's registry record) that looks a
    little like pupil B's 作业 mention (birth date and grade agree: 0.55). The steward can only
    confirm what the identifiers already say. So a candidate pair is queued when

    1. **one of its mentions is torn**: the pair's match weight (log2 odds) is within
       `ambiguity_bits` of that mention's strongest link into the person it now belongs to, or
       the mention is linked to nobody in its person (it stands alone). This is the rule the
       clustering already uses to leave a mention alone as "ambiguous" (`cluster_exactly`):
       a mention is in doubt when the evidence for the other person is about as strong as the
       evidence for its own — not when some weaker resemblance exists. A typical torn mention:
       a 作业 row written with an old temporary number whose birth date and class fit two
       classmates equally; or

    2. **both mentions are registry (学籍) records**: two registrations that look alike, at
       any probability in the queue's range. The registry holds one record per pupil, so the
       clustering never joins two of them, but the same child registered twice (重复学籍) is
       exactly what a steward must see, and only the registry records carry the full
       evidence (name, birth date, sex, school, class).

    One item per question: a torn mention against each other person (its strongest pair, the
    registry record where the strength ties), and two registrations once. Not asked: pairs
    the steward decided, persons a steward said are different, and a mention that itself
    answers one occasion with a member of the other person where one of the two carries its
    pupil's own number (`distinct`: `linkage.occasion_conflicts`, e.g. that classmate handed
    in the same assignment). Nothing here reads the generator's truth: the rules use the
    model's weights and the sources' own keys (one registry record per pupil, one row per
    pupil and occasion) only. Measured at the default county: 2,563 pairs before, 32 after
    (0.05% of the pupils).
    """
    apart = {frozenset((person_of[v.mention_key_l], person_of[v.mention_key_r]))
             for v in verdicts if not v.same
             and v.mention_key_l in person_of and v.mention_key_r in person_of}  # fmt: skip
    partners = occasion_partners(distinct)
    decided = {frozenset((v.mention_key_l, v.mention_key_r)) for v in verdicts}
    rows = list(
        zip(
            edges.column("mention_key_l").to_pylist(),
            edges.column("mention_key_r").to_pylist(),
            edges.column("match_probability").to_pylist(),
            strict=True,
        )
    )
    own_best: dict[str, float] = {}  # mention → strongest link weight inside its own person
    for left, right, prob in rows:
        if person_of[left] == person_of[right]:
            for key in (left, right):
                own_best[key] = max(own_best.get(key, -math.inf), weight(prob))
    for v in verdicts:  # a steward's "same" is the strongest link there is
        if v.same and v.mention_key_l in person_of and v.mention_key_r in person_of:
            own_best[v.mention_key_l] = own_best[v.mention_key_r] = math.inf

    def torn(key: str, w: float) -> bool:
        return w >= own_best.get(key, -math.inf) - ambiguity_bits

    candidates = [(left, right, prob, why) for left, right, prob, why in refused
                  if why != STEWARD_APART]  # fmt: skip
    candidates += [
        (left, right, prob, "grey band: not linked")
        for left, right, prob in rows
        if prob < GREY_HIGH and person_of[left] != person_of[right]
    ]
    chosen: dict[tuple[str, str], tuple[tuple[float, bool], dict[str, object]]] = {}
    for left, right, prob, why in candidates:
        persons = frozenset((person_of[left], person_of[right]))
        if len(persons) == 1 or persons in apart or frozenset((left, right)) in decided:
            continue
        if ruled_out(left, right, person_of, partners):  # the mention itself clashes there
            continue
        w = weight(prob)
        torn_l, torn_r = torn(left, w), torn(right, w)
        registrations = left in registry_keys and right in registry_keys
        if not (torn_l or torn_r or registrations):
            continue
        # The question's sides: a torn mention speaks for itself, any other for its person.
        side_l = left if torn_l else person_of[left]
        side_r = right if torn_r else person_of[right]
        question = (min(side_l, side_r), max(side_l, side_r))
        rank = (prob, left in registry_keys or right in registry_keys)
        held = chosen.get(question)
        if held is not None and held[0] >= rank:
            continue
        rid = review_id(left, right)
        chosen[question] = (
            rank,
            {
                "review_id": rid,
                "mention_key_l": left,
                "mention_key_r": right,
                "person_id_l": person_of[left],
                "person_id_r": person_of[right],
                "match_probability": prob,
                "reason": why,
                "run_id": run_id,
            },
        )
    items = sorted((item for _, item in chosen.values()), key=lambda i: str(i["review_id"]))
    for item in items:
        item["impact"] = 0.0  # `with_sides` sets it, with the records behind each person
    _attach_weights(items, edges, dict(levels or {}))
    return pa.Table.from_pylist(items, REVIEW_SCHEMA)


def _attach_weights(
    items: list[dict[str, object]], edges: pa.Table, levels: dict[str, list[tuple[float, str]]]
) -> None:
    """Each item's per-comparison match weights (`linkage.explain_weights`), where the edges
    carry them."""
    names = [n for n in edges.schema.names if n.startswith(WEIGHT_PREFIX)]
    wanted = {frozenset((str(i["mention_key_l"]), str(i["mention_key_r"]))): i for i in items}
    if not names or not wanted:
        return
    lefts = edges.column("mention_key_l").to_pylist()
    rights = edges.column("mention_key_r").to_pylist()
    for row, (left, right) in enumerate(zip(lefts, rights, strict=True)):
        item = wanted.get(frozenset((left, right)))
        if item is None:
            continue
        values = {n.removeprefix(WEIGHT_PREFIX): edges.column(n)[row].as_py() for n in names}
        weights = {n: 0.0 if v is None else float(v) for n, v in values.items()}
        item["match_weights"] = explain_weights(weights, levels)


def pair_of(left: str, right: str) -> frozenset[str]:
    return frozenset((left, right))


def live_decisions(rows: Iterable[Mapping[str, Any]]) -> dict[frozenset[str], Mapping[str, Any]]:
    """The decision in force on every pair, from stored events oldest first.

    Events are only ever appended. On each pair they form a stack: a decision (same /
    different) is pushed; an undo reverses the newest event still in force — a decision is
    withdrawn (the pair's earlier decision, if any, is in force again; with none the pair is
    asked again), an undo is reversed (the decision it withdrew is back). So the newest event
    wins, and undoing an undo restores what it withdrew. A pair with no decision in force is
    left out.
    """
    stacks: dict[frozenset[str], list[tuple[bool, Mapping[str, Any]]]] = {}
    for row in rows:
        stack = stacks.setdefault(pair_of(str(row["mention_key_l"]), str(row["mention_key_r"])), [])
        if row["verdict"] != UNDO:
            stack.append((True, row))
        elif stack:
            in_force, decision = stack.pop()
            stack.append((not in_force, decision))  # withdrawn ↔ restored
    live: dict[frozenset[str], Mapping[str, Any]] = {}
    for pair, stack in stacks.items():
        standing = [decision for held, decision in stack if held]
        if standing:
            live[pair] = standing[-1]
    return live


def verdicts_from(rows: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """The decision in force on every unordered pair (`live_decisions`), from stored events
    oldest first."""
    return [
        Verdict(str(row["mention_key_l"]), str(row["mention_key_r"]), row["verdict"] == "same")
        for row in live_decisions(rows).values()
    ]


def uncertainty(probability: float) -> float:
    """How unsure the model is, in bits: the binary entropy of the match probability (1 at
    0.5, 0 at 0 or 1)."""
    p = min(max(probability, 0.0), 1.0)
    if p in (0.0, 1.0):
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def impact(records_l: int, records_r: int, probability: float) -> float:
    """The queue's order (decision 0017): the source rows a decision moves — the smaller
    person's, since a "same" joins it to the larger one and a "different" keeps them where
    the doubt left them — times how unsure the model is (`uncertainty`)."""
    return min(records_l, records_r) * uncertainty(probability)


def with_sides(items: pa.Table, mentions: pa.Table, person_of: Mapping[str, str]) -> pa.Table:
    """Queue items with each mention's fields (`side_l`, `side_r`), the source rows behind
    each person (`records_l`, `records_r`) and their `impact`, most impact first."""
    if items.num_rows == 0:
        return items
    wanted = set(items.column("mention_key_l").to_pylist()) | set(
        items.column("mention_key_r").to_pylist()
    )
    keys = mentions.column("mention_key").to_pylist()
    rows = mentions.column("rows").to_pylist()
    records: dict[str, int] = {}
    for key, n in zip(keys, rows, strict=True):
        person = person_of.get(key)
        if person is not None:
            records[person] = records.get(person, 0) + int(n or 1)
    mask = pc.is_in(mentions.column("mention_key"), value_set=pa.array(sorted(wanted), pa.string()))
    picked = mentions.filter(mask).select([*SIDE_FIELDS, "rows", "mention_key"]).to_pylist()
    side_of = {
        str(m["mention_key"]): {
            **{f: None if m[f] is None else str(m[f]) for f in SIDE_FIELDS},
            "rows": m["rows"],
        }
        for m in picked
    }
    out = []
    for item in items.to_pylist():
        left, right = item["mention_key_l"], item["mention_key_r"]
        item["side_l"], item["side_r"] = side_of.get(left), side_of.get(right)
        item["records_l"] = records.get(item["person_id_l"], 0)
        item["records_r"] = records.get(item["person_id_r"], 0)
        item["impact"] = impact(item["records_l"], item["records_r"], item["match_probability"])
        out.append(item)
    out.sort(key=lambda i: (-i["impact"], i["review_id"]))
    return pa.Table.from_pylist(out, items.schema)


def applied_items(
    verdicts: Sequence[Verdict],
    edges: pa.Table,
    person_of: Mapping[str, str],
    run_id: str,
    levels: Mapping[str, list[tuple[float, str]]] | None = None,
) -> pa.Table:
    """The decisions a run applied, as queue items (APPLIED_SCHEMA without sides yet): the
    pair's probability and weights where the model scored it, else 0."""
    named = pa.array(sorted({k for v in verdicts for k in (v.mention_key_l, v.mention_key_r)}),
                     pa.string())  # fmt: skip
    scored = edges.filter(
        pc.and_(
            pc.is_in(edges.column("mention_key_l"), value_set=named),
            pc.is_in(edges.column("mention_key_r"), value_set=named),
        )
    )
    probability = {
        pair_of(left, right): prob
        for left, right, prob in zip(
            scored.column("mention_key_l").to_pylist(),
            scored.column("mention_key_r").to_pylist(),
            scored.column("match_probability").to_pylist(),
            strict=True,
        )
    }
    items: list[dict[str, object]] = []
    for v in verdicts:
        left, right = v.mention_key_l, v.mention_key_r
        if left not in person_of or right not in person_of:
            continue
        items.append(
            {
                "review_id": review_id(left, right),
                "mention_key_l": left,
                "mention_key_r": right,
                "person_id_l": person_of[left],
                "person_id_r": person_of[right],
                "match_probability": probability.get(pair_of(left, right), 0.0),
                "reason": STEWARD_SAME if v.same else STEWARD_APART,
                "run_id": run_id,
                "verdict": "same" if v.same else "different",
            }
        )
    _attach_weights(items, scored, dict(levels or {}))
    return pa.Table.from_pylist(items, APPLIED_SCHEMA)


def _resolve(wh: Warehouse, ref: str) -> str:
    """A mention key as given, or a person ID → one of its mentions (the smallest key)."""
    if not ref.startswith(ID_PREFIX) or is_mention_key(ref):
        return ref
    if not wh.has_table(PERSON_MENTION_TABLE):
        raise StewardError(f"unknown person {ref}: run `edubrain govern` first")
    t = wh.table(PERSON_MENTION_TABLE)
    found = t.filter(t.person_id == ref).mention_key.min().to_pyarrow().as_py()
    if found is None:
        raise StewardError(f"unknown person {ref}")
    return str(found)


def is_mention_key(ref: str) -> bool:
    return "|" in ref


def check_decision(
    wh: Warehouse, left: str, right: str, verdict: str, sealer: Sealer | None = None
) -> tuple[str, str]:
    """The two mention keys a decision is to be recorded on; reads the warehouse, never writes.

    With a `sealer`, a 学籍号 typed in clear inside a mention key is sealed as it is stored.
    """
    if verdict not in VERDICTS:
        raise StewardError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if sealer is not None:
        left, right = sealer.seal_text(left), sealer.seal_text(right)
    a, b = _resolve(wh, left), _resolve(wh, right)
    if a == b:
        raise StewardError(f"{left} and {right} are the same mention")
    return a, b
