"""The roster's API: the directory of regions and schools, pupils and staff, a pupil's portrait.

Each route only binds a URL, its parameters and its response model to the service's shared
reads — `service.units` (the public directory, shown within the caller's region),
`service.records` (scoped, masked, audited records) and `service.portrait` (the sections the
modules contribute) — so the cockpit's pages, which call the same functions, show what the API
answers. The response models are made when the router is (`routes()`): they are the installed
standard's.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from edubrain.modules.roster.permissions import STUDENTS_READ, TEACHERS_READ
from edubrain.service import portrait, records, units
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, Permission
from edubrain.service.reads import MAX_PAGE
from edubrain.service.schemas import as_json, record_model, record_page_model

Limit = Annotated[int, Query(ge=1, le=500, description="Records per page.")]
Cursor = Annotated[str | None, Query(max_length=200, description="From `next_cursor`.")]
Code = Annotated[str | None, Query(max_length=40)]


def list_regions(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.REGIONS_READ)],
) -> list[dict[str, Any]]:
    """The administrative divisions of the caller's region, with the city and province above."""
    return units.regions(services, actor)


def get_region(
    region_code: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.REGIONS_READ)],
) -> dict[str, Any]:
    """A region of the caller's, the divisions directly under it, and how many schools and
    students it has (within the caller's region)."""
    return units.region_profile(services, actor, region_code)


def list_schools(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.SCHOOLS_READ)],
    region_code: Annotated[str | None, Query(max_length=12)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 200,
) -> dict[str, Any]:
    """Schools of the caller's region, optionally in one county, ordered by 学校标识码."""
    return units.schools_page(services, actor, region_code=region_code, cursor=cursor, limit=limit)


def get_school(
    school_code: str,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.SCHOOLS_READ)],
) -> dict[str, Any]:
    """A school of the caller's region with the number of its students, classes and staff."""
    return units.school_profile(services, actor, school_code)


def list_students(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(STUDENTS_READ)],
    school_code: Code = None,
    school_year: Code = None,
    grade_code: Code = None,
    class_no: Annotated[int | None, Query(ge=1, le=40)] = None,
    status_code: Annotated[str | None, Query(alias="status", max_length=40)] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Students inside the caller's scope, ordered by 学籍号."""
    filters = {
        "school_code": school_code,
        "school_year": school_year,
        "grade_code": grade_code,
        "class_no": class_no,
        "status": status_code,
    }
    return as_json(records.records_page(services, trail, actor, "student", filters, cursor, limit))


def get_student(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(STUDENTS_READ)],
) -> dict[str, Any]:
    """One student, if inside the caller's scope (404 otherwise: existence is not revealed)."""
    return records.open_record(services, trail, actor, "student", student_ref)[1]


def list_teachers(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(TEACHERS_READ)],
    school_code: Code = None,
    post: Code = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Response:
    """Teachers and staff inside the caller's scope, ordered by 教职工号."""
    filters = {"school_code": school_code, "post": post}
    return as_json(records.records_page(services, trail, actor, "teacher", filters, cursor, limit))


def get_teacher(
    staff_ref: Annotated[str, Path(description="The `ref` from a list, or the 教职工号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(TEACHERS_READ)],
) -> dict[str, Any]:
    """One member of staff, if inside the caller's scope."""
    return records.open_record(services, trail, actor, "teacher", staff_ref)[1]


def get_portrait(
    student_ref: Annotated[str, Path(description="The `ref` from a list, or the 学籍号.")],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(STUDENTS_READ)],
) -> dict[str, Any]:
    """The pupil's record with exam totals, fitness tests and health checks, if in scope."""
    return portrait.portrait(services, trail, actor, student_ref)


def routes() -> APIRouter:
    router = APIRouter()
    places: list[str | Enum] = ["regions and schools"]
    people: list[str | Enum] = ["people"]
    region = record_model("region", "RegionPublic", masked=False)
    student = record_model("student", portrait.PERSON_MODEL)
    teacher = record_model("teacher", "TeacherPublic")
    get = router.get
    get("/regions", response_model=list[region], tags=places)(list_regions)  # type: ignore[valid-type]
    get("/regions/{region_code}", response_model=units.region_profile_model(), tags=places)(
        get_region
    )
    schools = record_page_model("school", "SchoolPage", "SchoolPublic", masked=False)
    get("/schools", response_model=schools, tags=places)(list_schools)
    get("/schools/{school_code}", response_model=units.school_profile_model(), tags=places)(
        get_school
    )
    students = record_page_model("student", "StudentPage", portrait.PERSON_MODEL)
    get("/students", response_model=students, tags=people)(list_students)
    get("/students/{student_ref}", response_model=student, tags=people)(get_student)
    teachers = record_page_model("teacher", "TeacherPage", "TeacherPublic")
    get("/teachers", response_model=teachers, tags=people)(list_teachers)
    get("/teachers/{staff_ref}", response_model=teacher, tags=people)(get_teacher)
    get(
        "/students/{student_ref}/portrait",
        response_model=portrait.portrait_model(),
        tags=people,
    )(get_portrait)
    return router
