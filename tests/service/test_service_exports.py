"""Export approval (事前审批): request → approval by someone else → one download, then gone."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from test_service_auth import Clock

from conftest import NOW, County, add_user
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.auth import open_session
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings


class Office:
    def __init__(self, client: TestClient, county: County) -> None:
        self.client, self.county = client, county
        self.store = client.app.state.services.store  # type: ignore[attr-defined]
        self.settings = client.app.state.services.settings  # type: ignore[attr-defined]
        self.region = county.schools[0]["region_code"]
        self.school = county.schools[0]["school_code"]

    def user(self, name: str, role: Role, level: ScopeLevel, key: str) -> dict[str, str]:
        user_id = add_user(self.store, name, role, Scope(level, key), "-")
        session = open_session(self.store, self.settings, self.store.user(user_id), NOW)
        return {"Authorization": f"Bearer {session.token}"}


@pytest.fixture
def office(
    backend: str, make_settings: Callable[..., Settings], county: County
) -> Iterator[tuple[Office, Clock]]:
    clock = Clock()
    settings = make_settings(backend, county=county, export_download_ttl_minutes=60)
    with TestClient(create_app(settings, clock=clock)) as client:
        yield Office(client, county), clock


REQUEST = {
    "entity": "student",
    "fields": ["student_number", "name", "id_number"],
    "purpose": "资助核对",
}


def test_request_approve_download_once(office: tuple[Office, Clock]) -> None:
    o, _ = office
    principal = o.user("principal", Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, o.school)
    admin = o.user("admin", Role.DATA_ADMIN, ScopeLevel.COUNTY, o.region)
    created = o.client.post("/api/v1/exports", json=REQUEST, headers=principal)
    assert created.status_code == 201, created.text
    export_id = created.json()["export_id"]
    assert created.json()["status"] == "pending"
    # Not before approval.
    assert (
        o.client.get(f"/api/v1/exports/{export_id}/download", headers=principal).status_code == 410
    )
    # Not by the requester's own hand.
    own = o.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=principal)
    assert own.status_code == 403
    approved = o.client.post(
        f"/api/v1/exports/{export_id}/approve", json={"note": "同意"}, headers=admin
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["decided_by"] == "admin"
    # Only the requester downloads.
    assert o.client.get(f"/api/v1/exports/{export_id}/download", headers=admin).status_code == 403
    download = o.client.get(f"/api/v1/exports/{export_id}/download", headers=principal)
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    sealer = sealer_for(Settings())  # stored sealed; an approved export is in clear
    assert sealer is not None
    in_school = {
        sealer.open_student_number(s["student_number"]): s
        for s in o.county.students
        if s["school_code"] == o.school
    }
    assert {r["student_number"] for r in rows} == set(in_school)
    for row in rows:  # approved fields come in clear, exactly as stored
        truth = in_school[row["student_number"]]
        assert row["name"] == truth["name"]
        assert row["id_number"] == sealer.open_text(truth["id_number"] or "")
    assert list(rows[0]) == REQUEST["fields"]
    again = o.client.get(f"/api/v1/exports/{export_id}/download", headers=principal)
    assert again.status_code == 410
    steps = [
        (r.entry.actor, r.entry.action, r.entry.outcome)
        for r in o.store.audit_records()
        if r.entry.resource in ("export", "exports:approve")
    ]
    assert steps == [
        ("principal", "request", "ok"),
        ("principal", "download", "refused"),
        ("principal", "access", "denied"),  # a school_admin may not approve at all
        ("admin", "approve", "ok"),
        ("principal", "download", "ok"),
        ("principal", "download", "refused"),
    ]


def test_an_approved_export_expires(office: tuple[Office, Clock]) -> None:
    o, clock = office
    principal = o.user("principal", Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, o.school)
    admin = o.user("admin", Role.DATA_ADMIN, ScopeLevel.COUNTY, o.region)
    export_id = o.client.post("/api/v1/exports", json=REQUEST, headers=principal).json()[
        "export_id"
    ]
    o.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=admin)
    clock.now = NOW + timedelta(minutes=60)
    assert (
        o.client.get(f"/api/v1/exports/{export_id}", headers=principal).json()["status"]
        == "expired"
    )
    assert (
        o.client.get(f"/api/v1/exports/{export_id}/download", headers=principal).status_code == 410
    )


def test_an_approver_outside_the_requests_scope_cannot_approve(
    office: tuple[Office, Clock],
) -> None:
    o, _ = office
    principal = o.user("principal", Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, o.school)
    elsewhere = o.user("other_admin", Role.DATA_ADMIN, ScopeLevel.COUNTY, "110101")
    teacher = o.user(
        "teacher", Role.TEACHER, ScopeLevel.SCHOOL, o.school
    )  # may read, may not approve
    export_id = o.client.post("/api/v1/exports", json=REQUEST, headers=principal).json()[
        "export_id"
    ]
    # Outside the approver's scope the request is not there at all (decision 0012).
    assert (
        o.client.post(
            f"/api/v1/exports/{export_id}/approve", json={}, headers=elsewhere
        ).status_code
        == 404
    )
    assert (
        o.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=teacher).status_code
        == 403
    )
    assert o.client.post("/api/v1/exports", json=REQUEST, headers=teacher).status_code == 403


def test_a_rejected_request_cannot_be_downloaded(office: tuple[Office, Clock]) -> None:
    o, _ = office
    principal = o.user("principal", Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, o.school)
    leader = o.user("leader", Role.BUREAU_LEADER, ScopeLevel.CITY, o.region[:4] + "00")
    export_id = o.client.post("/api/v1/exports", json=REQUEST, headers=principal).json()[
        "export_id"
    ]
    rejected = o.client.post(
        f"/api/v1/exports/{export_id}/reject", json={"note": "目的不明确"}, headers=leader
    )
    assert rejected.json()["status"] == "rejected"
    assert (
        o.client.get(f"/api/v1/exports/{export_id}/download", headers=principal).status_code == 410
    )
    twice = o.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=leader)
    assert twice.status_code == 409


def test_nobody_approves_their_own_request(office: tuple[Office, Clock]) -> None:
    o, _ = office
    admin = o.user("admin", Role.DATA_ADMIN, ScopeLevel.COUNTY, o.region)
    export_id = o.client.post("/api/v1/exports", json=REQUEST, headers=admin).json()["export_id"]
    own = o.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=admin)
    assert own.status_code == 403
    assert "someone else" in own.json()["detail"]
