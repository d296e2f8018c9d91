"""Indicators and warnings through the API: who reads them, which units a scope covers, and the
warning workflow (acknowledge, resolve, history, audit).

The expectations are written out from docs/service.md ("Roles and scopes"): the roles that read
indicators and warnings, and the units a scope covers, computed in plain Python from the
warehouse's rows — not by the service's own policy code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import County, bearer_for
from edubrain.indicators.catalogue import indicators
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import Store
from edubrain.settings import Settings

R = Role
READS_INDICATORS = {
    R.BUREAU_LEADER,
    R.DATA_ADMIN,
    R.SCHOOL_ADMIN,
    R.TEACHER,
    R.HEAD_TEACHER,
    R.TEACHING_RESEARCHER,
    R.ENROLMENT_OFFICER,
    R.PSYCH_TEACHER,
}
READS_WARNINGS = {R.BUREAU_LEADER, R.DATA_ADMIN, R.SCHOOL_ADMIN, R.TEACHING_RESEARCHER}
WORKS_WARNINGS = {R.BUREAU_LEADER, R.DATA_ADMIN, R.SCHOOL_ADMIN}
LEVELS = {
    R.BUREAU_LEADER: ["province", "city", "county"],
    R.DATA_ADMIN: ["province", "city", "county"],
    R.SCHOOL_ADMIN: ["school"],
    R.TEACHER: ["class", "school"],
    R.HEAD_TEACHER: ["class"],
    R.TEACHING_RESEARCHER: ["province", "city", "county"],
    R.PARENT: ["self"],
    R.STUDENT: ["self"],
    R.ENROLMENT_OFFICER: ["province", "city", "county"],
    R.PSYCH_TEACHER: ["school"],
    R.AUDITOR: ["province", "city", "county"],
    R.APP_VENDOR: ["school", "county"],
}
PREFIX = {"province": 2, "city": 4, "county": 6}


def _unit(row: dict[str, Any]) -> tuple[str, ...]:
    return (row["indicator_id"], row["school_year"], row["grain"], row["unit_code"], row["stage"])


def _covered(county: County, level: str, key: str, row: dict[str, Any]) -> bool:
    """Whether a scope covers a (grain, unit) row, by the rule in docs/service.md."""
    region_of = {s["school_code"]: s["region_code"] for s in county.schools}
    unit = row["unit_code"]
    if level in PREFIX:
        prefix = key[: PREFIX[level]]
        if row["grain"] == "school":
            return region_of.get(unit, "-").startswith(prefix)
        above = {key, key[:4] + "00", key[:2] + "0000"}
        return unit.startswith(prefix) or unit in above
    if level in ("school", "class"):
        school = key.split("/")[0]
        if row["grain"] == "school":
            return unit == school
        own = region_of.get(school)
        return own is not None and unit in {own, own[:4] + "00", own[:2] + "0000"}
    return False


class Api:
    def __init__(self, client: TestClient, store: Store, county: County) -> None:
        self.client, self.store, self.county = client, store, county
        self.made = 0

    def __repr__(self) -> str:
        return f"Api(users made: {self.made})"

    def login_as(self, role: Role, level: str, key: str) -> dict[str, str]:
        self.made += 1
        name = f"u{self.made}_{role.value}"
        return bearer_for(self.store, name, role, Scope(ScopeLevel(level), key))

    def all_pages(self, path: str, headers: dict[str, str], **params: Any) -> list[dict] | int:
        """Every item of a paged list, or the status code of a refusal."""
        items: list[dict] = []
        params = {"limit": 37, **params}
        for _ in range(100):
            response = self.client.get(path, params=params, headers=headers)
            if response.status_code != 200:
                return response.status_code
            body = response.json()
            items += body["items"]
            if body["next_cursor"] is None:
                return items
            params["cursor"] = body["next_cursor"]
        raise AssertionError(f"{path}: more than 100 pages")


@pytest.fixture
def api(backend: str, make_settings: Callable[..., Settings], county: County) -> Iterator[Api]:
    with TestClient(create_app(make_settings(backend, county=county))) as client:
        yield Api(client, client.app.state.services.store, county)  # type: ignore[attr-defined]


def _keys(county: County, level: str) -> list[str]:
    counties = sorted({s["region_code"] for s in county.schools})
    school_codes = sorted(s["school_code"] for s in county.schools)
    classes = sorted(
        f"{c['school_code']}/{c['school_year']}/{c['grade_code']}/{c['class_no']}"
        for c in county.classes
    )
    return {
        "county": [*counties, "110101"],
        "city": [*sorted({c[:4] + "00" for c in counties}), "110100"],
        "province": [*sorted({c[:2] + "0000" for c in counties}), "110000"],
        "school": [*school_codes, "1100000001"],
        "class": classes[:40],
        "self": [county.students[0]["student_number"]],
    }[level]


def _check(api: Api, role: Role, level: str, key: str) -> None:
    headers = api.login_as(role, level, key)
    values = api.all_pages("/api/v1/indicators/values", headers)
    warnings = api.all_pages("/api/v1/warnings", headers)
    if role not in READS_INDICATORS:
        assert values == 403
    else:
        assert isinstance(values, list)
        wanted = {
            _unit(r) for r in api.county.indicator_values if _covered(api.county, level, key, r)
        }
        got = [_unit(v) for v in values]
        assert got == sorted(set(got)), "pages overlap or are out of order"
        assert set(got) == wanted, (role, level, key)
    if role not in READS_WARNINGS:
        assert warnings == 403
    else:
        assert isinstance(warnings, list)
        wanted_w = {
            w["warning_id"] for w in api.county.warnings if _covered(api.county, level, key, w)
        }
        assert {w["warning_id"] for w in warnings} == wanted_w, (role, level, key)
        ranks = [{"red": 0, "orange": 1, "yellow": 2}[w["level"]] for w in warnings]
        assert ranks == sorted(ranks), "red first"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(role=st.sampled_from(list(Role)), level_pick=st.integers(0, 5), pick=st.integers(0, 999))
def test_values_and_warnings_stay_inside_the_scope(
    api: Api, role: Role, level_pick: int, pick: int
) -> None:
    levels = LEVELS[role]
    level = levels[level_pick % len(levels)]
    keys = _keys(api.county, level)
    _check(api, role, level, keys[pick % len(keys)])


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_role_at_every_level_it_may_hold(api: Api) -> None:
    for role in Role:
        for level in LEVELS[role]:
            _check(api, role, level, _keys(api.county, level)[0])


def test_the_fixture_has_what_the_scope_tests_need(county: County) -> None:
    """Guards the property tests against passing vacuously."""
    grains = {r["grain"] for r in county.indicator_values}
    assert {"school", "county", "stage_county", "city"} <= grains
    assert {w["grain"] for w in county.warnings} >= {"school"}
    assert len({w["level"] for w in county.warnings}) >= 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_catalogue_and_a_schools_trend(api: Api) -> None:
    school = api.county.schools[0]["school_code"]
    headers = api.login_as(R.SCHOOL_ADMIN, "school", school)
    catalogue = api.client.get("/api/v1/indicators", headers=headers).json()
    # 23 balance, 9 info, 6 class size, 5 staffing, 5 value-added, 4 homework, 2 data,
    # 4 fitness, 6 health, 4 teachers
    assert len(catalogue) == len(indicators()) == 68
    by_id = {i["indicator_id"]: i for i in catalogue}
    assert set(by_id) == {i.id for i in indicators()}
    own = [r for r in api.county.indicator_values if r["unit_code"] == school]
    chosen = own[0]
    series = api.client.get(
        f"/api/v1/indicators/{chosen['indicator_id']}/series",
        params={"unit_code": school},
        headers=headers,
    )
    assert series.status_code == 200
    assert [r["value"] for r in series.json()] == [
        r["value"] for r in own if r["indicator_id"] == chosen["indicator_id"]
    ]
    other = api.county.schools[1]["school_code"]
    elsewhere = api.client.get(
        f"/api/v1/indicators/{chosen['indicator_id']}/series",
        params={"unit_code": other},
        headers=headers,
    )
    assert elsewhere.json() == []
    unknown = api.client.get(
        "/api/v1/indicators/no_such_indicator/series", params={"unit_code": school}, headers=headers
    )
    assert unknown.status_code == 404


def _school_warning(county: County) -> dict[str, Any]:
    return next(w for w in county.warnings if w["grain"] == "school" and w["status"] == "open")


def test_acknowledge_then_resolve_a_schools_warning(api: Api) -> None:
    warning = _school_warning(api.county)
    wid, school = warning["warning_id"], warning["unit_code"]
    principal = api.login_as(R.SCHOOL_ADMIN, "school", school)
    path = f"/api/v1/warnings/{wid}"

    done = api.client.post(f"{path}/acknowledge", json={"note": "已安排核查"}, headers=principal)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["acknowledged_by"]) == (
        "acknowledged",
        "u1_school_admin",
    )
    assert api.client.get(path, headers=principal).json()["acknowledge_note"] == "已安排核查"

    closed = api.client.post(f"{path}/resolve", json={"note": "已整改"}, headers=principal)
    assert closed.status_code == 200
    assert closed.json()["status"] == "resolved"
    again = api.client.post(f"{path}/resolve", json={"note": "x"}, headers=principal)
    assert again.status_code == 409

    events = api.client.get(f"{path}/events", headers=principal).json()
    assert [(e["event"], e["who"], e["note"]) for e in events] == [
        ("opened", "system", ""),
        ("acknowledged", "u1_school_admin", "已安排核查"),
        ("resolved", "u1_school_admin", "已整改"),
    ]
    trail = [r.entry for r in api.store.audit_records(descending=False, limit=100)]
    assert [(e.action, e.record_ids) for e in trail if e.resource == "indicator_warning"] == [
        ("acknowledge", f'["{wid}"]'),
        ("resolve", f'["{wid}"]'),
    ]
    assert api.store.verify_audit_chain().ok


@pytest.mark.parametrize("backend", ["sqlite"])
def test_warnings_outside_the_scope_or_the_role_cannot_be_touched(api: Api) -> None:
    warning = _school_warning(api.county)
    wid, school = warning["warning_id"], warning["unit_code"]
    other = next(s["school_code"] for s in api.county.schools if s["school_code"] != school)
    elsewhere = api.login_as(R.SCHOOL_ADMIN, "school", other)
    response = api.client.post(
        f"/api/v1/warnings/{wid}/acknowledge", json={"note": "n"}, headers=elsewhere
    )
    assert response.status_code == 404
    assert api.client.get(f"/api/v1/warnings/{wid}", headers=elsewhere).status_code == 404
    region = next(s["region_code"] for s in api.county.schools if s["school_code"] == school)
    researcher = api.login_as(R.TEACHING_RESEARCHER, "county", region)
    assert api.client.get(f"/api/v1/warnings/{wid}", headers=researcher).status_code == 200
    response = api.client.post(
        f"/api/v1/warnings/{wid}/acknowledge", json={"note": "n"}, headers=researcher
    )
    assert response.status_code == 403
    empty = api.client.post(
        f"/api/v1/warnings/{wid}/acknowledge",
        json={"note": ""},
        headers=api.login_as(R.SCHOOL_ADMIN, "school", school),
    )
    assert empty.status_code == 422
