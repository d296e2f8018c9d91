"""Demo accounts: one per role, each with a sensible scope on the synthetic county."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from edubrain import installed
from edubrain.errors import ConfigError
from edubrain.service.auth import create_user, generate_password
from edubrain.service.policy import ROLE_LABELS, Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import Warehouse, open_warehouse


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    scope: Scope


@dataclass(frozen=True)
class DemoScopes:
    """How the demo picks one scope per level from the warehouse (a county, a school, a class,
    a pupil): declared by the module that holds the units and the persons (the roster). It is
    given the entities of every `DemoEvidence`, to pick a class and a pupil that have rows in
    them."""

    pick: Callable[[Warehouse, tuple[str, ...]], dict[ScopeLevel, Scope]]


@dataclass(frozen=True)
class DemoEvidence:
    """A module's records the demo's teacher, head teacher and parent should see: the demo
    picks their class and pupil among pupils with rows in `entity` (a table with a
    `student_number`), so their pages show it (exam item scores, practice responses)."""

    entity: str


def _pick_scopes(settings: Settings) -> dict[ScopeLevel, Scope]:
    found = installed.declared(DemoScopes)
    if len(found) != 1:
        raise ConfigError(f"the installed modules declare {len(found)} demo scopes; one is needed")
    evidence = tuple(e.entity for e in installed.declared(DemoEvidence))
    with open_warehouse(settings) as wh:
        return found[0].pick(wh, evidence)


_DEMO_LEVEL = {
    Role.BUREAU_LEADER: ScopeLevel.COUNTY,
    Role.DATA_ADMIN: ScopeLevel.COUNTY,
    Role.SCHOOL_ADMIN: ScopeLevel.SCHOOL,
    Role.TEACHER: ScopeLevel.CLASS,
    Role.HEAD_TEACHER: ScopeLevel.CLASS,
    Role.TEACHING_RESEARCHER: ScopeLevel.COUNTY,
    Role.PARENT: ScopeLevel.SELF,
    Role.STUDENT: ScopeLevel.SELF,
    Role.ENROLMENT_OFFICER: ScopeLevel.COUNTY,
    Role.PSYCH_TEACHER: ScopeLevel.SCHOOL,
    Role.AUDITOR: ScopeLevel.COUNTY,
    Role.APP_VENDOR: ScopeLevel.SCHOOL,
}


def create_demo_accounts(settings: Settings) -> list[DemoAccount]:
    """Create `demo_<role>` for every role with a fresh random password (shown only once)."""
    scopes = _pick_scopes(settings)
    accounts = []
    now = datetime.now(UTC)
    with open_store(settings) as store:
        for role, level in _DEMO_LEVEL.items():
            if level not in scopes:
                continue
            password = generate_password()
            username = f"demo_{role.value}"
            create_user(
                store,
                settings,
                username=username,
                password=password,
                role=role,
                scope=scopes[level],
                display_name=f"演示{ROLE_LABELS[role]}",
                now=now,
            )
            accounts.append(DemoAccount(username, password, role, scopes[level]))
    return accounts
