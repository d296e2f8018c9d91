"""A new domain is one folder plus one registry line.

`library_loans/` (a module that exists only in the tests) declares an entity, a source mapping,
quality rules, a person source, an indicator, a scope rule, an API route, a cockpit page and a
CLI command. Installed beside the registry's modules — the registry line — it is ingested,
checked, linked, computed, served (scoped and masked), audited and shown, with no edit anywhere
else.
Expected values are counted from the planted file and the warehouse's pupils, by hand.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pyarrow.compute as pc
import pytest
import typer
from fastapi.testclient import TestClient
from library_loans import MODULE
from library_loans.entities import LIBRARY_LOAN
from library_loans.indicators import LOANS_PER_PUPIL
from typer.testing import CliRunner

from accounts import bearer_for
from edubrain import installed
from edubrain.cli import commands
from edubrain.errors import ConfigError
from edubrain.govern.mentions import load_mentions
from edubrain.govern.quality import RuleContext, rule, rules
from edubrain.govern.scorecard import interop_rates
from edubrain.indicators.run import compute_catalogue
from edubrain.ingest import ingest_paths
from edubrain.modules.registry import MODULES
from edubrain.modules.spec import Module, check_registry
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.standard.entities import entities
from edubrain.warehouse import QUARANTINE_TABLE, open_warehouse

HEADER = ["借阅编号", "学籍号", "学校标识码", "书名", "借出日期", "归还日期"]
TITLES = ["西游记", "草房子", "昆虫记", "小王子", "骆驼祥子"]


@dataclass(frozen=True)
class Library:
    settings: Settings
    county: str
    loans: dict[str, dict[str, str]]  # loaded loans by 借阅编号, as planted
    class_of: dict[str, tuple[str, str, str, int]]  # 借阅编号 → its pupil's class
    reversed_loan: str
    open_loan: str
    enrolled: Counter[str]  # pupils enrolled this year per school (warehouse, by hand)
    year: str


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Library]:
    root = tmp_path_factory.mktemp("library")
    region = root / "region"
    generate_region(region, students=400, seed=7)
    settings = Settings(home=root / "home", progress=False)
    with installed.installing(MODULE):
        ingest_paths([region / "standard", region / "exports"], settings)
        sealer = sealer_for(settings)
        assert sealer is not None
        with open_warehouse(settings, read_only=True) as wh:
            pupils = wh.to_arrow("student").to_pylist()
            schools = {
                s["school_code"]: s["region_code"] for s in wh.to_arrow("school").to_pylist()
            }
        year = max(p["school_year"] for p in pupils)
        current = [p for p in pupils if p["school_year"] == year and p["status"] == "enrolled"]
        enrolled = Counter(p["school_code"] for p in current)
        by_sealed = {p["student_number"]: p for p in current}
        with (region / "truth" / "student.csv").open(encoding="utf-8") as fh:
            truth = [r for r in csv.DictReader(fh) if r["school_year"] == year]
        # Pupils of the two largest schools that the warehouse holds in the same class.
        first_two = [code for code, _ in enrolled.most_common(2)]
        chosen = []
        for r in truth:
            stored = by_sealed.get(sealer.seal_student_number(r["student_number"]))
            if stored and stored["school_code"] in first_two:
                chosen.append((r["student_number"], stored))
        chosen = chosen[:24]
        assert len(chosen) == 24

        rows: list[list[str]] = []
        loans: dict[str, dict[str, str]] = {}
        class_of: dict[str, tuple[str, str, str, int]] = {}
        for i, (number, stored) in enumerate(chosen):
            for k in range(1 + i % 2):  # every other pupil borrows twice
                loan_id = f"L{i:03d}{k}"
                lent = date(2025, 10, 1 + i)
                back = (lent + timedelta(days=14)).isoformat()
                row = [loan_id, number, stored["school_code"], TITLES[(i + k) % 5],
                       lent.isoformat(), back]  # fmt: skip
                rows.append(row)
                loans[loan_id] = dict(zip(HEADER, row, strict=True))
                class_of[loan_id] = (
                    stored["school_code"], year, stored["grade_code"], stored["class_no"]
                )  # fmt: skip
        # Returned before it was lent: loaded, and found by the date-order rule.
        reversed_loan, open_loan = "L0000", "L0010"
        loans[reversed_loan]["归还日期"] = "2025-09-01"
        rows[0][5] = "2025-09-01"
        # Not returned yet: loaded, and found by the completeness rule.
        loans[open_loan]["归还日期"] = ""
        rows[[r[0] for r in rows].index(open_loan)][5] = ""
        # A date that does not exist: quarantined at the door.
        rows.append(
            ["L9999", chosen[0][0], chosen[0][1]["school_code"], "水浒传", "2025-13-45", ""]
        )
        export = region / "exports" / "tushu" / "图书_借阅记录_2025.csv"
        export.parent.mkdir(parents=True)
        with export.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(HEADER)
            writer.writerows(rows)
        (report,) = ingest_paths([export], settings)
        assert (report.rows_read, report.rows_quarantined) == (len(rows), 1)
        county = schools[first_two[0]]
    # Installed only inside each test: outside, nothing of the module is left behind.
    yield Library(settings, county, loans, class_of, reversed_loan, open_loan, enrolled, year)


def test_the_module_adds_its_entity_mapping_and_rules_only_while_installed(library) -> None:
    assert "library_loan" not in {e.name for e in entities()}
    with installed.installing(MODULE):
        assert "library_loan" in {e.name for e in entities()}
        ids = {r.id for r in rules()}
        assert {
            "validity.library_loan.return_date",
            "completeness.library_loan.return_date",
            "referential_integrity.library_loan.student",
            "timeliness.library_loan",
        } <= ids
    assert not any("library_loan" in r.id for r in rules())


def test_loans_are_ingested_and_the_bad_date_is_quarantined(library) -> None:
    with installed.installing(MODULE), open_warehouse(library.settings, read_only=True) as wh:
        stored = wh.to_arrow("library_loan")
        assert sorted(stored.column("loan_id").to_pylist()) == sorted(library.loans)
        quarantined = wh.to_arrow(QUARANTINE_TABLE)
        mine = quarantined.filter(pc.equal(quarantined.column("entity"), "library_loan"))
        assert mine.num_rows == 1
        assert mine.column("reason").to_pylist() == ["bad_date"]


def test_the_quality_rules_find_exactly_the_planted_rows(library) -> None:
    ctx = RuleContext(as_of=date(2026, 3, 1))
    with installed.installing(MODULE), open_warehouse(library.settings, read_only=True) as wh:
        found = {
            rule_id: rule(rule_id).offending(wh, ctx).to_pyarrow().column("loan_id").to_pylist()
            for rule_id in (
                "validity.library_loan.return_date",
                "completeness.library_loan.return_date",
                "referential_integrity.library_loan.student",
            )
        }
    assert found == {
        "validity.library_loan.return_date": [library.reversed_loan],
        "completeness.library_loan.return_date": [library.open_loan],
        "referential_integrity.library_loan.student": [],
    }


def test_loans_are_person_mentions_and_resolve_to_registry_pupils(library) -> None:
    with installed.installing(MODULE), open_warehouse(library.settings, read_only=True) as wh:
        mentions = load_mentions(wh, sealer_for(library.settings)).to_pylist()
        rates = interop_rates(wh).to_pyarrow().to_pylist()
    mine = [m for m in mentions if m["entity"] == "library_loan"]
    # One mention per borrowing pupil, holding all of the pupil's loans and their school.
    school_of = {loan["学籍号"]: loan["学校标识码"] for loan in library.loans.values()}
    assert len(mine) == len(school_of) == 24
    assert sum(m["rows"] for m in mine) == len(library.loans)
    assert Counter(m["school_code"] for m in mine) == Counter(school_of.values())
    # Every loan names a pupil of the registry, so every one resolves (数据互通率 100%).
    per_school = Counter(loan["学校标识码"] for loan in library.loans.values())
    loans = [r for r in rates if r["entity"] == "library_loan"]
    assert {r["school_code"]: (r["records"], r["resolved"]) for r in loans} == {
        school: (n, n) for school, n in per_school.items()
    }
    with open_warehouse(library.settings, read_only=True) as wh:
        without = load_mentions(wh, sealer_for(library.settings))
    assert "library_loan" not in set(without.column("entity").to_pylist())


def test_the_indicator_is_loans_over_pupils_enrolled(library) -> None:
    with installed.installing(MODULE), open_warehouse(library.settings) as wh:
        compute_catalogue(wh, indicators=[LOANS_PER_PUPIL], now=datetime(2026, 3, 1, 8, 0))
        values = wh.to_arrow("indicator_value").to_pylist()
    mine = [v for v in values if v["indicator_id"] == LOANS_PER_PUPIL.id]
    # A school's value (Σ loans ÷ Σ pupils, per 学段 it teaches) and the county's.
    loans, pupils = Counter[str](), Counter[str]()
    for v in mine:
        if v["grain"] == "school":
            loans[v["unit_code"]] += v["numerator"]
            pupils[v["unit_code"]] += v["denominator"]
            assert v["value"] == pytest.approx(v["numerator"] / v["denominator"], abs=0.01)
    planted = Counter(loan["学校标识码"] for loan in library.loans.values())
    assert dict(pupils) == dict(library.enrolled)
    assert {k: n for k, n in loans.items() if n} == dict(planted)
    (county,) = [v for v in mine if v["grain"] == "county" and not v["stage"]]
    total = sum(library.enrolled.values())
    assert county["value"] == pytest.approx(len(library.loans) / total, abs=0.01)


def _bearer(settings: Settings, name: str, role: Role, scope: Scope) -> dict[str, str]:
    with open_store(settings) as store:
        return bearer_for(store, name, role, scope)


def _all_pages(client: TestClient, path: str, headers: dict[str, str]) -> list[dict]:
    items, cursor = [], None
    while True:
        reply = client.get(path, headers=headers, params={"cursor": cursor} if cursor else {})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        cursor = body["next_cursor"]


def test_served_scoped_masked_and_audited(library) -> None:
    loan_id, pupil_class = next(iter(library.class_of.items()))
    in_class = {k for k, c in library.class_of.items() if c == pupil_class}
    class_key = "/".join(str(part) for part in pupil_class)
    with installed.installing(MODULE):
        head = _bearer(
            library.settings, "head", Role.HEAD_TEACHER, Scope(ScopeLevel.CLASS, class_key)
        )
        leader = _bearer(
            library.settings, "leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, library.county)
        )
        outsider = _bearer(
            library.settings, "outsider", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, "339999")
        )
        with TestClient(create_app(library.settings), base_url="http://127.0.0.1") as client:
            seen = _all_pages(client, "/api/v1/library/loans", head)
            assert {r["loan_id"] for r in seen} == in_class
            # The head teacher may read 敏感 data: the titles are in clear.
            assert {r["book_title"] for r in seen} == {
                library.loans[r["loan_id"]]["书名"] for r in seen
            }
            everything = _all_pages(client, "/api/v1/library/loans", leader)
            assert {r["loan_id"] for r in everything} == set(library.loans)
            # A bureau leader is cleared for 公开/内部 only: no title, no clear 学籍号.
            for r in everything:
                assert "book_title" in r["masked"]
                assert r["book_title"] not in TITLES
                assert r["student_number"] != library.loans[r["loan_id"]]["学籍号"]
            assert _all_pages(client, "/api/v1/library/loans", outsider) == []

            page = client.get("/library", headers=head)
            assert page.status_code == 200
            assert "图书借阅" in page.text and "书名" in page.text and "借出日期" in page.text
            assert library.loans[loan_id]["书名"] in page.text
            assert "book_title" not in page.text  # labels, not internal names

        with open_store(library.settings) as store:
            trail = [r.entry for r in store.audit_records(resource="library_loan")]
    listed = {rid for e in trail if e.action == "list" for rid in json.loads(e.record_ids)}
    assert in_class <= listed and set(library.loans) <= listed


def test_the_portrait_shows_the_loans_behind_the_modules_permission(library) -> None:
    """The module's section of the portrait and its own permission, declared in its folder."""
    _, pupil_class = next(iter(library.class_of.items()))
    in_class = {k for k, c in library.class_of.items() if c == pupil_class}
    class_key = "/".join(str(part) for part in pupil_class)
    county = Scope(ScopeLevel.COUNTY, library.county)
    with installed.installing(MODULE):
        head = _bearer(
            library.settings, "head_p", Role.HEAD_TEACHER, Scope(ScopeLevel.CLASS, class_key)
        )
        leader = _bearer(library.settings, "leader_p", Role.BUREAU_LEADER, county)
        auditor = _bearer(library.settings, "auditor_p", Role.AUDITOR, county)
        with TestClient(create_app(library.settings), base_url="http://127.0.0.1") as client:
            assert "library:read" in client.get("/api/v1/me", headers=head).json()["permissions"]
            assert (
                "library:read"
                not in client.get("/api/v1/me", headers=auditor).json()["permissions"]
            )
            assert client.get("/api/v1/library/loans", headers=auditor).status_code == 403

            shown: dict[str, dict] = {}
            borrowers = []
            for pupil in _all_pages(client, "/api/v1/students", head):
                reply = client.get(f"/api/v1/students/{pupil['ref']}/portrait", headers=head)
                assert reply.status_code == 200, reply.text
                loans = reply.json()["library"]
                shown |= {loan["loan_id"]: loan for loan in loans}
                borrowers += [pupil["ref"]] if loans else []
            assert set(shown) == in_class
            # The head teacher may read 敏感 data: the titles are in clear.
            assert all(
                loan["book_title"] == library.loans[loan_id]["书名"]
                for loan_id, loan in shown.items()
            )
            # A bureau leader's portrait of the same pupil has the titles masked.
            reply = client.get(f"/api/v1/students/{borrowers[0]}/portrait", headers=leader)
            assert reply.status_code == 200, reply.text
            masked = reply.json()["library"]
            assert masked and all("book_title" in loan["masked"] for loan in masked)
            assert not {loan["book_title"] for loan in masked} & set(TITLES)
    # Uninstalled, the portrait has no such section.
    with TestClient(create_app(library.settings), base_url="http://127.0.0.1") as client:
        schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "library" not in schema["Portrait"]["properties"]


def test_the_module_command_runs_from_the_cli(library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDUBRAIN_HOME", str(library.settings.home))
    app = typer.Typer()
    with installed.installing(MODULE):
        commands.register(app)
        result = CliRunner().invoke(app, ["library-loans"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"图书借阅 {len(library.loans)} 条"


def test_the_page_needs_a_login(library) -> None:
    with (
        installed.installing(MODULE),
        TestClient(create_app(library.settings), base_url="http://127.0.0.1") as client,
    ):
        reply = client.get("/api/v1/library/loans")
    assert reply.status_code == 401


def test_an_entity_declared_twice_is_refused() -> None:
    twin = Module(name="twin", label="重复", description="", entities=(LIBRARY_LOAN,))
    with installed.installing(MODULE, twin), pytest.raises(ConfigError, match="library_loan"):
        entities()
    assert "library_loan" not in {e.name for e in entities()}


def test_a_module_comes_after_the_modules_it_requires() -> None:
    with pytest.raises(ValueError, match="requires roster"):
        check_registry((MODULE,))
    check_registry((*MODULES, MODULE))
