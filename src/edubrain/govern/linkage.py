"""Record linkage of person mentions with Splink (DuckDB), then clustering under hard constraints.

The model is a Fellegi–Sunter one, trained unsupervised: u by random sampling, m by EM on two
blocking rules with different evidence left free. Comparisons are Chinese-aware: names are
compared as characters, as toneless pinyin (同音字 are equal) and by one changed character.

Clustering is not plain connected components: edges are added strongest first into a
union-find that refuses a join when the two sides hold different ID numbers (an ID number is
one person, and its check digit was validated at ingest), when a steward said the two are
different people, or when two mentions of one source answer the same occasion (one pupil, one
row per assignment, exam item or school year: `occasion_conflicts`, decision 0017). Steward
"same" decisions are joined first, unconditionally. So one stray edge cannot glue two pupils'
whole histories together.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import splink.comparison_level_library as cll
from splink import Linker, SettingsCreator, block_on
from splink.comparison_library import CustomComparison

from edubrain.standard.entities import person_registry
from edubrain.warehouse.linkage_backend import splink_database

LINK_THRESHOLD = 0.9  # match probability at which two mentions are joined
GREY_LOW, GREY_HIGH = 0.5, 0.99  # links (or near-links) in this band go to the review queue
AMBIGUITY_BITS = 3.0  # a mention whose links to two people are this close in weight is torn
STEWARD_APART = "steward decided different"
STEWARD_SAME = "steward decided same"
ONE_OCCASION = "both answer one occasion"  # one pupil, one row per assignment/item/year
# The same, between two rows that neither carries its pupil's own number: both rows are placed
# by resemblance alone, so the refusal settles nothing about where either belongs.
ONE_OCCASION_UNPLACED = "both answer one occasion, neither by its own number"
_HAMMING_ONE = (
    "length(name_l) = length(name_r) AND list_sum(list_transform(range(1, length(name_l) + 1), "
    "lambda i: CASE WHEN substring(name_l, i, 1) <> substring(name_r, i, 1) THEN 1 ELSE 0 END)"
    ") <= 1"
)
_DAY_MONTH_SWAPPED = (
    "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4) "
    "AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) "
    "AND substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2)"
)


def _comparisons() -> list[Any]:
    identifier = CustomComparison(
        [
            # m is fixed, not learnt: EM on pairs blocked by birth date drives "different IDs"
            # among matches to ~1e-300, which Splink rejects. Typos in validated IDs are rare.
            cll.CustomLevel(
                "student_number_l = student_number_r OR id_key_l = id_key_r",
                "same 学籍号 or ID number",
            ).configure(m_probability=0.9999, fix_m_probability=True),
            # A temporary (L) number says nothing against a match: secondary systems keep old
            # ones. Two different permanent identifiers (ID number, J 学籍号) do.
            cll.CustomLevel(
                "(id_key_l IS NULL AND NOT starts_with(student_number_l, 'J')) "
                "OR (id_key_r IS NULL AND NOT starts_with(student_number_r, 'J'))",
                "no permanent identifier on one side",
            ).configure(is_null_level=True),
            cll.ElseLevel().configure(m_probability=1e-4, fix_m_probability=True),
        ],
        output_column_name="identifier",
    )
    name = CustomComparison(
        [
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name"),
            cll.CustomLevel("name_pinyin_l = name_pinyin_r", "same pinyin (同音字)"),
            cll.CustomLevel(_HAMMING_ONE, "one character differs"),
            cll.CustomLevel("surname_pinyin_l = surname_pinyin_r", "same surname pinyin"),
            cll.ElseLevel(),
        ],
        output_column_name="name",
    )
    birth = CustomComparison(
        [
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.CustomLevel(_DAY_MONTH_SWAPPED, "day and month swapped"),
            cll.CustomLevel(
                "substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)", "same birth year"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="birth_date",
    )
    sex = CustomComparison(
        [cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        output_column_name="sex",
    )
    grade = CustomComparison(
        [cll.NullLevel("grade_code"), cll.ExactMatchLevel("grade_code"), cll.ElseLevel()],
        output_column_name="grade_code",
    )
    school = CustomComparison(
        [
            cll.NullLevel("school_code"),
            cll.CustomLevel(
                "school_code_l = school_code_r AND class_no_l = class_no_r", "same class"
            ),
            cll.ExactMatchLevel("school_code"),
            cll.ElseLevel(),
        ],
        output_column_name="school_class",
    )
    return [identifier, name, birth, sex, grade, school]


def _blocking_rules() -> list[Any]:
    # Every rule keys on something that stays rare however large the region grows (a number,
    # a name with a birth date, a class) or on the number's region, so a block holds a county's
    # worth of pupils at most: comparisons grow linearly with the city, not with its square.
    return [
        block_on("student_number"),
        block_on("id_key"),
        block_on("name_pinyin", "birth_date"),
        block_on("name_pinyin", "grade_code", "number_region"),
        block_on("name", "sex", "number_region"),
        block_on("birth_date", "school_code", "class_no"),
        block_on("birth_date", "sex", "grade_code", "number_region"),
    ]


@dataclass
class LinkageResult:
    """Predicted pairwise links (probability ≥ GREY_LOW) and how long each stage took.

    `edges` also carries each comparison's match weight (log2 Bayes factor) as `mw_<name>`
    (float32): why the model scored the pair. `levels` names, per comparison, the weight of
    each of its levels, so a weight can be told by its level's label (`explain_weights`).
    """

    edges: pa.Table  # mention_key_l, mention_key_r, match_probability, mw_<comparison>…
    seconds: dict[str, float] = field(default_factory=dict)
    levels: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


WEIGHT_PREFIX = "mw_"


def _level_weights(model: dict[str, Any]) -> dict[str, list[tuple[float, str]]]:
    """Comparison → (match weight, label) of each level, from Splink's saved model."""
    out: dict[str, list[tuple[float, str]]] = {}
    for comparison in model.get("comparisons", []):
        levels: list[tuple[float, str]] = []
        for level in comparison.get("comparison_levels", []):
            label = str(level.get("label_for_charts", ""))
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level"):
                levels.append((0.0, label))
            elif m and u:
                levels.append((math.log2(float(m) / float(u)), label))
        out[str(comparison["output_column_name"])] = levels
    return out


def explain_weights(
    weights: dict[str, float], levels: dict[str, list[tuple[float, str]]]
) -> list[dict[str, object]]:
    """Each comparison's match weight with the label of the level it came from (the level
    whose weight it is; "" when no level's weight matches)."""
    out: list[dict[str, object]] = []
    for name, w in weights.items():
        label = ""
        candidates = levels.get(name, [])
        if candidates and not math.isnan(w):
            best_w, best_label = min(candidates, key=lambda lv: abs(lv[0] - w))
            label = best_label if abs(best_w - w) <= 1e-3 * max(1.0, abs(w)) else ""
        out.append({"comparison": name, "level": label, "weight": round(float(w), 3)})
    return out


SPLINK_COLUMNS = (
    "mention_key",
    "student_number",
    "id_key",
    "name",
    "name_pinyin",
    "surname_pinyin",
    "sex",
    "birth_date",
    "school_code",
    "grade_code",
    "class_no",
    "number_region",
)


def predict_links(
    mentions: pa.Table,
    *,
    threads: int = 0,
    memory_limit: str | None = None,
    spill_dir: Path | None = None,
    seed: int = 1,
) -> LinkageResult:
    """Train the model on `mentions` (EM, no labels) and predict links above GREY_LOW."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    # Splink logs every EM iteration at INFO; the CLI reports its own summary.
    # (and warns about levels EM never saw, e.g. no day/month swap among the training pairs).
    logging.getLogger("splink").setLevel(logging.ERROR)
    with splink_database(threads=threads, memory_limit=memory_limit, spill_dir=spill_dir) as api:
        frame = api.register(mentions.select(list(SPLINK_COLUMNS)), table_name="person_mentions")
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="mention_key",
            comparisons=_comparisons(),
            blocking_rules_to_generate_predictions=_blocking_rules(),
            retain_matching_columns=False,
            # Per-comparison match weights (mw_<name>): the steward sees why a pair scored.
            retain_intermediate_calculation_columns=True,
        )
        linker = Linker(frame, settings, log_level=logging.ERROR)
        seconds["setup"] = time.perf_counter() - started
        t = time.perf_counter()
        linker.training.estimate_probability_two_random_records_match(
            [block_on("student_number")], recall=0.95
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
        seconds["estimate_u"] = time.perf_counter() - t
        t = time.perf_counter()
        # Two EM sessions, each leaving free what the other blocks on.
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("student_number"), estimate_without_term_frequencies=True
        )
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("birth_date", "sex", "grade_code", "number_region"),
            estimate_without_term_frequencies=True,
        )
        seconds["em"] = time.perf_counter() - t
        t = time.perf_counter()
        predicted = linker.inference.predict(threshold_match_probability=GREY_LOW)
        table: pa.Table = predicted.as_pyarrow_table()  # type: ignore[no-untyped-call]  # Splink
        edges = table.select(["mention_key_l", "mention_key_r", "match_probability"])
        for name in table.schema.names:
            if name.startswith(WEIGHT_PREFIX):
                edges = edges.append_column(name, table.column(name).cast(pa.float32()))
        levels = _level_weights(linker.misc.save_model_to_json())
        seconds["predict"] = time.perf_counter() - t
    return LinkageResult(edges=edges, seconds=seconds, levels=levels)


def staff_clusters(staff: pa.Table) -> dict[str, list[str]]:
    """Staff records that carry one ID number are one person; a record without one stands alone.

    人事 is the only system that describes staff (teaching assignments carry the 教职工号 alone),
    and its ID numbers passed the check-digit rule at ingest, so the number decides: a teacher
    re-hired under a new 教职工号 keeps one person ID.
    """
    keys: list[str] = staff.column("mention_key").to_pylist()
    idents: list[str | None] = staff.column("id_key").to_pylist()
    clusters: dict[str, list[str]] = {}
    first_of_id: dict[str, str] = {}
    for key, ident in sorted(zip(keys, idents, strict=True)):
        root = first_of_id.setdefault(ident, key) if ident else key
        clusters.setdefault(root, []).append(key)
    return clusters


@dataclass(frozen=True)
class Verdict:
    """A steward's decision on two mentions: the same person or not."""

    mention_key_l: str
    mention_key_r: str
    same: bool


@dataclass
class Clustering:
    cluster_of: dict[str, str]  # mention key → cluster representative mention key
    refused: list[tuple[str, str, float, str]]  # edges not joined: left, right, prob, why


class _Components:
    """Union-find whose components know their ID numbers and whom they must not join."""

    def __init__(self, keys: list[str], tokens: list[set[str]]) -> None:
        self.parent = {k: k for k in keys}
        self.ids: dict[str, set[str]] = dict(zip(keys, tokens, strict=True))
        self.apart: dict[str, set[str]] = {}
        self.distinct: dict[str, set[str]] = {}
        self.loose: dict[str, set[str]] = {}

    def find(self, key: str) -> str:
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:
            self.parent[key], key = root, self.parent[key]
        return root

    def keep_apart(self, a: str, b: str, *, by_steward: bool = True, settled: bool = True) -> None:
        apart = self.apart if by_steward else self.distinct if settled else self.loose
        apart.setdefault(a, set()).add(b)
        apart.setdefault(b, set()).add(a)

    def conflict(self, ra: str, rb: str) -> str:
        # Settled answers first (a steward's, the sources' own keys): a link they refuse is no
        # doubt, whatever the identifiers say.
        for apart, why in (
            (self.apart, STEWARD_APART),
            (self.distinct, ONE_OCCASION),
            (self.loose, ONE_OCCASION_UNPLACED),
        ):
            for key in apart.get(ra, set()):
                if self.find(key) == rb:
                    return why
        ids_a, ids_b = self.ids[ra], self.ids[rb]
        if ids_a and ids_b and ids_a.isdisjoint(ids_b):
            return "different permanent identifiers"
        return ""

    def union(self, ra: str, rb: str) -> None:
        if len(self.ids[ra]) < len(self.ids[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.ids[ra] |= self.ids.pop(rb)
        for apart in (self.apart, self.distinct, self.loose):
            moved = apart.pop(rb, set())
            if moved:
                apart.setdefault(ra, set()).update(moved)


def identity_tokens(
    entity: str, id_key: str | None, student_number: str | None, *, registry: str
) -> set[str]:
    """Identifiers that name one person: the ID number, and a 学籍号 the registry holds.

    The 学籍 registry (the entity `registry`, `person_registry()`) holds one record per pupil,
    so two registry numbers are two pupils; a number written in a secondary system is no such
    proof (it may be an old temporary one).
    """
    tokens = {id_key} if id_key else set()
    if entity == registry and student_number:
        tokens.add("学籍:" + student_number)
    return tokens


def weight(probability: float) -> float:
    """The match weight (log2 odds) of a match probability."""
    return math.log2(probability / (1 - probability)) if probability < 1 else math.inf


def cluster(
    mentions: pa.Table,
    edges: pa.Table,
    verdicts: list[Verdict],
    *,
    threshold: float = LINK_THRESHOLD,
    ambiguity_bits: float = AMBIGUITY_BITS,
) -> Clustering:
    """Join mentions along edges ≥ threshold, strongest first, under the hard constraints.

    Most people's mentions can never conflict: one ID number, one registry record, no steward
    verdict against. For them the result is simply their connected component, found in bulk.
    Only components where a refusal is possible are clustered edge by edge
    (`cluster_exactly`), so the Python loop runs over the doubtful few, not the city.
    """
    keys = mentions.column("mention_key")
    strong = edges.filter(pc.greater_equal(edges.column("match_probability"), threshold))
    left = _positions(strong.column("mention_key_l"), keys)
    right = _positions(strong.column("mention_key_r"), keys)
    known = set(keys.to_pylist()) if verdicts else set()
    decided = [v for v in verdicts if v.mention_key_l in known and v.mention_key_r in known]
    same = [v for v in decided if v.same]
    if same:
        left = np.concatenate([left, _positions(pa.array([v.mention_key_l for v in same]), keys)])
        right = np.concatenate([right, _positions(pa.array([v.mention_key_r for v in same]), keys)])
    label = connected_components(len(keys), left, right)
    doubtful = _conflict_possible(mentions, label)
    distinct = occasion_conflicts(mentions, edges)
    apart = [(v.mention_key_l, v.mention_key_r) for v in decided if not v.same] + distinct
    if apart:
        pairs_l = label[_positions(pa.array([a for a, _ in apart]), keys)]
        pairs_r = label[_positions(pa.array([b for _, b in apart]), keys)]
        doubtful[pairs_l[pairs_l == pairs_r]] = True
    representative: list[str] = pc.take(keys, pa.array(label)).to_pylist()
    cluster_of = dict(zip(keys.to_pylist(), representative, strict=True))
    in_doubt = doubtful[label]
    if not in_doubt.any():
        return Clustering(cluster_of, [])
    subset = mentions.filter(pa.array(in_doubt))
    subset_keys = subset.column("mention_key")
    lefts = strong.column("mention_key_l").cast(subset_keys.type)
    sub_edges = strong.filter(pc.is_in(lefts, value_set=subset_keys))
    members = set(subset_keys.to_pylist())
    sub_verdicts = [v for v in decided if v.mention_key_l in members]
    exact = cluster_exactly(
        subset,
        sub_edges,
        sub_verdicts,
        threshold=threshold,
        ambiguity_bits=ambiguity_bits,
        distinct=[(a, b) for a, b in distinct if a in members and b in members],
        own=own_numbered(mentions) if distinct else set(),
    )
    cluster_of.update(exact.cluster_of)
    return Clustering(cluster_of, exact.refused)


def occasion_conflicts(mentions: pa.Table, edges: pa.Table) -> list[tuple[str, str]]:
    """Linked pairs of one source's mentions that share an occasion: two different pupils.

    A source's natural key holds one row per pupil and occasion (`作业`: assignment + 学籍号,
    `阅卷`: exam + 学籍号 + item, `体测`: 学籍号 + school year), so two mentions of one source
    that both answer the same assignment, item or year under different numbers are two pupils,
    as surely as two registry records are. Typical case: an old temporary number on one 作业
    row, whose birth date and class fit two classmates — the one who handed in that very
    assignment under their own number did not hand it in twice.
    """
    if "occasions" not in mentions.schema.names or not len(edges):
        return []
    keys = mentions.column("mention_key")
    left = _positions(edges.column("mention_key_l"), keys)
    right = _positions(edges.column("mention_key_r"), keys)
    entity = mentions.column("entity").to_numpy(zero_copy_only=False)
    same = np.flatnonzero(entity[left] == entity[right])  # only one source's mentions can clash
    if not len(same):
        return []
    involved = np.unique(np.concatenate([left[same], right[same]]))
    occasions = dict(
        zip(
            involved.tolist(),
            mentions.column("occasions").take(pa.array(involved)).to_pylist(),
            strict=True,
        )
    )
    names: list[str] = keys.take(pa.array(involved)).to_pylist()
    name_of = dict(zip(involved.tolist(), names, strict=True))
    out: list[tuple[str, str]] = []
    for a, b in zip(left[same].tolist(), right[same].tolist(), strict=True):
        mine, theirs = occasions[a], occasions[b]
        if mine and theirs and not {o for o in mine if o is not None}.isdisjoint(theirs):
            out.append((name_of[a], name_of[b]))
    return out


def occasion_partners(pairs: Sequence[tuple[str, str]]) -> dict[str, set[str]]:
    """Mention → the mentions it shares an occasion with (both ways)."""
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return out


def ruled_out(
    left: str, right: str, group_of: Mapping[str, str], partners: Mapping[str, set[str]]
) -> bool:
    """Does either mention itself share an occasion with a member of the other's group?"""
    return any(group_of[p] == group_of[right] for p in partners.get(left, ())) or any(
        group_of[p] == group_of[left] for p in partners.get(right, ())
    )


def own_numbered(mentions: pa.Table) -> set[str]:
    """Mentions written with their pupil's own number: an ID number (a G 学籍号 carries one), or
    the 学籍号 of a registry record. The others (old temporary numbers) are placed by
    resemblance alone, so a clash of occasions between two of them settles nothing."""
    registry = person_registry().entity
    keys: list[str] = mentions.column("mention_key").to_pylist()
    entities: list[str] = mentions.column("entity").to_pylist()
    idents: list[str | None] = mentions.column("id_key").to_pylist()
    numbers: list[str | None] = mentions.column("student_number").to_pylist()
    registered = {n for e, n in zip(entities, numbers, strict=True) if e == registry and n}
    return {
        k
        for k, i, n in zip(keys, idents, numbers, strict=True)
        if i or (n is not None and n in registered)
    }


def _positions(values: pa.Array | pa.ChunkedArray, keys: pa.ChunkedArray) -> np.ndarray:
    found = pc.index_in(values.cast(keys.type), value_set=keys)
    if found.null_count:
        raise ValueError("an edge or verdict names a mention that is not in the mention table")
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Connected components by minimum-label propagation: each label is the component's
    smallest position."""
    label = np.arange(n, dtype=np.int64)
    while len(left):
        low = np.minimum(label[left], label[right])
        np.minimum.at(label, left, low)
        np.minimum.at(label, right, low)
        label = label[label]
        if np.array_equal(label[left], label[right]) and np.array_equal(label[label], label):
            break
    return label


def _conflict_possible(mentions: pa.Table, label: np.ndarray) -> np.ndarray:
    """Per component label: could joining its mentions ever be refused (identity_tokens)?

    A mention's tokens are its ID number and, for a registry record, its 学籍号. No refusal can
    happen when every two token-bearing mentions share a token: at most one ID number, at most
    one registry number, and not one mention with only the ID beside another with only the 学籍号.
    """
    ident = mentions.column("id_key")
    ident = pc.if_else(pc.equal(ident, ""), pa.scalar(None, pa.string()), ident)
    number = mentions.column("student_number")
    registered = pc.and_(pc.equal(mentions.column("entity"), person_registry().entity),
                         pc.invert(pc.equal(number, "")))  # fmt: skip
    reg = pc.if_else(pc.fill_null(registered, False), number, pa.scalar(None, pa.string()))
    table = pa.table(
        {
            "label": label,
            "ident": ident,
            "reg": reg,
            "ident_only": pc.and_(pc.is_valid(ident), pc.is_null(reg)),
            "reg_only": pc.and_(pc.is_null(ident), pc.is_valid(reg)),
        }
    )
    groups = table.group_by("label").aggregate(
        [("ident", "count_distinct"), ("reg", "count_distinct"),
         ("ident_only", "any"), ("reg_only", "any")]
    )  # fmt: skip
    risky = pc.or_(
        pc.or_(pc.greater(groups["ident_count_distinct"], 1),
               pc.greater(groups["reg_count_distinct"], 1)),
        pc.and_(groups["ident_only_any"], groups["reg_only_any"]),
    )  # fmt: skip
    doubtful = np.zeros(len(label), dtype=bool)
    doubtful[groups.filter(risky).column("label").to_numpy()] = True
    return doubtful


def cluster_exactly(
    mentions: pa.Table,
    edges: pa.Table,
    verdicts: list[Verdict],
    *,
    threshold: float = LINK_THRESHOLD,
    ambiguity_bits: float = AMBIGUITY_BITS,
    distinct: Sequence[tuple[str, str]] | None = None,
    own: set[str] | None = None,
) -> Clustering:
    """Join mentions along edges ≥ threshold, strongest first, refusing joins one by one.

    `distinct`: pairs of mentions that are two pupils by their sources' keys
    (`occasion_conflicts`); by default found among `edges`. `own`: the mentions written with
    their pupil's own number (`own_numbered`), by default found among `mentions`.

    A mention whose links to two different people are about equally strong (within
    `ambiguity_bits` of match weight) is not guessed: it stays on its own and its links are
    refused as "ambiguous" (they go to the review queue). Typical case: an old temporary number
    on a homework row, whose only evidence is a birth date shared by two classmates.
    """
    if distinct is None:
        distinct = occasion_conflicts(mentions, edges)
    if own is None:
        own = own_numbered(mentions)
    pairs = [(a, b, a in own or b in own) for a, b in distinct]
    first = _cluster_once(mentions, edges, verdicts, threshold, frozenset(), pairs)
    best_own: dict[str, float] = {}
    for left, right, prob in _edge_rows(edges):
        if prob >= threshold and first.cluster_of[left] == first.cluster_of[right]:
            for key in (left, right):
                best_own[key] = max(best_own.get(key, -math.inf), weight(prob))
    decided = {frozenset((v.mention_key_l, v.mention_key_r)) for v in verdicts}
    partners = occasion_partners([(a, b) for a, b, settled in pairs if settled])
    ambiguous: set[str] = set()
    for left, right, prob, why in first.refused:
        # A candidate the steward or the source's own key ruled out does not make it torn —
        # but only a clash of the mention itself: one through another row placed by
        # resemblance settles nothing.
        if why == STEWARD_APART or frozenset((left, right)) in decided:
            continue
        if why == ONE_OCCASION and ruled_out(left, right, first.cluster_of, partners):
            continue
        for key in (left, right):
            # Only a mention that did join someone can be torn between two people.
            if key in best_own and weight(prob) >= best_own[key] - ambiguity_bits:
                ambiguous.add(key)
    if not ambiguous:
        return first
    return _cluster_once(mentions, edges, verdicts, threshold, frozenset(ambiguous), pairs)


def _edge_rows(edges: pa.Table) -> list[tuple[str, str, float]]:
    return list(
        zip(
            edges.column("mention_key_l").to_pylist(),
            edges.column("mention_key_r").to_pylist(),
            edges.column("match_probability").to_pylist(),
            strict=True,
        )
    )


def _cluster_once(
    mentions: pa.Table,
    edges: pa.Table,
    verdicts: list[Verdict],
    threshold: float,
    ambiguous: frozenset[str],
    distinct: Sequence[tuple[str, str, bool]],  # left, right, settled
) -> Clustering:
    keys: list[str] = mentions.column("mention_key").to_pylist()
    registry = person_registry().entity
    tokens = [
        identity_tokens(e, i, n, registry=registry)
        for e, i, n in zip(
            mentions.column("entity").to_pylist(),
            mentions.column("id_key").to_pylist(),
            mentions.column("student_number").to_pylist(),
            strict=True,
        )
    ]
    comps = _Components(keys, tokens)
    known = set(keys)
    for v in verdicts:
        if v.mention_key_l in known and v.mention_key_r in known and not v.same:
            comps.keep_apart(v.mention_key_l, v.mention_key_r)
    for left, right, settled in distinct:
        if left in known and right in known:
            comps.keep_apart(left, right, by_steward=False, settled=settled)
    # Every mention is still its own root here, so each "apart" set starts at its root and
    # travels with it through every union.
    for v in verdicts:
        if v.same and v.mention_key_l in known and v.mention_key_r in known:
            ra, rb = comps.find(v.mention_key_l), comps.find(v.mention_key_r)
            if ra != rb:
                comps.union(ra, rb)
    refused: list[tuple[str, str, float, str]] = []
    order = sorted(_edge_rows(edges), key=lambda e: -e[2])
    for left, right, prob in order:
        if prob < threshold:
            break
        ra, rb = comps.find(left), comps.find(right)
        if ra == rb:
            continue
        if left in ambiguous or right in ambiguous:
            refused.append((left, right, prob, "ambiguous"))
            continue
        why = comps.conflict(ra, rb)
        if why:
            refused.append((left, right, prob, why))
            continue
        comps.union(ra, rb)
    return Clustering({k: comps.find(k) for k in keys}, refused)
