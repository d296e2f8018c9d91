"""Errors as HTTP problem responses (RFC 9457, `application/problem+json`), by kind, in one place.

Every error answer of the API is a problem: an `EdubrainError` by its kind (`edubrain.errors`),
the framework's own HTTP errors (no such route, method not allowed) by their status, and a
request that does not parse (422) with the list of what is wrong. A problem has

- `type`: `urn:edubrain:problem:<slug>`, one per kind (the slugs are in `PROBLEM_TYPES`);
- `title`: the kind in Chinese (the users are bureau staff), the same for every problem of a type;
- `status`: the HTTP status;
- `detail`: what went wrong this time (English, like the CLI's one line). A 5xx never carries
  the error's own message, which may name files or SQL: it is logged with the request id;
- `instance`: the request's path with its path parameters as `{name}`, so a body never echoes a
  key it was asked for: a key seen masked and a key that does not exist answer byte for byte
  alike. The occurrence itself is the `X-Request-ID` header (and the audit trail);
- for 422 only, `errors`: each field's location, message and type (never the input).

A 401 says `WWW-Authenticate: Bearer`; a 429 says `Retry-After`. The cockpit shows the same
problem as a page for its own paths (`render_pages_with`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from edubrain.errors import (
    ConflictError,
    EdubrainError,
    ForbiddenError,
    GoneError,
    InvalidInputError,
    LockedError,
    NotFoundError,
    TooManyRequestsError,
    UnauthenticatedError,
    UnavailableError,
    kind_of,
)

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:edubrain:problem:"


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str

    @property
    def uri(self) -> str:
        return TYPE_PREFIX + self.slug


# Kind → problem type: the one table. A kind's subclasses answer alike.
BY_KIND: Mapping[type[EdubrainError], ProblemType] = {
    InvalidInputError: ProblemType("invalid-input", 400, "输入无效"),
    UnauthenticatedError: ProblemType("unauthenticated", 401, "未登录"),
    ForbiddenError: ProblemType("forbidden", 403, "没有权限"),
    NotFoundError: ProblemType("not-found", 404, "未找到"),
    ConflictError: ProblemType("conflict", 409, "冲突"),
    GoneError: ProblemType("gone", 410, "已失效"),
    LockedError: ProblemType("locked", 423, "已锁定"),
    TooManyRequestsError: ProblemType("too-many-requests", 429, "请求过于频繁"),
    UnavailableError: ProblemType("unavailable", 503, "暂不可用"),
}
REQUEST_VALIDATION = ProblemType("request-validation", 422, "请求格式无效")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", 405, "不支持该请求方法")
CONTENT_TOO_LARGE = ProblemType("content-too-large", 413, "内容过大")
INTERNAL = ProblemType("internal", 500, "内部错误")
PROBLEM_TYPES: tuple[ProblemType, ...] = (
    *BY_KIND.values(),
    REQUEST_VALIDATION,
    METHOD_NOT_ALLOWED,
    CONTENT_TOO_LARGE,
    INTERNAL,
)
_BY_STATUS = {t.status: t for t in PROBLEM_TYPES}

# What a 5xx says instead of the error's message.
_HIDDEN = {
    500: "internal error",
    503: "the service cannot do this now; try again later, or ask the operator",
}


@dataclass(frozen=True)
class Problem:
    """One problem, before it is given an `instance` and written out."""

    type: ProblemType
    detail: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return self.type.status

    @property
    def title(self) -> str:
        return self.type.title

    def body(self, instance: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type.uri,
            "title": self.type.title,
            "status": self.type.status,
            "detail": self.detail,
        }
        if instance is not None:
            out["instance"] = instance
        return out | self.extensions


def _headers_of(kind: type[EdubrainError] | None, exc: BaseException) -> dict[str, str]:
    if kind is UnauthenticatedError:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, TooManyRequestsError):
        return {"Retry-After": str(max(1, exc.retry_after))}
    return {}


def problem_for(exc: BaseException) -> Problem:
    """The problem an error answers with: by kind, never by concrete class."""
    if isinstance(exc, RequestValidationError):
        errors = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
        return Problem(
            REQUEST_VALIDATION, detail or "invalid request", extensions={"errors": errors}
        )
    if isinstance(exc, StarletteHTTPException):
        # The framework's own (no such route, method not allowed); routes raise kinds.
        kind_type = _BY_STATUS.get(exc.status_code)
        if kind_type is None:
            kind_type = ProblemType(f"http-{exc.status_code}", exc.status_code, "出错了")
        return Problem(kind_type, str(exc.detail), headers=dict(exc.headers or {}))
    kind = kind_of(exc)
    ptype = BY_KIND[kind] if kind is not None else INTERNAL
    detail = _HIDDEN.get(ptype.status, str(exc))
    return Problem(ptype, detail, headers=_headers_of(kind, exc))


def instance_of(request: Request) -> str:
    """The request's path with each path parameter as `{name}` (it never echoes a key)."""
    path = request.url.path
    for name, value in request.path_params.items():
        text = str(value)
        if not text:
            continue
        # The right-most whole-segment occurrence: parameters come after the fixed prefix.
        matches = list(re.finditer(rf"/{re.escape(text)}(?=/|$)", path))
        if matches:
            m = matches[-1]
            path = f"{path[: m.start()]}/{{{name}}}{path[m.end() :]}"
    return path


def problem_response(problem: Problem, instance: str | None) -> JSONResponse:
    return JSONResponse(
        problem.body(instance),
        status_code=problem.status,
        headers=problem.headers or None,
        media_type=MEDIA_TYPE,
    )


PageRenderer = Callable[[Request, Problem], Response | None]
_PAGES_KEY = "problem_pages"


def render_pages_with(app: FastAPI, render: PageRenderer) -> None:
    """Let a UI answer a problem on its own paths with a page (`render` returns None to leave
    the request to problem+json)."""
    setattr(app.state, _PAGES_KEY, render)


async def _handle(request: Request, exc: Exception) -> Response:
    problem = problem_for(exc)
    if problem.status >= 500:
        log.error(
            "request %s failed: %s: %s",
            getattr(request.state, "request_id", "-"),
            type(exc).__name__,
            exc,
        )
    render: PageRenderer | None = getattr(request.app.state, _PAGES_KEY, None)
    if render is not None:
        page = render(request, problem)
        if page is not None:
            return page
    return problem_response(problem, instance_of(request))


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `title` is in Chinese, one per `type`.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "examples": [TYPE_PREFIX + "not-found"]},
        "title": {"type": "string", "examples": ["未找到"]},
        "status": {"type": "integer", "examples": [404]},
        "detail": {"type": "string"},
        "instance": {"type": "string", "examples": ["/api/v1/students/{student_ref}"]},
        "errors": {
            "type": "array",
            "description": "For 422 only: what is wrong with the request, field by field.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    """Every API operation answers its errors as problems: 422 and the default response."""
    ref = {"$ref": "#/components/schemas/Problem"}
    content = {MEDIA_TYPE: {"schema": ref}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses")
            if not isinstance(responses, dict):
                continue
            if "422" in responses:
                responses["422"] = {"description": "请求格式无效", "content": content}
            responses.setdefault(
                "default", {"description": "A problem (RFC 9457)", "content": content}
            )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    text = repr(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}'" not in text:
            schemas.pop(unused, None)
    return schema


def install(app: FastAPI) -> None:
    """Answer every error as a problem, and say so in the OpenAPI document."""
    for caught in (EdubrainError, StarletteHTTPException, RequestValidationError):
        app.add_exception_handler(caught, _handle)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _document(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
