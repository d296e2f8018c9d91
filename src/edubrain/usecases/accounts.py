"""Local accounts of the service and its hash-chained audit trail, from outside the service."""

from __future__ import annotations

from datetime import UTC, datetime

from edubrain.service.auth import create_user
from edubrain.service.policy import Role, Scope
from edubrain.service.store import ChainReport, UserRecord, open_store
from edubrain.settings import Settings


def add_user(
    settings: Settings,
    *,
    username: str,
    password: str,
    role: Role,
    scope_level: str,
    scope_key: str,
    display_name: str = "",
) -> UserRecord:
    """A new local account; the password must meet the policy and the scope suit the role."""
    with open_store(settings) as store:
        return create_user(
            store,
            settings,
            username=username,
            password=password,
            role=role,
            scope=Scope.parse(scope_level, scope_key),
            display_name=display_name or username,
            now=datetime.now(UTC),
        )


def list_users(settings: Settings) -> list[UserRecord]:
    """Every account (the records hold password hashes, never passwords)."""
    with open_store(settings) as store:
        return store.list_users()


def verify_audit_chain(settings: Settings) -> ChainReport:
    """Check the audit chain; the report names the first record changed or deleted."""
    with open_store(settings) as store:
        return store.verify_audit_chain()


def audit_head(settings: Settings) -> tuple[int, str]:
    """The chain's head (seq and hash): kept elsewhere, it anchors the chain."""
    with open_store(settings) as store:
        return store.audit_head()
