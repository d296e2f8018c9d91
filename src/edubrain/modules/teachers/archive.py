"""一师一档: one teacher's archive — the 人事 record, training records with hours per year,
提升工程2.0 status, digital-literacy assessments and this year's teaching load.

Read through the scoped reader: the teacher must be in the caller's scope (404 otherwise, with
the lookups throttled like every record), every table's scope rule applies inside its query,
values are masked for the caller's clearance, and the archive is audited as one read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from edubrain.modules.teachers.indicators import ICT2, LITERACY_PASSING, PASSED
from edubrain.service.deps import AuditTrail, Services
from edubrain.service.policy import Actor, scope_predicate
from edubrain.service.records import open_record
from edubrain.standard.codes import code_table

ARCHIVE_RESOURCE = "teacher_archive"


def _rows(services: Services, actor: Actor, table: str, key: str) -> list[dict[str, Any]]:
    if not services.reader.has_table(table):
        return []
    return services.scoped.records(actor, table, filters={"staff_number": key})


def ict2_status(training: list[dict[str, Any]]) -> str:
    """合格, 参训未合格 or 未参训 from the teacher's 提升工程2.0 records."""
    ict2 = [r for r in training if r.get("programme_kind") == ICT2]
    if not ict2:
        return "未参训"
    return "合格" if any(r.get("result") == PASSED for r in ict2) else "参训未合格"


def hours_by_year(training: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """学时 per school year (None where the caller sees hours masked), newest first."""
    hours: dict[str, float | None] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for r in training:
        year = str(r.get("school_year") or "")
        count[year] += 1
        value = r.get("hours")
        before = hours[year]
        hours[year] = None if value is None or before is None else before + float(value)
    return [
        {"school_year": y, "programmes": count[y], "hours": hours[y]}
        for y in sorted(hours, reverse=True)
    ]


def archive(services: Services, trail: AuditTrail, actor: Actor, staff_ref: str) -> dict[str, Any]:
    """The teacher's archive, if in scope (NotFoundError otherwise)."""
    key, record = open_record(
        services, trail, actor, "teacher", staff_ref, resource=ARCHIVE_RESOURCE
    )
    training = _rows(services, actor, "teacher_training", key)
    training.sort(key=lambda r: (str(r.get("school_year") or ""), str(r.get("start_date") or "")),
                  reverse=True)  # fmt: skip
    literacy = _rows(services, actor, "teacher_literacy", key)
    literacy.sort(key=lambda r: str(r.get("school_year") or ""), reverse=True)
    load = _rows(services, actor, "teaching_assignment", key)
    latest = literacy[0] if literacy else None
    levels = code_table("literacy_level").codes
    return {
        "teacher": record,
        "training": training,
        "hours_by_year": hours_by_year(training),
        "ict2_status": ict2_status(training),
        "literacy": literacy,
        "literacy_latest": (
            {
                "school_year": latest.get("school_year"),
                "level": levels.get(str(latest.get("level")), latest.get("level")),
                "meets_standard": latest.get("level") in LITERACY_PASSING,
            }
            if latest is not None and latest.get("level") is not None
            else None
        ),
        "teaching_load": {
            "assignments": load,
            "weekly_periods": (
                sum(int(r["weekly_periods"]) for r in load)
                if all(r.get("weekly_periods") is not None for r in load)
                else None
            ),
        },
    }


def statuses(services: Services, actor: Actor, keys: list[str]) -> dict[str, dict[str, Any]]:
    """For a page of teachers: each one's 提升工程2.0 status and latest digital-literacy level,
    read inside the tables' scope rules (the list's own teachers only)."""
    out: dict[str, dict[str, Any]] = {k: {"ict2": "未参训", "literacy": None} for k in keys}
    if not keys:
        return out
    reader = services.reader
    levels = code_table("literacy_level").codes
    with reader.lock:
        if reader.has_table("teacher_training"):
            t = reader.table("teacher_training")
            t = t.filter(scope_predicate(actor.scope, "teacher_training", t, reader))
            t = t.filter(t.staff_number.isin(keys) & (t.programme_kind == ICT2))
            records: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for r in reader.rows(t.select("staff_number", "programme_kind", "result")):
                records[str(r["staff_number"])].append(r)
            for key, found in records.items():
                out[key]["ict2"] = ict2_status(found)
        if reader.has_table("teacher_literacy"):
            lit = reader.table("teacher_literacy")
            lit = lit.filter(scope_predicate(actor.scope, "teacher_literacy", lit, reader))
            lit = lit.filter(lit.staff_number.isin(keys))
            lit = lit.select("staff_number", "school_year", "level")
            for r in sorted(reader.rows(lit), key=lambda r: str(r["school_year"])):
                out[str(r["staff_number"])]["literacy"] = levels.get(str(r["level"]), r["level"])
    return out
