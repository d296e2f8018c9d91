"""Regions and schools: public data (公开), counts, not people — but only of the region the caller
works in (`policy.directory`, decision 0012): a county's users see their county, not the
neighbour's. A school outside it is a 404, like one that does not exist."""

from __future__ import annotations

from typing import Annotated, Any

import ibis
from fastapi import APIRouter, Query

from edubrain.errors import NotFoundError
from edubrain.service.deps import Services, ServicesDep, require
from edubrain.service.policy import Actor, Directory, Permission, directory
from edubrain.service.reads import MAX_PAGE, decode_cursor, encode_cursor
from edubrain.service.schemas import RegionList, RegionProfile, SchoolPage, SchoolProfile
from edubrain.standard.entities import entity

router = APIRouter(tags=["regions and schools"])


def _fields(entity_name: str, row: dict[str, Any]) -> dict[str, Any]:
    return {name: row.get(name) for name in entity(entity_name).field_names}


def directory_of(services: Services, actor: Actor) -> Directory:
    """The regions and schools the caller's directory shows."""
    return directory(actor.scope, services.unit_of(actor.scope)[1])


@router.get("/regions", response_model=RegionList)
def list_regions(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.REGIONS_READ)],
) -> list[dict[str, Any]]:
    """The administrative divisions of the caller's region, with the city and province above."""
    shown = directory_of(services, actor)
    t = services.reader.table("region")
    rows = services.reader.rows(t.order_by(t.region_code))
    return [_fields("region", r) for r in rows if shown.covers_region(str(r["region_code"]))]


@router.get("/regions/{region_code}", response_model=RegionProfile)
def get_region(
    region_code: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.REGIONS_READ)],
) -> dict[str, Any]:
    """A region of the caller's, the divisions directly under it, and how many schools and
    students it has (within the caller's region)."""
    reader = services.reader
    shown = directory_of(services, actor)
    regions = reader.table("region")
    found = reader.rows(regions.filter(regions.region_code == region_code))
    if not found or not shown.covers_region(region_code):
        raise NotFoundError(f"no region {region_code}")
    children = [
        r
        for r in reader.rows(
            regions.filter(regions.parent_code == region_code).order_by(regions.region_code)
        )
        if shown.covers_region(str(r["region_code"]))
    ]
    prefix = region_code.rstrip("0") if region_code.endswith("00") else region_code
    if len(prefix) % 2:
        prefix += "0"
    if shown.prefix is not None and len(shown.prefix) > len(prefix):
        prefix = shown.prefix  # a city seen from one of its counties: that county's counts
    schools = reader.table("school")
    in_region = schools.filter(schools.region_code.startswith(prefix))
    students = reader.table("student")
    return {
        "region": _fields("region", found[0]),
        "children": [_fields("region", r) for r in children],
        "schools": int(reader.scalar(in_region.count())),
        "students": int(
            reader.scalar(students.filter(students.school_code.isin(in_region.school_code)).count())
        ),
    }


@router.get("/schools", response_model=SchoolPage)
def list_schools(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.SCHOOLS_READ)],
    region_code: Annotated[str | None, Query(max_length=12)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> dict[str, Any]:
    """Schools of the caller's region, optionally in one county, ordered by 学校标识码."""
    shown = directory_of(services, actor)
    t = services.reader.table("school")
    t = t.filter(t.region_code.startswith(shown.prefix) if shown.prefix else ibis.literal(False))
    if region_code:
        t = t.filter(t.region_code == region_code)
    if cursor:
        t = t.filter(t.school_code > decode_cursor(cursor))
    rows = services.reader.rows(t.order_by(t.school_code).limit(limit + 1))
    more = len(rows) > limit
    return {
        "items": [_fields("school", r) for r in rows[:limit]],
        "next_cursor": encode_cursor(rows[limit - 1]["school_code"]) if more else None,
    }


@router.get("/schools/{school_code}", response_model=SchoolProfile)
def get_school(
    school_code: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.SCHOOLS_READ)],
) -> dict[str, Any]:
    """A school of the caller's region with the number of its students, classes and staff."""
    reader = services.reader
    schools = reader.table("school")
    found = reader.rows(schools.filter(schools.school_code == school_code))
    if not found or not directory_of(services, actor).covers_school(found[0]["region_code"]):
        raise NotFoundError(f"no school {school_code}")
    counts = {}
    for name in ("student", "class", "teacher"):
        t = reader.table(name)
        counts[name] = int(reader.scalar(t.filter(t.school_code == school_code).count()))
    return {
        "school": _fields("school", found[0]),
        "students": counts["student"],
        "classes": counts["class"],
        "teachers": counts["teacher"],
    }
