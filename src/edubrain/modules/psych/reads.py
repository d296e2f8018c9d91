"""心理筛查's reads: a psychology teacher's results list, and counts with small cells withheld.

Both read `psych_result` inside the caller's scope (the pupil's rule: a school scope reads its
pupils, a region scope its region's). The counts are for roles that must not see a pupil's
result: a cell of 1–4 sittings is withheld, and so is a second cell of the same row when one
alone is withheld (else the row's total would give it back by subtraction); the total row
withholds every level some school's row withholds (else the column's total would give it back).
Pupils are named only to the psychology teacher, who is cleared for 敏感 data.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from edubrain.modules.psych.scale import Scale
from edubrain.modules.psych.score_job import PSYCH_RESULT_TABLE
from edubrain.modules.psych.scoring import TOO_MANY_MISSING
from edubrain.modules.roster import pupils
from edubrain.service.policy import Scope, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.service.sealed_refs import SealedRefs
from edubrain.standard.entities import person_registry, unit_registry

SMALLEST_CELL = 5
"""Counts below this (and above 0) are withheld in every aggregate."""
NOT_YET = "尚无心理筛查结果：请数据管理员导入测评作答并运行心理筛查评分。"
UNSCORED = "未评分"
UNPLACED = "学籍中未找到当年学校"
PURPOSES = ("复核筛查结果", "个体心理辅导", "危机干预", "转介评估")
"""Why a psychology teacher opens pupils' results; each read is audited with it."""
HEAD_TEACHER_PURPOSES = ("配合心理辅导", "危机干预", "家校沟通")
"""Why a head teacher opens the results the psychology teacher referred to the class."""
REFERRAL_TOPIC = PSYCH_RESULT_TABLE
"""The operational store's topic of a psychology teacher's referrals (转介) to a class."""
HEAD_TEACHER_FIELDS = ("ref", "name", "grade_code", "class_no", "school_code", "scale_name",
                       "test_date", "level", "warning", "status")  # fmt: skip
"""What a head teacher reads of a referred pupil's sitting: the grade, not the scores."""


def _in_scope(reader: WarehouseReader, scope: Scope) -> Any:
    t = reader.table(PSYCH_RESULT_TABLE)
    return t.filter(scope_predicate(scope, PSYCH_RESULT_TABLE, t, reader))


def results(
    reader: WarehouseReader,
    refs: SealedRefs,
    scope: Scope,
    *,
    warning_only: bool,
    school_year: str | None,
    only: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """The sittings in scope (warnings first), each pupil by sealed ref and name; with `only`,
    those of these pupils (keys as stored) alone."""
    if not reader.has_table(PSYCH_RESULT_TABLE) or (only is not None and not only):
        return []
    person = person_registry()
    with reader.lock:
        t = _in_scope(reader, scope)
        if only is not None:
            t = t.filter(t.student_number.isin(sorted(only)))
        if warning_only:
            t = t.filter(t.warning)
        if school_year:
            t = t.filter(t.school_year == school_year)
        found = reader.rows(t.order_by([t.warning.desc(), t.total.desc(), t.test_date]))
        names: dict[str, dict[str, Any]] = {}
        if found and reader.has_table(person.entity):
            registry = reader.table(person.entity)
            registry = registry.filter(scope_predicate(scope, person.entity, registry, reader))
            wanted = registry.filter(
                registry[person.key].isin([r["student_number"] for r in found])
            ).select(person.key, "name", "grade_code", "class_no")
            names = {str(r[person.key]): r for r in reader.rows(wanted)}
    out = []
    for r in found:
        who = names.get(str(r["student_number"]), {})
        out.append(
            {
                "ref": refs.seal(str(r["student_number"])),
                "name": who.get("name"),
                "grade_code": who.get("grade_code"),
                "class_no": who.get("class_no"),
                "school_code": r["school_code"],
                "scale_name": r["scale_name"] or r["scale_id"],
                "test_date": r["test_date"],
                "total": r["total"],
                "level": r["level"],
                "warning": bool(r["warning"]),
                "subscales": r["subscales"],
                "status": r["status"],
            }
        )
    return out


def withheld_counts(
    counts: dict[str, int], order: list[str], also: set[str] | frozenset[str] = frozenset()
) -> dict[str, int | None]:
    """A row's counts with cells of 1–4 withheld (None), and those of `also` (a total row's
    levels withheld in some school's row, which the total would give back by subtraction);
    then one more when one alone is withheld (the row's own total would give it back)."""
    shown: dict[str, int | None] = {k: counts.get(k, 0) for k in order}
    small = [k for k, v in shown.items() if v is not None and (0 < v < SMALLEST_CELL or k in also)]
    for k in small:
        shown[k] = None
    if len(small) == 1:
        others = [k for k in order if shown[k] not in (None, 0)]
        if others:
            shown[min(others, key=lambda k: (counts.get(k, 0), order.index(k)))] = None
    return shown


def summary(
    reader: WarehouseReader, scope: Scope, scales: dict[str, Scale], school_year: str | None
) -> dict[str, Any]:
    """Sittings per school and level of each scale in scope, small cells withheld; the rows
    of every school together as the region's (or the school's own) total."""
    if not reader.has_table(PSYCH_RESULT_TABLE):
        return {"notice": NOT_YET, "scales": []}
    with reader.lock:
        t = _in_scope(reader, scope)
        if school_year:
            t = t.filter(t.school_year == school_year)
        grouped = t.group_by(["scale_id", "school_code", "level", "status"]).aggregate(n=t.count())
        rows = reader.rows(grouped)
        school_names: dict[str, str] = {}
        schools = unit_registry().school_entity
        if reader.has_table(schools):
            expr = reader.table(schools).select("school_code", "name")
            school_names = {str(r["school_code"]): str(r["name"]) for r in reader.rows(expr)}
    by_scale: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for r in rows:
        level = r["level"] or UNSCORED
        if r["status"] == TOO_MANY_MISSING:
            level = UNSCORED
        by_scale[str(r["scale_id"])][str(r["school_code"] or "")][level] += int(r["n"])
    out = []
    for scale_id, per_school in sorted(by_scale.items()):
        scale = scales.get(scale_id)
        order = [level.name for level in scale.levels] if scale else []
        order += sorted({k for c in per_school.values() for k in c} - set(order))
        table: list[dict[str, Any]] = []
        withheld_somewhere: set[str] = set()
        overall: Counter[str] = Counter()
        for code, counts in sorted(per_school.items()):
            overall.update(counts)
            shown = withheld_counts(dict(counts), order)
            withheld_somewhere |= {k for k, v in shown.items() if v is None}
            table.append(  # pupils the 学籍 places in no school that year: a row of their own
                {
                    "school_code": code or None,
                    "school_name": school_names.get(code, code) if code else UNPLACED,
                    "sittings": sum(counts.values()),
                    "levels": shown,
                }
            )
        out.append(
            {
                "scale_id": scale_id,
                "scale_name": scale.name if scale else scale_id,
                "note": scale.note if scale else "",
                "levels": order,
                "schools": table,
                "total": {
                    "sittings": sum(overall.values()),
                    "levels": withheld_counts(dict(overall), order, withheld_somewhere),
                },
            }
        )
    return {
        "notice": None if out else "您权限范围内没有心理筛查结果。",
        "smallest_cell": SMALLEST_CELL,
        "scales": out,
    }


def placement(reader: WarehouseReader, scope: Scope, student_number: str) -> dict[str, Any] | None:
    """A pupil's current class in the 学籍, if the pupil is in scope and has a screening result
    there; None otherwise (the caller answers 404)."""
    if not reader.has_table(PSYCH_RESULT_TABLE):
        return None
    with reader.lock:
        t = _in_scope(reader, scope)
        if not reader.rows(t.filter(t.student_number == student_number).select("student_number")):
            return None
    return pupils.placement(reader, scope, student_number)
