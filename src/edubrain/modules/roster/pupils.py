"""Pupils as the service's workflows look them up (a referral, a 写实记录): a pupil's current
class, and pupils' names — always inside the caller's scope, through the registry's own rule."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from edubrain.service.policy import Scope, scope_predicate
from edubrain.service.reads import WarehouseReader
from edubrain.standard.entities import person_registry

CLASS_FIELDS = ("school_code", "school_year", "grade_code", "class_no")


def placement(reader: WarehouseReader, scope: Scope, pupil: str) -> dict[str, Any] | None:
    """The pupil's 学籍 row (key, name, school, year, grade, class number) if the scope covers
    the pupil; None otherwise (the caller answers 404)."""
    person = person_registry()
    with reader.lock:
        t = reader.table(person.entity)
        t = t.filter(scope_predicate(scope, person.entity, t, reader))
        t = t.filter(t[person.key] == pupil).select(person.key, "name", *CLASS_FIELDS)
        found = reader.rows(t.limit(1))
    return found[0] if found else None


def class_key(placed: dict[str, Any]) -> str:
    """The class scope key (`school/year/grade/class`) of a pupil's placement."""
    return "/".join(str(placed[k]) for k in CLASS_FIELDS)


def names(reader: WarehouseReader, scope: Scope, keys: Collection[str]) -> dict[str, str]:
    """Pupils' names by key (as stored), for those the scope covers."""
    if not keys:
        return {}
    person = person_registry()
    with reader.lock:
        t = reader.table(person.entity)
        t = t.filter(scope_predicate(scope, person.entity, t, reader))
        rows = reader.rows(t.filter(t[person.key].isin(sorted(keys))).select(person.key, "name"))
    return {str(r[person.key]): str(r["name"]) for r in rows}
