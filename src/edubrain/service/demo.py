"""Demo accounts: one per role, each with a sensible scope on the synthetic county."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from edubrain.errors import EdubrainError
from edubrain.service.auth import create_user, generate_password
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: Role
    scope: Scope


def _pick_scopes(settings: Settings) -> dict[ScopeLevel, Scope]:
    with open_warehouse(settings) as wh:
        classes = wh.table("class")
        first_class = (
            classes.order_by([classes.school_code, classes.grade_code, classes.class_no])
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        if not first_class:
            raise EdubrainError("no classes in the warehouse: ingest a region first")
        c = first_class[0]
        students = wh.table("student")
        pupil = (
            students.filter(
                (students.school_code == c["school_code"])
                & (students.school_year == c["school_year"])
                & (students.grade_code == c["grade_code"])
                & (students.class_no == c["class_no"])
            )
            .order_by(students.student_number)
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        schools = wh.table("school")
        region = (
            schools.filter(schools.school_code == c["school_code"])
            .region_code.max()
            .to_pyarrow()
            .as_py()
        )
    county = Scope(ScopeLevel.COUNTY, str(region))
    scopes = {
        ScopeLevel.COUNTY: county,
        ScopeLevel.SCHOOL: Scope(ScopeLevel.SCHOOL, c["school_code"]),
        ScopeLevel.CLASS: Scope(
            ScopeLevel.CLASS,
            f"{c['school_code']}/{c['school_year']}/{c['grade_code']}/{c['class_no']}",
        ),
    }
    if pupil:
        scopes[ScopeLevel.SELF] = Scope(ScopeLevel.SELF, pupil[0]["student_number"])
    return scopes


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
                display_name=f"演示 {role.value}",
                now=now,
            )
            accounts.append(DemoAccount(username, password, role, scopes[level]))
    return accounts
