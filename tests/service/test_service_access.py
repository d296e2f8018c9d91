"""Property: for any user, role, scope and endpoint, no response carries a record outside the
caller's scope, and no sensitive or core value reaches a role without the right unmasked.

The expectations are written out here from docs/service.md (the roles × permissions table and
the masking table), and the records each scope covers are computed in plain Python from the
warehouse's rows — not by the service's own policy code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import County, bearer_for
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import Store
from edubrain.settings import Settings
from edubrain.standard.entities import Check, entity

R = Role
# docs/service.md, "Roles": who reads which personal records, at which scope levels.
READS_STUDENTS = set(Role) - {R.AUDITOR}
READS_TEACHERS = {
    R.BUREAU_LEADER,
    R.DATA_ADMIN,
    R.SCHOOL_ADMIN,
    R.TEACHER,
    R.HEAD_TEACHER,
    R.TEACHING_RESEARCHER,
    R.APP_VENDOR,
}
REGION = {"province", "city", "county"}
LEVELS = {
    R.BUREAU_LEADER: REGION,
    R.DATA_ADMIN: REGION,
    R.SCHOOL_ADMIN: {"school"},
    R.TEACHER: {"class", "school"},
    R.HEAD_TEACHER: {"class"},
    R.TEACHING_RESEARCHER: REGION,
    R.PARENT: {"self"},
    R.STUDENT: {"self"},
    R.ENROLMENT_OFFICER: REGION,
    R.PSYCH_TEACHER: {"school"},
    R.AUDITOR: REGION,
    R.APP_VENDOR: {"school", "county"},
}
# docs/service.md, "Masking": the protected classes each role reads in clear.
SENSITIVE, CORE = "敏感", "核心"
CLEAR = {
    R.BUREAU_LEADER: set(),
    R.DATA_ADMIN: {SENSITIVE},
    R.SCHOOL_ADMIN: {SENSITIVE},
    R.TEACHER: {SENSITIVE},
    R.HEAD_TEACHER: {SENSITIVE},
    R.TEACHING_RESEARCHER: set(),
    R.PARENT: {SENSITIVE, CORE},
    R.STUDENT: {SENSITIVE, CORE},
    R.ENROLMENT_OFFICER: {SENSITIVE, CORE},
    R.PSYCH_TEACHER: {SENSITIVE},
    R.AUDITOR: set(),
    R.APP_VENDOR: set(),
}
PREFIX = {"province": 2, "city": 4, "county": 6}


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date | datetime) else str(value)


def _class_key(row: dict) -> str:
    return f"{row['school_code']}/{row['school_year']}/{row['grade_code']}/{row['class_no']}"


@dataclass
class Expect:
    """What a scope covers, computed directly from the county's rows."""

    county: County
    students: dict[str, dict] = field(init=False)
    teachers: dict[str, dict] = field(init=False)

    def __post_init__(self) -> None:
        self.students = {s["student_number"]: s for s in self.county.students}
        self.teachers = {t["staff_number"]: t for t in self.county.teachers}

    def _schools(self, level: str, key: str) -> set[str]:
        if level in REGION:
            prefix = key[: PREFIX[level]]
            return {
                s["school_code"]
                for s in self.county.schools
                if s["region_code"][: len(prefix)] == prefix
            }
        if level == "school":
            return {key}
        return set()

    def student_ids(self, level: str, key: str) -> set[str]:
        if level in REGION or level == "school":
            schools = self._schools(level, key)
            return {n for n, s in self.students.items() if s["school_code"] in schools}
        if level == "class":
            return {n for n, s in self.students.items() if _class_key(s) == key}
        return set(key.split(";")) & set(self.students)

    def teacher_ids(self, level: str, key: str) -> set[str]:
        if level in REGION or level == "school":
            schools = self._schools(level, key)
            return {n for n, t in self.teachers.items() if t["school_code"] in schools}
        if level == "class":
            staff = {a["staff_number"] for a in self.county.assignments if _class_key(a) == key}
            staff |= {
                c["head_teacher_staff_number"]
                for c in self.county.classes
                if _class_key(c) == key and c["head_teacher_staff_number"]
            }
            return staff & set(self.teachers)
        return set()


class Api:
    """The app under test, and a way to become any user. (A plain class: Hypothesis prints it.)"""

    def __init__(self, client: TestClient, store: Store, expect: Expect) -> None:
        self.client, self.store, self.expect = client, store, expect
        self.made = 0

    def __repr__(self) -> str:
        return f"Api(users made: {self.made})"

    def record_key(self, item: dict) -> str:
        """The key of a listed record, from its `ref` (its key field may be masked)."""
        opened = self.client.app.state.services.refs.open(item["ref"])  # type: ignore[attr-defined]
        assert opened is not None, item["ref"]
        return str(opened)

    def login_as(self, role: Role, level: str, key: str) -> dict[str, str]:
        """A user with this role and scope and a live session (no password round trip)."""
        self.made += 1
        name = f"u{self.made}_{role.value}"
        return bearer_for(self.store, name, role, Scope(ScopeLevel(level), key))


@pytest.fixture
def api(backend: str, make_settings: Callable[..., Settings], county: County) -> Iterator[Api]:
    # Many users share the test client's address: no lookup limit by address here.
    settings = make_settings(backend, county=county, lookup_miss_limit_per_address=1_000_000)
    with TestClient(create_app(settings)) as client:
        yield Api(client, client.app.state.services.store, Expect(county))  # type: ignore[attr-defined]


def _scope_keys(county: County) -> dict[str, list[str]]:
    counties = sorted({s["region_code"] for s in county.schools})
    return {
        "county": [*counties, "110101"],
        "city": [*sorted({c[:4] + "00" for c in counties}), "110100"],
        "province": [*sorted({c[:2] + "0000" for c in counties}), "110000"],
        "school": [*sorted(s["school_code"] for s in county.schools), "1100000001"],
        "class": [*sorted(_class_key(c) for c in county.classes), "1100000001/2025-2026/11/1"],
    }


def _check_masking(role: Role, entity_name: str, item: dict, truth: dict) -> None:
    sealer = sealer_for(Settings())
    assert sealer is not None
    for f in entity(entity_name).fields:
        raw, shown = truth.get(f.name), item[f.name]
        if raw is None:
            assert shown is None, f.name
            continue
        if f.check in (Check.ID_NUMBER, Check.STUDENT_NUMBER):
            # Stored sealed (decision 0011); only a 核心 role ever sees them opened.
            sealed, raw = raw, sealer.open_text(raw)
            assert raw != sealed or (not raw.startswith("G") and f.name == "student_number")
        if f.name == "student_number" and not sees_key(role, raw):
            # Decision 0013: a G 学籍号 is G + the ID number (核心), a J or L one embeds the
            # birth date (敏感); masked, only the letter is left.
            assert shown == raw[0] + "*" * 18, (role, shown)
            continue
        if f.data_class.value not in (SENSITIVE, CORE) or f.data_class.value in CLEAR[role]:
            assert shown == (_text(raw) if f.data_class.value in (SENSITIVE, CORE) else raw)
            continue
        # Masked: stars, and never the clear value anywhere in the response.
        assert "*" in shown, (role, f.name, shown)
        assert _text(raw) not in shown or len(_text(raw)) <= 1, (role, f.name, shown)
        if f.name == "id_number":
            assert shown == "*" * len(raw), "no digit of an ID number (decision 0013)"
        if f.name == "name" and len(raw) >= 3:
            assert shown == raw[0] + "*" * (len(raw) - 2) + raw[-1]


def sees_key(role: Role, student_number: str) -> bool:
    """Whether the role sees this 学籍号 in clear (and may address a record by it)."""
    needs = CORE if student_number[0] == "G" else SENSITIVE
    return needs in CLEAR[role]


ENDPOINTS = ["students", "student", "teachers", "teacher"]


@dataclass(frozen=True)
class Case:
    role: Role
    level_choice: int
    allowed_level: bool  # mostly a level the role may hold; sometimes any (must be refused)
    pick: int  # which scope key (or which 学籍号s for a self scope)
    extra_unknown_pupil: bool
    endpoint: str
    school_filter: int | None
    limit: int
    record: int
    prefer_in_scope: bool


cases = st.builds(
    Case,
    role=st.sampled_from(list(Role)),
    level_choice=st.integers(0, 5),
    allowed_level=st.booleans() | st.just(True),
    pick=st.integers(0, 10_000),
    extra_unknown_pupil=st.booleans(),
    endpoint=st.sampled_from(ENDPOINTS),
    school_filter=st.none() | st.integers(0, 100),
    limit=st.sampled_from([17, 500]),
    record=st.integers(0, 10_000),
    prefer_in_scope=st.booleans(),
)


ALL_LEVELS = ["province", "city", "county", "school", "class", "self"]


def _level(case: Case) -> str:
    options = sorted(LEVELS[case.role]) if case.allowed_level else ALL_LEVELS
    return options[case.level_choice % len(options)]


def _scope_key(api: Api, case: Case, level: str) -> str:
    if level == "self":
        students = sorted(api.expect.students)
        picked = [students[case.pick % len(students)], students[(case.pick * 7) % len(students)]]
        picked = picked[: 1 + case.pick % 2]
        return ";".join(picked + (["G000000000000000000"] if case.extra_unknown_pupil else []))
    options = _scope_keys(api.expect.county)[level]
    return options[case.pick % len(options)]


def _check(
    api: Api,
    role: Role,
    level: str,
    key: str,
    endpoint: str,
    *,
    school: str | None = None,
    limit: int = 500,
    record: int = 0,
    prefer_in_scope: bool = True,
) -> None:
    """Call one endpoint as this user and hold the answer against the expectation."""
    headers = api.login_as(role, level, key)
    entity_name = "student" if endpoint.startswith("student") else "teacher"
    truth = api.expect.students if entity_name == "student" else api.expect.teachers
    reads = READS_STUDENTS if entity_name == "student" else READS_TEACHERS
    permitted = role in reads and level in LEVELS[role]
    in_scope = (
        api.expect.student_ids(level, key)
        if entity_name == "student"
        else api.expect.teacher_ids(level, key)
    )
    if endpoint.endswith("s"):
        wanted = {k for k in in_scope if school is None or truth[k]["school_code"] == school}
        seen: list[str] = []
        params: dict[str, Any] = {"limit": limit}
        if school is not None:
            params["school_code"] = school
        complete = False
        for _ in range(6):
            response = api.client.get(f"/api/v1/{endpoint}", params=params, headers=headers)
            if not permitted:
                assert response.status_code == 403, response.text
                return
            assert response.status_code == 200, response.text
            body = response.json()
            for item in body["items"]:
                record = api.record_key(item)
                assert record in wanted, (role, level, key, record)
                _check_masking(role, entity_name, item, truth[record])
                if CORE not in CLEAR[role] and record.startswith("G"):
                    assert record[1:] not in response.text, "an ID number inside a 学籍号"
                seen.append(record)
            if body["next_cursor"] is None:
                complete = True
                break
            params["cursor"] = body["next_cursor"]
        assert seen == sorted(set(seen)), "pages overlap or are out of order"
        if complete:
            assert set(seen) == wanted
        return
    pool = sorted(in_scope) if in_scope and prefer_in_scope else sorted(truth)
    record_id = pool[record % len(pool)]
    address = record_id
    if entity_name == "student" and not sees_key(role, record_id):
        # A key the role sees masked is no address: the same 404 as a record that is not there.
        guess = api.client.get(f"/api/v1/{endpoint}s/{record_id}", headers=headers)
        assert guess.status_code == (404 if permitted else 403), (role, guess.text)
        address = api.client.app.state.services.refs.seal(record_id)  # type: ignore[attr-defined]
    response = api.client.get(f"/api/v1/{endpoint}s/{address}", headers=headers)
    if not permitted:
        assert response.status_code == 403
    elif record_id in in_scope:
        assert response.status_code == 200, response.text
        _check_masking(role, entity_name, response.json(), truth[record_id])
    else:
        assert response.status_code == 404
        assert record_id not in response.text


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases)
def test_no_out_of_scope_record_and_no_unmasked_sensitive_field(api: Api, case: Case) -> None:
    level = _level(case)
    schools = _scope_keys(api.expect.county)["school"]
    _check(
        api,
        case.role,
        level,
        _scope_key(api, case, level),
        case.endpoint,
        school=None if case.school_filter is None else schools[case.school_filter % len(schools)],
        limit=case.limit,
        record=case.record,
        prefer_in_scope=case.prefer_in_scope,
    )


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_role_at_every_level_it_may_hold(api: Api) -> None:
    """The whole matrix once, deterministically (the store plays no part in it)."""
    for role in Role:
        for level in sorted(LEVELS[role]):
            case = Case(role, 0, True, 0, False, "students", None, 500, 0, True)
            key = _scope_key(api, case, level)
            for endpoint in ENDPOINTS:
                if endpoint.endswith("s"):
                    _check(api, role, level, key, endpoint)
                    continue
                for record, in_scope_first in ((0, True), (5, False)):
                    _check(
                        api,
                        role,
                        level,
                        key,
                        endpoint,
                        record=record,
                        prefer_in_scope=in_scope_first,
                    )


def test_every_read_is_in_the_audit_trail(api: Api) -> None:
    school = api.expect.county.schools[0]["school_code"]
    headers = api.login_as(R.SCHOOL_ADMIN, "school", school)
    headers["X-Purpose"] = quote("学籍核查")  # HTTP headers are Latin-1: UTF-8, percent-encoded
    response = api.client.get("/api/v1/students", params={"limit": 5}, headers=headers)
    assert response.status_code == 200
    returned = [api.record_key(item) for item in response.json()["items"]]
    request_id = response.headers["X-Request-ID"]
    last = api.store.audit_records(descending=True, limit=1)[0].entry
    assert (last.actor, last.role, last.scope) == (
        "u1_school_admin",
        "school_admin",
        f"school:{school}",
    )
    assert (last.action, last.resource, last.purpose) == ("list", "student", "学籍核查")
    assert last.request_id == request_id
    assert last.record_ids == str(returned).replace("'", '"')
    assert api.store.verify_audit_chain().ok


def test_a_refusal_is_audited_too(api: Api) -> None:
    headers = api.login_as(R.AUDITOR, "county", "339901")
    assert api.client.get("/api/v1/students", headers=headers).status_code == 403
    last = api.store.audit_records(descending=True, limit=1)[0].entry
    assert (last.actor, last.outcome, last.resource) == ("u1_auditor", "denied", "students:read")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_records_are_opened_by_their_ref_inside_the_scope_only(api: Api) -> None:
    school = api.expect.county.schools[0]["school_code"]
    teacher = api.login_as(R.TEACHER, "school", school)
    listed = api.client.get("/api/v1/students", params={"limit": 5}, headers=teacher).json()
    item = listed["items"][0]
    by_ref = api.client.get(f"/api/v1/students/{item['ref']}", headers=teacher)
    assert by_ref.status_code == 200
    assert by_ref.json() == item
    forged = item["ref"][:-2] + ("AA" if not item["ref"].endswith("AA") else "BB")
    assert api.client.get(f"/api/v1/students/{forged}", headers=teacher).status_code == 404
    other = next(s["school_code"] for s in api.expect.county.schools if s["school_code"] != school)
    elsewhere = api.login_as(R.TEACHER, "school", other)
    assert api.client.get(f"/api/v1/students/{item['ref']}", headers=elsewhere).status_code == 404
    # A cursor is sealed too: it names no 学籍号 and cannot be made up.
    assert (
        api.client.get("/api/v1/students", params={"cursor": "RzEyMw"}, headers=teacher).status_code
        == 400
    )
