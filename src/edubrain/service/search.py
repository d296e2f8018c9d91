"""One search box for schools and pupils: scoped to the caller, masked per clearance, audited,
bounded — the read behind `GET /api/v1/search` and the cockpit's 搜索 page.

- **Schools** (public facts) by name or 学校标识码, among the schools of the caller's region (the
  directory every role with `schools:read` sees).
- **Pupils** (the person registry's records) by 姓名, and by 学籍号 — only inside the caller's
  scope (the table's own scope rule, inside the query), shown as the caller's clearance shows
  them (`masking.present`).
- **No oracle.** A field is searched only if the caller sees it in clear: a role that sees names
  masked (张*明) cannot search by name, and a 学籍号 it sees masked (a teacher and a G number,
  which carries the ID number) is no search term — it answers like a number that does not exist,
  and counts as a miss of the same throttle as a lookup by key (`records.open_record`).
- **Bounded.** At least `MIN_QUERY` characters, at most `MAX_QUERY`; at most `limit` hits of
  each kind (≤ `MAX_HITS`), and `more` says when there were others.
- **Audited.** Every pupil search is an audit record (`search`, with the query and the keys of
  the pupils it returned), hits or not.

Which fields are searched is the registries' (`unit_registry`, `person_registry`): each names its
records by a `name` field; the person registry's key is its 学籍号.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import ibis

from edubrain.errors import InvalidInputError, NotFoundError
from edubrain.service import records, units
from edubrain.service.deps import AuditTrail, Services
from edubrain.service.masking import in_clear
from edubrain.service.policy import Actor, Permission, Reading, allowed, clearance
from edubrain.standard.entities import DataClass, entity, person_registry, unit_registry

MIN_QUERY = 2  # a lone surname would list half a class
MAX_QUERY = 40
MAX_HITS = 20
NAME = "name"  # the field both registries name their records by
_UNIT_CODE = re.compile(r"\d{4,10}")
_PERSON_KEY = re.compile(r"[GJL]\d{17}[\dX]")

PUPILS = Reading(lambda: person_registry().entity)


class SearchTooShortError(InvalidInputError):
    """A search shorter than MIN_QUERY characters."""


def normalised(text: str) -> str:
    """Full-width → half-width (ｇ３３… typed with a Chinese input method), trimmed, upper-case
    letters (a 学籍号's G and X)."""
    plain = unicodedata.normalize("NFKC", text).strip()
    return plain.upper() if _PERSON_KEY.fullmatch(plain.upper()) else plain


def searchable_pupil_fields(actor: Actor) -> list[str]:
    """The pupil fields this caller may search by: those it sees in clear (no oracle)."""
    if not allowed(actor, PUPILS):
        return []
    registry = person_registry()
    ent = entity(registry.entity)
    seen = clearance(actor.role)
    fields = [NAME] if in_clear(ent.field(NAME).data_class, seen) else []
    # A 学籍号 is searched only as the caller could address it (`ScopedReader.address`): the
    # numbers it sees in clear, which depends on the number (J, L: 敏感; G: 核心). A role
    # cleared for neither sees every number masked and cannot search by one.
    if any(in_clear(c, seen) for c in (DataClass.SENSITIVE, DataClass.CORE)):
        fields.append(registry.key)
    return fields


def search(
    services: Services, trail: AuditTrail, actor: Actor, text: str, limit: int = MAX_HITS
) -> dict[str, Any]:
    """Schools and pupils matching `text` for this caller (see the module's rules)."""
    query = normalised(text)[:MAX_QUERY]
    if len(query) < MIN_QUERY:
        raise SearchTooShortError(f"请至少输入 {MIN_QUERY} 个字")
    limit = max(1, min(limit, MAX_HITS))
    schools, more_schools = _schools(services, actor, query, limit)
    pupils, more_pupils, fields = _pupils(services, trail, actor, query, limit)
    return {
        "query": query,
        "schools": schools,
        "pupils": pupils,
        "pupil_fields": fields,
        "more": more_schools or more_pupils,
    }


def _schools(
    services: Services, actor: Actor, query: str, limit: int
) -> tuple[list[dict[str, Any]], bool]:
    if not allowed(actor, Permission.SCHOOLS_READ):
        return [], False
    shown = units.directory_of(services, actor)
    if not shown.prefix:
        return [], False
    reader = services.reader
    with reader.lock:
        t = reader.table(unit_registry().school_entity)
        t = t.filter(t.region_code.startswith(shown.prefix))
        wanted = t[NAME].contains(ibis.literal(query))
        if _UNIT_CODE.fullmatch(query):
            wanted = wanted | t.school_code.startswith(query)
        t = t.filter(wanted).select("school_code", NAME, "region_code")
        t = t.order_by("school_code").limit(limit + 1)
    rows = reader.rows(t)
    return rows[:limit], len(rows) > limit


def _pupils(
    services: Services, trail: AuditTrail, actor: Actor, query: str, limit: int
) -> tuple[list[dict[str, Any]], bool, list[str]]:
    fields = searchable_pupil_fields(actor)
    if not fields:
        return [], False, []
    registry = person_registry()
    if _PERSON_KEY.fullmatch(query):
        # By 学籍号: a lookup by key, with its throttle and audit; a number the caller sees
        # masked answers like one that does not exist.
        found: list[dict[str, Any]] = []
        keys: list[str] = []
        try:
            key, record = records.open_record(services, trail, actor, registry.entity, query)
        except NotFoundError:
            pass
        else:
            found, keys = [record], [key]
        # Sealed at rest like every 学籍号 (decision 0011), in the trail too.
        sealer = services.reader.sealer
        kept = sealer.seal_student_number(query) if sealer is not None else query
        _audit(trail, registry.entity, kept, keys)
        return _with_school_names(services, found), False, fields
    if NAME not in fields:
        _audit(trail, registry.entity, query, [])
        return [], False, fields
    found, keys, more = services.scoped.matching(actor, registry.entity, NAME, query, limit)
    _audit(trail, registry.entity, query, keys)
    return _with_school_names(services, found), more, fields


def _audit(trail: AuditTrail, entity_name: str, query: str, keys: list[str]) -> None:
    trail.record("search", entity_name, record_ids=keys, query={"q": query})


def _with_school_names(services: Services, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pupil with its school's name (public)."""
    codes = sorted({str(r["school_code"]) for r in found if r.get("school_code")})
    names = school_names(services, codes)
    return [r | {"school_name": names.get(str(r.get("school_code")), "")} for r in found]


def school_names(services: Services, codes: list[str]) -> dict[str, str]:
    """学校标识码 → 学校名称 for these codes (public facts)."""
    if not codes:
        return {}
    reader = services.reader
    with reader.lock:
        t = reader.table(unit_registry().school_entity)
        t = t.filter(t.school_code.isin(codes)).select("school_code", NAME)
    return {str(r["school_code"]): str(r[NAME]) for r in reader.rows(t)}
