"""核心数据加密: no ID number (nor the G 学籍号 that carries one) is in clear in the warehouse
file or the operational store after a demo-sized county is ingested, governed and served.

Deliberately imports nothing of the sealing code: on a version that stores ID numbers in clear,
this test fails on its assertion, not on an import.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb  # noqa: TID251 - the file read as a thief would, without edubrain
import pytest
from fastapi.testclient import TestClient

from edubrain.govern.run import govern
from edubrain.ingest import ingest_paths
from edubrain.serve import create_app
from edubrain.service.demo import DemoAccount, create_demo_accounts
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.standard.identifiers import id_number_problem

# An ID number anywhere in a text: 18 characters not inside a longer run of digits, and not
# the body of a J/L temporary number (region + birth date + 4 digits, no ID number inside).
ID_IN_TEXT = re.compile(r"(?<![0-9JLjl])(\d{17}[\dXx])(?!\d)")


def _clear_ids(texts: Iterator[str]) -> list[str]:
    found = []
    for text in texts:
        for match in ID_IN_TEXT.findall(text):
            if id_number_problem(match.upper()) is None:  # a real ID number, check digit and all
                found.append(text)
                break
    return found


def _warehouse_texts(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND data_type LIKE '%VARCHAR%'"
        ).fetchall()
        for table, column in columns:
            # Lists and structs (value conflicts) are scanned as their text form.
            rows = con.execute(
                f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM "{table}" '
                f"WHERE regexp_matches(CAST(\"{column}\" AS VARCHAR), '\\d{{17}}')"
            ).fetchall()
            out[f"{table}.{column}"] = [r[0] for r in rows]
    finally:
        con.close()
    return out


def _store_texts(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]:
                rows = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
                out[f"{table}.{column}"] = [r[0] for r in rows if isinstance(r[0], str)]
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings]:
    root = tmp_path_factory.mktemp("at-rest")
    generate_region(root / "region", students=1500, seed=5)
    settings = Settings(
        home=root / "home", progress=False, password_hash_time_cost=1, password_hash_memory_kib=64
    )
    ingest_paths([root / "region" / "standard", root / "region" / "exports"], settings)
    govern(settings, truth=root / "region" / "truth")
    return root, settings


@pytest.fixture(scope="module")
def accounts(county: tuple[Path, Settings]) -> dict[str, DemoAccount]:
    return {a.username: a for a in create_demo_accounts(county[1])}


def test_no_id_number_in_clear_in_the_warehouse_or_the_store(
    county: tuple[Path, Settings], accounts: dict[str, DemoAccount]
) -> None:
    root, settings = county
    with TestClient(create_app(settings)) as client:
        # A parent reads their child; an enrolment officer (核心) reads records in clear: both
        # leave audit records naming the pupils they read.
        for username in ("demo_parent", "demo_enrolment_officer", "demo_bureau_leader"):
            login = client.post(
                "/api/v1/auth/login",
                json={"username": username, "password": accounts[username].password},
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            page = client.get("/api/v1/students?limit=5", headers=headers)
            assert page.status_code == 200, page.text
            assert page.json()["items"], username
            ref = page.json()["items"][0]["ref"]
            assert client.get(f"/api/v1/students/{ref}", headers=headers).status_code == 200
    # The generated region itself is in clear: the scan would find its numbers.
    with (root / "region" / "truth" / "student.csv").open(encoding="utf-8") as fh:
        assert _clear_ids(iter(fh.read().splitlines()[1:50]))

    found = {
        where: hits[:2]
        for where, texts in {
            **_warehouse_texts(settings.workspace.warehouse),
            **{
                f"store:{k}": v for k, v in _store_texts(settings.home / "edubrain.sqlite3").items()
            },
        }.items()
        if (hits := _clear_ids(iter(texts)))
    }
    assert not found, found


def test_a_parent_still_sees_their_own_child_in_clear(
    county: tuple[Path, Settings], accounts: dict[str, DemoAccount]
) -> None:
    root, settings = county
    with (root / "region" / "truth" / "student.csv").open(encoding="utf-8") as fh:
        header, *lines = fh.read().splitlines()
    numbers = {line.split(",")[header.split(",").index("student_number")] for line in lines}
    with TestClient(create_app(settings)) as client:
        login = client.post(
            "/api/v1/auth/login",
            json={"username": "demo_parent", "password": accounts["demo_parent"].password},
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        items = client.get("/api/v1/students", headers=headers).json()["items"]
        assert len(items) == 1
        child = items[0]
        assert child["student_number"] in numbers  # opened: the parent holds 核心 clearance
        # By the 学籍号 in clear, the parent reaches the same record.
        again = client.get(f"/api/v1/students/{child['student_number']}", headers=headers)
        assert again.status_code == 200 and again.json()["ref"] == child["ref"]
        # An auditor searching the trail for the pupil's 学籍号 (in clear) finds those reads.
        login = client.post(
            "/api/v1/auth/login",
            json={"username": "demo_auditor", "password": accounts["demo_auditor"].password},
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        found = client.get(
            "/api/v1/audit", params={"record": child["student_number"]}, headers=headers
        )
        assert found.status_code == 200, found.text
        readers = {item["actor"] for item in found.json()["items"]}
        assert "demo_parent" in readers, found.json()
