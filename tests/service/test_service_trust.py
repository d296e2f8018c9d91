"""Issue 13 ("Trust"): each finding of the outside probe, reproduced, and what closes it.

1. an ID number rebuilt from fields shown in clear (户口所在地 + 出生日期 + the visible digits);
2. `GET /students/G<guess>` as an ID-number oracle, with no limit on misses;
3. the steward queue and the quarantine browser's message showing ID numbers;
6. formula injection through approved exports (CSV and xlsx);
8. J/L 学籍号 in clear beside a masked birth date; unknown user names never locked; a second
   `edubrain serve` sharing a busy port.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

import edubrain
from conftest import NOW, County, bearer_for
from edubrain.govern.identity import PERSON_MENTION_SCHEMA, PERSON_MENTION_TABLE
from edubrain.govern.steward import REVIEW_SCHEMA, REVIEW_TABLE
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.auth import create_user
from edubrain.service.masking import mask_free_text
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.standard.entities import DataClass, entity
from edubrain.standard.identifiers import id_check_char
from edubrain.warehouse import open_warehouse

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def rebuild_id_numbers(region: str, born: str, sex: str, shown: str) -> list[str]:
    """Every ID number consistent with a region, a birth date (YYYY-MM-DD), a sex code and the
    characters a mask left visible (GB 11643: region 6 + date 8 + sequence 3 + check 1; the
    sequence's last digit is odd for men)."""
    out = []
    for seq in range(1000):
        if seq % 2 != (1 if sex == "1" else 0):
            continue
        first17 = region + born.replace("-", "") + f"{seq:03d}"
        candidate = first17 + id_check_char(first17)
        if all(s in ("*", c) for s, c in zip(shown, candidate, strict=True)):
            out.append(candidate)
    return out


class Site:
    def __init__(self, client: TestClient, county: County, settings: Settings) -> None:
        self.client, self.county, self.settings = client, county, settings
        self.store = client.app.state.services.store  # type: ignore[attr-defined]
        self.refs = client.app.state.services.refs  # type: ignore[attr-defined]
        self.region = county.schools[0]["region_code"]
        self.made = 0

    def login(self, role: Role, level: ScopeLevel, key: str) -> dict[str, str]:
        self.made += 1
        return bearer_for(self.store, f"u{self.made}_{role.value}", role, Scope(level, key))

    def students(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        while True:
            body = self.client.get("/api/v1/students", params=params, headers=headers).json()
            items += body["items"]
            if body["next_cursor"] is None:
                return items
            params["cursor"] = body["next_cursor"]

    def key_of(self, item: dict[str, Any]) -> str:
        return str(self.refs.open(item["ref"]))


def _with_planted_rows(settings: Settings, county: County) -> dict[str, str]:
    """Formula-like addresses for six pupils and a steward queue naming real pupils."""
    planted: dict[str, str] = {}
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        students = wh.to_arrow("student")
        rows = students.to_pylist()
        school = county.schools[0]["school_code"]
        mine = [r for r in rows if r["school_code"] == school][: len(INJECTIONS)]
        for row, text in zip(mine, INJECTIONS, strict=True):
            row["address"] = text
            planted[row["student_number"]] = text
        tx.replace_table("student", pa.Table.from_pylist(rows, schema=students.schema))
        g = [r["student_number"] for r in rows if r["student_number"].startswith("G")][:4]
        queue = [
            {
                "review_id": f"r{i}",
                "mention_key_l": f"student|{g[i]}",
                "mention_key_r": f"fitness_test|{g[i + 1]}|2025-2026",
                "person_id_l": f"P{i:010d}",
                "person_id_r": f"P{i + 1:010d}",
                "match_probability": 0.5,
                "reason": "grey band: not linked",
                "run_id": "run",
                # A level names a relation, never a value; were one ever to carry a number,
                # it is free text and masked like the keys.
                "match_weights": [
                    {
                        "comparison": "birth_date",
                        "level": "Exact match on birth_date",
                        "weight": 10.9,
                    },
                    {"comparison": "name", "level": f"odd {g[i]}", "weight": 6.5},
                ],
            }
            for i in range(3)
        ]
        tx.replace_table(REVIEW_TABLE, pa.Table.from_pylist(queue, schema=REVIEW_SCHEMA))
        # The mentions the queue names, as `edubrain govern` leaves them (a decision must name
        # mentions that exist in the caller's scope).
        load_of = {str(p["student_number"]): str(p["_load_id"]) for p in county.students}
        keys = sorted({q[k] for q in queue for k in ("mention_key_l", "mention_key_r")})
        mentions = [
            {
                "mention_key": key,
                "entity": key.split("|")[0],
                "student_number": key.split("|")[1],
                "person_id": f"P{i:010d}",
                "load_id": load_of.get(key.split("|")[1], ""),
                "run_id": "run",
            }
            for i, key in enumerate(keys)
        ]
        tx.replace_table(
            PERSON_MENTION_TABLE, pa.Table.from_pylist(mentions, schema=PERSON_MENTION_SCHEMA)
        )
    return planted


@pytest.fixture
def site(make_settings: Callable[..., Settings], county: County) -> Iterator[Site]:
    settings = make_settings("sqlite", county=county, lookup_miss_limit=5)
    site_planted = _with_planted_rows(settings, county)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        s = Site(client, county, settings)
        s.planted = site_planted  # type: ignore[attr-defined]
        yield s


# ---- 1. an ID number is not rebuilt from what a role sees in clear ------------------------------


@pytest.mark.parametrize(
    "role", [Role.DATA_ADMIN, Role.SCHOOL_ADMIN, Role.TEACHER, Role.PSYCH_TEACHER]
)
def test_an_id_number_cannot_be_rebuilt_from_fields_shown_in_clear(site: Site, role: Role) -> None:
    school = site.county.schools[0]["school_code"]
    level, key = (
        (ScopeLevel.COUNTY, site.region) if role is Role.DATA_ADMIN else (ScopeLevel.SCHOOL, school)
    )
    headers = site.login(role, level, key)
    truth = {s["student_number"]: s for s in site.county.students}
    tried = 0
    for item in site.students(headers)[:200]:
        real = truth[site.key_of(item)]["id_number"]
        sealer = sealer_for(site.settings)
        assert sealer is not None  # stored sealed (decision 0011); the attacker rebuilds clear
        real = sealer.open_text(real) if real else real
        if not real or not item["hukou_region"] or not item["birth_date"]:
            continue
        # 敏感 roles see the region, the birth date and the sex in clear.
        assert item["birth_date"] == str(truth[site.key_of(item)]["birth_date"])
        found = rebuild_id_numbers(
            item["hukou_region"], item["birth_date"], item["sex"], item["id_number"]
        )
        assert real in found and len(found) >= 400, (role, item["id_number"], len(found))
        if site.key_of(item).startswith("G"):
            assert item["student_number"] == "G" + "*" * 18
        tried += 1
    assert tried > 50


# ---- 2. no oracle: a key seen masked is no address; misses are limited and flagged -------------


def test_a_masked_student_number_is_no_address(site: Site) -> None:
    leader = site.login(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    pupil = next(s for s in site.county.students if s["student_number"].startswith("G"))
    number = pupil["student_number"]
    wrong = "G" + number[1:7] + "19990101" + number[15:]
    found = site.client.get(f"/api/v1/students/{number}", headers=leader)
    missing = site.client.get(f"/api/v1/students/{wrong}", headers=leader)
    assert found.status_code == missing.status_code == 404
    assert found.json() == missing.json()
    portrait = site.client.get(f"/api/v1/students/{number}/portrait", headers=leader)
    assert portrait.status_code == 404
    # By ref it opens; by key only for a role that sees the key (enrolment: 核心).
    ref = site.refs.seal(number)
    assert site.client.get(f"/api/v1/students/{ref}", headers=leader).status_code == 200
    officer = site.login(Role.ENROLMENT_OFFICER, ScopeLevel.COUNTY, site.region)
    assert site.client.get(f"/api/v1/students/{number}", headers=officer).status_code == 200


def test_a_j_or_l_number_is_no_address_where_it_is_masked(site: Site) -> None:
    pupil = next(s for s in site.county.students if s["student_number"][0] in "JL")
    number = pupil["student_number"]
    leader = site.login(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    assert site.client.get(f"/api/v1/students/{number}", headers=leader).status_code == 404
    admin = site.login(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)  # 敏感: sees J/L
    assert site.client.get(f"/api/v1/students/{number}", headers=admin).status_code == 200


def test_repeated_misses_are_limited_and_the_audit_marks_the_pattern(site: Site) -> None:
    leader = site.login(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    number = next(
        s["student_number"] for s in site.county.students if s["student_number"][0] == "G"
    )
    guesses = [number[:7] + f"2015{m:02d}01" + number[15:] for m in range(1, 13)]
    statuses = [
        site.client.get(f"/api/v1/students/{g}", headers=leader).status_code for g in guesses
    ]
    assert statuses[:5] == [404] * 5  # lookup_miss_limit=5 in this fixture
    assert set(statuses[5:]) == {429}
    limited = site.client.get(f"/api/v1/students/{guesses[0]}", headers=leader)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    # Even a valid ref waits: the account is paused, not the guess.
    ref = site.refs.seal(number)
    assert site.client.get(f"/api/v1/students/{ref}", headers=leader).status_code == 429
    flagged = [
        r.entry for r in site.store.audit_records() if r.entry.action == "enumeration_suspected"
    ]
    assert len(flagged) == 1
    counts = json.loads(flagged[0].query)
    assert counts["misses_by_account"] == 5 and counts["limit_per_account"] == 5
    assert flagged[0].actor.endswith("bureau_leader")
    # Another account is not paused by this one's misses.
    other = site.login(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    assert site.client.get(f"/api/v1/students/{ref}", headers=other).status_code == 200


def test_bad_refs_count_as_misses_too(site: Site) -> None:
    teacher = site.login(Role.TEACHER, ScopeLevel.SCHOOL, site.county.schools[0]["school_code"])
    for i in range(5):
        assert site.client.get(f"/api/v1/students/forged{i}", headers=teacher).status_code == 404
    assert site.client.get("/api/v1/students/forged", headers=teacher).status_code == 429


# ---- 3. the steward queue and the quarantine browser ------------------------------------------


def test_the_steward_queue_masks_g_numbers_and_decides_by_ref(site: Site) -> None:
    admin = site.login(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    response = site.client.get("/api/v1/steward/queue", headers=admin)
    assert response.status_code == 200
    items = response.json()["items"]
    assert items
    for item in items:
        for side in ("l", "r"):
            assert "|G" + "*" * 18 in item[f"mention_key_{side}"], item
        # Why the model scored the pair: levels and weights, no value of either record.
        assert [(w["comparison"], w["weight"]) for w in item["match_weights"]] == [
            ("birth_date", 10.9),
            ("name", 6.5),
        ]
        assert item["match_weights"][1]["level"] == "odd G" + "*" * 18
    numbers = [s["student_number"] for s in site.county.students if s["student_number"][0] == "G"]
    for number in numbers[:5]:
        assert number[1:] not in response.text
    decided = site.client.post(
        "/api/v1/steward/decisions",
        json={
            "left": items[0]["mention_ref_l"],
            "right": items[0]["mention_ref_r"],
            "verdict": "same",
        },
        headers=admin,
    )
    assert decided.status_code == 201, decided.text
    assert numbers[0][1:] not in decided.text
    stored = site.store.steward_decisions()[-1]
    assert stored["mention_key_l"] == f"student|{numbers[0]}"  # kept in clear, where it belongs
    page = site.client.get("/data-office", params={"tab": "steward"}, headers=admin)
    assert page.status_code == 200
    assert all(n[1:] not in page.text for n in numbers[:5])
    assert "出生日期完全相同（10.9）" in page.text  # the weights, shown per pair, in Chinese


def test_the_quarantine_masks_id_numbers_in_the_message_as_in_the_raw_row(site: Site) -> None:
    admin = site.login(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 500, "entity": "fitness_test"}
    for _ in range(10):
        body = site.client.get("/api/v1/ingest/quarantine", params=params, headers=admin).json()
        seen += body["items"]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    about_numbers = [r for r in seen if r["field"] in ("student_number", "id_number")]
    assert about_numbers, "the generated county quarantines some mangled 学籍号"
    for row in about_numbers:
        for column in ("message", "raw"):
            text = row[column] or ""
            assert not any(ch.isdigit() for ch in _long_runs(text)), (column, text)
    # The page shows the same.
    page = site.client.get(
        "/data-office", params={"tab": "quarantine", "entity": "fitness_test"}, headers=admin
    )
    assert page.status_code == 200 and not _long_runs(page.text)


def _long_runs(text: str) -> str:
    """Runs of 14 digits or more (an ID number or a G 学籍号's body, even a mangled one; the
    body of a J or L number is in a 敏感 role's clearance)."""
    import re

    return "".join(re.findall(r"(?<![\d.JL])\d{14,}", text))


def test_quarantine_text_is_masked_for_every_clearance() -> None:
    from edubrain.service.masking import quarantine_row

    row = {
        "message": "student_number (学籍号) 'G33990120111135392' is not a 学籍号",
        "raw": '{"学籍号": "G33990120111135392", "姓名": "黄晨轩", "电话": "13812345678"}',
    }
    sensitive = quarantine_row(row, {DataClass.PUBLIC, DataClass.INTERNAL, DataClass.SENSITIVE})
    assert "33990120111135392" not in sensitive["message"] + sensitive["raw"]
    assert "黄晨轩" in sensitive["raw"]  # 敏感: the name is in its clearance
    public = quarantine_row(row, {DataClass.PUBLIC, DataClass.INTERNAL})
    assert public["raw"] == "***" and "'***'" in public["message"]


@given(
    before=st.text(max_size=20),
    after=st.text(max_size=20),
    body=st.from_regex(r"\d{17}[\dX]", fullmatch=True),
    letter=st.sampled_from(["", "G", "J", "L"]),
)
def test_no_id_number_survives_free_text_without_core_clearance(
    before: str, after: str, body: str, letter: str
) -> None:
    head = before + letter
    # The body right after a lone J or L (from `letter`, or the end of `before`) reads as a
    # J/L 学籍号, whatever produced it: it carries no ID number, and 敏感 roles see it.
    reads_as_jl = head[-1:] in ("J", "L") and not head[-2:-1].isalnum()
    for clear in ({DataClass.INTERNAL}, {DataClass.INTERNAL, DataClass.SENSITIVE}):
        masked = mask_free_text(head + body + after, clear)
        if reads_as_jl and DataClass.SENSITIVE in clear:
            continue
        assert body[:14] not in masked and body[-8:] not in masked


# ---- 6. exports are safe to open in a spreadsheet ----------------------------------------------


def _approved_export(site: Site, fields: list[str]) -> tuple[dict[str, str], str]:
    school = site.county.schools[0]["school_code"]
    principal = site.login(Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, school)
    admin = site.login(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    created = site.client.post(
        "/api/v1/exports",
        json={"entity": "student", "fields": fields, "purpose": "资助核对"},
        headers=principal,
    )
    export_id = created.json()["export_id"]
    approved = site.client.post(f"/api/v1/exports/{export_id}/approve", json={}, headers=admin)
    assert approved.status_code == 200
    return principal, export_id


def test_a_csv_export_neutralises_formulas(site: Site) -> None:
    principal, export_id = _approved_export(site, ["student_number", "address", "class_no"])
    download = site.client.get(f"/api/v1/exports/{export_id}/download", headers=principal)
    assert download.status_code == 200
    sealer = sealer_for(site.settings)
    assert sealer is not None  # an approved export is in clear; the warehouse keys are sealed
    rows = {
        sealer.seal_student_number(r["student_number"]): r
        for r in csv.DictReader(io.StringIO(download.text, newline=""))
    }
    planted: dict[str, str] = site.planted  # type: ignore[attr-defined]
    for number, text in planted.items():
        assert rows[number]["address"] == "'" + text, rows[number]
    for row in rows.values():
        assert not row["address"].startswith(("=", "+", "-", "@", "\t", "\r"))
        assert row["class_no"].isdigit()  # numbers stay numbers


def test_an_xlsx_export_neutralises_formulas_and_keeps_numbers(site: Site) -> None:
    principal, export_id = _approved_export(site, ["student_number", "address", "class_no"])
    download = site.client.get(
        f"/api/v1/exports/{export_id}/download", params={"format": "xlsx"}, headers=principal
    )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(download.content)).active
    assert sheet is not None
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header == ("student_number", "address", "class_no")
    sealer = sealer_for(site.settings)
    assert sealer is not None  # an approved export is in clear; the warehouse keys are sealed
    by_number = {sealer.seal_student_number(str(r[0])): r for r in rows}
    planted: dict[str, str] = site.planted  # type: ignore[attr-defined]
    for number, text in planted.items():
        # xlsx escapes a carriage return as _x000D_ (openpyxl reads it back as such).
        assert by_number[number][1].replace("_x000D_", "\r") == "'" + text
    for row in rows:
        assert isinstance(row[2], int)
    # No cell is a formula.
    for cells in sheet.iter_rows():
        for c in cells:
            assert c.data_type != "f", c.value


@pytest.mark.parametrize("text", INJECTIONS)
def test_every_formula_start_is_neutralised(text: str) -> None:
    from edubrain.service import spreadsheet

    student = entity("student")
    assert spreadsheet.cell(student, "address", text) == "'" + text
    assert spreadsheet.cell(student, "name", text) == "'" + text


def test_numbers_in_numeric_columns_stay_numbers_negative_ones_too() -> None:
    from edubrain.service import spreadsheet

    fitness = entity("fitness_test")
    assert spreadsheet.cell(fitness, "sit_and_reach", "-2.5") == -2.5
    assert spreadsheet.cell(fitness, "sit_and_reach", -3) == -3
    assert spreadsheet.cell(fitness, "sit_and_reach", "-2+3") == "'-2+3"
    assert spreadsheet.cell(entity("student"), "address", "-2.5") == "'-2.5"


@given(text=st.text(min_size=1, max_size=30))
def test_no_text_cell_starts_like_a_formula(text: str) -> None:
    from edubrain.service import spreadsheet

    out = spreadsheet.cell(entity("student"), "address", text)
    assert isinstance(out, str)
    assert not out.startswith(spreadsheet.FORMULA_START)
    assert out in (text, "'" + text)


# ---- 8. J/L numbers, login answers, a busy port ------------------------------------------------


def test_j_and_l_numbers_are_masked_where_the_birth_date_is(site: Site) -> None:
    leader = site.login(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    items = site.students(leader)
    jl = [i for i in items if site.key_of(i)[0] in "JL"]
    assert jl
    for item in jl:
        real = site.key_of(item)
        assert item["student_number"] == real[0] + "*" * 18
        assert item["birth_date"].endswith("-**-**")
        assert real[7:15] not in json.dumps(item)
    admin = site.login(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    shown = {site.key_of(i): i for i in site.students(admin)}
    assert all(shown[site.key_of(i)]["student_number"] == site.key_of(i) for i in jl)


PASSWORD = "Kx9-grass-Lamp"


@pytest.fixture
def login_site(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings("sqlite", login_max_failures=3)
    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        create_user(
            store,
            settings,
            username="wang.li",
            password=PASSWORD,
            role=Role.SCHOOL_ADMIN,
            scope=Scope(ScopeLevel.SCHOOL, "3133010001"),
            display_name="王丽",
            now=NOW,
        )
        yield client


def _attempts(client: TestClient, name: str, n: int) -> list[tuple[int, Any]]:
    return [
        (r.status_code, r.json())
        for r in (
            client.post("/api/v1/auth/login", json={"username": name, "password": f"bad-{i}"})
            for i in range(n)
        )
    ]


def test_unknown_and_locked_users_get_the_same_answers(login_site: TestClient) -> None:
    real = _attempts(login_site, "wang.li", 5)
    ghost = _attempts(login_site, "nobody.here", 5)
    assert [s for s, _ in real] == [401, 401, 423, 423, 423]
    assert real == ghost
    # The right password does not open a locked account, and says nothing more.
    right = login_site.post(
        "/api/v1/auth/login", json={"username": "wang.li", "password": PASSWORD}
    )
    assert (right.status_code, right.json()) == ghost[-1]


def test_every_login_path_verifies_a_password_hash(
    login_site: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    calls: list[str] = []
    original = PasswordHasher.verify

    def counted(self: PasswordHasher, hash: str, password: str | bytes) -> bool:
        calls.append(str(password))
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    for name in ("nobody.here", "wang.li"):
        for i in range(4):  # wrong, wrong, locked (3rd), locked
            calls.clear()
            login_site.post("/api/v1/auth/login", json={"username": name, "password": f"p{i}"})
            assert calls == [f"p{i}"], (name, i, calls)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("reuse_port", [False, True])
def test_serve_refuses_a_port_that_is_already_bound(tmp_path: Path, reuse_port: bool) -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:  # as another `edubrain serve` holds it
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    env = os.environ | {"EDUBRAIN_HOME": str(tmp_path / "home")}
    src = str(Path(edubrain.__file__).resolve().parents[1])  # the edubrain under test
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-c", "from edubrain.cli.main import run; run()"]
    command += ["serve", "--port", str(port), "--workers", "2"]
    # Its own process group: if it did start (the bug), its workers are stopped with it.
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        _, stderr = server.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.communicate()
        pytest.fail(f"edubrain serve started on a port already in use ({port})")
    finally:
        listener.close()
    assert server.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0], lines
