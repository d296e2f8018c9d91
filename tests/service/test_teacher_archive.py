"""一师一档 (issue 17, item 6): a teacher's archive reaches the roles that manage teachers, in
their scope only, masked for the role and audited; its figures are the warehouse's records of
that teacher, recounted here by hand."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from conftest import County, bearer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

R = Role


@pytest.fixture
def client(county: County, make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings("sqlite", county=county))) as c:
        yield c


def _as(client: TestClient, role: Role, level: str, key: str) -> dict[str, str]:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    name = f"{role.value}_{uuid.uuid4().hex[:8]}"
    return bearer_for(store, name, role, Scope(ScopeLevel(level), key))


def test_the_archive_is_the_teachers_own_records_in_scope_only(
    client: TestClient, county: County
) -> None:
    settings = client.app.state.services.settings  # type: ignore[attr-defined]
    with open_warehouse(settings, read_only=True) as wh:
        training = wh.to_arrow("teacher_training").to_pylist()
        literacy = wh.to_arrow("teacher_literacy").to_pylist()
    ict2_of = {r["staff_number"] for r in training if r["programme_kind"] == "ict2"}
    teacher = next(t for t in county.teachers if t["post"] == "teacher"
                   and t["staff_number"] in ict2_of
                   and any(r["staff_number"] == t["staff_number"] for r in literacy))  # fmt: skip
    staff, school = teacher["staff_number"], teacher["school_code"]
    other = next(s["school_code"] for s in county.schools if s["school_code"] != school)
    mine = [r for r in training if r["staff_number"] == staff]

    leader = _as(client, R.BUREAU_LEADER, "county", "339901")
    response = client.get(f"/api/v1/teachers/{staff}/archive", headers=leader)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["teacher"]["staff_number"] == staff
    assert {r["programme_id"] for r in body["training"]} == {r["programme_id"] for r in mine}
    by_year: dict[str, float] = {}
    for r in mine:
        by_year[r["school_year"]] = by_year.get(r["school_year"], 0.0) + r["hours"]
    assert {h["school_year"]: h["hours"] for h in body["hours_by_year"]} == pytest.approx(by_year)
    passed = any(r["programme_kind"] == "ict2" and r["result"] == "passed" for r in mine)
    assert body["ict2_status"] == ("合格" if passed else "参训未合格")
    (assessment,) = [r for r in literacy if r["staff_number"] == staff]
    latest = body["literacy_latest"]
    assert latest["meets_standard"] == (assessment["level"] in ("excellent", "good", "pass"))
    periods = sum(a["weekly_periods"] for a in county.assignments if a["staff_number"] == staff)
    assert body["teaching_load"]["weekly_periods"] == periods

    principal = _as(client, R.SCHOOL_ADMIN, "school", school)
    assert client.get(f"/api/v1/teachers/{staff}/archive", headers=principal).status_code == 200
    elsewhere = _as(client, R.SCHOOL_ADMIN, "school", other)
    assert client.get(f"/api/v1/teachers/{staff}/archive", headers=elsewhere).status_code == 404
    for role, level, key in [
        (R.TEACHER, "school", school),
        (R.PSYCH_TEACHER, "school", school),
        (R.AUDITOR, "county", "339901"),
        (R.APP_VENDOR, "school", school),
    ]:
        refused = client.get(
            f"/api/v1/teachers/{staff}/archive", headers=_as(client, role, level, key)
        )
        assert refused.status_code == 403, role

    store = client.app.state.services.store  # type: ignore[attr-defined]
    entries = [r.entry for r in store.audit_records(descending=True, limit=10)]
    assert any(e.resource == "teacher_archive" and staff in e.record_ids and e.outcome == "ok"
               for e in entries)  # fmt: skip
    assert any(e.resource == "teacher_archive" and e.outcome == "not_found" for e in entries)
