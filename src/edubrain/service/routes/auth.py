"""Login, logout and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from edubrain.service.auth import AccountLockedError, AuthError, login, token_hash
from edubrain.service.deps import (
    SESSION_COOKIE,
    AnonymousTrail,
    ServicesDep,
    Trail,
    public_route,
    require,
)
from edubrain.service.policy import ROLE_PERMISSIONS, Actor, Permission, clearance
from edubrain.service.schemas import LoginRequest, LoginResponse, Me, ScopeOut

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/login",
    response_model=LoginResponse,
    dependencies=[Depends(public_route)],
    responses={
        401: {"description": "Unknown user or wrong password"},
        423: {"description": "Locked"},
    },
)
def post_login(
    body: LoginRequest, response: Response, services: ServicesDep, trail: AnonymousTrail
) -> LoginResponse:
    """Log in with a local account: a bearer token, and the same token as an HttpOnly cookie."""
    now = services.clock()
    try:
        session = login(
            services.store,
            services.settings,
            body.username,
            body.password,
            now,
            unknown=services.unknown_logins,
        )
    except AccountLockedError:
        trail.record("login", "session", outcome="locked", actor_name=body.username)
        raise
    except AuthError:
        trail.record("login", "session", outcome="failed", actor_name=body.username)
        raise
    trail.record("login", "session", actor_name=body.username)
    response.set_cookie(
        SESSION_COOKIE,
        session.token,
        max_age=services.settings.session_ttl_minutes * 60,
        httponly=True,
        samesite="strict",
        secure=services.settings.session_cookie_secure,
        path="/",
    )
    return LoginResponse(token=session.token, expires_at=session.expires_at)


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[require(Permission.ME_READ)],
)
def post_logout(
    request: Request,
    response: Response,
    services: ServicesDep,
    trail: Trail,
) -> None:
    """End this session (the token stops working at once)."""
    header = request.headers.get("authorization", "")
    token = (
        header[7:] if header.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    )
    if token:
        services.store.revoke_session(token_hash(token), now=services.clock())
        services.sessions.forget(token)
    trail.record("logout", "session")
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=Me)
def get_me(actor: Annotated[Actor, require(Permission.ME_READ)]) -> Me:
    """The caller: role, scope, what the role may do and which data classes it reads in clear."""
    return Me(
        username=actor.username,
        display_name=actor.display_name,
        role=actor.role.value,
        scope=ScopeOut(level=actor.scope.level.value, key=actor.scope.key),
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[actor.role]),
        sees_in_clear=sorted(c.value for c in clearance(actor.role)),
    )
