"""What a route can ask for: the services, the caller, a permission, the audit trail.

Routes declare access with `require(Permission.X)` (or `public_route` for login); the app
refuses to start if a route declares neither, so nothing is reachable by accident.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from edubrain.errors import EdubrainError, ForbiddenError, UnauthenticatedError
from edubrain.service.auth import RecentSessions, UnknownNameFailures
from edubrain.service.policy import (
    Actor,
    AnyPermission,
    OperationalScope,
    Reading,
    Scope,
    ScopeError,
    ScopeLevel,
    allowed,
    operational_scope,
    unit_of,
)
from edubrain.service.reads import ScopedReader, WarehouseReader
from edubrain.service.sealed_refs import SealedRefs
from edubrain.service.store import AuditEntry, Store
from edubrain.service.throttle import MissWindow
from edubrain.settings import Settings
from edubrain.standard.entities import person_registry

SESSION_COOKIE = "edubrain_session"
# A replaced warehouse version stays open this long for requests that began on it.
RETIRED_READER_SECONDS = 120.0
_log = logging.getLogger("edubrain.service")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything a request may use; built once per app in its lifespan."""

    settings: Settings
    store: Store
    reader: WarehouseReader
    refs: SealedRefs
    clock: Callable[[], datetime] = field(default=utc_now)
    memo: dict[tuple[str, Any], Any] = field(default_factory=dict)
    sessions: RecentSessions = field(default_factory=RecentSessions)
    shown: dict[Hashable, dict[str, Any]] = field(default_factory=dict)
    # Person lookups that found nothing, per account and client address (429 past the limit).
    misses_by_account: MissWindow = field(init=False)
    misses_by_address: MissWindow = field(init=False)
    # Failed logins under names that are no account, so they lock like real ones.
    unknown_logins: UnknownNameFailures = field(default_factory=UnknownNameFailures)
    # Opens a reader on the warehouse's current version (the app sets it; tests may not).
    open_reader: Callable[[], WarehouseReader] | None = None
    _switching: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _retired: list[tuple[float, WarehouseReader]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        window = timedelta(seconds=self.settings.lookup_miss_window_seconds)
        self.misses_by_account = MissWindow(self.settings.lookup_miss_limit, window)
        self.misses_by_address = MissWindow(self.settings.lookup_miss_limit_per_address, window)

    def follow_warehouse(self) -> None:
        """Switch to the warehouse's newest version once a writer has published one.

        Called before each request: a stat of the warehouse's name. Results kept from the old
        version are dropped with it; the old version closes once no request can still be
        reading it (`RETIRED_READER_SECONDS`). A version that cannot be opened yet (a writer
        holds the file in place) is tried again at the next request.
        """
        if self._retired:
            self._close_retired()
        if self.open_reader is None or self.reader.warehouse.is_current():
            return
        with self._switching:
            if self.reader.warehouse.is_current():
                return
            try:
                fresh = self.open_reader()
            except EdubrainError as exc:
                _log.warning("the warehouse's new version cannot be opened yet: %s", exc)
                return
            old, self.reader = self.reader, fresh
            self.memo.clear()
            self.shown.clear()
            self._retired.append((time.monotonic(), old))
            _log.info("now serving the warehouse's new version")

    def _close_retired(self) -> None:
        with self._switching:
            due = time.monotonic() - RETIRED_READER_SECONDS
            for retired in [r for r in self._retired if r[0] < due]:
                self._retired.remove(retired)
                retired[1].warehouse.close()

    def close(self) -> None:
        """Close the warehouse versions this app holds (the current one and any retired)."""
        with self._switching:
            for _, retired in self._retired:
                retired.warehouse.close()
            self._retired.clear()
        self.reader.warehouse.close()

    @property
    def scoped(self) -> ScopedReader:
        return ScopedReader(self.reader, self.refs, self.shown)

    def units(self, actor: Actor) -> OperationalScope:
        """The units the caller's scope covers, for the operational store's queries."""
        return operational_scope(actor.scope, self.reader.region_of_school())

    def unit_of(self, scope: Scope) -> tuple[str | None, str | None]:
        """The unit (school, region) of what a user with this scope does (decision 0012): its
        school and county, or its region; for a self scope, its pupils' school (one school)
        or county (one county), else none."""
        if scope.level is not ScopeLevel.SELF:
            return unit_of(scope, self.reader.region_of_school())
        found: tuple[str | None, str | None] | None = self.memo.get(("unit", scope))
        if found is None:
            reader = self.reader
            with reader.lock:
                registry = person_registry().entity
                query = self.scoped.query(scope, registry, fields=["school_code"])
                schools = {str(r["school_code"]) for r in reader.rows(query)}
            regions = {reader.region_of_school().get(s) for s in schools}
            school = next(iter(schools)) if len(schools) == 1 else None
            region = next(iter(regions)) if len(regions) == 1 else None
            found = self.memo[("unit", scope)] = (school, region)
        return found


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    services.follow_warehouse()
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

_bearer = HTTPBearer(auto_error=False, description="The token from POST /api/v1/auth/login.")
_cookie = APIKeyCookie(
    name=SESSION_COOKIE, auto_error=False, description="HttpOnly session cookie set at login."
)


def request_id(request: Request) -> str:
    rid: str = request.state.request_id
    return rid


# A random prefix per process and a counter: unique like a UUID without a system call each.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)


def new_request_id(offered: str | None) -> str:
    if offered and _REQUEST_ID.fullmatch(offered):
        return offered
    return f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"


@dataclass
class AuditTrail:
    """Writes this request's audit records (事中全留痕)."""

    store: Store
    clock: Callable[[], datetime]
    request_id: str
    client_ip: str
    purpose: str
    actor: Actor | None = None
    unit_of: Callable[[Scope], tuple[str | None, str | None]] | None = None

    def _unit(self, actor_name: str | None) -> tuple[str | None, str | None]:
        """The record's unit: the actor's scope's (a login: the named account's, if any)."""
        if self.unit_of is None:
            return None, None
        scope = self.actor.scope if self.actor else None
        if scope is None and actor_name:
            user = self.store.user_by_name(actor_name)
            try:
                scope = Scope.parse(user.scope_level, user.scope_key) if user else None
            except ScopeError:
                scope = None
        return self.unit_of(scope) if scope is not None else (None, None)

    def record(
        self,
        action: str,
        resource: str,
        *,
        record_ids: Sequence[str] = (),
        query: dict[str, Any] | None = None,
        outcome: str = "ok",
        actor_name: str | None = None,
    ) -> None:
        actor = self.actor
        unit_school, unit_region = self._unit(actor_name)
        self.store.append_audit(
            AuditEntry(
                unit_school=unit_school,
                unit_region=unit_region,
                occurred_at=self.clock().astimezone(UTC).isoformat(timespec="microseconds"),
                actor=actor.username if actor else (actor_name or "-"),
                role=actor.role.value if actor else "-",
                scope=actor.scope.describe() if actor else "-",
                action=action,
                resource=resource,
                record_ids=json.dumps(list(record_ids), ensure_ascii=False),
                query=json.dumps(
                    {k: v for k, v in (query or {}).items() if v is not None},
                    ensure_ascii=False,
                    sort_keys=True,
                    default=str,
                ),
                purpose=self.purpose,
                outcome=outcome,
                request_id=self.request_id,
                client_ip=self.client_ip,
            )
        )


async def _trail(request: Request, services: ServicesDep) -> AuditTrail:
    # X-Purpose: why the data is read (UTF-8, percent-encoded as headers are Latin-1).
    purpose = unquote(request.headers.get("x-purpose") or "").strip()[:200]
    return AuditTrail(
        store=services.store,
        clock=services.clock,
        request_id=request_id(request),
        client_ip=request.client.host if request.client else "-",
        purpose=purpose,
        unit_of=services.unit_of,
    )


async def current_actor(
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Actor:
    # On the event loop rather than a worker thread: the session is nearly always among those
    # checked in the last 5 s, and a miss is one lookup by primary key.
    token = bearer.credentials if bearer is not None else cookie
    actor = services.sessions.actor(services.store, token, services.clock()) if token else None
    if actor is None:
        raise UnauthenticatedError("not logged in, or the session expired")
    return actor


ActorDep = Annotated[Actor, Depends(current_actor)]


def require(permission: AnyPermission | Reading) -> Any:
    """A dependency that lets the request through only if the caller holds `permission`.

    Refusals are audited too. The light dependencies are `async` so that FastAPI runs them on
    the event loop instead of handing each to a worker thread; a refusal's audit write is rare
    enough to run there as well.
    """

    async def check(
        request: Request, actor: ActorDep, trail: Annotated[AuditTrail, Depends(_trail)]
    ) -> Actor:
        if not allowed(actor, permission):
            trail.actor = actor
            trail.record("access", str(permission), outcome="denied")
            request.state.denied_permission = str(permission)  # a page names it in Chinese
            raise ForbiddenError(f"your role may not {permission}")
        return actor

    check.declares_access = permission  # type: ignore[attr-defined]
    return Depends(check)


async def _actor_trail(
    trail: Annotated[AuditTrail, Depends(_trail)], actor: ActorDep
) -> AuditTrail:
    trail.actor = actor
    return trail


async def public_route() -> None:
    """Declares a route that needs no login (only the login itself)."""


public_route.declares_access = "public"  # type: ignore[attr-defined]

Trail = Annotated[AuditTrail, Depends(_actor_trail)]
AnonymousTrail = Annotated[AuditTrail, Depends(_trail)]
