"""Accounts for tests: a user with a role and a scope, and a live session as request headers.

Importable from every test folder (the root conftest puts `tests/` on the path).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from edubrain.service.auth import token_hash
from edubrain.service.policy import Role, Scope
from edubrain.service.store import Store


def bearer_for(
    store: Store, username: str, role: Role, scope: Scope, *, created: datetime | None = None
) -> dict[str, str]:
    """A new user with this role and scope (created at `created`, default now) and a session
    live for an hour (no password round trip): the headers that act as them."""
    now = datetime.now(UTC)
    user = store.create_user(
        username=username,
        display_name=username,
        role=role.value,
        scope_level=scope.level.value,
        scope_key=scope.key,
        password_hash="-",
        now=created or now,
    )
    token = secrets.token_urlsafe(16)
    store.create_session(
        user.user_id, token_hash(token), now=now, expires_at=now + timedelta(hours=1)
    )
    return {"Authorization": f"Bearer {token}"}
