"""Persistent platform IDs (一人一码): one stable ID per person across re-runs.

A new clustering keeps the IDs the mentions already had. Each old ID goes "home" to the cluster
that holds most of its mentions; a cluster keeps, of the IDs at home in it, the one holding most
of its mentions (ties: the older ID). Every other ID at home there is merged into it; a cluster
with known mentions but no ID at home is a split-off and gets a new ID. Merges and splits are
events (old ID → new ID); IDs are never reused.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

PERSON_TABLE = "person"
PERSON_MENTION_TABLE = "person_mention"
PERSON_EVENT_TABLE = "person_event"
ID_PREFIX = "P"

PERSON_SCHEMA = pa.schema(
    [
        pa.field("person_id", pa.string()),
        pa.field("status", pa.string()),  # active | merged
        pa.field("merged_into", pa.string()),
        pa.field("created_run", pa.string()),
        pa.field("created_load", pa.string()),  # newest load among its first mentions
        pa.field("created_at", pa.timestamp("us")),
    ]
)
PERSON_MENTION_SCHEMA = pa.schema(
    [
        pa.field("mention_key", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("student_number", pa.string()),
        pa.field("person_id", pa.string()),
        pa.field("load_id", pa.string()),
        pa.field("run_id", pa.string()),
    ]
)
PERSON_EVENT_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("event", pa.string()),  # create | merge | split
        pa.field("old_id", pa.string()),
        pa.field("new_id", pa.string()),
        pa.field("at", pa.timestamp("us")),
        pa.field("reason", pa.string()),
    ]
)


def format_person_id(number: int) -> str:
    return f"{ID_PREFIX}{number:010d}"


@dataclass
class Assignment:
    person_of: dict[str, str]  # mention key → person ID
    persons: list[dict[str, object]]  # all rows of `person` after this run
    events: list[dict[str, object]] = field(default_factory=list)


def assign_ids(
    clusters: dict[str, list[str]],
    previous: dict[str, str],
    persons: list[dict[str, object]],
    load_of: dict[str, str],
    *,
    run_id: str,
    now: datetime,
) -> Assignment:
    """Give every cluster a person ID, keeping old ones (see the module docstring)."""
    ordered = sorted(clusters.values(), key=min)  # deterministic cluster order
    overlap = [Counter(previous[k] for k in keys if k in previous) for keys in ordered]
    home: dict[str, int] = {}
    for idx, counts in enumerate(overlap):
        for pid, n in counts.items():
            best = home.get(pid)
            if best is None or n > overlap[best][pid]:
                home[pid] = idx
    by_id = {str(p["person_id"]): dict(p) for p in persons}
    next_number = 1 + max((int(pid[len(ID_PREFIX) :]) for pid in by_id), default=0)
    at_home: dict[int, list[str]] = defaultdict(list)
    for pid, idx in home.items():
        at_home[idx].append(pid)
    events: list[dict[str, object]] = []
    person_of: dict[str, str] = {}

    def event(kind: str, old: str | None, new: str, reason: str) -> None:
        events.append(
            {"run_id": run_id, "event": kind, "old_id": old, "new_id": new, "at": now,
             "reason": reason}
        )  # fmt: skip

    for idx, keys in enumerate(ordered):
        ids_here = sorted(at_home.get(idx, []), key=lambda pid: (-overlap[idx][pid], pid))
        if ids_here:
            survivor = ids_here[0]
            for old in ids_here[1:]:
                by_id[old].update(status="merged", merged_into=survivor)
                event("merge", old, survivor, f"clusters of {old} and {survivor} now one person")
        else:
            survivor = format_person_id(next_number)
            next_number += 1
            by_id[survivor] = {
                "person_id": survivor,
                "status": "active",
                "merged_into": None,
                "created_run": run_id,
                "created_load": max(load_of.get(k, "") for k in keys) or None,
                "created_at": now,
            }
            split_from = sorted(overlap[idx])
            if split_from:
                for old in split_from:
                    event("split", old, survivor, f"{overlap[idx][old]} mention(s) left {old}")
            else:
                event("create", None, survivor, "new person")
        for key in keys:
            person_of[key] = survivor
    return Assignment(person_of, sorted(by_id.values(), key=lambda p: str(p["person_id"])), events)
