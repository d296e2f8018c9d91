"""The HTTP API as a FastAPI application: `create_api(settings)`; no import-time side effects.

The app that `edubrain serve` runs, the API with the cockpit's pages on it, is composed one
layer up, in `edubrain.serve`.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Send
from starlette.types import Scope as ASGIScope

from edubrain import __version__, installed
from edubrain.errors import EdubrainError, InvalidInputError
from edubrain.sealing import check_key, sealer_for
from edubrain.service import problems
from edubrain.service.body_limit import BodyLimitMiddleware
from edubrain.service.deps import Services, new_request_id, utc_now
from edubrain.service.jobs import JobsInService
from edubrain.service.reads import WarehouseReader
from edubrain.service.routes import audit, auth, exports, indicators, jobs, operations, search
from edubrain.service.sealed_refs import SealedRefs
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

API_PREFIX = "/api/v1"
log = logging.getLogger(__name__)


class AccessNotDeclaredError(EdubrainError):
    """A route that declares neither a permission nor that it is public.

    Kindless on purpose (`edubrain.errors`): a bug in the app, found when it is built.
    """


def _declares_access(dependant: Dependant) -> bool:
    for dep in dependant.dependencies:
        if getattr(dep.call, "declares_access", None) is not None or _declares_access(dep):
            return True
    return False


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also inside included routers (FastAPI ≥ 0.165 nests them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
            continue
        nested = getattr(route, "original_router", None) or route
        children = getattr(nested, "routes", None)
        if children is not None and children is not routes:
            yield from api_routes(children)


def check_routes_declare_access(app: FastAPI) -> int:
    """Deny by default: every API route must declare what it needs. Returns how many there are."""
    routes = list(api_routes(app.routes))
    missing = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in routes
        if not _declares_access(route.dependant)
    ]
    if missing:
        raise AccessNotDeclaredError(f"routes without an access declaration: {missing}")
    return len(routes)


class RequestIdMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` if well-formed), returns it, and
    marks responses `Cache-Control: no-store` unless they set their own; refuses a NUL in the
    path or query.

    Plain ASGI rather than `@app.middleware("http")`: that wrapper costs each request an extra
    task and a streamed copy of the body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = Headers(scope=scope).get("x-request-id")
        rid = new_request_id(offered)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = rid
                # Personal data is never cached; only the cockpit's versioned static files
                # (which set their own) say otherwise.
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        if b"%00" in scope["query_string"] or "\x00" in scope["path"]:
            # No code, key or name holds a NUL; refused here, it never reaches a query.
            refused = problems.problem_for(InvalidInputError("NUL in the request"))
            await problems.problem_response(refused, None)(scope, receive, send_with_id)
            return
        await self.app(scope, receive, send_with_id)


def create_api(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    serving: bool = False,
    surfaces: Iterable[Callable[[FastAPI], None]] = (),
) -> FastAPI:
    """The API for `settings`. The store and warehouse open when the app starts.

    `surfaces`: more of the user interface to mount on the same app, over the same services
    (`edubrain.serve` passes the cockpit's pages). The service does not import them: they sit
    above it. They are installed before the deny-by-default check, so their routes are checked
    too, and before the request-id middleware, so that it stays outermost.

    `serving`: the app is what this process is for (`edubrain serve`). Everything loaded by
    the time it has started lives as long as the process, so it is moved out of the garbage
    collector's sight (`gc.freeze`): a full collection walked it every few seconds under load,
    for 90–150 ms each time, and those pauses were the slowest responses.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings, checkpoint_in_background=serving)
        sealer = sealer_for(settings)

        def open_reader() -> WarehouseReader:
            # The service waits as long as a job writing the warehouse in place needs.
            warehouse = open_warehouse(
                settings,
                read_only=True,
                wait_seconds=float("inf"),
                on_wait=lambda: log.warning("等待正在写入数据仓库的任务完成 …"),
            )
            try:
                check_key(warehouse, sealer, write=False)
            except BaseException:
                warehouse.close()
                raise
            return WarehouseReader(
                warehouse, cache_bytes=settings.service_cache_mb << 20, sealer=sealer
            )

        app.state.services = Services(
            settings=settings,
            store=store,
            reader=open_reader(),
            refs=SealedRefs.for_workspace(settings.workspace),
            clock=clock or utc_now,
            open_reader=open_reader,
        )
        beside = JobsInService(settings, store) if serving else None
        if beside is not None:
            beside.start()
        if serving:
            gc.freeze()
        try:
            yield
        finally:
            if beside is not None:
                beside.stop()
            app.state.services.close()
            store.close()

    app = FastAPI(
        title="edubrain API",
        version=__version__,
        description=(
            "区域教育数据大脑 — every read of personal data is scoped to the caller's region, "
            "school, class or own child, masked by data class, and written to a hash-chained "
            "audit trail."
        ),
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    # Logging in, then each domain module's routes (the roster's directory, people and
    # portrait first), then the routes over every domain.
    app.include_router(auth.router, prefix=API_PREFIX)
    for domain in installed.modules():
        if domain.routes is not None:
            app.include_router(domain.routes(), prefix=API_PREFIX)
    for module in (indicators, operations, jobs, exports, audit, search):
        app.include_router(module.router, prefix=API_PREFIX)
    for install in surfaces:
        install(app)
    check_routes_declare_access(app)

    app.add_middleware(BodyLimitMiddleware, limit_mb=settings.upload_max_mb)
    app.add_middleware(RequestIdMiddleware)

    problems.install(app)

    return app


def prepare_home(settings: Settings) -> None:
    """What the app needs before it starts: the store migrated, the service key, and a
    warehouse file to open read-only (empty before the first ingest)."""
    open_store(settings).close()
    SealedRefs.for_workspace(settings.workspace)
    open_warehouse(settings, read_only=True).close()


def serving_process() -> None:
    """Tune the interpreter of a process that serves requests.

    A request's thread gives up the GIL at every database call and then waits for it again, by
    default up to 5 ms while another thread computes; a request makes dozens of such calls (the
    audit commit alone several), so under load they add up to tens of milliseconds of waiting.
    A 0.5 ms switch interval hands the GIL back sooner, for a little more switching.
    """
    sys.setswitchinterval(0.0005)
    # After `gc.freeze` the collector counts few long-lived objects, so by its own rule (a full
    # collection once survivors grow by a quarter) it walked every young survivor — cached
    # results, compiled queries — again and again, 45–100 ms each time, about once a second
    # per process under load. Collect the young generation less often and the old one rarely;
    # memory is freed by reference counting as before, only cycles wait longer.
    gc.set_threshold(20_000, 50, 1_000)


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI document, without starting the app (the cockpit's pages are not in it)."""
    return create_api(settings).openapi()
