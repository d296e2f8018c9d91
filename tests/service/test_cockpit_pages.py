"""The cockpit's pages over HTTP (no browser): login, access, caching, compression, the outline.

Browser-level checks of what the pages show are in test_cockpit_browser.py.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import NOW, County, add_user
from edubrain.cockpit.pages import router as cockpit_router
from edubrain.serve import create_app
from edubrain.service.app import api_routes
from edubrain.service.auth import password_hasher
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases.fitness_scores import fitness_scores
from edubrain.usecases.health_screening import health_screening
from edubrain.warehouse import open_warehouse

PASSWORD = "Cockpit-test-2026!"


@pytest.fixture
def client(county: County, make_settings: Callable[..., Settings]) -> Iterator[Any]:
    settings = make_settings("sqlite", county=county)
    outline = county.warehouse.parent.parent / "region" / "map" / "outline.geojson"
    settings.workspace.map_outline.parent.mkdir(parents=True)
    shutil.copy(outline, settings.workspace.map_outline)
    with open_store(settings) as store:
        hashed = password_hasher(settings).hash(PASSWORD)
        county_code = county.schools[0]["region_code"]
        add_user(store, "leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, county_code),
                 hashed)  # fmt: skip
        add_user(store, "auditor", Role.AUDITOR, Scope(ScopeLevel.COUNTY, county_code), hashed)
    with TestClient(create_app(settings, clock=lambda: NOW), base_url="http://127.0.0.1") as c:
        yield c


def login(client: Any, username: str) -> None:
    r = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "next": "/overview"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/overview"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_pages_send_the_browser_to_login_first(client: Any) -> None:
    r = client.get("/overview?trend=x", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/overview%3Ftrend%3Dx"
    # The API keeps answering 401 in JSON.
    assert client.get("/api/v1/me").status_code == 401


def test_a_wrong_password_shows_the_form_again_and_is_audited(client: Any) -> None:
    r = client.post("/login", data={"username": "leader", "password": "nope"})
    assert r.status_code == 401
    assert "用户名或密码错误" in r.text
    login(client, "auditor")
    trail = client.get("/api/v1/audit", params={"action": "login"}).json()["items"]
    assert any(a["actor"] == "leader" and a["outcome"] == "failed" for a in trail)


def test_login_refuses_to_redirect_off_site(client: Any) -> None:
    r = client.post(
        "/login",
        data={"username": "leader", "password": PASSWORD, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/home"


def test_a_page_outside_the_role_is_403_and_audited(client: Any) -> None:
    login(client, "leader")
    r = client.get("/audit")
    assert r.status_code == 403
    assert "没有权限" in r.text
    client.post("/logout")
    login(client, "auditor")
    denied = client.get("/api/v1/audit", params={"user": "leader"}).json()["items"]
    assert any(a["outcome"] == "denied" and a["resource"] == "audit:read" for a in denied)


def test_a_problem_on_a_page_is_a_page_and_on_the_api_problem_json(client: Any) -> None:
    login(client, "leader")
    page = client.get("/students/no-such-ref")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "未找到" in page.text
    api = client.get("/api/v1/students/no-such-ref")
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["title"] == "未找到"
    assert client.get("/no-such-page").headers["content-type"].startswith("text/html")


def test_pages_are_not_cached_and_versioned_assets_are(client: Any) -> None:
    login(client, "leader")
    page = client.get("/overview")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-encoding"] == "gzip"
    manifest = client.get("/static/vendor/manifest.json").json()
    core = manifest["charts"]["preload"][0]
    asset = client.get(f"/static/vendor/{core}", headers={"accept-encoding": "gzip"})
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.headers["content-type"].startswith("text/javascript")
    plain = client.get(f"/static/vendor/{core}", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content.startswith(b"/*! Apache ECharts")
    # Every ECharts module the pages name is served; nothing outside the folder is.
    for entry in manifest.values():
        assert client.get(f"/static/vendor/{entry['file']}").status_code == 200
    assert client.get("/static/../pages.py").status_code == 404
    assert client.get("/static/vendor/manifest.json.gz").status_code == 404


def test_the_gzip_twins_match_their_files(client: Any) -> None:
    manifest = client.get("/static/vendor/manifest.json").json()
    for name in {e["file"] for e in manifest.values()} | {
        p for e in manifest.values() for p in e["preload"]
    }:
        plain = client.get(f"/static/vendor/{name}", headers={"accept-encoding": "identity"})
        packed = client.get(f"/static/vendor/{name}", headers={"accept-encoding": "gzip"})
        # httpx decodes gzip itself: the decoded bytes must equal the plain file.
        assert packed.content == plain.content
        assert packed.headers["content-encoding"] == "gzip"
        assert len(gzip.compress(plain.content)) > 0


def test_the_outline_is_served_to_logged_in_users(client: Any, county: County) -> None:
    assert client.get("/map/outline.geojson", follow_redirects=False).status_code == 303
    login(client, "leader")
    outline = client.get("/map/outline.geojson").json()
    codes = {f["properties"]["region_code"] for f in outline["features"]}
    assert codes == {s["region_code"] for s in county.schools}


def _declared(dependant: Any) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        mark = getattr(dep.call, "declares_access", None)
        if mark is not None:
            found.add(str(mark))
        found |= _declared(dep)
    return found


def test_only_login_and_static_files_are_public(county: County, make_settings: Any) -> None:
    app = create_app(make_settings("sqlite", county=county))
    mine = {r.path for r in cockpit_router.routes}
    pages = {r.path: _declared(r.dependant) for r in api_routes(app.routes) if r.path in mine}
    assert {"/overview", "/map", "/warnings", "/data-office", "/students", "/audit"} <= set(pages)
    public = {path for path, marks in pages.items() if "public" in marks}
    assert public == {"/", "/login", "/static/{name:path}", "/lang/{code}"}
    assert pages["/overview"] == {"indicators:read"}
    assert pages["/warnings/{warning_id}/{step}"] == {"warnings:manage"}
    assert pages["/audit"] == {"audit:read"}


def test_the_portrait_api_is_scoped_masked_and_audited(
    county: County, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings("sqlite", county=county)
    c = county.classes[0]
    key = f"{c['school_code']}/{c['school_year']}/{c['grade_code']}/{c['class_no']}"
    pupils = [
        s["student_number"] for s in county.students
        if (s["school_code"], s["school_year"], s["grade_code"], s["class_no"])
        == (c["school_code"], c["school_year"], c["grade_code"], c["class_no"])
    ]  # fmt: skip
    outsider = next(
        s["student_number"] for s in county.students if s["student_number"] not in pupils
    )
    with open_store(settings) as store:
        hashed = password_hasher(settings).hash(PASSWORD)
        add_user(store, "head", Role.HEAD_TEACHER, Scope(ScopeLevel.CLASS, key), hashed)
        add_user(store, "leader", Role.BUREAU_LEADER,
                 Scope(ScopeLevel.COUNTY, county.schools[0]["region_code"]), hashed)  # fmt: skip
        add_user(store, "auditor", Role.AUDITOR,
                 Scope(ScopeLevel.COUNTY, county.schools[0]["region_code"]), hashed)  # fmt: skip
    fitness_scores(settings)  # the scoring and screening jobs' tables the portrait reads too
    health_screening(settings)
    with open_warehouse(settings) as wh:
        fitness = wh.to_arrow("fitness_test").to_pylist()
        scored = {r["student_number"]: r for r in wh.to_arrow("fitness_score").to_pylist()}
        screened = {r["student_number"]: r for r in wh.to_arrow("health_status").to_pylist()}
    heights = {r["student_number"]: r["height_cm"] for r in fitness}
    pupil = next(p for p in pupils if p in heights)

    def session(user: str) -> Any:
        client = TestClient(create_app(settings, clock=lambda: NOW))
        client.__enter__()
        token = client.post(
            "/api/v1/auth/login", json={"username": user, "password": PASSWORD}
        ).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        return client

    head = session("head")
    # Pupils are addressed by ref: a 学籍号 the caller sees masked is no address (decision 0013).
    seal = head.app.state.services.refs.seal  # type: ignore[attr-defined]
    mine = head.get(f"/api/v1/students/{seal(pupil)}/portrait").json()
    assert [f["height_cm"] for f in mine["fitness"]] == [str(heights[pupil])]
    assert mine["scores_masked"] is False
    (score,) = mine["fitness_scores"]
    assert (score["total"], score["level"]) == (scored[pupil]["total"], scored[pupil]["level"])
    assert score["level"] in {"优秀", "良好", "及格", "不及格"}
    if pupil in screened:
        (status,) = mine["health_status"]
        assert status["vision_status"] == screened[pupil]["vision_status"] is not None
    assert head.get(f"/api/v1/students/{seal(outsider)}/portrait").status_code == 404
    leader = session("leader")
    masked = leader.get(f"/api/v1/students/{seal(pupil)}/portrait").json()
    assert [f["height_cm"] for f in masked["fitness"]] == ["***"]
    assert "height_cm" in masked["fitness"][0]["masked"]
    assert all(e["score"] is None for e in masked["exams"]) and masked["scores_masked"]
    # the scores and findings are 敏感 like the results they come from
    assert [(f["total"], f["level"]) for f in masked["fitness_scores"]] == [(None, None)]
    assert all(h["vision_status"] is None for h in masked["health_status"])
    auditor = session("auditor")
    trail = auditor.get("/api/v1/audit", params={"resource": "student_portrait"}).json()
    outcomes = {(a["actor"], a["outcome"], tuple(a["record_ids"])) for a in trail["items"]}
    # The auditor (no 敏感 or 核心 clearance) tells pupils apart by ref, never by 学籍号.
    assert ("head", "ok", ("ref:" + seal(pupil),)) in outcomes
    assert ("head", "not_found", ("ref:" + seal(outsider),)) in outcomes
    for client in (head, leader, auditor):
        client.__exit__(None, None, None)


def test_the_school_page_counts_pupils_as_explain_does(
    client: Any, county: County, make_settings: Callable[..., Settings]
) -> None:
    """在校生 on a school's page is the number `indicators explain` uses (the latest year's
    在读 pupils); every 学籍 row is shown apart, under its own label and definition."""
    import re

    from edubrain.usecases import compute

    def rows_of(code: str) -> int:
        return sum(s["school_code"] == code for s in county.students)

    # The school whose 学籍 rows differ most from its 在读 pupils of the latest year.
    year = max(s["school_year"] for s in county.students)
    school = max(
        (s["school_code"] for s in county.schools),
        key=lambda code: (
            rows_of(code)
            - sum(
                s["school_code"] == code and s["status"] == "enrolled" and s["school_year"] == year
                for s in county.students
            )
        ),
    )
    login(client, "leader")
    html = client.get(f"/schools/{school}").text

    def shown(name: str) -> int:
        found = re.search(rf'id="school-{name}">([\d,]+)<', html)
        assert found, name
        return int(found.group(1).replace(",", ""))

    explained = compute.explain(
        make_settings("sqlite", county=county), "staffing.students_per_staff", school
    )
    assert shown("enrolled") == explained["numerator"]
    assert shown("students") == rows_of(school)
    assert shown("enrolled") < shown("students")  # two meanings, two numbers
    assert "在校生（在读）" in html and "与指标同一口径" in html
    assert "学籍记录（在籍）" in html and "全部学籍记录" in html


def test_the_overview_chart_has_unique_labels_and_the_plans_fill_the_targets(
    client: Any,
) -> None:
    """区域总览: one axis label per bar (the 学段 first, short; the full label in the tooltip),
    and 规划目标 from the plans (a checklist's requirement where no plan sets a target)."""
    import html as html_lib
    import json
    import re

    login(client, "leader")
    page = client.get("/overview").text
    found = re.search(r'id="main-chart-option">(.*?)</script>', page, re.S)
    assert found
    option = json.loads(html_lib.unescape(found.group(1)))
    labels = option["yAxis"]["data"]
    fulls = [d["full"] for d in option["series"][0]["data"]]
    assert labels and len(set(labels)) == len(labels), labels
    assert len(set(fulls)) == len(fulls) == len(labels)
    assert all(len(label) <= 16 or label in fulls for label in labels), labels
    # The 共性要求 (江苏省智慧教育样板区建设指南) ask ≥ 95% of schools on a gigabit link.
    row = re.search(
        r'<tr data-indicator="info.gigabit_school_share" data-stage="">(.*?)</tr>', page, re.S
    )
    assert row, "the headline table has the gigabit row"
    target = re.search(r'<td class="target">(.*?)</td>', row.group(1), re.S)
    assert target and "&gt;= 95" in target.group(1), row.group(1)
    assert "智慧教育样板区" in target.group(1)


def test_the_audit_trail_shows_times_in_the_bureau_zone(client: Any) -> None:
    """The trail keeps UTC; the page shows the bureau's clock (EDUBRAIN_TIMEZONE), named."""
    import re
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    login(client, "auditor")
    page = client.get("/audit").text
    item = client.get("/api/v1/audit", params={"limit": 1}).json()["items"][0]
    at = datetime.fromisoformat(item["occurred_at"])
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"{at:%H:%M} 北京时间" in page
    assert not re.search(r"\d\d:\d\d (UTC|\+0800)", page)


def test_the_leader_reads_warnings_grouped_per_school_and_the_weeks_list(
    client: Any, county: County
) -> None:
    """Groups, the roll-up and 本周待决策 count the county's warnings as its store holds them."""
    login(client, "leader")
    unresolved = [w for w in county.warnings if w["status"] in ("open", "acknowledged")]
    assert unresolved, "the test county raises warnings"
    groups = client.get("/api/v1/warnings/groups").json()
    # every unresolved warning is in exactly one group; a group is one condition
    ids = [u["warning_id"] for g in groups for u in g["units"]]
    assert sorted(ids) == sorted(w["warning_id"] for w in unresolved)

    # one group per condition: the condition key without its unit
    def condition(w: dict[str, Any]) -> str:
        parts = w["condition_key"].split("|")
        return "|".join(parts[:-2] + parts[-1:])

    assert len(groups) == len({condition(w) for w in unresolved})
    for g in groups:
        assert g["count"] == len(g["units"]) == sum(g["levels"].values())
    schools = client.get("/api/v1/warnings/schools").json()
    at_school = [w for w in unresolved if w["grain"] == "school"]
    assert sum(s["total"] for s in schools) == len(at_school)
    assert {s["school_code"] for s in schools} == {w["unit_code"] for w in at_school}
    week = client.get("/api/v1/warnings/this-week").json()
    assert len(week) <= 10
    for item in week:
        assert item["level"] in ("red", "orange")
        assert all(u["status"] == "open" and u["level"] in ("red", "orange") for u in item["units"])
    assert "本周待决策" in client.get("/home").text
    assert "本周待决策" in client.get("/overview").text
    page = client.get("/warnings", params={"view": "groups"}).text
    assert 'id="warning-groups"' in page and (not groups or groups[0]["title"] in page)
    page = client.get("/warnings", params={"view": "schools"}).text
    assert not schools or f'data-school="{schools[0]["school_code"]}"' in page
    # the map colours each school by its roll-up: as many 红色预警 labels as red schools
    reds = sum(1 for s in schools if s["level"] == "red")
    assert all(
        s["level"]
        == max(
            (w for w in at_school if w["unit_code"] == s["school_code"]),
            key=lambda w: {"red": 3, "orange": 2, "yellow": 1}[w["level"]],
        )["level"]
        for s in schools
    )
    page = client.get("/map", params={"colour": "warning"}).text
    assert page.count("<td>红色预警（") == reds
