"""Authentication: local accounts (argon2id), the password policy, login sessions, lockout.

A bureau's unified identity (统一身份认证, OIDC) plugs in through `IdentityProvider`: it turns a
verified external login into a local username; roles and scopes stay edubrain's (see
docs/service.md). Only local accounts are implemented.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from edubrain.errors import InvalidInputError, LockedError, UnauthenticatedError
from edubrain.sealing import sealer_for
from edubrain.service.policy import Actor, Role, Scope, ScopeLevel, check_role_scope
from edubrain.service.store import Store, UserRecord
from edubrain.settings import Settings

# A small list of passwords every guesser tries first; the policy refuses them outright.
_COMMON = frozenset(
    {
        "password1234",
        "123456789012",
        "qwertyuiop12",
        "admin1234567",
        "edubrain1234",
        "1qaz2wsx3edc",
        "woaini1314520",
        "abc123456789",
    }
)


class AuthError(UnauthenticatedError):
    """Login failed: unknown user or wrong password (never says which)."""


class AccountLockedError(LockedError):
    """Too many failed logins in a row; the account is locked until `until`.

    The message is the same for every account, and for names that are no account (they lock
    alike, see `UnknownNameFailures`): the answer must not tell which names exist.
    """

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__("too many failed logins: try again later")


class InvalidAccountError(InvalidInputError):
    """An account that cannot be created as asked (bad user name)."""


class PasswordPolicyError(InvalidInputError):
    """A new password the policy refuses; the message lists every problem."""


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """Everything wrong with a new password (empty when it is acceptable)."""
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters")
    kinds = sum(
        bool(re.search(pattern, password))
        for pattern in (r"[a-z]", r"[A-Z]", r"\d", r"[^a-zA-Z\d]")
    )
    if kinds < 3:
        problems.append("three of: lower-case, upper-case, digits, other characters")
    if username and username.lower() in password.lower():
        problems.append("must not contain the user name")
    if password.lower() in _COMMON:
        problems.append("is a commonly used password")
    return problems


def check_password_policy(password: str, *, username: str, settings: Settings) -> None:
    problems = password_problems(
        password, username=username, min_length=settings.password_min_length
    )
    if problems:
        raise PasswordPolicyError("password policy: " + "; ".join(problems))


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(
        time_cost=settings.password_hash_time_cost,
        memory_cost=settings.password_hash_memory_kib,
    )


def token_hash(token: str) -> str:
    """Sessions are stored by the SHA-256 of their token; the token itself is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def generate_password() -> str:
    """A random password that meets the default policy (demo accounts)."""
    while True:
        candidate = secrets.token_urlsafe(12) + "-7Q"
        if not password_problems(candidate, username="", min_length=12):
            return candidate


def create_user(
    store: Store,
    settings: Settings,
    *,
    username: str,
    password: str,
    role: Role,
    scope: Scope,
    display_name: str,
    now: datetime,
) -> UserRecord:
    """A new local account; the password must meet the policy and the scope suit the role."""
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,64}", username):
        raise InvalidAccountError(f"user name {username!r}: 3-64 letters, digits or _.@-")
    scope.validate()
    check_role_scope(role, scope)
    check_password_policy(password, username=username, settings=settings)
    sealer = sealer_for(settings)
    if sealer is not None and scope.level is ScopeLevel.SELF:
        # The 学籍号s of a self scope are kept as the warehouse keeps them: sealed.
        scope = Scope(scope.level, ";".join(map(sealer.seal_student_number, scope.student_numbers)))
    return store.create_user(
        username=username,
        display_name=display_name,
        role=role.value,
        scope_level=scope.level.value,
        scope_key=scope.key,
        password_hash=password_hasher(settings).hash(password),
        now=now,
    )


@dataclass(frozen=True)
class Session:
    token: str
    expires_at: datetime
    user: UserRecord


class UnknownNameFailures:
    """Failed logins under names that are no account (or a disabled one), counted and locked
    exactly as `Store.record_login_failure` does for accounts, so that an unknown name answers
    401 and then 423 like a real one and the lockout tells no names apart. Kept per process
    (a real account's count is shared through the store): with several workers an unknown name
    locks in each after `login_max_failures` failures there.
    """

    def __init__(self, size: int = 1 << 16) -> None:
        self._size = size
        self._state: dict[str, tuple[int, datetime | None]] = {}
        self._lock = threading.Lock()

    def locked_until(self, username: str, now: datetime) -> datetime | None:
        with self._lock:
            _, until = self._state.get(username.lower(), (0, None))
        return until if until is not None and until > now else None

    def fail(self, username: str, *, max_failures: int, lock_until: datetime) -> datetime | None:
        """Count a failure; the lock's end once `max_failures` are reached in a row."""
        name = username.lower()
        with self._lock:
            failures, _ = self._state.get(name, (0, None))
            failures += 1
            if len(self._state) >= self._size and name not in self._state:
                del self._state[next(iter(self._state))]
            if failures >= max_failures:
                self._state[name] = (0, lock_until)
                return lock_until
            self._state[name] = (failures, None)
            return None


def login(
    store: Store,
    settings: Settings,
    username: str,
    password: str,
    now: datetime,
    *,
    unknown: UnknownNameFailures | None = None,
) -> Session:
    """Check the password; on success open a session, on failure count towards lockout.

    Unknown names, disabled accounts, locked accounts and wrong passwords all cost one argon2
    verification, and a name that is no account locks like one (with `unknown`): status, body
    and time do not tell which names exist.
    """
    user = store.user_by_name(username)
    hasher = password_hasher(settings)
    if user is None or user.is_disabled:
        # Spend the same time as a real check so timing does not reveal which names exist.
        _burn(hasher, password)
        if unknown is not None:
            locked = unknown.locked_until(username, now) or unknown.fail(
                username,
                max_failures=settings.login_max_failures,
                lock_until=now + timedelta(minutes=settings.login_lockout_minutes),
            )
            if locked is not None:
                raise AccountLockedError(locked)
        raise AuthError("unknown user or wrong password")
    if user.locked_until is not None and user.locked_until > now:
        _burn(hasher, password)
        raise AccountLockedError(user.locked_until)
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        updated = store.record_login_failure(
            user.user_id,
            max_failures=settings.login_max_failures,
            lock_until=now + timedelta(minutes=settings.login_lockout_minutes),
        )
        if updated.locked_until is not None and updated.locked_until > now:
            raise AccountLockedError(updated.locked_until) from None
        raise AuthError("unknown user or wrong password") from None
    store.record_login_success(user.user_id)
    if hasher.check_needs_rehash(user.password_hash):
        store.set_password_hash(user.user_id, hasher.hash(password))
    return open_session(store, settings, user, now)


def open_session(store: Store, settings: Settings, user: UserRecord, now: datetime) -> Session:
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=settings.session_ttl_minutes)
    store.create_session(user.user_id, token_hash(token), now=now, expires_at=expires_at)
    return Session(token, expires_at, user)


_BURN_HASH: dict[tuple[int, int], str] = {}


def _burn(hasher: PasswordHasher, password: str) -> None:
    """One argon2 verification of `password` against a dummy hash of the same parameters:
    the work a real check does, for a login that has no hash to check against."""
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _BURN_HASH:
        _BURN_HASH[key] = hasher.hash(secrets.token_hex(16))
    with contextlib.suppress(VerificationError, InvalidHashError):
        hasher.verify(_BURN_HASH[key], password)


def _session_actor(store: Store, hashed: str, now: datetime) -> tuple[Actor, datetime] | None:
    """The caller a session stands for and when it expires, or None (unknown, expired,
    revoked, disabled)."""
    session = store.session(hashed)
    if session is None or session.revoked_at is not None or session.expires_at <= now:
        return None
    user = store.user(session.user_id)
    if user.is_disabled:
        return None
    return actor_of(user), session.expires_at


@dataclass(frozen=True)
class _Seen:
    actor: Actor
    expires_at: datetime
    recheck_at: datetime


class RecentSessions:
    """The callers of recently used session tokens, so that a burst of requests does not look
    the same session up in the store each time.

    A token is looked up again after `recheck` (default 5 s), and at once after a logout
    through this service. A session revoked or a user disabled elsewhere (the CLI, another
    process) stops working within `recheck`; expiry is exact.
    """

    def __init__(self, recheck: timedelta = timedelta(seconds=5), size: int = 4096) -> None:
        self._recheck = recheck
        self._size = size
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def actor(self, store: Store, token: str, now: datetime) -> Actor | None:
        hashed = token_hash(token)
        with self._lock:
            seen = self._seen.get(hashed)
        if seen is not None and now < seen.recheck_at and now < seen.expires_at:
            return seen.actor
        found = _session_actor(store, hashed, now)
        with self._lock:
            if found is None:
                self._seen.pop(hashed, None)
                return None
            if len(self._seen) >= self._size:
                self._seen.clear()
            self._seen[hashed] = _Seen(found[0], found[1], now + self._recheck)
        return found[0]

    def forget(self, token: str) -> None:
        with self._lock:
            self._seen.pop(token_hash(token), None)


def actor_of(user: UserRecord) -> Actor:
    return Actor(
        user_id=user.user_id,
        username=user.username,
        display_name=user.display_name,
        role=Role(user.role),
        scope=Scope.parse(user.scope_level, user.scope_key),
    )


class IdentityProvider(Protocol):
    """A bureau's unified identity (统一身份认证), e.g. an OIDC provider. Not implemented.

    The service would redirect to `authorization_url`, receive the code at its callback, and
    ask `username_for_code` which local account the verified identity maps to (by a claim
    such as 工号 or a directory id). The local account keeps its role and scope; a session is
    opened exactly as for a password login. See docs/service.md.
    """

    def authorization_url(self, *, state: str, redirect_uri: str) -> str:
        """Where to send the browser to log in at the bureau's identity service."""
        ...

    def username_for_code(self, *, code: str, redirect_uri: str) -> str | None:
        """Exchange the callback's code, verify the ID token, return the local user name."""
        ...
