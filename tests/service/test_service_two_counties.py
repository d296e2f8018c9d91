"""Two counties in one workspace: the second county's data office, auditor and bureau see
nothing of the first county, and none of their writes on the first county's objects lands.

The first county is the generated one (339901); the second (339902, a sibling under the same
synthetic city, so a prefix bug between them shows) has its own users, one school and two
pupils, ingested like any export (one row of them quarantined). Every GET
route of the OpenAPI document and every cockpit page in the users' menus is called with the
first county's objects in its path; none may show anything of the first county — the public
directory (regions and schools) included: it lists the caller's own region only.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import County, bearer_for, steward_tables
from edubrain.cockpit.render import nav_for
from edubrain.ingest import ingest_paths
from edubrain.serve import create_app
from edubrain.service.app import api_routes
from edubrain.service.policy import Actor, Role, Scope, ScopeLevel
from edubrain.service.store import Store
from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.warehouse import LOAD_UNITS_TABLE

SECOND = "339902"
SECOND_SCHOOL = "3399020001"
SECOND_PUPILS = ("L339902201809010011", "L339902201809020022", "L339902201809030033")


def _csv(value: Any) -> str:
    return (
        value.isoformat()
        if isinstance(value, date | datetime)
        else ""
        if value is None
        else str(value)
    )


def _second_county(county: County, settings: Settings, folder: Path) -> set[str]:
    """A school of the second county and its pupils (the third with a bad birth date, so it is
    quarantined), ingested as standard-format files; returns the loads."""
    school = dict(county.schools[0]) | {
        "school_code": SECOND_SCHOOL,
        "name": "示范二县实验小学",
        "region_code": SECOND,
        "address": "示范二县城关镇一号",
    }
    pupils = [
        dict(county.students[0])
        | {
            "student_number": number,
            "id_number": None,
            "name": f"司马{'甲乙丙'[i]}二",
            "school_code": SECOND_SCHOOL,
        }
        for i, number in enumerate(SECOND_PUPILS)
    ]
    pupils[2]["birth_date"] = "not-a-date"
    reports = []
    for name, rows in (("school", [school]), ("student", pupils)):
        path = folder / f"{name}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(entity(name).field_names)
            writer.writerows([_csv(row.get(f)) for f in entity(name).field_names] for row in rows)
        reports += ingest_paths([path], settings, entity=name)
    assert [(r.rows_accepted, r.rows_quarantined) for r in reports] == [(1, 0), (2, 1)]
    return {r.load_id for r in reports if r.load_id}


@dataclass
class Workspace:
    client: TestClient
    store: Store
    county: County
    mentions: list[str]
    reviews: list[str]
    second_loads: set[str]
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    export_id: str = ""
    job_id: str = ""

    @property
    def first(self) -> str:
        return str(self.county.schools[0]["region_code"])

    def warnings_of_first(self) -> list[dict[str, Any]]:
        schools = {s["school_code"] for s in self.county.schools}
        return [
            w
            for w in self.store.warning_rows()
            if (w["grain"] == "school" and w["unit_code"] in schools)
            or (w["grain"] != "school" and w["unit_code"] == self.first)
        ]

    def county_warning(self) -> dict[str, Any]:
        """An open warning of the first county itself (not of a school)."""
        return next(
            w
            for w in sorted(self.warnings_of_first(), key=lambda w: w["warning_id"])
            if w["grain"] != "school" and w["status"] == "open"
        )

    def secrets(self) -> list[str]:
        """Strings that name the first county's people, schools, objects or audit records."""
        c = self.county
        found = {s["school_code"] for s in c.schools}
        found |= {s["student_number"] for s in c.students}
        found |= {t["staff_number"] for t in c.teachers}
        found |= {p["name"] for p in c.students + c.teachers if p["name"] and len(p["name"]) >= 3}
        found |= {w["warning_id"] for w in self.warnings_of_first()}
        found |= set(self.mentions) | set(self.reviews)
        found |= {"c1_admin", "c1_school", "c1_leader", "c1_auditor", self.export_id, self.job_id}
        with self.client.app.state.services.reader.lock:  # type: ignore[attr-defined]
            wh = self.client.app.state.services.reader.warehouse  # type: ignore[attr-defined]
            found |= set(wh.table("loads").load_id.to_pyarrow().to_pylist()) - self.second_loads
        return sorted(s for s in found if s)

    def load_units(self) -> dict[str, set[tuple[str | None, str | None]]]:
        """Every load's whole-load units (school, region), read straight from the warehouse."""
        with self.client.app.state.services.reader.lock:  # type: ignore[attr-defined]
            wh = self.client.app.state.services.reader.warehouse  # type: ignore[attr-defined]
            rows = wh.table(LOAD_UNITS_TABLE).to_pyarrow().to_pylist()
        units: dict[str, set[tuple[str | None, str | None]]] = {}
        for r in rows:
            if r["row_number"] is None:
                units.setdefault(r["load_id"], set()).add((r["school_code"], r["region_code"]))
        return units


@pytest.fixture
def workspace(
    backend: str,
    make_settings: Callable[..., Settings],
    county: County,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Workspace]:
    # Jobs are queued, not run: a runner would publish new warehouse versions mid-test.
    monkeypatch.setattr("edubrain.service.routes.jobs.start_runner", lambda settings: None)
    monkeypatch.setattr("edubrain.service.jobs.start_runner", lambda settings: None)
    settings = make_settings(backend, county=county)
    mentions, reviews = steward_tables(county, settings)
    second = _second_county(county, settings, tmp_path)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        store: Store = client.app.state.services.store  # type: ignore[attr-defined]
        ws = Workspace(client, store, county, mentions, reviews, second)
        first = ws.first
        school = county.schools[0]["school_code"]
        for name, role, scope in (
            ("c1_admin", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, first)),
            ("c1_school", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, school)),
            ("c1_leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, first)),
            ("c1_auditor", Role.AUDITOR, Scope(ScopeLevel.COUNTY, first)),
            ("city_admin", Role.DATA_ADMIN, Scope(ScopeLevel.CITY, first[:4] + "00")),
            ("c2_admin", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, SECOND)),
            ("c2_auditor", Role.AUDITOR, Scope(ScopeLevel.COUNTY, SECOND)),
            ("c2_leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, SECOND)),
            ("c2_psych", Role.PSYCH_TEACHER, Scope(ScopeLevel.SCHOOL, SECOND_SCHOOL)),
            (
                "c2_head",
                Role.HEAD_TEACHER,
                Scope(ScopeLevel.CLASS, f"{SECOND_SCHOOL}/2025-2026/11/1"),
            ),
            ("c2_parent", Role.PARENT, Scope(ScopeLevel.SELF, SECOND_PUPILS[0])),
        ):
            ws.users[name] = bearer_for(store, name, role, scope)
        # The first county at work: reads (audited) and an export request waiting for approval.
        for path in ("/students", "/ingest/quarantine", "/steward/queue", "/teachers"):
            assert client.get(f"/api/v1{path}", headers=ws.users["c1_admin"]).status_code == 200
        made = client.post(
            "/api/v1/exports",
            json={"entity": "student", "fields": ["student_number", "name"], "purpose": "核查"},
            headers=ws.users["c1_school"],
        )
        assert made.status_code == 201, made.text
        ws.export_id = made.json()["export_id"]
        job = client.post("/api/v1/jobs", json={"kind": "govern"}, headers=ws.users["c1_admin"])
        assert job.status_code == 202, job.text
        ws.job_id = job.json()["job_id"]
        yield ws


def _leaks(text: str, secrets: list[str], asked: str = "") -> list[str]:
    """The secrets in `text`, except those the caller itself put in the request (a 404 may
    name what was asked for)."""
    return [s for s in secrets if s in text and s not in asked]


def _path_values(ws: Workspace) -> dict[str, list[str]]:
    refs = ws.client.app.state.services.refs  # type: ignore[attr-defined]
    pupil = ws.county.students[0]["student_number"]
    staff = ws.county.teachers[0]["staff_number"]
    return {
        "student_ref": [pupil, refs.seal(pupil)],
        "staff_ref": [staff, refs.seal(staff)],
        "warning_id": [w["warning_id"] for w in ws.warnings_of_first()[:3]]
        + [ws.county_warning()["warning_id"]],
        "export_id": [ws.export_id],
        "job_id": [ws.job_id],
        "indicator_id": ["class.large_share"],
        "school_code": [ws.county.schools[0]["school_code"]],
        "region_code": [ws.first],
        # a unified exam of the first county (the generator's 考试编号: county-year-term-grade-
        # subject-kind)
        "exam_id": [f"{ws.first}-2025-1-21-SX-QZ"],
        # a class of the first county as 学情 names it (school-grade-class number)
        "key": [
            f"{c['school_code']}-{c['grade_code']}-{int(c['class_no'])}"
            for c in ws.county.classes[:2]
        ],
    }


def _urls(ws: Workspace) -> list[str]:
    """Every GET route of the API, with the first county's objects in its path."""
    document = ws.client.get("/api/v1/openapi.json").json()
    values = _path_values(ws)
    school = ws.county.schools[0]["school_code"]
    extra_queries = {
        "/indicators/{indicator_id}/series": [f"unit_code={school}", f"unit_code={ws.first}"],
        "/indicators/values": ["", f"unit_code={school}", f"unit_code={ws.first}"],
        "/warnings": ["", f"unit_code={ws.first}", f"unit_code={school}"],
        "/quality": ["", "by=school_code", "by=load_id", "by=entity"],
        "/ingest/quarantine": ["", "limit=500", "status=all&limit=500"],
        "/ingest/quarantine/summary": ["", "status=all"],
        "/ingest/quarantine/download": ["", "status=all"],
        "/students": ["", f"school_code={school}"],
        "/exams/{exam_id}/report": ["", f"school={school}"],
        "/exams/{exam_id}/items": ["", f"school={school}"],
        "/teachers": ["", f"school_code={school}"],
        # The first county's school (by name and code) and pupil (by name and 学籍号).
        "/search": [
            f"q={ws.county.schools[0]['name']}",
            f"q={school}",
            f"q={ws.county.students[0]['name']}",
            f"q={ws.county.students[0]['student_number']}",
        ],
    }
    urls = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        local = path.removeprefix("/api/v1")
        if local == "/openapi.json":
            continue
        names = re.findall(r"{(\w+)}", local)
        missing = [n for n in names if n not in values]
        assert not missing, f"give the first county's {missing} for {path}"
        filled = [path]
        for name in names:
            filled = [f.replace(f"{{{name}}}", v) for f in filled for v in values[name]]
        for url in filled:
            for query in extra_queries.get(local, [""]):
                urls.append(f"{url}?{query}" if query else url)
    return urls


def _pages(ws: Workspace, who: str) -> list[str]:
    """Every cockpit page in this user's menu, with its tabs and filters."""
    me = ws.client.get("/api/v1/me", headers=ws.users[who]).json()
    actor = Actor(
        0,
        who,
        who,
        Role(me["role"]),
        Scope(ScopeLevel(me["scope"]["level"]), me["scope"]["key"]),
    )
    pages = [item.href for item in nav_for(actor)]
    more = {
        "/data-office": [
            "?tab=quarantine",
            "?tab=quarantine&status=all",
            "?tab=quality",
            "?tab=steward",
            "?tab=runs",
        ],
        "/warnings": ["?status=", "?status=&show=" + ws.county_warning()["warning_id"]],
        "/audit": ["?verify=1", "?user=c1_admin"],
        "/students": [f"/{ws.county.students[0]['student_number']}"],
    }
    return pages + [p + m for p in pages for m in more.get(p, [])]


def _read_everything(ws: Workspace, who: str) -> None:
    headers = ws.users[who]
    secrets = ws.secrets()
    for url in _urls(ws):
        seen = 0
        cursor_url = url
        while True:
            response = ws.client.get(cursor_url, headers=headers)
            assert response.status_code in (200, 403, 404, 410), (who, url, response.text)
            leaks = _leaks(response.text, secrets, cursor_url)
            assert not leaks, (who, url, leaks)
            body = response.json() if "json" in response.headers.get("content-type", "") else {}
            cursor = body.get("next_cursor") if isinstance(body, dict) else None
            seen += 1
            if not cursor or seen > 50:
                break
            joiner = "&" if "?" in url else "?"
            cursor_url = f"{url}{joiner}cursor={cursor}"
    for page in _pages(ws, who):
        response = ws.client.get(page, headers=headers)
        assert response.status_code in (200, 403, 404), (who, page, response.status_code)
        leaks = _leaks(response.text, secrets, page)
        assert not leaks, (who, page, leaks)


@pytest.mark.parametrize("who", ["c2_auditor", "c2_admin", "c2_leader"])
def test_the_second_county_reads_nothing_of_the_first(workspace: Workspace, who: str) -> None:
    _read_everything(workspace, who)


# Every write route of the app, API and cockpit: those that act on an existing object are tried
# below on the first county's; the others make no object of another county (log in and out,
# request an export of one's own scope). A new write route fails here until it is considered.
ACTS_ON_OBJECTS = {
    "/api/v1/warnings/{warning_id}/acknowledge",
    "/api/v1/warnings/{warning_id}/resolve",
    "/api/v1/steward/decisions",
    "/api/v1/steward/decisions/bulk",
    "/api/v1/steward/decisions/undo",
    "/api/v1/exports/{export_id}/approve",
    "/api/v1/exports/{export_id}/reject",
    "/warnings/{warning_id}/{step}",
    "/data-office/steward",
    "/api/v1/jobs/{job_id}/mapping-draft",
    "/data-office/mapping",
    # 转介 and 写实记录: a pupil of the caller's scope, an object of the caller's unit or class
    "/api/v1/psych/referrals",
    "/psych/referrals",
    "/api/v1/psych/referrals/{referral_id}/withdraw",
    "/psych/referrals/{referral_id}/withdraw",
    "/api/v1/growth/submissions",
    "/growth/submit",
    "/api/v1/growth/submissions/{submission_id}/{step}",
    "/growth/{submission_id}/{step_name}",
    "/api/v1/growth/publicity",
    "/growth/publicity",
}
OWN_ONLY = {
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/exports",
    "/login",
    "/logout",
    # A job and an upload belong to the unit of whoever starts them.
    "/api/v1/jobs",
    "/api/v1/jobs/uploads",
    "/data-office/jobs",
    "/data-office/upload",
}


def test_every_write_route_is_tried(workspace: Workspace) -> None:
    writes = {
        route.path.removeprefix("/api/v1")
        for route in api_routes(workspace.client.app.routes)  # type: ignore[attr-defined]
        if route.methods and route.methods & {"POST", "PUT", "PATCH", "DELETE"}
    }
    # Routes of included routers may carry no prefix (FastAPI ≥ 0.165 nests them).
    assert writes == {p.removeprefix("/api/v1") for p in ACTS_ON_OBJECTS | OWN_ONLY}


def test_the_second_county_changes_nothing_of_the_first(workspace: Workspace) -> None:
    ws = workspace
    client, store = ws.client, ws.store
    warning = ws.county_warning()
    school_warning = next(
        w for w in ws.warnings_of_first() if w["grain"] == "school" and w["status"] == "open"
    )
    before = {w["warning_id"]: w["status"] for w in store.warning_rows()}
    decisions_before = len(store.steward_decisions())
    for who in ("c2_admin", "c2_leader"):
        headers = ws.users[who]
        for w in (warning, school_warning):
            for step in ("acknowledge", "resolve"):
                r = client.post(
                    f"/api/v1/warnings/{w['warning_id']}/{step}",
                    json={"note": "not mine"},
                    headers=headers,
                )
                assert r.status_code in (403, 404), (who, step, r.text)
                page = client.post(
                    f"/warnings/{w['warning_id']}/{step}",
                    data={"note": "not mine"},
                    headers=headers,
                    follow_redirects=False,
                )
                assert page.status_code in (403, 404), (who, step, page.status_code)
        for step in ("approve", "reject"):
            r = client.post(
                f"/api/v1/exports/{ws.export_id}/{step}", json={"note": "x"}, headers=headers
            )
            assert r.status_code in (403, 404), (who, step, r.text)
    admin = ws.users["c2_admin"]
    for left, right in ((ws.mentions[0], ws.mentions[1]), (ws.mentions[4], ws.mentions[6])):
        body = {"left": left, "right": right, "verdict": "same", "note": "x"}
        r = client.post("/api/v1/steward/decisions", json=body, headers=admin)
        assert r.status_code == 404, r.text
        page = client.post("/data-office/steward", data=body, headers=admin, follow_redirects=False)
        assert page.status_code == 404, page.status_code
        # A draft mapping is saved only from an upload of one's own scope.
        draft = {"file": "学生名册.csv", "columns": {}}
        r = client.post(f"/api/v1/jobs/{ws.job_id}/mapping-draft", json=draft, headers=admin)
        assert r.status_code == 404, r.text
        page = client.post(
            "/data-office/mapping",
            data={"job": ws.job_id, "file": "学生名册.csv", "action": "save"},
            headers=admin,
            follow_redirects=False,
        )
        assert page.status_code == 404, page.status_code
        undo = client.post("/api/v1/steward/decisions/undo", json={"left": left, "right": right},
                           headers=admin)  # fmt: skip
        assert undo.status_code == 404, undo.text
    assert not ws.client.app.state.services.settings.workspace.mappings.exists()  # type: ignore[attr-defined]
    # In bulk each is refused on its own, with its reason; none is kept.
    pairs = [(ws.mentions[0], ws.mentions[1]), (ws.mentions[4], ws.mentions[6])]
    bulk = client.post(
        "/api/v1/steward/decisions/bulk",
        json={"decisions": [{"left": a, "right": b, "verdict": "same"} for a, b in pairs]},
        headers=admin,
    )
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["recorded"] == [] and bulk.json()["job_id"] is None
    assert [r["index"] for r in bulk.json()["refused"]] == [0, 1]
    assert {w["warning_id"]: w["status"] for w in store.warning_rows()} == before
    assert store.export(ws.export_id).status == "pending"
    assert len(store.steward_decisions()) == decisions_before
    # 转介 and 写实记录 of the first county: the second county's psychology teacher, head
    # teacher and parent can neither make nor move them.
    services = client.app.state.services  # type: ignore[attr-defined]
    pupil = ws.county.students[0]
    first_class = "/".join(str(pupil[k]) for k in ("school_code", "school_year", "grade_code",
                                                   "class_no"))  # fmt: skip
    now = services.clock()
    referral = store.create_referral(
        topic="psych_result", subject=pupil["student_number"], class_key=first_class, note="x",
        by="c1_psych", at=now, unit_school=pupil["school_code"], unit_region=ws.first)  # fmt: skip
    submission = store.create_submission({
        "topic": "growth_record", "subject": pupil["student_number"], "class_key": first_class,
        "payload": {"kind": "志愿服务"}, "submitted_by": "c1_pupil", "submitter_role": "student",
        "submitted_at": now, "unit_school": pupil["school_code"],
        "unit_region": ws.first})  # fmt: skip
    ref = services.refs.seal(pupil["student_number"])
    psych, head, parent = (ws.users[k] for k in ("c2_psych", "c2_head", "c2_parent"))
    rid, sid = referral["referral_id"], submission["submission_id"]
    record = {"ref": ref, "school_year": "2025-2026", "term": "1", "domain": "moral",
              "kind": "志愿服务", "value": 2, "description": "x"}  # fmt: skip
    tries = [
        ("/api/v1/psych/referrals", {"ref": ref, "note": "x"}, psych, False),
        ("/psych/referrals", {"ref": ref, "note": "x"}, psych, True),
        (f"/api/v1/psych/referrals/{rid}/withdraw", {"note": "x"}, psych, False),
        (f"/psych/referrals/{rid}/withdraw", {"note": "x"}, psych, True),
        ("/api/v1/growth/submissions", record, parent, False),
        ("/growth/submit", {k: str(v) for k, v in record.items()}, parent, True),
        ("/api/v1/growth/submissions", record, head, False),
        (f"/api/v1/growth/submissions/{sid}/approve", {"note": "x"}, head, False),
        (f"/growth/{sid}/approve", {"note": "x"}, head, True),
        (f"/api/v1/growth/submissions/{sid}/object", {"note": "x"}, parent, False),
    ]
    for url, body, headers, form in tries:
        r = (client.post(url, data=body, headers=headers, follow_redirects=False) if form
             else client.post(url, json=body, headers=headers))  # fmt: skip
        assert r.status_code == 404, (url, r.status_code, r.text[:200])
    assert client.post("/api/v1/growth/publicity", headers=head).json()["started"] == 0
    assert store.referrals("psych_result", open_only=True)[0]["referral_id"] == rid
    assert store.submission(sid)["status"] == "submitted"
    assert [s["submission_id"] for s in store.submissions("growth_record")] == [sid]
    # What they tried left nothing of the first county in their own county's trail either.
    _read_everything(ws, "c2_auditor")


def test_steward_decisions_name_existing_mentions_in_scope(workspace: Workspace) -> None:
    ws = workspace
    admin = ws.users["c1_admin"]

    def decide(left: str, right: str) -> int:
        body = {"left": left, "right": right, "verdict": "different", "note": ""}
        return ws.client.post("/api/v1/steward/decisions", json=body, headers=admin).status_code

    assert decide("../../etc/passwd", ws.mentions[1]) == 422
    assert decide(ws.mentions[0], "student|G000000000000000000|x|y") == 422
    assert decide(ws.mentions[0], "student|G339901209901010000") == 404  # no such mention
    assert decide(ws.mentions[0], ws.mentions[1]) == 201
    assert len(ws.store.steward_decisions()) == 1


def test_a_principal_reads_the_county_warning_but_cannot_act_on_it(
    workspace: Workspace,
) -> None:
    ws = workspace
    warning = ws.county_warning()
    principal = ws.users["c1_school"]
    wid = warning["warning_id"]
    assert ws.client.get(f"/api/v1/warnings/{wid}", headers=principal).status_code == 200
    for step in ("acknowledge", "resolve"):
        r = ws.client.post(
            f"/api/v1/warnings/{wid}/{step}", json={"note": "不归我管"}, headers=principal
        )
        assert r.status_code == 403, r.text
        page = ws.client.post(
            f"/warnings/{wid}/{step}",
            data={"note": "不归我管"},
            headers=principal,
            follow_redirects=False,
        )
        assert page.status_code == 403, page.status_code
    assert next(w for w in ws.store.warning_rows() if w["warning_id"] == wid)["status"] == "open"
    # The cockpit lists it for the principal without the buttons.
    listed = ws.client.get(
        "/warnings", params={"status": "open", "grain": warning["grain"]}, headers=principal
    ).text
    assert f'data-warning="{wid}"' in listed or f"data-warning='{wid}'" in listed
    assert f"/warnings/{wid}/" not in listed
    # Their own school's warnings they may work.
    school = ws.county.schools[0]["school_code"]
    own = [
        w
        for w in ws.store.warning_rows()
        if w["grain"] == "school" and w["unit_code"] == school and w["status"] == "open"
    ]
    if own:
        r = ws.client.post(
            f"/api/v1/warnings/{own[0]['warning_id']}/acknowledge",
            json={"note": "在处理"},
            headers=principal,
        )
        assert r.status_code == 200, r.text
    # The county's data office may.
    r = ws.client.post(
        f"/api/v1/warnings/{wid}/acknowledge",
        json={"note": "县里处理"},
        headers=ws.users["c1_admin"],
    )
    assert r.status_code == 200, r.text


def _get(ws: Workspace, who: str, path: str, **params: Any) -> Any:
    response = ws.client.get(f"/api/v1{path}", params=params, headers=ws.users[who])
    assert response.status_code == 200, (who, path, response.text)
    return response.json()


def test_each_county_sees_its_own_operational_rows(workspace: Workspace) -> None:
    """The other side: the rows are there, for the scope they belong to (expectations from
    the warehouse's rows in plain Python, not from the policy)."""
    ws = workspace
    schools = {s["school_code"] for s in ws.county.schools}
    units = ws.load_units()
    first_loads = {
        load for load, named in units.items() if all(school in schools for school, _ in named)
    }
    assert first_loads and not first_loads & ws.second_loads
    runs = {r["load_id"] for r in _get(ws, "c1_admin", "/ingest/runs", limit=500)}
    assert runs == first_loads
    assert {r["load_id"] for r in _get(ws, "c2_admin", "/ingest/runs")} == ws.second_loads
    # The city's data office sees every load, also those that name no unit (exams, terms).
    city = {r["load_id"] for r in _get(ws, "city_admin", "/ingest/runs", limit=500)}
    assert city == set(units) and city > runs | ws.second_loads
    rows = _get(ws, "c2_admin", "/ingest/quarantine")["items"]
    # the third pupil, under the header: row 4 as a spreadsheet shows it
    assert [(r["load_id"] in ws.second_loads, r["row_number"]) for r in rows] == [(True, 4)]
    summary = _get(ws, "c2_admin", "/ingest/quarantine/summary")
    assert sum(r["rows"] for r in summary["reason"]) == 1
    assert [f["file"] for f in summary["file"]] == [rows[0]["file"]]
    first_rows = _get(ws, "c1_admin", "/ingest/quarantine", limit=500)["items"]
    assert first_rows and all(r["load_id"] in first_loads for r in first_rows)
    queue = _get(ws, "c1_admin", "/steward/queue")["items"]
    assert sorted(r["review_id"] for r in queue) == sorted(ws.reviews)
    assert _get(ws, "c2_admin", "/steward/queue")["items"] == []
    pupils = _get(ws, "c2_admin", "/students")["items"]
    assert len(pupils) == 2 and all(p["school_code"] == SECOND_SCHOOL for p in pupils)
    quality = _get(ws, "c2_admin", "/quality", by="load_id")
    assert {q["load_id"] for q in quality} == ws.second_loads
    by_school = {q["school_code"] for q in _get(ws, "c2_admin", "/quality", by="school_code")}
    assert by_school == {SECOND_SCHOOL, "(unknown)"}  # the quarantined row, by its load
    assert SECOND_SCHOOL not in {
        q["school_code"] for q in _get(ws, "c1_admin", "/quality", by="school_code")
    }
    pending = _get(ws, "c1_leader", "/exports/pending")
    assert [p["export_id"] for p in pending] == [ws.export_id]
    assert _get(ws, "c2_leader", "/exports/pending") == []
    first_trail = {a["actor"] for a in _get(ws, "c1_auditor", "/audit", limit=500)["items"]}
    assert {"c1_admin", "c1_school"} <= first_trail
    assert not {a for a in first_trail if a.startswith("c2_") or a == "city_admin"}
    _get(ws, "c2_admin", "/students")
    second_trail = {a["actor"] for a in _get(ws, "c2_auditor", "/audit", limit=500)["items"]}
    assert "c2_admin" in second_trail and not {a for a in second_trail if a.startswith("c1_")}
