"""Two counties in one workspace: the second county's data office, auditor and bureau see
nothing of the first county, and none of their writes on the first county's objects lands.

The first county is the generated one (339901); the second (339902, a sibling under the same
synthetic city, so a prefix bug between them shows) has its own users and no pupils. Every GET
route of the OpenAPI document and every cockpit page in the users' menus is called with the
first county's objects in its path; only the public directory (regions and schools, 公开 by
design, docs/service.md) is left out, by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pytest
from conftest import County, bearer_for
from fastapi.testclient import TestClient

from edubrain.cockpit.render import nav_for
from edubrain.govern.identity import PERSON_MENTION_SCHEMA, PERSON_MENTION_TABLE
from edubrain.govern.steward import REVIEW_SCHEMA, REVIEW_TABLE, review_id
from edubrain.service import create_app
from edubrain.service.policy import Actor, Role, Scope, ScopeLevel
from edubrain.service.store import Store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

SECOND = "339902"
# The public directory (公开): every role may read it, whatever its scope.
PUBLIC_PATHS = {"/regions", "/regions/{region_code}", "/schools", "/schools/{school_code}"}
PUBLIC_PAGES = {"/map", "/map/outline.geojson", "/schools/{school_code}"}


def _steward_tables(county: County, settings: Settings) -> tuple[list[str], list[str]]:
    """A small identity run over the first county's pupils: person mentions and a review
    queue of doubtful pairs (what `edubrain govern` leaves), written into this test's copy."""
    pupils = county.students[:6]
    keys = [f"student|{s['student_number']}" for s in pupils]
    loads = [str(s["_load_id"]) for s in pupils]
    # A fitness mention of a number the 学籍 does not know: its unit is its load's region.
    stray = "G339901201401019999"
    keys.append(f"fitness_test|{stray}|2025-2026")
    mentions = pa.Table.from_pylist(
        [
            {
                "mention_key": key,
                "entity": key.split("|")[0],
                "student_number": key.split("|")[1],
                "person_id": f"P{i:06d}",
                "load_id": loads[min(i, len(loads) - 1)],
                "run_id": "run-1",
            }
            for i, key in enumerate(keys)
        ],
        schema=PERSON_MENTION_SCHEMA,
    )
    pairs = [(keys[0], keys[1]), (keys[2], keys[3]), (keys[4], keys[6])]
    review = pa.Table.from_pylist(
        [
            {
                "review_id": review_id(a, b),
                "mention_key_l": a,
                "mention_key_r": b,
                "person_id_l": "P1",
                "person_id_r": "P2",
                "match_probability": 0.5,
                "reason": "doubtful",
                "run_id": "run-1",
            }
            for a, b in pairs
        ],
        schema=REVIEW_SCHEMA,
    )
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table(PERSON_MENTION_TABLE, mentions)
        tx.replace_table(REVIEW_TABLE, review)
    return keys, [review_id(a, b) for a, b in pairs]


@dataclass
class Workspace:
    client: TestClient
    store: Store
    county: County
    mentions: list[str]
    reviews: list[str]
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    export_id: str = ""

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
        found |= {"c1_admin", "c1_school", "c1_leader", self.export_id}
        with self.client.app.state.services.reader.lock:  # type: ignore[attr-defined]
            wh = self.client.app.state.services.reader.warehouse  # type: ignore[attr-defined]
            found |= set(wh.table("loads").load_id.to_pyarrow().to_pylist())
        return sorted(s for s in found if s)


@pytest.fixture
def workspace(
    backend: str, make_settings: Callable[..., Settings], county: County
) -> Iterator[Workspace]:
    settings = make_settings(backend, county=county)
    mentions, reviews = _steward_tables(county, settings)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        store: Store = client.app.state.services.store  # type: ignore[attr-defined]
        ws = Workspace(client, store, county, mentions, reviews)
        first = ws.first
        school = county.schools[0]["school_code"]
        for name, role, scope in (
            ("c1_admin", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, first)),
            ("c1_school", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, school)),
            ("c1_leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, first)),
            ("c2_admin", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, SECOND)),
            ("c2_auditor", Role.AUDITOR, Scope(ScopeLevel.COUNTY, SECOND)),
            ("c2_leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, SECOND)),
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
        "indicator_id": ["class.large_share"],
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
        "/ingest/quarantine": ["", "limit=500"],
        "/students": ["", f"school_code={school}"],
        "/teachers": ["", f"school_code={school}"],
    }
    urls = []
    for path, operations in document["paths"].items():
        if "get" not in operations:
            continue
        local = path.removeprefix("/api/v1")
        if local in PUBLIC_PATHS or local == "/openapi.json":
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
    pages = [item.href for item in nav_for(actor) if item.href not in PUBLIC_PAGES]
    more = {
        "/data-office": ["?tab=quarantine", "?tab=quality", "?tab=steward", "?tab=runs"],
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
    assert {w["warning_id"]: w["status"] for w in store.warning_rows()} == before
    assert store.export(ws.export_id).status == "pending"
    assert len(store.steward_decisions()) == decisions_before
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
