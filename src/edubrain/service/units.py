"""The directory of units — regions and schools: public data (公开), counts, not people — but
only of the region the caller works in (`policy.directory`, decision 0012): a county's users
see their county, not the neighbour's. A school outside it is a 404, like one that does not
exist.

The units are the unit registry's entities (`standard.entities.unit_registry`); what a unit's
profile counts is declared by the modules that own the counted records (`Tally`). The routes
(`/regions`, `/schools`) are the roster module's; the cockpit's map and school pages read the
same functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
from pydantic import BaseModel, create_model

from edubrain import installed
from edubrain.errors import NotFoundError
from edubrain.indicators.warning_triage import SchoolSize
from edubrain.service.deps import Services
from edubrain.service.policy import Actor, Directory, directory
from edubrain.service.reads import decode_cursor, encode_cursor
from edubrain.service.schemas import record_model
from edubrain.standard.entities import entity, unit_registry

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class Tally:
    """A count a unit's profile shows: how many records of `entity` (a table with a
    `school_code`) a school has — `name` is the profile's field. `in_regions`: a region's
    profile shows it too, over the schools of the region.

    `where` keeps only the rows whose column has the value; `latest` names a column (the
    school year) whose latest value alone is counted. `label_zh` and `definition_zh` say what
    the number counts, so a page shows each number with its definition (在校生 counted as the
    indicators count them, not as every 学籍 row)."""

    name: str
    entity: str
    in_regions: bool = False
    where: tuple[tuple[str, str], ...] = ()
    latest: str | None = None
    label_zh: str = ""
    definition_zh: str = ""

    def rows(self, t: ir.Table) -> ir.Table:
        """The rows of `t` (the entity's table) this tally counts."""
        for column, value in self.where:
            t = t.filter(t[column] == value)
        if self.latest is not None:
            t = t.filter(t[self.latest] == t[self.latest].max())
        return t


@installed.per_installation
def tallies() -> tuple[Tally, ...]:
    return installed.declared(Tally)


# A profile's first field is the unit's record, named by the unit's entity; its tallies follow.


@installed.per_installation
def school_profile_model() -> type[BaseModel]:
    name = unit_registry().school_entity
    school: dict[str, Any] = {name: (record_model(name, "SchoolPublic", masked=False), ...)}
    counts: dict[str, Any] = {t.name: (int, ...) for t in tallies()}
    return create_model("SchoolProfile", **school, **counts)


@installed.per_installation
def region_profile_model() -> type[BaseModel]:
    name = unit_registry().region_entity
    model = record_model(name, "RegionPublic", masked=False)
    fields: dict[str, Any] = {
        name: (model, ...),
        "children": (list[model], ...),  # type: ignore[valid-type]
        "schools": (int, ...),
    }
    fields |= {t.name: (int, ...) for t in tallies() if t.in_regions}
    return create_model("RegionProfile", **fields)


def _fields(entity_name: str, row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in entity(entity_name).field_names}


def directory_of(services: Services, actor: Actor) -> Directory:
    """The regions and schools the caller's directory shows."""
    return directory(actor.scope, services.unit_of(actor.scope)[1])


def regions(services: Services, actor: Actor) -> list[dict[str, Any]]:
    """The administrative divisions of the caller's region, with the city and province above."""
    shown = directory_of(services, actor)
    name = unit_registry().region_entity
    t = services.reader.table(name)
    rows = services.reader.rows(t.order_by(t.region_code))
    return [_fields(name, r) for r in rows if shown.covers_region(str(r["region_code"]))]


def region_profile(services: Services, actor: Actor, region_code: str) -> dict[str, Any]:
    """A region of the caller's, the divisions directly under it, how many schools it has and
    what the modules tally over them (within the caller's region)."""
    reader = services.reader
    units = unit_registry()
    shown = directory_of(services, actor)
    regions_t = reader.table(units.region_entity)
    found = reader.rows(regions_t.filter(regions_t.region_code == region_code))
    if not found or not shown.covers_region(region_code):
        raise NotFoundError(f"no region {region_code}")
    children = [
        r
        for r in reader.rows(
            regions_t.filter(regions_t.parent_code == region_code).order_by(regions_t.region_code)
        )
        if shown.covers_region(str(r["region_code"]))
    ]
    prefix = region_code.rstrip("0") if region_code.endswith("00") else region_code
    if len(prefix) % 2:
        prefix += "0"
    if shown.prefix is not None and len(shown.prefix) > len(prefix):
        prefix = shown.prefix  # a city seen from one of its counties: that county's counts
    schools = reader.table(units.school_entity)
    in_region = schools.filter(schools.region_code.startswith(prefix))
    profile: dict[str, Any] = {
        units.region_entity: _fields(units.region_entity, found[0]),
        "children": [_fields(units.region_entity, r) for r in children],
        "schools": int(reader.scalar(in_region.count())),
    }
    for tally in tallies():
        if tally.in_regions:
            t = tally.rows(reader.table(tally.entity))
            counted = t.filter(t.school_code.isin(in_region.school_code)).count()
            profile[tally.name] = int(reader.scalar(counted))
    return profile


def schools_page(
    services: Services,
    actor: Actor,
    *,
    region_code: str | None = None,
    cursor: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """Schools of the caller's region, optionally in one county, ordered by 学校标识码."""
    shown = directory_of(services, actor)
    name = unit_registry().school_entity
    t = services.reader.table(name)
    t = t.filter(t.region_code.startswith(shown.prefix) if shown.prefix else ibis.literal(False))
    if region_code:
        t = t.filter(t.region_code == region_code)
    if cursor:
        t = t.filter(t.school_code > decode_cursor(cursor))
    rows = services.reader.rows(t.order_by(t.school_code).limit(limit + 1))
    more = len(rows) > limit
    return {
        "items": [_fields(name, r) for r in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1]["school_code"]) if more else None,
    }


def school_profile(services: Services, actor: Actor, school_code: str) -> dict[str, Any]:
    """A school of the caller's region with what the modules tally for it (its students,
    classes and staff)."""
    reader = services.reader
    name = unit_registry().school_entity
    schools = reader.table(name)
    found = reader.rows(schools.filter(schools.school_code == school_code))
    if not found or not directory_of(services, actor).covers_school(found[0]["region_code"]):
        raise NotFoundError(f"no school {school_code}")
    profile: dict[str, Any] = {name: _fields(name, found[0])}
    for tally in tallies():
        t = tally.rows(reader.table(tally.entity))
        profile[tally.name] = int(reader.scalar(t.filter(t.school_code == school_code).count()))
    return profile


def school_sizes(
    table: Callable[[str], ir.Table], rows: Callable[[ir.Table], list[dict[str, Any]]]
) -> dict[str, SchoolSize]:
    """Each school's pupils as the first regional tally counts them (在校生 as the indicators
    count them), its 学段 and region: what the warnings' triage weighs by."""
    units = unit_registry()
    counted = next((t for t in tallies() if t.in_regions), None)
    schools = table(units.school_entity)
    pupils: dict[str, int] = {}
    if counted is not None:
        t = counted.rows(table(counted.entity))
        per = t.group_by("school_code").aggregate(pupils=t.count())
        pupils = {str(r["school_code"]): int(r["pupils"]) for r in rows(per)}
    return {
        str(r["school_code"]): SchoolSize(
            pupils.get(str(r["school_code"]), 0), str(r["stages"] or ""), str(r["region_code"])
        )
        for r in rows(schools.select("school_code", "stages", "region_code"))
    }
