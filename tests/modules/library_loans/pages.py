"""The module's cockpit page: the loans table a teacher or principal opens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from edubrain.cockpit.render import records_page
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor

from .routes import LIBRARY_READ, loans_page


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/library", response_class=HTMLResponse)
    def library(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(LIBRARY_READ)],
        cursor: Annotated[str | None, Query(max_length=200)] = None,
    ) -> HTMLResponse:
        result = loans_page(services, trail, actor, cursor=cursor)
        return records_page(request, actor, "图书借阅", "library_loan", result)

    return router
