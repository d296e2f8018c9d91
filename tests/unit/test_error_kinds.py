"""Errors by kind: each error has one kind; HTTP problems and exit codes follow from the kind.

The expected statuses are HTTP's (RFC 9110, RFC 6585 for 429, RFC 4918 for 423), not read
off the code.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

import edubrain
from edubrain import errors
from edubrain.cli import main as cli_main
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
    kinds_of,
)
from edubrain.service import problems

# What each kind means in HTTP, from the RFCs.
HTTP_STATUS: dict[type[EdubrainError], int] = {
    InvalidInputError: 400,  # Bad Request
    UnauthenticatedError: 401,  # Unauthorized (with WWW-Authenticate)
    ForbiddenError: 403,  # Forbidden
    NotFoundError: 404,  # Not Found
    ConflictError: 409,  # Conflict: with the current state of the resource
    GoneError: 410,  # Gone: no longer available
    LockedError: 423,  # Locked
    TooManyRequestsError: 429,  # Too Many Requests (with Retry-After)
    UnavailableError: 503,  # Service Unavailable
}

# Errors with no kind on purpose: a bug or an engine failure, a 500 and exit 1.
KINDLESS = {"IndicatorError", "AccessNotDeclaredError"}


def _import_everything() -> None:
    for info in pkgutil.walk_packages(edubrain.__path__, "edubrain."):
        if info.name.endswith("__main__") or ".migrations" in info.name:
            continue  # runs the CLI; alembic's scripts run inside alembic
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:  # an optional backend (Spark) not installed
            if exc.name is not None and exc.name.startswith("edubrain"):
                raise


def _subclasses(cls: type[EdubrainError]) -> set[type[EdubrainError]]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def _raise(kind: type[EdubrainError], message: str = "what went wrong") -> EdubrainError:
    if kind is TooManyRequestsError:
        return TooManyRequestsError(message, retry_after=30)
    return kind(message)


def test_every_error_has_exactly_one_kind() -> None:
    _import_everything()
    everything = _subclasses(EdubrainError)
    assert len(everything) > 30
    wrong = {
        f"{cls.__module__}.{cls.__qualname__}": [k.__name__ for k in kinds_of(cls)]
        for cls in everything
        if cls.__module__.startswith("edubrain.")
        and len(kinds_of(cls)) != (0 if cls.__name__ in KINDLESS else 1)
    }
    assert wrong == {}
    assert set(errors.KINDS) == set(HTTP_STATUS)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()

    @app.get("/raise/{kind}/{key}")
    def raise_kind(kind: str, key: str) -> None:
        if kind == "none":
            raise EdubrainError(f"secret path /etc/{key}")
        raise _raise(next(k for k in HTTP_STATUS if k.__name__ == kind), f"no such {key}")

    @app.get("/parse")
    def parse(n: int = Query(ge=1)) -> dict[str, Any]:
        return {"n": n}

    problems.install(app)
    return TestClient(app)


@pytest.mark.parametrize("kind", list(HTTP_STATUS), ids=lambda k: k.__name__)
def test_each_kind_answers_a_problem(client: TestClient, kind: type[EdubrainError]) -> None:
    response = client.get(f"/raise/{kind.__name__}/k1")
    status = HTTP_STATUS[kind]
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance"}
    assert body["status"] == status
    assert body["type"].startswith("urn:edubrain:problem:")
    assert re.search(r"[\u4e00-\u9fff]", body["title"]), body["title"]  # Chinese
    assert body["instance"] == "/raise/{kind}/{key}"
    if status < 500:
        assert body["detail"] == "no such k1"
    else:
        assert "k1" not in body["detail"]  # a 5xx does not pass the message on


def test_titles_and_types_are_one_per_kind() -> None:
    types = [problems.BY_KIND[k] for k in HTTP_STATUS]
    assert len({t.uri for t in types}) == len({t.title for t in types}) == len(types)
    assert problems.BY_KIND[NotFoundError].title == "未找到"
    assert problems.BY_KIND[TooManyRequestsError].title == "请求过于频繁"


def test_the_headers_http_asks_for(client: TestClient) -> None:
    assert client.get("/raise/UnauthenticatedError/k").headers["www-authenticate"] == "Bearer"
    assert client.get("/raise/TooManyRequestsError/k").headers["retry-after"] == "30"


def test_an_error_of_no_kind_is_a_500_that_says_nothing(client: TestClient) -> None:
    response = client.get("/raise/none/k")
    assert response.status_code == 500
    body = response.json()
    assert body["detail"] == "internal error" and "/etc" not in response.text
    assert body["title"] == "内部错误"


def test_two_keys_that_are_not_there_answer_byte_for_byte_alike(client: TestClient) -> None:
    one = client.get("/raise/NotFoundError/G110105194912310021")
    other = client.get("/raise/NotFoundError/a-ref-sealed-elsewhere")
    assert one.status_code == other.status_code == 404
    assert one.json()["instance"] == "/raise/{kind}/{key}"
    # The detail names what was asked; what the body adds (instance, type, title) never does.
    assert one.json() | {"detail": ""} == other.json() | {"detail": ""}


def test_a_request_that_does_not_parse_is_a_422_problem(client: TestClient) -> None:
    response = client.get("/parse", params={"n": "zero"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["title"] == "请求格式无效" and body["status"] == 422
    assert body["errors"][0]["loc"] == ["query", "n"]
    assert "query.n" in body["detail"]
    assert "zero" not in response.text  # the input is not echoed


def test_the_frameworks_own_errors_are_problems(client: TestClient) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["title"] == "未找到"
    assert missing.headers["content-type"] == "application/problem+json"
    wrong_method = client.post("/parse")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/problem+json"
    assert "GET" in wrong_method.headers["allow"]


# ---- the CLI ---------------------------------------------------------------------------------

EXIT: dict[type[EdubrainError], int] = {
    InvalidInputError: 2,
    NotFoundError: 2,
    ConflictError: 2,
    GoneError: 2,
    LockedError: 3,
    TooManyRequestsError: 3,
    UnavailableError: 3,
    UnauthenticatedError: 4,
    ForbiddenError: 4,
}


@pytest.mark.parametrize(
    ("kind", "code"), [*EXIT.items(), (EdubrainError, 1)], ids=lambda v: getattr(v, "__name__", v)
)
def test_the_cli_exits_with_the_code_of_the_kind(
    kind: type[EdubrainError],
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def command() -> None:
        raise _raise(kind)

    monkeypatch.delenv("EDUBRAIN_DEBUG", raising=False)
    monkeypatch.setattr(cli_main, "build_app", lambda: None)
    monkeypatch.setattr(cli_main, "app", command)
    with pytest.raises(SystemExit) as exited:
        cli_main.run()
    assert exited.value.code == code
    assert capsys.readouterr().err == "edubrain: error: what went wrong\n"


def test_the_documented_table_is_the_one_used() -> None:
    doc = errors.__doc__ or ""
    rows = re.findall(r"^\| (\w+Error)\s*\| (\d{3})\s*\| (\S+)\s*\| (\d)\s*\|$", doc, re.M)
    kinds = {k.__name__: k for k in errors.KINDS}
    assert {name for name, *_ in rows} == set(kinds)
    for name, status, title, code in rows:
        kind = kinds[name]
        assert problems.BY_KIND[kind].status == int(status) == HTTP_STATUS[kind]
        assert problems.BY_KIND[kind].title == title
        assert cli_main.EXIT_CODES[kind] == int(code) == EXIT[kind]
