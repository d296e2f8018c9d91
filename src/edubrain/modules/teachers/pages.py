"""The cockpit's 教师发展 pages: `/teachers` (the 专任教师 in scope, 50 a page, with each one's
提升工程2.0 status and latest digital-literacy level) and `/teachers/{staff_ref}` (一师一档). Both
read what the API reads: the roster's scoped, masked, audited list and `archive.archive`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from edubrain.cockpit.render import page
from edubrain.modules.teachers.archive import archive, statuses
from edubrain.modules.teachers.entities import LITERACY_DIMENSIONS
from edubrain.modules.teachers.permissions import TEACHER_ARCHIVE
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor
from edubrain.service.records import records_page
from edubrain.service.search import school_names


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/teachers", response_class=HTMLResponse)
    def teachers_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(TEACHER_ARCHIVE)],
        school_code: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
        cursor: Annotated[str | None, Query(max_length=400)] = None,
    ) -> Response:
        """教师发展: the 专任教师 in scope with their 提升工程2.0 and 数字素养 status."""
        filters = {"school_code": school_code, "post": "teacher"}
        found = records_page(services, trail, actor, "teacher", filters, cursor, 50)
        items = found["items"]
        key_of = {t["ref"]: services.refs.open(t["ref"]) or "" for t in items}
        status = statuses(services, actor, sorted(set(key_of.values()) - {""}))
        context = {
            **found,
            "status": {ref: status.get(key, {}) for ref, key in key_of.items()},
            "school_names": school_names(services, sorted({str(t["school_code"]) for t in items})),
            "school_code": school_code,
            "first_page": cursor is None,
        }
        return page(request, actor, "teachers.html", context)

    @router.get("/teachers/{staff_ref}", response_class=HTMLResponse)
    def archive_page(
        staff_ref: str,
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(TEACHER_ARCHIVE)],
    ) -> Response:
        """一师一档: one teacher's archive."""
        found = archive(services, trail, actor, staff_ref)
        school = str(found["teacher"].get("school_code") or "")
        context = {
            "a": found,
            "dimensions": LITERACY_DIMENSIONS,
            "school_name": school_names(services, [school]).get(school, school),
        }
        return page(request, actor, "teacher_archive.html", context)

    return router
