"""Login, sessions (bearer and cookie), logout, expiry, lockout, the password policy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import NOW
from edubrain.serve import create_app
from edubrain.service.auth import PasswordPolicyError, create_user, password_problems, token_hash
from edubrain.service.deps import SESSION_COOKIE
from edubrain.service.policy import Role, Scope, ScopeError, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings

PASSWORD = "Kx9-grass-Lamp"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(
    backend: str, make_settings: Callable[..., Settings], clock: Clock
) -> Iterator[TestClient]:
    settings = make_settings(backend, session_ttl_minutes=30, login_max_failures=3)
    with open_store(settings) as store:
        create_user(
            store,
            settings,
            username="wang.li",
            password=PASSWORD,
            role=Role.SCHOOL_ADMIN,
            scope=Scope(ScopeLevel.SCHOOL, "3133010001"),
            display_name="王丽",
            now=NOW,
        )
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


def _login(client: TestClient, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": "wang.li", "password": password})


def test_login_gives_a_bearer_token_and_an_http_only_strict_cookie(client: TestClient) -> None:
    response = _login(client)
    assert response.status_code == 200
    token = response.json()["token"]
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}={token}" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    client.cookies.clear()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["role"] == "school_admin"
    assert me.json()["scope"] == {"level": "school", "key": "3133010001"}
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/api/v1/me").json()["username"] == "wang.li"


def test_without_a_session_everything_but_login_is_refused(client: TestClient) -> None:
    for path in ("/api/v1/me", "/api/v1/students", "/api/v1/schools", "/api/v1/audit"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_refusals_are_problems_with_a_detail(client: TestClient) -> None:
    """RFC 9457 bodies (`application/problem+json`), the `detail` clients read as before."""
    refused = client.get("/api/v1/me")
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json() == {
        "type": "urn:edubrain:problem:unauthenticated",
        "title": "未登录",
        "status": 401,
        "detail": "not logged in, or the session expired",
        "instance": "/api/v1/me",
    }
    failed = _login(client, "wrong")
    assert failed.status_code == 401 and failed.headers["www-authenticate"] == "Bearer"
    assert failed.json()["detail"] == "unknown user or wrong password"
    malformed = client.post("/api/v1/auth/login", json={"username": "wang.li"})
    assert malformed.status_code == 422
    assert malformed.headers["content-type"] == "application/problem+json"
    body = malformed.json()
    assert (body["title"], body["status"]) == ("请求格式无效", 422)
    assert body["errors"] == [
        {"loc": ["body", "password"], "msg": "Field required", "type": "missing"}
    ]
    nowhere = client.get("/api/v1/no-such-thing")
    assert nowhere.status_code == 404 and nowhere.json()["title"] == "未找到"


def test_logout_ends_the_session_at_once(client: TestClient) -> None:
    token = _login(client).json()["token"]
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_session_expires(client: TestClient, clock: Clock) -> None:
    token = _login(client).json()["token"]
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    clock.now = NOW + timedelta(minutes=29)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    clock.now = NOW + timedelta(minutes=30)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_session_revoked_elsewhere_stops_working_within_five_seconds(
    client: TestClient, clock: Clock
) -> None:
    """Revoked by another process (the CLI, a second server): docs/service.md promises ≤ 5 s."""
    token = _login(client).json()["token"]
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    store = client.app.state.services.store  # type: ignore[attr-defined]
    store.revoke_session(token_hash(token), now=NOW)
    clock.now = NOW + timedelta(seconds=5)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_three_failures_in_a_row_lock_the_account_then_it_unlocks(
    client: TestClient, clock: Clock
) -> None:
    assert _login(client, "wrong-1").status_code == 401
    assert _login(client, "wrong-2").status_code == 401
    locked = _login(client, "wrong-3")
    assert locked.status_code == 423
    # Locked: even the right password is refused until the lockout (15 min) has passed.
    assert _login(client).status_code == 423
    clock.now = NOW + timedelta(minutes=15, seconds=1)
    assert _login(client).status_code == 200


def test_a_success_resets_the_failure_count(client: TestClient) -> None:
    assert _login(client, "wrong-1").status_code == 401
    assert _login(client, "wrong-2").status_code == 401
    assert _login(client).status_code == 200
    assert _login(client, "wrong-3").status_code == 401
    assert _login(client, "wrong-4").status_code == 401
    assert _login(client).status_code == 200


def test_unknown_users_and_wrong_passwords_look_the_same(client: TestClient) -> None:
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    wrong = _login(client, "x")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_failed_and_successful_logins_are_audited(client: TestClient) -> None:
    _login(client, "wrong")
    _login(client)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    last_two = [r.entry for r in store.audit_records(descending=True, limit=2)]
    assert [(e.actor, e.action, e.outcome) for e in last_two] == [
        ("wang.li", "login", "ok"),
        ("wang.li", "login", "failed"),
    ]


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Kx9-grass-Lamp", 0),
        ("short1A-", 1),  # 8 characters
        ("alllowercaseletters", 1),  # one kind of character
        ("wang.li-Garden-42", 1),  # contains the user name
        ("password1234", 2),  # common, and only two kinds
    ],
)
def test_password_policy(password: str, problems: int) -> None:
    found = password_problems(password, username="wang.li", min_length=12)
    assert len(found) == problems, found


def test_accounts_refuse_weak_passwords_and_scopes_the_role_cannot_hold(
    backend: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(backend)
    with open_store(settings) as store:
        with pytest.raises(PasswordPolicyError, match="at least 12"):
            create_user(
                store, settings, username="li.na", password="Ab1-", role=Role.TEACHER,
                scope=Scope(ScopeLevel.SCHOOL, "3133010001"), display_name="", now=NOW,
            )  # fmt: skip
        with pytest.raises(ScopeError, match="a parent holds a scope of level self"):
            create_user(
                store, settings, username="li.na", password=PASSWORD, role=Role.PARENT,
                scope=Scope(ScopeLevel.COUNTY, "339901"), display_name="", now=NOW,
            )  # fmt: skip
