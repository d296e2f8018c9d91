"""The teacher's 学情 pages in a real browser (issue 16, items 5–6).

The county's exams are diagnosed by the job (`fit_exam_mastery`, DINA and G-DINA per paper),
then the demo teacher — a class scope — opens 学情 from the menu: her class's mastery heatmap
(knowledge points × pupils, and × groups), its 分层 groups with their members, the recommended
practice and the 错题本, each with its table and an xlsx export. Expected values are read from
the warehouse (the class's pupils in the roster, the mastery rows the job wrote), never from the
page's code; no pupil of another class or school may appear, and the page shows no English.
Marker `e2e` (CI=true: fails without Chromium).
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from python_calamine import CalamineWorkbook
from test_cockpit_browser import CHROMIUM, SHOTS, _ensure_chromium, _free_port
from test_cockpit_chinese import foreign_words, visible

from conftest import County
from edubrain.modules.exams.mastery_job import fit_exam_mastery
from edubrain.serve import create_app
from edubrain.service.demo import create_demo_accounts
from edubrain.settings import Settings
from edubrain.usecases.diagnose import fit
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.e2e


@dataclass
class Learning:
    base: str
    passwords: dict[str, str]
    scope: str  # the demo teacher's class: school_code/school_year/grade_code/class_no
    names: dict[str, str]  # the class's pupils: 学籍号 (as stored) → name
    others: set[str]  # names of every pupil outside the class that no pupil of it shares
    diagnosed: dict[str, set[str]]  # exam id → the class's pupils with mastery rows of it
    latest: str  # the latest date of an exam of the class with mastery
    other_class: str  # the key of another class of the county, for the scope check
    admin_school: str  # the demo school admin's school


@pytest.fixture(scope="module")
def learning(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Learning]:
    home = tmp_path_factory.mktemp("learning-home")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False, password_hash_time_cost=1,
                        password_hash_memory_kib=64)  # fmt: skip
    # both diagnoses: the practice one (BKT on the county's knowledge folder) and the exams'
    fit(settings, county.warehouse.parent.parent / "region" / "knowledge")
    summary = fit_exam_mastery(settings)
    assert summary["diagnosed"] >= 1
    accounts = {a.username: a for a in create_demo_accounts(settings)}
    scope = accounts["demo_teacher"].scope.key
    school, year, grade, number = scope.split("/")
    mine = [s for s in county.students if (s["school_code"], s["school_year"], s["grade_code"],
            str(s["class_no"])) == (school, year, grade, number)]  # fmt: skip
    names = {s["student_number"]: s["name"] for s in mine}
    others = {s["name"] for s in county.students if s["student_number"] not in names}
    others -= set(names.values())
    with open_warehouse(settings, read_only=True) as wh:
        rows = wh.to_arrow("exam_mastery").to_pylist()
        exams = {e["exam_id"]: e for e in wh.to_arrow("exam").to_pylist()}
    diagnosed: dict[str, set[str]] = {}
    for r in rows:
        if r["student_number"] in names:
            diagnosed.setdefault(r["exam_id"], set()).add(r["student_number"])
    latest = str(max(exams[e]["exam_date"] for e in diagnosed))
    other = next(s for s in county.students if s["school_code"] != school)
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield Learning(
            base=f"http://127.0.0.1:{port}",
            passwords={u: a.password for u, a in accounts.items()},
            scope=scope,
            names=names,
            others=others,
            diagnosed=diagnosed,
            latest=latest,
            other_class=f"{other['school_code']}-{other['grade_code']}-{int(other['class_no'])}",
            admin_school=accounts["demo_school_admin"].scope.key,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def teacher(learning: Learning) -> Iterator[Any]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1400, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{learning.base}/login")
        page.fill("#username", "demo_teacher")
        page.fill("#password", learning.passwords["demo_teacher"])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{learning.base}/home")
        yield page
        assert errors == []
        context.close()
        browser.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"learning-{name}.png"), full_page=True)


def _charts_drawn(page: Any) -> None:
    for chart in page.locator("[data-chart]").all():
        page.wait_for_function(
            "el => el.dataset.rendered === '1' || el.dataset.error", arg=chart.element_handle()
        )
        assert chart.get_attribute("data-error") is None, chart.get_attribute("data-error")


def test_the_teacher_sees_her_class_heatmap_and_groups(learning: Learning, teacher: Any) -> None:
    page = teacher
    page.locator("header nav a", has_text="学情").click()  # one click from home: her class
    page.wait_for_url("**/learning")
    _charts_drawn(page)
    _shot(page, "teacher-pupils")
    heads = [h.inner_text() for h in page.locator("#heatmap thead th").all()][1:]
    # the page opens on an exam of the latest date; one column per pupil of her class
    # diagnosed on it, by name, and nobody else
    exam = page.locator("#exam-select").input_value()
    assert exam in learning.diagnosed
    expected = sorted(learning.names[n] for n in learning.diagnosed[exam])
    assert sorted(heads) == expected
    assert page.locator("#heatmap tbody tr").count() >= 1
    cells = page.locator("#heatmap tbody td").all_inner_texts()
    assert cells and all(c == "—" or 0 <= int(c) <= 100 for c in cells)
    # the groups: every diagnosed pupil in exactly one, nobody else
    members = [m.inner_text().split("：", 1)[1].split("、")
               for m in page.locator("#groups .members").all()]  # fmt: skip
    flat = [name for group in members for name in group]
    assert sorted(flat) == expected
    assert 1 <= len(members) <= 3
    # every chart and table as a table with an export; the 错题本 names knowledge points
    assert page.locator("#groups-chart canvas").count() == 1
    assert page.locator("#sheet-5 tbody tr").count() >= 1
    assert page.locator("a[download]").count() == page.locator("table[id^=sheet-]").count() >= 5


def test_the_heatmap_by_groups(learning: Learning, teacher: Any) -> None:
    page = teacher
    page.locator("nav.tabs a", has_text="按分层").click()
    page.wait_for_url("**by=groups")
    _charts_drawn(page)
    _shot(page, "teacher-groups")
    heads = [h.inner_text() for h in page.locator("#heatmap thead th").all()][1:]
    assert heads and set(heads) <= {"基础层", "提高层", "拓展层"}


def test_school_staff_reach_a_class_in_two_clicks(learning: Learning, teacher: Any) -> None:
    """The school admin (a school scope) picks one of the school's classes: menu, then class."""
    page = teacher.context.browser.new_context(
        viewport={"width": 1400, "height": 900}, locale="zh-CN"
    ).new_page()
    page.goto(f"{learning.base}/login")
    page.fill("#username", "demo_school_admin")
    page.fill("#password", learning.passwords["demo_school_admin"])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{learning.base}/home")
    page.locator("header nav a", has_text="学情").click()  # click 1: the school's classes
    page.wait_for_url("**/learning")
    school = learning.admin_school
    assert page.locator("#classes tbody tr a").count() >= 2
    links = [a.get_attribute("href") or "" for a in page.locator("#classes tbody tr a").all()]
    assert all(f"class_key={school}-" in h for h in links)
    page.locator("#classes tbody tr a").first.click()  # click 2: a class's 学情
    page.wait_for_url("**/learning?class_key=*")
    assert page.locator("#class-title").inner_text().endswith("学情")
    _shot(page, "school-admin-class")
    page.context.close()


def test_no_pupil_outside_her_class_and_no_english(learning: Learning, teacher: Any) -> None:
    page = teacher
    page.goto(f"{learning.base}/learning")
    html = page.content()
    shown = visible(html)
    assert foreign_words(shown.texts) == set()
    text = " ".join(shown.texts)
    assert not [n for n in learning.others if len(n) >= 3 and n in text]


def test_the_api_is_scoped_and_exports_xlsx(learning: Learning) -> None:
    with httpx.Client(base_url=learning.base, timeout=60) as client:
        token = client.post(
            "/api/v1/auth/login",
            json={"username": "demo_teacher", "password": learning.passwords["demo_teacher"]},
        )
        assert token.status_code == 200, token.text
        client.cookies.clear()
        client.headers["Authorization"] = f"Bearer {token.json()['token']}"
        classes = client.get("/api/v1/learning/classes").json()
        school, _year, grade, number = learning.scope.split("/")
        key = f"{school}-{grade}-{number}"
        assert [c["class_key"] for c in classes] == [key]
        assert client.get(f"/api/v1/learning/classes/{learning.other_class}").status_code == 404
        view = client.get(f"/api/v1/learning/classes/{key}").json()
        exam = view["exam"]["exam_id"]
        assert view["exam"]["exam_date"] == learning.latest
        assert len(view["pupils"]) == len(learning.diagnosed[exam])
        xlsx = client.get(f"/api/v1/learning/classes/{key}/export.xlsx?table=1&exam={exam}")
        assert xlsx.status_code == 200
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(xlsx.content)).get_sheet_by_index(0)
        rows = sheet.to_python()
        assert rows[0] == ["层", "人数", "平均掌握度", "重点知识点", "学生"]
        assert sum(int(r[1]) for r in rows[1:]) == len(learning.diagnosed[exam])
        # a parent has no 学情 page
        parent = client.post(
            "/api/v1/auth/login",
            json={"username": "demo_parent", "password": learning.passwords["demo_parent"]},
        ).json()["token"]
        client.cookies.clear()
        denied = client.get(
            "/api/v1/learning/classes", headers={"Authorization": f"Bearer {parent}"}
        )
        assert denied.status_code == 403
