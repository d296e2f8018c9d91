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
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from edubrain.errors import InvalidInputError
from edubrain.govern.identity import ID_PREFIX, PERSON_MENTION_TABLE
from edubrain.govern.linkage import Verdict
from edubrain.warehouse import Warehouse

if TYPE_CHECKING:
    from edubrain.sealing import Sealer

REVIEW_TABLE = "review_queue"

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
    ]
)
VERDICTS = ("same", "different")


class StewardError(InvalidInputError):
    """A review decision that cannot be applied (unknown mention or person, bad verdict)."""


def review_id(left: str, right: str) -> str:
    """A short stable id for an unordered pair of mentions."""
    a, b = sorted((left, right))
    return hashlib.sha256(f"{a}\n{b}".encode()).hexdigest()[:12]


def verdicts_from(rows: Iterable[Mapping[str, Any]]) -> list[Verdict]:
    """The newest decision on every unordered pair, from stored decisions oldest first."""
    newest: dict[frozenset[str], Verdict] = {}
    for row in rows:
        left, right = str(row["mention_key_l"]), str(row["mention_key_r"])
        newest[frozenset((left, right))] = Verdict(left, right, row["verdict"] == "same")
    return list(newest.values())


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
