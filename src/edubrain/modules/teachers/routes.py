"""一师一档's API: `GET /api/v1/teachers/{staff_ref}/archive`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from edubrain.modules.teachers.archive import archive
from edubrain.modules.teachers.permissions import TEACHER_ARCHIVE
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor


def get_archive(
    staff_ref: str,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(TEACHER_ARCHIVE)],
) -> dict[str, Any]:
    """A teacher's archive (一师一档) in your scope: the 人事 record, training records with
    学时 per school year, 提升工程2.0 status (合格, 参训未合格, 未参训), digital-literacy
    assessments with the latest level and whether it meets the standard, and the teaching
    load; masked for your role, audited as one read."""
    return archive(services, trail, actor, staff_ref)


def routes() -> APIRouter:
    router = APIRouter(tags=["teachers"])
    router.get("/teachers/{staff_ref}/archive")(get_archive)
    return router
