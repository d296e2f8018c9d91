"""The data officer's day, in a real browser, with the service running and others reading.

Issue 15's walk-through: the officer uploads today's exports as bureaus save them — a GBK CSV
(学籍 家庭成员), a UTF-8 CSV with BOM (体测) and an .xlsx 学籍 export with a title row above its
header — and reads each file's report; downloads the rejected rows of the workbook, fixes two
of them (one with the 学籍号 the officer only sees masked), uploads them and sees them resolved;
starts 一人一码 (govern) from the cockpit and watches the job to the end; decides two doubtful
pairs side by side in one action, undoes one, and sees the other take effect (the steward job
the service queues by itself). Meanwhile a bureau leader and a teacher read through the API on
other threads: every one of their requests must succeed, whatever the jobs are writing.

Expected values come from the generated county's truth (`truth/faults.csv`) and from the files
the test writes, never from the code under test. Marker `e2e` (CI=true: fails without
Chromium).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import xlsxwriter
from python_calamine import CalamineWorkbook
from test_cockpit_browser import (
    CHROMIUM,
    SHOTS,
    _ensure_chromium,
    _free_port,
    _questions_at_least,
)

import accounts
from conftest import County
from edubrain.govern.steward import REVIEW_TABLE
from edubrain.serve import create_app
from edubrain.service import spreadsheet
from edubrain.service.auth import password_hasher
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.e2e

FAMILY = "exports/xueji/学籍_家庭成员_339901.csv"  # GBK as the 学籍 system writes it
FITNESS = "exports/tice/体测_339901.csv"
STUDENTS = "exports/xueji/学籍_学生信息_339901.csv"
TITLE = "示范一县 2025-2026 学年 学生信息导出"
JOB_WAIT = 240.0  # seconds: the runner is a process of its own on a busy machine


@dataclass
class Readers:
    """Other users reading while the officer works: every status code they got."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


@dataclass
class Day:
    base: str
    settings: Settings
    region: Path
    password: str
    readers: Readers
    work: Path


def _read_all_day(base: str, headers: dict[str, str], paths: list[str], readers: Readers) -> None:
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        while not readers.stop.is_set():
            for path in paths:
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError as exc:
                    readers.failures.append(f"{path}: {exc!r}")
                    continue
                readers.statuses[status] += 1
                if status != 200:
                    readers.failures.append(f"{path}: {status}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def day(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    root = tmp_path_factory.mktemp("officer-day")
    home = root / "home"
    home.mkdir()
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False, password_hash_time_cost=1,
                        password_hash_memory_kib=64)  # fmt: skip
    region_code = county.schools[0]["region_code"]
    app = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    base = f"http://127.0.0.1:{port}"
    store = app.state.services.store
    password = "Officer-day-2026!"

    store.create_user(
        username="officer",
        display_name="数据办 王老师",
        role=Role.DATA_ADMIN.value,
        scope_level=ScopeLevel.COUNTY.value,
        scope_key=region_code,
        password_hash=password_hasher(settings).hash(password),
        now=datetime.now(UTC),
    )
    leader = accounts.bearer_for(store, "leader", Role.BUREAU_LEADER,
                                 Scope(ScopeLevel.COUNTY, region_code))  # fmt: skip
    school = county.schools[0]["school_code"]
    teacher = accounts.bearer_for(store, "teacher", Role.SCHOOL_ADMIN,
                                  Scope(ScopeLevel.SCHOOL, school))  # fmt: skip
    readers = Readers()
    threads = [
        threading.Thread(
            target=_read_all_day,
            args=(
                base,
                leader,
                [
                    "/api/v1/students?limit=50",
                    "/api/v1/indicators/values",
                    "/api/v1/warnings?limit=20",
                    f"/api/v1/schools/{school}",
                ],
                readers,
            ),
            daemon=True,
        ),
        threading.Thread(
            target=_read_all_day,
            args=(
                base,
                teacher,
                ["/api/v1/students?limit=50", f"/api/v1/schools/{school}"],
                readers,
            ),
            daemon=True,
        ),
    ]
    for t in threads:
        t.start()
    try:
        yield Day(base, settings, county.warehouse.parent.parent / "region", password, readers,
                  root / "work")  # fmt: skip
    finally:
        readers.stop.set()
        for t in threads:
            t.join(timeout=30)
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(day: Day) -> Iterator[Any]:
    _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True
        )
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.goto(f"{day.base}/login")
        tab.fill("#username", "officer")
        tab.fill("#password", day.password)
        tab.click("form[action='/login'] button[type=submit]")
        tab.wait_for_url(f"{day.base}/home")
        yield tab
        assert errors == []
        context.close()
        browser.close()


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"officer-day-{name}.png"), full_page=True)


def _upload(page: Any, day: Day, files: list[Path]) -> None:
    page.goto(f"{day.base}/data-office?tab=jobs")
    page.set_input_files("#u-files", [str(f) for f in files])
    page.click("form[action='/data-office/upload'] button[type=submit]")
    page.wait_for_url(re.compile(r".*done=upload.*"))


def _two_separate_questions(day: Day, page: Any) -> list[str] | None:
    """Two pending pairs on the steward's first page that share no mention and no person (so
    that deciding one leaves the other a question), or None."""
    shown = page.locator("#steward article[data-state=pending]")
    ids = [str(shown.nth(i).get_attribute("data-review")) for i in range(shown.count())]
    with open_warehouse(day.settings, read_only=True) as wh:
        rows = {r["review_id"]: r for r in wh.to_arrow(REVIEW_TABLE).to_pylist()}

    def ends(review: str) -> set[str]:
        r = rows[review]
        return {r["mention_key_l"], r["mention_key_r"], r["person_id_l"], r["person_id_r"]}

    for i, first in enumerate(ids):
        for second in ids[i + 1 :]:
            if first in rows and second in rows and not ends(first) & ends(second):
                return [first, second]
    return None


def _newest_job_done(page: Any, day: Day, kind_label: str) -> Any:
    """Reload the jobs tab until the newest job of this kind has ended; its row."""
    deadline = time.monotonic() + JOB_WAIT
    while True:
        page.goto(f"{day.base}/data-office?tab=jobs")
        row = page.locator("tr[data-job]", has_text=kind_label).first
        status = row.get_attribute("data-status")
        if status not in ("queued", "running") or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert status == "succeeded", f"{kind_label}: {status}\n{row.inner_text()}"
    return row


def _gbk(day: Day) -> Path:
    return day.region / FAMILY


def _utf8_bom(day: Day) -> Path:
    out = day.work / "today" / Path(FITNESS).name
    out.parent.mkdir(parents=True, exist_ok=True)
    data = (day.region / FITNESS).read_bytes()
    out.write_bytes(data if data.startswith(codecs.BOM_UTF8) else codecs.BOM_UTF8 + data)
    return out


def _titled_workbook(day: Day) -> Path:
    """The 学籍 student export as an .xlsx with a title row above the header."""
    # The CSV has rows with bytes no encoding reads (injected 编码错误): a workbook holds text,
    # so those rows come out with U+FFFD and are not among the faults this file must show.
    text = (day.region / STUDENTS).read_bytes().decode("gb18030", errors="replace")
    lines = list(csv.reader(io.StringIO(text)))
    header, body = lines[0], lines[1:]
    out = day.work / "today" / "学籍_学生信息_339901.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(out), {"strings_to_numbers": False})
    sheet = book.add_worksheet("学生信息")
    sheet.write_string(0, 0, TITLE)  # the title row a school's 学籍 system puts above
    for r, line in enumerate([header, *body], start=1):
        for c, value in enumerate(line):
            sheet.write_string(r, c, value)
    book.close()
    return out


def _faults(day: Day, file: str) -> list[dict[str, str]]:
    with (day.region / "truth" / "faults.csv").open(encoding="utf-8") as fh:
        return [
            f
            for f in csv.DictReader(fh)
            if f["file"] == file and f["expected_reason"] not in ("", "encoding_error")
        ]


def test_the_officers_day(day: Day, page: Any) -> None:
    # -- 1. Today's exports as the schools sent them ------------------------------------------
    workbook = _titled_workbook(day)
    _upload(page, day, [_gbk(day), _utf8_bom(day), workbook])
    _newest_job_done(page, day, "数据导入")
    page.locator("tr.job-files details").first.evaluate("el => el.open = true")
    report = page.locator("main").inner_text()
    _shot(page, "1-reports")
    assert "各文件导入结果" in report
    for name in (Path(FAMILY).name, Path(FITNESS).name, workbook.name):
        assert name in report, name
    assert re.search(r"GB18030|GBK", report)  # the 学籍 CSV's encoding, named
    assert "UTF-8（带 BOM）" in report or "UTF-8 (带 BOM)" in report
    assert "跳过表头上方 1 行" in report  # the title row of the workbook

    # -- 2. The rejected rows of the workbook: download, fix two, upload, resolved ------------
    page.goto(f"{day.base}/data-office?tab=quarantine")
    values = page.eval_on_selector_all("#q-file option", "els => els.map(e => e.value)")
    chosen = next(v for v in values if v.replace("\\", "/").endswith("/" + workbook.name))
    page.select_option("#q-file", chosen)
    page.click("form[action='/data-office'] button[type=submit]")
    with page.expect_download() as got:
        page.click("text=下载被拒绝的行")
    downloaded = got.value.path()
    sheet = CalamineWorkbook.from_path(str(downloaded)).get_sheet_by_index(0).to_python()
    d_header, d_rows = [str(h) for h in sheet[0]], sheet[1:]
    # Every injected fault of the file is among the rows (row numbers as Excel shows them:
    # the title row and the header count, so a CSV row N is row N + 1 of the workbook).
    expected = {int(f["row"]) + 1 for f in _faults(day, STUDENTS)}
    assert expected <= {int(r[d_header.index("行号")]) for r in d_rows}
    # The officer fixes two rows whose one fault is in a field they can see (the truth's
    # value typed back), one of them a pupil whose 学籍号 shows masked.
    detail = re.compile(r"^(?P<header>[^:]+): '(?P<before>[^']*)' → ")
    per_row = Counter(int(f["row"]) for f in _faults(day, STUDENTS))
    fixable = {
        int(f["row"]) + 1: detail.match(f["detail"])
        for f in _faults(day, STUDENTS)
        if per_row[int(f["row"])] == 1 and f["field"] not in ("id_number", "student_number")
    }
    fixed = []
    for values in d_rows:
        cells = dict(zip(d_header, values, strict=True))
        m = fixable.get(int(cells["行号"]))
        if m is None or len(fixed) == 2:
            continue
        if not fixed and not str(cells["学籍号"]).startswith("G*"):
            continue
        cells[m["header"]] = m["before"]
        fixed.append(cells)
    assert len(fixed) == 2
    back = day.work / "back" / "学籍_学生信息_339901-被拒绝的行.xlsx"
    back.parent.mkdir(parents=True, exist_ok=True)
    back.write_bytes(spreadsheet.xlsx_sheet("被拒绝的行", d_header, fixed))
    _upload(page, day, [back])
    _newest_job_done(page, day, "数据导入")
    page.goto(f"{day.base}/data-office?tab=quarantine&status=resolved&file="
              + chosen)  # fmt: skip
    resolved = page.locator("table tr[data-status='resolved']")
    _shot(page, "2-resolved")
    numbers = sorted(int(resolved.nth(i).locator("td").first.inner_text())
                     for i in range(resolved.count()))  # fmt: skip
    assert numbers == sorted(int(c["行号"]) for c in fixed)

    # -- 3. 一人一码 from the cockpit -----------------------------------------------------------
    page.goto(f"{day.base}/data-office?tab=jobs")
    page.locator("form.w-act", has=page.locator("input[value='govern']")).locator("button").click()
    _newest_job_done(page, day, "一人一码")
    _shot(page, "3-govern")

    # -- 4. The steward's queue: two pairs side by side decided at once, one undone ----------
    page.goto(f"{day.base}/data-office?tab=steward")
    ids = _two_separate_questions(day, page)
    if ids is None:
        # At this size linkage may leave too few questions, or only questions about one torn
        # mention: deciding one of those answers the others (the mention then belongs to the
        # person left), and the walk needs two that stand apart.
        with open_warehouse(day.settings, read_only=True) as wh:
            queued = wh.count(REVIEW_TABLE)
        _questions_at_least(day.settings, queued + 2)
        page.goto(f"{day.base}/data-office?tab=steward")
        ids = _two_separate_questions(day, page)
    assert ids is not None
    pairs = [page.locator(f"#steward article[data-review='{r}']") for r in ids]
    table = pairs[0].locator("table.side-by-side")
    assert "姓名" in table.inner_text() and "学校" in table.inner_text()
    for pair in pairs:
        pair.locator("select").select_option("different")
    page.locator("#steward-note").fill("出生日期与学校不同，非同一人")
    page.locator("button[name=bulk]").click()
    page.wait_for_url("**done=2**")

    def state(review: str | None) -> str:
        found = page.locator(f"#steward article[data-review='{review}']")
        return str(found.get_attribute("data-state"))

    assert [state(r) for r in ids] == ["applying", "applying"]
    page.locator(f"#steward article[data-review='{ids[1]}'] button[name=undo]").click()
    page.wait_for_url("**undone=1**")
    assert [state(r) for r in ids] == ["applying", "pending"]
    _shot(page, "4-steward")
    # The service queued the steward job itself; once it is done the decision is in effect.
    _newest_job_done(page, day, "人工审核判定生效")

    def state_in_queue(review: str | None) -> str:
        """The pair's state wherever it is listed: the queue shows 50 pairs a page."""
        page.goto(f"{day.base}/data-office?tab=steward")
        while not page.locator(f"#steward article[data-review='{review}']").count():
            following = page.locator("a[href*='tab=steward&cursor=']")
            assert following.count(), f"pair {review} is on no page of the queue"
            following.first.click()
            page.wait_for_load_state()
        return state(review)

    assert state_in_queue(ids[0]) == "applied" and state_in_queue(ids[1]) == "pending"

    # -- 5. Nobody reading was turned away --------------------------------------------------
    assert day.readers.statuses[200] > 0
    assert day.readers.failures == [], day.readers.failures[:5]
