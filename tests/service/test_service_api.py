"""The API's surface: masking rules, scopes, access declarations, places, the data office."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from conftest import County, add_user, steward_tables
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service import create_api
from edubrain.service.app import AccessNotDeclaredError, api_routes, check_routes_declare_access
from edubrain.service.auth import open_session
from edubrain.service.masking import mask_free_text, mask_id_number, mask_name, mask_phone
from edubrain.service.policy import Role, Scope, ScopeError, ScopeLevel
from edubrain.settings import Settings
from edubrain.standard.entities import DataClass


def test_masks_from_the_issue() -> None:
    # Decision 0013: no digit of an ID number (region, birth date and sex are shown elsewhere).
    assert mask_id_number("110105199001011234") == "*" * 18
    assert mask_name("张三明") == "张*明"
    assert mask_name("李丽") == "李*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert mask_phone("13812345678") == "138****5678"


def test_free_text_masks_id_and_phone_numbers_by_clearance() -> None:
    raw = '{"身份证": "110105199001011234", "电话": "13812345678", "学号": "12345"}'
    masked = mask_free_text(raw, {DataClass.PUBLIC, DataClass.INTERNAL})
    assert masked == '{"身份证": "******************", "电话": "138****5678", "学号": "12345"}'
    sensitive = mask_free_text(raw, {DataClass.SENSITIVE})
    assert "13812345678" in sensitive and "110105199001011234" not in sensitive


@pytest.mark.parametrize(
    ("level", "key"),
    [
        ("county", "33990"),
        ("school", "31330100"),
        ("class", "3133010001/2025/11/1"),
        ("self", " ; "),
        ("district", "339901"),
    ],
)
def test_malformed_scopes_are_refused(level: str, key: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse(level, key)


def test_a_route_without_an_access_declaration_stops_the_app() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(AccessNotDeclaredError, match="/open"):
        check_routes_declare_access(app)


def test_every_route_of_the_app_declares_access(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(Settings(home=tmp_path))
    hidden = [r for r in api_routes(app.routes) if not r.include_in_schema]  # the cockpit's pages
    assert hidden
    assert check_routes_declare_access(app) == len(hidden) + len(
        [(path, m) for path, item in app.openapi()["paths"].items() for m in item]
    )


def test_the_api_alone_has_no_pages_and_the_same_openapi(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`edubrain.serve` mounts the cockpit on the API; the API alone is built without it."""
    api = create_api(Settings(home=tmp_path))
    assert all(r.include_in_schema for r in api_routes(api.routes))
    assert api.openapi() == create_app(Settings(home=tmp_path)).openapi()


class Caller:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        services = client.app.state.services  # type: ignore[attr-defined]
        self.store, self.settings = services.store, services.settings

    def headers(self, role: Role, level: ScopeLevel, key: str) -> dict[str, str]:
        user_id = add_user(self.store, f"{role.value}_{level.value}", role, Scope(level, key), "-")
        session = open_session(
            self.store, self.settings, self.store.user(user_id), datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {session.token}"}


@pytest.fixture
def caller(make_settings: Callable[..., Settings], county: County) -> Iterator[Caller]:
    with TestClient(create_app(make_settings("sqlite", county=county))) as client:
        yield Caller(client)


def test_openapi_is_served_under_api_v1(caller: Caller) -> None:
    document = caller.client.get("/api/v1/openapi.json").json()
    assert all(path.startswith("/api/v1/") for path in document["paths"])
    student = document["components"]["schemas"]["StudentPublic"]["properties"]
    assert student["id_number"]["description"] == "身份证件号 (核心)"


def test_regions_and_schools(caller: Caller, county: County) -> None:
    headers = caller.headers(Role.PARENT, ScopeLevel.SELF, county.students[0]["student_number"])
    region = county.schools[0]["region_code"]
    response = caller.client.get(f"/api/v1/regions/{region}", headers=headers)
    assert response.status_code == 200, response.text
    profile = response.json()
    in_region = {s["school_code"] for s in county.schools if s["region_code"] == region}
    assert profile["schools"] == len(in_region)
    assert profile["students"] == sum(s["school_code"] in in_region for s in county.students)
    school = county.schools[0]["school_code"]
    page = caller.client.get("/api/v1/schools", params={"limit": 2}, headers=headers).json()
    assert [s["school_code"] for s in page["items"]] == sorted(in_region)[:2]
    rest = caller.client.get(
        "/api/v1/schools", params={"cursor": page["next_cursor"]}, headers=headers
    ).json()
    assert [s["school_code"] for s in page["items"] + rest["items"]] == sorted(
        s["school_code"] for s in county.schools
    )
    one = caller.client.get(f"/api/v1/schools/{school}", headers=headers).json()
    assert one["students"] == sum(s["school_code"] == school for s in county.students)
    # 在校生 as the indicators count them: the latest year's 在读 pupils, beside every 学籍 row.
    year = max(s["school_year"] for s in county.students)
    assert one["enrolled"] == sum(
        s["school_code"] == school and s["status"] == "enrolled" and s["school_year"] == year
        for s in county.students
    )
    assert one["teachers"] == sum(t["school_code"] == school for t in county.teachers)
    assert one["classes"] == sum(c["school_code"] == school for c in county.classes)
    assert caller.client.get("/api/v1/schools/0000000000", headers=headers).status_code == 404


def test_a_nul_in_the_path_or_query_is_refused_before_any_query(
    caller: Caller, county: County
) -> None:
    # schemathesis found a NUL in a region code that broke the SQL text Ibis rendered.
    region = county.schools[0]["region_code"]
    headers = caller.headers(Role.BUREAU_LEADER, ScopeLevel.COUNTY, region)
    for url in ("/api/v1/schools?region_code=%00", "/api/v1/schools/33%00", "/api/v1/regions/%00"):
        response = caller.client.get(url, headers=headers)
        assert response.status_code == 400, (url, response.text)
        assert response.headers["x-request-id"]
    body = {"left": "student|G1\u0000", "right": "P1", "verdict": "same"}
    admin = caller.headers(Role.DATA_ADMIN, ScopeLevel.COUNTY, region)
    response = caller.client.post("/api/v1/steward/decisions", json=body, headers=admin)
    assert response.status_code == 422  # a NUL in a JSON string is refused by the schema


def test_data_office_sees_runs_quarantine_and_quality(caller: Caller, county: County) -> None:
    region = county.schools[0]["region_code"]
    admin = caller.headers(Role.DATA_ADMIN, ScopeLevel.COUNTY, region)
    runs = caller.client.get("/api/v1/ingest/runs", params={"limit": 500}, headers=admin).json()
    assert runs and all(r["rows_read"] == r["rows_accepted"] + r["rows_quarantined"] for r in runs)
    quarantined = sum(r["rows_quarantined"] for r in runs)
    seen, cursor = 0, None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        page = caller.client.get("/api/v1/ingest/quarantine", params=params, headers=admin).json()
        for row in page["items"]:
            # A data admin does not read core fields: ID numbers inside raw rows are masked.
            assert not any(
                len(v) == 18 and v[:17].isdigit()
                for v in json.loads(row["raw"]).values()
                if isinstance(v, str)
            )
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen >= quarantined  # one rejected row can fail several fields
    quality = caller.client.get("/api/v1/quality", params={"by": "source"}, headers=admin).json()
    assert {row["source"] for row in quality} >= {"xueji", "renshi"}
    principal = caller.headers(
        Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, county.schools[0]["school_code"]
    )
    for path in ("/api/v1/ingest/runs", "/api/v1/ingest/quarantine", "/api/v1/quality",
                 "/api/v1/steward/queue", "/api/v1/audit"):  # fmt: skip
        assert caller.client.get(path, headers=principal).status_code == 403, path


def test_auditor_reads_and_verifies_the_trail(caller: Caller, county: County) -> None:
    region = county.schools[0]["region_code"]
    leader = caller.headers(Role.BUREAU_LEADER, ScopeLevel.COUNTY, region)
    caller.client.get("/api/v1/students", params={"limit": 3}, headers=leader)
    auditor = caller.headers(Role.AUDITOR, ScopeLevel.COUNTY, region)
    trail = caller.client.get(
        "/api/v1/audit", params={"user": "bureau_leader_county"}, headers=auditor
    ).json()
    assert [(r["action"], r["resource"], len(r["record_ids"])) for r in trail["items"]] == [
        ("list", "student", 3)
    ]
    verify = caller.client.get("/api/v1/audit/verify", headers=auditor).json()
    assert verify["ok"] and verify["records"] == verify["head_seq"] >= 2


def test_a_steward_decision_through_the_api_is_stored_and_audited(
    make_settings: Callable[..., Settings], county: County
) -> None:
    settings = make_settings("sqlite", county=county)
    mentions, _ = steward_tables(county, settings)  # what `edubrain govern` leaves
    with TestClient(create_app(settings)) as client:
        _decide_through_the_api(Caller(client), county, mentions[0], mentions[-1])


def _decide_through_the_api(caller: Caller, county: County, left: str, right: str) -> None:
    region = county.schools[0]["region_code"]
    admin = caller.headers(Role.DATA_ADMIN, ScopeLevel.COUNTY, region)
    response = caller.client.post(
        "/api/v1/steward/decisions",
        json={"left": left, "right": right, "verdict": "different", "note": "双胞胎"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    sealer = sealer_for(Settings())
    assert sealer is not None  # the 学籍号s inside the keys are kept sealed, as stored
    left, right = sealer.seal_text(left), sealer.seal_text(right)
    assert left != "student|G339901201809144625"
    decisions = caller.store.steward_decisions()  # in the operational store, not the warehouse
    assert [
        (d["mention_key_l"], d["mention_key_r"], d["verdict"], d["decided_by"], d["note"])
        for d in decisions
    ] == [(left, right, "different", "data_admin_county", "双胞胎")]
    last = caller.store.audit_records(descending=True, limit=1)[0].entry
    assert (last.action, last.resource, json.loads(last.record_ids)) == (
        "decide",
        "steward_decision",
        [left, right],
    )
    same = caller.client.post(
        "/api/v1/steward/decisions",
        json={"left": left, "right": left, "verdict": "same"},
        headers=admin,
    )
    assert same.status_code == 400
    assert len(caller.store.steward_decisions()) == 1  # a refused decision is not kept
