"""The cockpit in a real browser (Playwright for Python driving Debian's /usr/bin/chromium).

Logs in as each demo role, visits its pages and checks that values read straight from the
warehouse appear, formatted in zh-CN (not placeholders), and that data outside the role's scope
does not. Every request the browser makes is recorded: none may leave 127.0.0.1. Screenshots go
to artifacts/screenshots/ (kept by CI, ignored by git).

Marker `e2e`. Without Chromium the tier installs it (`apt-get install -y chromium`) when it can;
otherwise it skips — except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest
import uvicorn

from conftest import County
from edubrain.govern.identity import PERSON_MENTION_TABLE
from edubrain.govern.run import govern
from edubrain.govern.steward import REVIEW_SCHEMA, REVIEW_TABLE, review_id
from edubrain.indicators.catalogue import family, indicators
from edubrain.indicators.run import compute_catalogue
from edubrain.ingest.quarantine import reason_name
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.demo import create_demo_accounts
from edubrain.service.sealed_refs import SealedRefs
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.mapping import builtin_mappings
from edubrain.usecases import steward
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
BY_ID = {i.id: i for i in indicators()}


def _ensure_chromium() -> None:
    """Debian's Chromium (and a CJK font for readable screenshots), installed when missing."""
    ci = os.environ.get("CI") == "true"
    apt = shutil.which("apt-get") and os.geteuid() == 0
    if not CHROMIUM.exists() and apt:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False,
                       capture_output=True)  # fmt: skip
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing and could not be installed"
        if ci:
            pytest.fail(message)
        pytest.skip(message)
    fonts = subprocess.run(["fc-list", ":lang=zh"], check=False, capture_output=True, text=True)
    if apt and not fonts.stdout.strip():
        subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-wqy-microhei"], check=False,
                       capture_output=True)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    base: str
    settings: Settings
    passwords: dict[str, str]
    scopes: dict[str, str]
    county: County
    county_code: str
    values: list[dict[str, Any]]  # the latest indicator values, read from the warehouse
    requests: list[str]


def _questions_at_least(settings: Settings, wanted: int) -> None:
    """The steward's queue holds real questions only, and at this size linkage may leave fewer
    than the browser needs: then doubtful pairs of two registry records each (as a 重复学籍
    would leave), with both sides as `edubrain govern` writes them, so that the steward's page
    has decisions to make."""
    with open_warehouse(settings) as wh:
        have = wh.count(REVIEW_TABLE)
        if have >= wanted:
            return
        mentions = wh.to_arrow(PERSON_MENTION_TABLE).to_pylist()
        registry = sorted((m for m in mentions if m["entity"] == "student"),
                          key=lambda m: m["mention_key"])  # fmt: skip
        pupils = {p["student_number"]: p for p in wh.to_arrow("student").to_pylist()}
        rows = []
        for i in range(wanted - have):
            a, b = registry[2 * i], registry[2 * i + 1]

            def side(m: dict[str, Any]) -> dict[str, Any]:
                p = pupils[m["student_number"]]
                fields = ("name", "sex", "birth_date", "school_code", "grade_code", "class_no")
                return {"entity": "student", "student_number": m["student_number"],
                        **{f: None if p[f] is None else str(p[f]) for f in fields},
                        "load_id": m["load_id"], "rows": 1}  # fmt: skip

            rows.append({
                "review_id": review_id(a["mention_key"], b["mention_key"]),
                "mention_key_l": a["mention_key"],
                "mention_key_r": b["mention_key"],
                "person_id_l": a["person_id"],
                "person_id_r": b["person_id"],
                "match_probability": 0.62,
                "reason": "two registrations look alike",
                "run_id": "fixture",
                "match_weights": [{"comparison": "name", "level": "same pinyin", "weight": 4.2}],
                "side_l": side(a),
                "side_r": side(b),
                "records_l": 1,
                "records_r": 1,
                "impact": 0.96,
            })  # fmt: skip
        with wh.transaction() as tx:
            tx.append_rows(REVIEW_TABLE, pa.Table.from_pylist(rows, schema=REVIEW_SCHEMA))


@pytest.fixture(scope="module")
def site(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    home = tmp_path_factory.mktemp("cockpit-home")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    outline = county.warehouse.parent.parent / "region" / "map" / "outline.geojson"
    (home / "map").mkdir()
    shutil.copy(outline, home / "map" / "outline.geojson")
    settings = Settings(home=home, progress=False, password_hash_time_cost=1,
                        password_hash_memory_kib=64)  # fmt: skip
    with open_warehouse(settings) as wh:
        # A second school year of the informatization family, so trends have two points.
        compute_catalogue(wh, school_year="2024-2025", indicators=family("info").indicators,
                          now=datetime(2026, 3, 1, 9, 0))  # fmt: skip
        values = wh.to_arrow("indicator_value").to_pylist()
    with open_store(settings) as book:
        book.replace_warnings(county.warnings, county.warning_events)
    govern(settings)  # 一人一码: fills the steward's queue with doubtful pairs
    _questions_at_least(settings, 2)
    latest: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in sorted(values, key=lambda r: r["computed_at"]):
        latest[(row["indicator_id"], row["school_year"], row["grain"], row["unit_code"],
                row["stage"])] = row  # fmt: skip
    accounts = create_demo_accounts(settings)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield Site(
            base=f"http://127.0.0.1:{port}",
            settings=settings,
            passwords={a.username: a.password for a in accounts},
            scopes={a.username: a.scope.key for a in accounts},
            county=county,
            county_code=county.schools[0]["region_code"],
            values=list(latest.values()),
            requests=[],
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Any]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def as_role(site: Site, browser: Any) -> Iterator[Any]:
    """Log in as `demo_<role>` in a fresh browser context; every request is recorded."""
    contexts = []

    def login(role: str) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        contexts.append(context)
        context.on("request", lambda request: site.requests.append(request.url))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.errors = errors
        page.goto(f"{site.base}/login")
        page.fill("#username", f"demo_{role}")
        page.fill("#password", site.passwords[f"demo_{role}"])
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{site.base}/home")
        page.role = role
        return page

    yield login
    for context in contexts:
        context.close()


def visit(page: Any, site: Site, path: str, shot: str) -> Any:
    response = page.goto(f"{site.base}{path}")
    assert response is not None
    for chart in page.locator("[data-chart]").all():
        chart.wait_for(state="attached")
        page.wait_for_function(
            "el => el.dataset.rendered === '1' || el.dataset.error", arg=chart.element_handle()
        )
        assert chart.get_attribute("data-error") is None, chart.get_attribute("data-error")
    # Accessibility basics on every page: every control has a label, charts have a text
    # alternative, the document names its language.
    unlabelled = page.evaluate(
        "() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
        ".filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))"
        ".map(el => el.name || el.id)"
    )
    assert unlabelled == []
    for chart in page.locator("[data-chart]").all():
        assert chart.get_attribute("aria-label")
    assert page.locator("html").get_attribute("lang") in ("zh-CN", "en")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{page.role}-{shot}.png"), full_page=True)
    assert page.errors == []
    return response


def zh_value(value: float, decimals: int, unit: str) -> str:
    """The zh-CN display of an indicator value, written out here (thousands comma, unit)."""
    text = f"{value:,.{decimals}f}"
    return f"{text}{unit}" if unit == "%" else (f"{text} {unit}" if unit else text)


def _rows(site: Site, **match: str) -> list[dict[str, Any]]:
    return [r for r in site.values if all(r[k] == v for k, v in match.items())]


# ---- the bureau -----------------------------------------------------------------------------


def test_bureau_leader_overview_shows_the_warehouse_values(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    visit(page, site, "/overview", "overview")
    county_rows = _rows(site, grain="county", unit_code=site.county_code, school_year="2025-2026")
    headline = [
        r for r in county_rows if BY_ID[r["indicator_id"]].headline and r["value"] is not None
    ]
    assert headline, "the county has headline values"
    for row in headline:
        ind = BY_ID[row["indicator_id"]]
        cell = page.locator(
            f"#headline-table tr[data-indicator='{ind.id}'][data-stage=''] td.value"
        )
        assert cell.inner_text().strip() == zh_value(row["value"], ind.decimals, ind.unit)
    # Open and acknowledged warnings by level, counted from the warehouse's warning table.
    for level in ("red", "orange", "yellow"):
        expected = sum(
            1 for w in site.county.warnings
            if w["level"] == level and w["status"] in ("open", "acknowledged")
        )  # fmt: skip
        shown = page.locator(f".level-count[data-level='{level}']").inner_text()
        assert shown.replace(",", "") == str(expected)
    # The main chart is drawn on a canvas, and the trend has both school years.
    assert page.locator("#main-chart canvas").count() == 1
    assert "2024—2025学年" in page.locator("#trend-chart-option").inner_text()


def test_map_colours_schools_and_a_click_opens_the_profile(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    visit(page, site, "/map", "map")
    rows = page.locator("#map-schools tr[data-school]")
    assert rows.count() == len(site.county.schools)
    school = site.county.schools[0]
    assert school["name"] in page.locator("#map-schools").text_content()  # inside <details>
    # A real click on the school's point on the canvas opens its profile.
    x, y = page.evaluate(
        "([lon, lat]) => { const c = document.getElementById('map-chart');"
        " const [px, py] = c.chart.convertToPixel({seriesIndex: 0}, [lon, lat]);"
        " const r = c.getBoundingClientRect(); return [r.left + px, r.top + py]; }",
        [school["longitude"], school["latitude"]],
    )
    page.mouse.click(x, y)
    page.wait_for_url(f"{site.base}/schools/**")
    assert page.locator("h1").inner_text() in {s["name"] for s in site.county.schools}


def test_the_leaders_home_lists_the_weeks_decisions_and_schools_roll_up(
    site: Site, as_role: Any
) -> None:
    page = as_role("bureau_leader")
    visit(page, site, "/home", "home")
    items = page.locator("#week-list li[data-group]")
    assert 0 < items.count() <= 10
    assert set(items.evaluate_all("els => els.map(e => e.className)")) <= {
        "level-red",
        "level-orange",
    }
    visit(page, site, "/warnings?view=schools", "warnings-schools")
    expected = {
        w["unit_code"]
        for w in site.county.warnings
        if w["grain"] == "school" and w["status"] in ("open", "acknowledged")
    }
    assert page.locator("#warning-schools tr[data-school]").count() == len(expected)


def test_school_profile_shows_its_indicators_and_counts(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    school = site.county.schools[0]
    visit(page, site, f"/schools/{school['school_code']}", "school")
    assert page.locator("h1").inner_text() == school["name"]
    pupils = sum(1 for s in site.county.students if s["school_code"] == school["school_code"])
    assert page.locator("#school-students").inner_text() == f"{pupils:,}"
    rows = [r for r in _rows(site, grain="school", unit_code=school["school_code"],
                             school_year="2025-2026") if r["value"] is not None]  # fmt: skip
    assert rows
    for row in rows:
        ind = BY_ID[row["indicator_id"]]
        tr = f"tr[data-indicator='{ind.id}'][data-stage='{row['stage']}']"
        cell = page.locator(f"#school-indicators {tr} td.value")
        assert cell.inner_text().strip() == zh_value(row["value"], ind.decimals, ind.unit)


def test_warnings_acknowledge_and_resolve_with_a_note(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    visit(page, site, "/warnings?status=open&grain=county", "warnings")
    first = page.locator("#warning-list li.warning").first
    wid = first.get_attribute("data-warning")
    expected = next(w for w in site.county.warnings if w["warning_id"] == wid)
    assert expected["message"] in first.inner_text()
    first.locator("input[name=note]").fill("已通知规划科核实")
    first.locator("button", has_text="认领").click()
    page.wait_for_url("**done=acknowledge**")
    visit(page, site, "/warnings?status=acknowledged", "warnings-acknowledged")
    item = page.locator(f"li[data-warning='{wid}']")
    assert item.get_attribute("data-status") == "acknowledged"
    assert "已通知规划科核实" in item.inner_text()
    item.locator("input[name=note]").fill("数据已更正")
    item.locator("button", has_text="解决").click()
    page.wait_for_url("**done=resolve**")
    visit(page, site, "/warnings?status=resolved", "warnings-resolved")
    assert "数据已更正" in page.locator(f"li[data-warning='{wid}']").inner_text()


# ---- the school, the class, the family -------------------------------------------------------


def test_school_admin_sees_its_school_and_not_another(site: Site, as_role: Any) -> None:
    page = as_role("school_admin")
    own = site.scopes["demo_school_admin"]
    other = next(s for s in site.county.schools if s["school_code"] != own)
    visit(page, site, f"/schools/{own}", "own-school")
    assert page.locator("#school-indicators tr[data-indicator]").count() > 0
    visit(page, site, f"/schools/{other['school_code']}", "other-school")
    assert page.locator("#school-indicators").count() == 0
    assert page.locator("#out-of-scope").count() == 1
    visit(page, site, "/warnings?status=", "warnings")
    units = {el.get_attribute("data-unit") for el in page.locator("li.warning").all()}
    assert units, "the school admin sees warnings"
    assert other["school_code"] not in units
    assert units <= {own, site.county_code, site.county_code[:4] + "00",
                     site.county_code[:2] + "0000"}  # fmt: skip
    visit(page, site, "/map", "map")
    label = page.locator(f"#map-schools tr[data-school='{other['school_code']}'] td")
    assert label.text_content() == "无数据"


def test_school_admin_reads_a_pupils_exam_totals(site: Site, as_role: Any) -> None:
    page = as_role("school_admin")
    own = site.scopes["demo_school_admin"]
    pupils = {s["student_number"] for s in site.county.students if s["school_code"] == own}
    with open_warehouse(site.settings, read_only=True) as wh:  # as the server holds it
        scores = [r for r in wh.to_arrow("item_score").to_pylist()
                  if r["student_number"] in pupils]  # fmt: skip
    assert scores, "the demo school has exam scores"
    pupil = min(r["student_number"] for r in scores)
    totals: dict[str, float] = {}
    for r in scores:
        if r["student_number"] == pupil and r["score"] is not None:
            totals[r["exam_id"]] = totals.get(r["exam_id"], 0.0) + r["score"]
    visit(page, site, f"/students/{ref(site, pupil)}", "portrait-exams")
    for exam_id, total in totals.items():
        cell = page.locator(f"#exams tr[data-exam='{exam_id}'] td").nth(1)
        assert cell.inner_text() == f"{total:,.1f}"
    assert page.locator("#score-chart canvas").count() == 1


def shown_number(number: str, *, sees_id_numbers: bool, sees_birth_dates: bool = True) -> str:
    """docs/service.md (decision 0013): a G 学籍号 is G + the pupil's ID number, masked without
    核心 clearance; a J or L one embeds the birth date, masked without 敏感; masked, only the
    letter is left. `number` is the stored form: a G 学籍号 is sealed at rest (decision 0011)."""
    sealer = sealer_for(Settings())
    assert sealer is not None
    number = sealer.open_student_number(number)
    needs_core = number.startswith("G")
    if (sees_id_numbers if needs_core else sees_birth_dates) or len(number) != 19:
        return number
    return number[0] + "*" * 18


def ref(site: Site, number: str) -> str:
    """The pupil's sealed ref: how a page addresses a pupil whose 学籍号 the role sees masked."""
    return SealedRefs.for_workspace(site.settings.workspace).seal(number)


def _class_pupils(site: Site, key: str) -> list[dict[str, Any]]:
    school, year, grade, number = key.split("/")
    return [
        s for s in site.county.students
        if (s["school_code"], s["school_year"], s["grade_code"], s["class_no"])
        == (school, year, grade, int(number))
    ]  # fmt: skip


def test_head_teacher_sees_the_class_and_no_other_pupil(site: Site, as_role: Any) -> None:
    page = as_role("head_teacher")
    pupils = _class_pupils(site, site.scopes["demo_head_teacher"])
    visit(page, site, "/students", "students")
    listed = page.locator("#students tbody th").all_inner_texts()
    shown = {shown_number(p["student_number"], sees_id_numbers=False) for p in pupils}
    if len(pupils) <= 50:  # the whole class on the first page
        assert set(listed) == shown
    else:  # a 大班额 class: a full first page of its pupils only
        assert len(listed) == 50 and set(listed) <= shown
    pupil = pupils[0]
    visit(page, site, f"/students/{ref(site, pupil['student_number'])}", "portrait")
    assert page.locator("#student-name").inner_text() == pupil["name"]  # 敏感: in clear
    with open_warehouse(site.settings, read_only=True) as wh:  # as the server holds it
        fitness = [r for r in wh.to_arrow("fitness_test").to_pylist()
                   if r["student_number"] == pupil["student_number"]]  # fmt: skip
    for row in fitness:  # 敏感 measurements, in clear for the head teacher
        assert f"{row['height_cm']}" in page.locator("#fitness").inner_text()
    outsider = next(s for s in site.county.students if s not in pupils)
    response = visit(page, site, f"/students/{ref(site, outsider['student_number'])}", "outsider")
    assert response.status == 404
    assert outsider["name"] not in page.content()


def test_parent_sees_the_own_child_in_clear_and_nobody_else(site: Site, as_role: Any) -> None:
    page = as_role("parent")
    child_number = site.scopes["demo_parent"]
    child = next(s for s in site.county.students if s["student_number"] == child_number)
    visit(page, site, "/home", "home")
    page.click("a[data-child]")  # by its ref, not the 学籍号
    page.wait_for_url("**/students/**")
    visit(page, site, page.url.removeprefix(site.base), "portrait")
    assert page.locator("#student-name").inner_text() == child["name"]
    sealer = sealer_for(site.settings)  # the ID number is stored sealed (decision 0011)
    assert sealer is not None
    # 核心: their own child — the ID number, or (a record without one) the 学籍号 in clear
    own = child["id_number"] or child_number
    assert sealer.open_text(own) in page.locator("#portrait").inner_text()
    other = next(s for s in site.county.students if s["student_number"] != child_number)
    assert visit(page, site, f"/students/{other['student_number']}", "other").status == 404
    assert visit(page, site, "/overview", "overview").status == 403


def test_bureau_leader_reads_a_portrait_masked(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    pupil = _class_pupils(site, site.scopes["demo_head_teacher"])[0]
    visit(page, site, f"/students/{ref(site, pupil['student_number'])}", "portrait-masked")
    name = page.locator("#student-name").inner_text()
    assert name != pupil["name"] and name[0] == pupil["name"][0] and "*" in name
    assert "姓名" in page.locator("#masked").inner_text()
    for protected in ("name", "id_number", "birth_date", "address"):
        if pupil[protected]:
            assert str(pupil[protected]) not in page.content()


def test_teacher_sees_pupils_of_the_class_only(site: Site, as_role: Any) -> None:
    page = as_role("teacher")
    pupils = {shown_number(p["student_number"], sees_id_numbers=False)
              for p in _class_pupils(site, site.scopes["demo_teacher"])}  # fmt: skip
    visit(page, site, "/students", "students")
    listed = set(page.locator("#students tbody th").all_inner_texts())
    assert listed and listed <= pupils
    assert visit(page, site, "/warnings", "warnings").status == 403


# ---- the data office and the auditor -------------------------------------------------------------


def test_data_office_shows_runs_quarantine_and_quality(site: Site, as_role: Any) -> None:
    page = as_role("data_admin")
    with open_warehouse(site.settings, read_only=True) as wh:  # as the server holds it
        loads = wh.to_arrow("loads").to_pylist()
        quarantined = wh.to_arrow("quarantine").to_pylist()
    visit(page, site, "/data-office", "runs")
    text = page.locator("#runs").inner_text()
    biggest = max(loads, key=lambda r: r["rows_read"])
    assert Path(biggest["file"]).name in text
    assert f"{biggest['rows_read']:,}" in text
    visit(page, site, "/data-office?tab=quarantine", "quarantine")
    first = sorted(quarantined, key=lambda r: (r["load_id"], r["row_number"], r["field"] or "",
                                                r["reason"]))[0]  # fmt: skip
    row = page.locator("#quarantine tbody tr").first
    assert reason_name(first["reason"]) in row.inner_text()  # the reason by its Chinese name
    assert str(first["row_number"]) in row.inner_text()
    visit(page, site, "/data-office?tab=quality", "quality")
    # Each source by its mapping's name (学籍系统), standard-format files as 标准格式.
    names = {m.source: m.label for m in builtin_mappings().values()} | {"standard": "标准格式"}
    sources = {names[r["source"]] for r in loads if r["source"]}
    shown = set(page.locator("#quality-source tbody th").all_inner_texts())
    assert sources <= shown


def test_steward_decides_two_pairs_side_by_side_at_once_and_undoes_one(
    site: Site, as_role: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data officer's steward work: two pairs side by side, decided in one bulk action, one
    undone, the states shown; then the steward job puts the rest into effect."""
    # The job is run below, in this process, at the moment the test chooses.
    monkeypatch.setattr("edubrain.service.jobs.start_runner", lambda settings: None)
    page = as_role("data_admin")
    visit(page, site, "/data-office?tab=steward", "steward")
    pairs = page.locator("#steward article[data-state=pending]")
    assert pairs.count() >= 2
    first, second = pairs.nth(0), pairs.nth(1)
    ids = [first.get_attribute("data-review"), second.get_attribute("data-review")]
    # Side by side: both records' fields, the differing ones marked in words, not colour only.
    table = first.locator("table.side-by-side")
    assert "姓名" in table.inner_text() and "出生日期" in table.inner_text()
    differing = table.locator("tr.differs")
    assert differing.count() >= 1
    assert "≠ 不同" in differing.first.inner_text()
    first.locator("select").select_option("different")
    second.locator("select").select_option("different")
    page.locator("#steward-note").fill("出生日期不同，非同一人")
    page.locator("button[name=bulk]").click()
    page.wait_for_url("**done=2**")
    page.screenshot(path=str(SHOTS / "steward-decided.png"), full_page=True)

    def state(review: str | None) -> str:
        return str(page.locator(f"#steward article[data-review='{review}']").get_attribute(
            "data-state"))  # fmt: skip

    assert [state(r) for r in ids] == ["applying", "applying"]
    heading = page.locator(f"#steward article[data-review='{ids[0]}'] h3").inner_text()
    assert "已判定·生效中" in heading and "不同人" in heading
    page.locator(f"#steward article[data-review='{ids[1]}'] button[name=undo]").click()
    page.wait_for_url("**undone=1**")
    assert [state(r) for r in ids] == ["applying", "pending"]  # the undone pair is asked again
    with open_store(site.settings) as store:
        decisions = store.steward_decisions()
    assert [(d["verdict"], d["decided_by"]) for d in decisions][-3:] == [
        ("different", "demo_data_admin"), ("different", "demo_data_admin"),
        ("undo", "demo_data_admin")]  # fmt: skip
    steward.apply(site.settings)  # the steward job: the touched persons only
    visit(page, site, "/data-office?tab=steward", "steward-applied")
    assert state(ids[0]) == "applied"
    assert "已生效" in page.locator(f"#steward article[data-review='{ids[0]}'] h3").inner_text()


def test_auditor_reads_the_trail_and_verifies_the_chain(site: Site, as_role: Any) -> None:
    leader = as_role("bureau_leader")
    school = site.county.schools[0]["school_code"]
    visit(leader, site, "/students", "students-for-audit")
    page = as_role("auditor")
    visit(page, site, "/audit?user=demo_bureau_leader&resource=student", "audit")
    assert "demo_bureau_leader" in page.locator("#audit").inner_text()
    visit(page, site, "/audit?verify=1", "audit-verify")
    assert "哈希链完整" in page.locator("#chain-status").inner_text()
    assert visit(page, site, f"/schools/{school}", "school").status == 200


def test_login_and_warnings_with_the_keyboard_only(site: Site, browser: Any) -> None:
    context = browser.new_context(locale="zh-CN")
    context.on("request", lambda request: site.requests.append(request.url))
    page = context.new_page()
    page.goto(f"{site.base}/login")
    assert page.evaluate("document.activeElement.id") == "username"  # autofocus
    page.keyboard.type("demo_bureau_leader")
    page.keyboard.press("Tab")
    page.keyboard.type(site.passwords["demo_bureau_leader"])
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/home")
    # The skip link is the first stop and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()


def test_english_switch(site: Site, as_role: Any) -> None:
    page = as_role("bureau_leader")
    visit(page, site, "/overview", "overview-zh")
    page.click("a[href='/lang/en']")
    page.wait_for_url("**/overview")
    assert page.locator("h1").inner_text().startswith("Region overview")
    assert page.locator("html").get_attribute("lang") == "en"


ALL_ROLES = [
    "bureau_leader", "data_admin", "school_admin", "teacher", "head_teacher",
    "teaching_researcher", "parent", "student", "enrolment_officer", "psych_teacher",
    "auditor", "app_vendor",
]  # fmt: skip


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_opens_every_page_of_its_menu(site: Site, as_role: Any, role: str) -> None:
    page = as_role(role)
    links = page.locator("header nav a").evaluate_all("els => els.map(e => e.pathname)")
    assert links[0] == "/home"
    for path in links:
        response = visit(page, site, path, f"menu{path.replace('/', '-')}")
        assert response.status == 200, path
        assert page.locator("main h1").count() == 1
    school = site.county.schools[0]["school_code"]
    assert visit(page, site, f"/schools/{school}", "any-school").status == 200


def test_a_pupil_sees_the_own_portrait(site: Site, as_role: Any) -> None:
    page = as_role("student")
    own = site.scopes["demo_student"]
    pupil = next(s for s in site.county.students if s["student_number"] == own)
    visit(page, site, f"/students/{own}", "portrait")
    assert page.locator("#student-name").inner_text() == pupil["name"]


def test_an_app_vendor_sees_masked_names(site: Site, as_role: Any) -> None:
    page = as_role("app_vendor")
    visit(page, site, "/students", "students")
    school = site.scopes["demo_app_vendor"]
    names = {s["student_number"]: s["name"]
             for s in site.county.students if s["school_code"] == school}  # fmt: skip
    refs = SealedRefs.for_workspace(site.settings.workspace)
    rows = page.locator("#students tbody tr").all()
    assert rows
    for row in rows:
        number = str(refs.open(row.get_attribute("data-ref") or ""))
        assert row.locator("th").inner_text() == number[0] + "*" * 18  # G, J, L: all masked
        shown = row.locator("td").first.inner_text()
        assert shown != names[number] and shown[0] == names[number][0] and "*" in shown


def test_no_request_left_127_0_0_1(site: Site) -> None:
    """Runs last in this module: every request of every test above went to the local server."""
    assert len(site.requests) > 50
    hosts = {urlsplit(url).hostname for url in site.requests if not url.startswith("data:")}
    assert hosts == {"127.0.0.1"}


@pytest.mark.parametrize("role", ["head_teacher", "bureau_leader"])
def test_exam_analysis_is_two_clicks_from_the_menu(site: Site, as_role: Any, role: str) -> None:
    page = as_role(role)
    page.locator("header nav a", has_text="考试分析").click()  # click 1: the exams in scope
    page.wait_for_url("**/exams")
    assert page.locator("#exams tbody tr a").count() >= 1
    page.locator("#exams tbody tr a").first.click()  # click 2: its report
    page.wait_for_url("**/exams?exam=*")
    visit(page, site, page.url.removeprefix(site.base), f"exam-report-{role}")
    assert page.locator("#bands-chart canvas").count() == 1
    # every chart also as a table: ten bands of 10 % of 满分
    assert page.locator("#sheet-2 tbody tr").count() == 10
    page.locator("nav.tabs a", has_text="试题分析").click()
    page.wait_for_url("**tab=items")
    assert page.locator("#no-options").inner_text().startswith("小题得分只记录了分数")


def test_psych_teacher_refers_a_pupil_and_the_head_teacher_sees_only_that(
    site: Site, as_role: Any
) -> None:
    """转介 end to end: the psychology teacher chooses a purpose, refers a pupil of the demo
    head teacher's class with a note; the head teacher (after choosing a purpose) sees that
    pupil's level and the note and no score; once withdrawn, nothing."""
    from edubrain.usecases.psych_screening import psych_screening

    psych_screening(site.settings)  # the server follows the warehouse's new version
    with open_warehouse(site.settings, read_only=True) as wh:
        results = wh.to_arrow("psych_result").to_pylist()
    pupils = _class_pupils(site, site.scopes["demo_head_teacher"])
    sat = {r["student_number"]: r for r in results}
    pupil = next(p for p in pupils if p["student_number"] in sat)
    stored = sat[pupil["student_number"]]
    # classmates whose name is not part of the pupil's own (a text search cannot tell those)
    others = {p["name"] for p in pupils if p is not pupil and p["name"] not in pupil["name"]}
    assert site.scopes["demo_psych_teacher"] == pupil["school_code"]

    teacher = as_role("psych_teacher")
    visit(teacher, site, "/psych", "psych")
    assert "测评人次" in teacher.locator("main").inner_text()  # the counts, for her too
    teacher.select_option("#purpose", "转介评估")
    teacher.check("input[name=all_levels]")
    teacher.click("#psych-purpose button[type=submit]")
    row = teacher.locator("#psych-results tbody tr", has_text=pupil["name"]).first
    row.locator("input[name=note]").fill("近期情绪低落，请多关注并每周与我沟通")
    row.locator("button[type=submit]").click()
    teacher.wait_for_selector("#psych-done")
    visit(teacher, site, teacher.url.removeprefix(site.base), "psych-referred")
    assert pupil["name"] in teacher.locator("#psych-referrals").inner_text()

    head = as_role("head_teacher")
    assert head.locator("header nav a", has_text="转介学生").count() == 1  # one click away
    visit(head, site, "/psych/referred", "referred-choose")
    head.select_option("#purpose", "配合心理辅导")
    head.click("#referred-purpose button[type=submit]")
    head.wait_for_selector("#referred")
    visit(head, site, head.url.removeprefix(site.base), "referred")
    table = head.locator("#referred").inner_text()
    assert pupil["name"] in table and "近期情绪低落" in table
    assert (stored["level"] or stored["status"]) in table
    assert "总分" not in table and not any(name in table for name in others)

    teacher.locator("#psych-referrals tbody tr", has_text=pupil["name"]).locator(
        "button[type=submit]"
    ).click()
    teacher.wait_for_selector("#psych-done")
    head.reload()
    assert pupil["name"] not in head.locator("#referred").inner_text()


def test_the_principal_opens_a_teachers_archive_in_two_clicks(site: Site, as_role: Any) -> None:
    """一师一档: 教师发展 in the menu, then a name; the page shows that teacher's training
    records, 提升工程2.0 status and teaching load as the warehouse holds them."""
    school = site.scopes["demo_school_admin"]
    with open_warehouse(site.settings, read_only=True) as wh:
        training = wh.to_arrow("teacher_training").to_pylist()
    page = as_role("school_admin")
    page.locator("header nav a", has_text="教师发展").click()
    page.wait_for_selector("#teachers")
    visit(page, site, page.url.removeprefix(site.base), "teachers")
    first = page.locator("#teachers tbody tr th a").first
    name = first.inner_text()
    teacher = next(t for t in site.county.teachers
                   if t["name"] == name and t["school_code"] == school)  # fmt: skip
    first.click()
    page.wait_for_selector("#teacher-name")
    visit(page, site, page.url.removeprefix(site.base), "teacher-archive")
    assert page.locator("#teacher-name").inner_text() == name
    mine = [r for r in training if r["staff_number"] == teacher["staff_number"]]
    rows = page.locator("#training tbody tr").all_inner_texts()
    assert len(rows) == len(mine) > 0
    ict2 = [r for r in mine if r["programme_kind"] == "ict2"]
    expected = (
        "未参训" if not ict2 else "合格" if any(r["result"] == "passed" for r in ict2)
        else "参训未合格"
    )  # fmt: skip
    assert page.locator("#ict2-status").inner_text() == expected
    periods = sum(a["weekly_periods"] for a in site.county.assignments
                  if a["staff_number"] == teacher["staff_number"])  # fmt: skip
    if periods:
        assert page.locator("#weekly-periods").inner_text() == str(periods)
    other = next(t for t in site.county.teachers
                 if t["school_code"] != school and t["name"] not in name)  # fmt: skip
    elsewhere = page.goto(f"{site.base}/teachers/{other['staff_number']}")
    assert elsewhere is not None and elsewhere.status == 404
    assert other["name"] not in page.content()


def test_a_parent_reads_the_childs_growth_evaluation_on_the_portrait(
    site: Site, as_role: Any
) -> None:
    """综合素质评价 on the pupil's portrait: each term's domains as the warehouse scored them,
    reached from the parent's home in two clicks; the bureau leader sees them masked."""
    from edubrain.usecases.growth_scores import growth_scores

    growth_scores(site.settings)  # the server follows the warehouse's new version
    child_number = site.scopes["demo_parent"]
    sealer = sealer_for(site.settings)
    assert sealer is not None
    stored_as = sealer.seal_student_number(child_number)  # a G 学籍号 is sealed at rest
    with open_warehouse(site.settings, read_only=True) as wh:
        rows = [r for r in wh.to_arrow("growth_score").to_pylist()
                if r["student_number"] == stored_as]  # fmt: skip
    assert rows, "the demo child has growth records"
    page = as_role("parent")
    page.click("a[data-child]")
    page.wait_for_url("**/students/**")
    visit(page, site, page.url.removeprefix(site.base), "portrait-growth")
    table = page.locator("#growth-scores").inner_text()
    for r in rows:
        shown = "无记录" if r["score"] is None else f"{r['score']:.1f}（{r['level']}）"
        assert shown in table, r
    leader = as_role("bureau_leader")
    visit(leader, site, f"/students/{ref(site, child_number)}", "portrait-growth-masked")
    masked = leader.locator("#growth-scores").inner_text()
    assert "***" in masked and not any(
        f"{r['score']:.1f}（" in masked for r in rows if r["score"] is not None
    )


def test_a_record_is_submitted_reviewed_publicised_objected_and_confirmed(
    site: Site, as_role: Any
) -> None:
    """公示 end to end in the browser (issue 17): the pupil submits two 写实记录, the head teacher
    approves both and starts the 公示, a parent objects to one and the head teacher upholds the
    objection; after the 公示 the head teacher confirms the other."""
    pupil = site.scopes["demo_student"]
    assert pupil in site.scopes["demo_parent"].split(";")  # the demo's family
    student = as_role("student")
    student.locator("header nav a", has_text="综合素质评价").click()
    student.wait_for_selector("#growth-submit")
    visit(student, site, "/growth", "growth")
    for kind, value, text in (("志愿服务", "3", "周末在社区图书馆整理图书"),
                              ("荣誉表彰", "", "获评校级三好学生")):  # fmt: skip
        student.select_option("#g-domain", "moral")
        student.fill("#g-kind", kind)
        student.fill("#g-value", value)
        student.fill("#g-desc", text)
        student.click("#growth-submit button[type=submit]")
        student.wait_for_selector("#growth-done")
    rows = student.locator("#growth-records tbody tr")
    assert "待审核" in rows.filter(has_text="周末在社区图书馆").inner_text()

    head = as_role("head_teacher")
    visit(head, site, "/growth", "growth-review")
    for text in ("周末在社区图书馆", "获评校级三好学生"):
        head.locator("#growth-records tbody tr", has_text=text).locator(
            "button", has_text="通过").click()  # fmt: skip
        head.wait_for_selector("#growth-done")
    head.click("#growth-publicise button")
    head.wait_for_selector("#growth-done")
    assert (
        "公示中"
        in head.locator("#growth-records tbody tr", has_text="获评校级三好学生").inner_text()
    )

    parent = as_role("parent")
    visit(parent, site, "/growth", "growth-publicity")
    row = parent.locator("#growth-records tbody tr", has_text="获评校级三好学生")
    row.locator("input[name=note]").fill("该荣誉为本学年第二学期获得，学期填写有误")
    row.locator("button", has_text="提出异议").click()
    parent.wait_for_selector("#growth-done")
    assert "有异议" in parent.locator("#growth-records tbody tr",
                                     has_text="获评校级三好学生").inner_text()  # fmt: skip

    head.goto(f"{site.base}/growth")
    row = head.locator("#growth-records tbody tr", has_text="获评校级三好学生")
    row.locator("input[name=note]").fill("经核实学期有误，请重新提交")
    row.locator("button", has_text="采纳异议").click()
    head.wait_for_selector("#growth-done")
    assert (
        "已退回"
        in head.locator("#growth-records tbody tr", has_text="获评校级三好学生").inner_text()
    )

    with open_store(site.settings) as store:  # five days later
        for s in store.submissions("growth_record", statuses=["publicised"]):
            store.change_submission(s["submission_id"], topic="growth_record", was=["publicised"],
                values={"public_until": s["public_until"] - timedelta(days=6)})  # fmt: skip
    head.goto(f"{site.base}/growth")
    head.locator("#growth-records tbody tr", has_text="周末在社区图书馆").locator(
        "button", has_text="确认").click()  # fmt: skip
    head.wait_for_selector("#growth-done")
    visit(head, site, "/growth", "growth-confirmed")
    assert (
        "已确认"
        in head.locator("#growth-records tbody tr", has_text="周末在社区图书馆").inner_text()
    )
