"""Issue 15, item 7: every page of every demo role reads in Chinese in zh-CN.

The scan logs in as each demo account (`create_demo_accounts`: one per role, with the demo's
scopes), opens every menu entry of its role (`nav_for`, the cockpit's own outline), follows each
tab and each kind of detail link once (a school, a pupil, a warning, a quarantine filter, the
next page …), and the error pages (403, 404, 422) and the login page. From each page it takes
the text a person sees — text nodes outside script/style, and the attributes that are shown
(title, placeholder, aria-label, alt, a button's value) — and fails on any Latin word or raw code
outside `ALLOWED`: role codes (`data_admin`), source codes (`xueji`), audit actions (`login`,
`denied`), scope strings (`county:339901`), table names (`load_id`), `Not Found` …
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from conftest import NOW, County, steward_tables
from edubrain.cockpit.render import nav_for
from edubrain.serve import create_app
from edubrain.service.demo import DemoAccount, create_demo_accounts
from edubrain.service.jobs import queue_job
from edubrain.service.policy import Actor
from edubrain.service.store import open_store
from edubrain.settings import Settings

# Latin text a zh-CN page may show, each for a reason:
ALLOWED = {
    "edubrain",  # the product's name (brand, footer)
    "English",  # the language switch names the other language in that language (lang="en")
    "xlsx",  # the download's file format, as Excel names it
    "PDF",  # the report's file format, as Chinese readers call it (导出为PDF)
    "zip",  # the upload's archive format
    "IP",  # IP地址: no Chinese word is used for it
    "IPv6",  # a standard's name, as the policy documents write it
    "JY/T",  # 教育行业标准 code, as Chinese documents cite one (《教师数字素养》JY/T 0646—2022)
    "Mbps",  # unit (出口带宽)
    "m",  # unit (m²)
    "kg",  # unit
    "cm",  # unit
    "ml",  # unit (肺活量, on a pupil's portrait)
    "s",  # unit (50米跑, on a pupil's portrait)
}
# Data shown as it is, not words of the page: a 学籍号 (G/J/L and 18 characters, or masked) or an
# ID number a parent or pupil sees in clear (its check character may be X), a
# value a message quotes from the file ('2019-04-31'), a policy's item numbering (1a.).
# The 学籍号's own prefixes (G、J 或 L) and an ISO time in an example are data too.
DATA_VALUES = re.compile(
    r"(?<![0-9A-Za-z*])[GJL]?[0-9*]{17}[0-9X*](?![0-9A-Za-z*])|'[^']*'|\b\d+[a-c]\.|G、J 或 L"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?"
)
# A Latin word, or a code with digits/underscores/colons/pipes glued to one.
LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_:|./-]*")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class VisibleText(HTMLParser):
    """The text of a page a person sees, and the page's links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.links: list[str] = []
        # The open elements, each with whether it hides its content: script, style, and
        # translate="no" (HTML's own mark for content that is not text of the page but data
        # shown as it is: a file's name, a raw source row, a login name, a record key).
        self._open: list[tuple[str, bool]] = []
        self._chart_data = False

    @property
    def _hidden(self) -> bool:
        return any(hides for _, hides in self._open)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        self._chart_data = tag == "script" and values.get("type") == "application/json"
        hides = tag in ("script", "style", "template") or values.get("translate") == "no"
        if tag not in VOID:
            self._open.append((tag, hides))
        if hides or self._hidden:
            return
        for name in SHOWN_ATTRIBUTES:
            if values.get(name):
                self.texts.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.texts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching element (a <p> or <li> may have been left open).
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        if self._chart_data and self._open and self._open[-1][0] == "script":
            # A chart's option: the texts the chart draws (names, labels, titles, axis names).
            self.texts += list(chart_texts(json.loads(data)))
        elif not self._hidden and data.strip():
            self.texts.append(data.strip())


CHART_TEXT_KEYS = {"name", "label", "text", "subtext", "title", "full", "data"}


def chart_texts(value: Any, key: str = "") -> Iterator[str]:
    """The strings of a chart option that the chart shows (series and axis names, category
    labels, tooltips' full labels), not its settings (types, colours, codes)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from chart_texts(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from chart_texts(item, key)
    elif isinstance(value, str) and key in CHART_TEXT_KEYS:
        yield value


def visible(html: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(html)
    return parser


def foreign_words(texts: list[str]) -> set[str]:
    found = set()
    for text in texts:
        for word in LATIN.findall(DATA_VALUES.sub(" ", text)):
            word = word.rstrip(".:/-|")
            if word and word not in ALLOWED:
                found.add(word)
    return found


def link_kind(href: str) -> str | None:
    """What kind of link this is (one of each is followed), or None for links not to follow."""
    parts = urlsplit(href)
    path = parts.path
    if parts.scheme or parts.netloc or not path.startswith("/"):
        return None
    if path.startswith(("/static/", "/api/", "/lang/", "/logout", "/map/outline")):
        return None
    segments = [s for s in path.split("/") if s]
    shape = "/".join(segments[:1] + ["{}"] * (len(segments) - 1))
    keys = sorted(k if k != "tab" else f"tab={v}" for k, v in parse_qsl(parts.query))
    return shape + "?" + "&".join(keys)


@pytest.fixture(scope="module")
def site(
    county: County, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, list[DemoAccount]]]:
    import shutil

    home = tmp_path_factory.mktemp("zh-scan")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(
        home=home, progress=False, password_hash_time_cost=1, password_hash_memory_kib=64
    )
    outline = county.warehouse.parent.parent / "region" / "map" / "outline.geojson"
    settings.workspace.map_outline.parent.mkdir(parents=True)
    shutil.copy(outline, settings.workspace.map_outline)
    steward_tables(county, settings)
    with open_store(settings) as book:
        book.replace_warnings(county.warnings, county.warning_events)
        job = queue_job(book, "govern", by="demo_data_admin")
        book.finish_job(job["job_id"], status="failed", now=NOW, error="演示", was=("queued",))
    accounts = create_demo_accounts(settings)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        yield client, accounts


def login(client: TestClient, account: DemoAccount) -> None:
    client.cookies.clear()
    r = client.post(
        "/login",
        data={"username": account.username, "password": account.password, "next": "/home"},
        follow_redirects=False,
    )
    assert r.status_code == 303, account.username


def crawl(client: TestClient, starts: list[str], limit: int = 60) -> dict[str, str]:
    """Pages reached from `starts`, one per link kind: {url: html}."""
    seen_kinds: set[str] = set()
    queue = list(starts)
    pages: dict[str, str] = {}
    while queue and len(pages) < limit:
        url = queue.pop(0)
        kind = link_kind(url)
        if kind is None or kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        r = client.get(url)
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        pages[url] = r.text
        queue.extend(visible(r.text).links)
    return pages


def _actor(client: TestClient) -> Actor:
    services = client.app.state.services  # type: ignore[attr-defined]
    token = client.cookies.get("edubrain_session")
    actor = services.sessions.actor(services.store, token, services.clock())
    assert actor is not None
    return actor  # type: ignore[no-any-return]


ROLE_TABS = ["/data-office?tab=runs", "/data-office?tab=jobs", "/data-office?tab=quarantine",
             "/data-office?tab=quality", "/data-office?tab=steward"]  # fmt: skip
ERRORS = ["/no-such-page", "/students/no-such-ref", "/schools/0000000000",
          "/overview?trend=" + "x" * 100]  # fmt: skip


def test_every_page_of_every_role_reads_in_chinese(
    site: tuple[TestClient, list[DemoAccount]],
) -> None:
    client, accounts = site
    assert len(accounts) == 12
    client.cookies.clear()
    found: dict[str, set[str]] = {}
    login_page = client.get("/login")
    found["/login (anonymous)"] = foreign_words(visible(login_page.text).texts)
    statuses: set[int] = set()
    crawled: set[str] = set()
    for account in accounts:
        login(client, account)
        actor = _actor(client)
        starts = [item.href for item in nav_for(actor)]
        if "/data-office" in starts:
            starts += ROLE_TABS
        # a family's child before the error pages (a pupil's 404 is a link of the same kind)
        children = [
            h for h in visible(client.get("/home").text).links if h.startswith("/students/")
        ]
        starts += children[:1]
        starts += ["/audit", "/warnings", "/search?q=中心", *ERRORS]  # 403 for roles without some
        pages = crawl(client, starts)
        assert len(pages) >= 3, account.username
        crawled |= {kind for kind in map(link_kind, pages) if kind}
        for url, html in pages.items():
            words = foreign_words(visible(html).texts)
            if words:
                found[f"{account.role.value} {url}"] = words
        for url in [*ERRORS, "/audit"]:
            statuses.add(client.get(url).status_code)
    assert {403, 404, 422} <= statuses
    # the exams module's report pages are among them (教研分析, 学校质量报告, 学业进步)
    assert {"research?", "schools/{}/{}?exam", "students/{}/{}?"} <= crawled
    found = {k: v for k, v in found.items() if v}
    assert not found, "\n".join(f"{k}: {sorted(v)}" for k, v in sorted(found.items()))


def test_the_scanner_sees_what_people_see() -> None:
    html = (
        "<p>学校 <b>xueji</b></p><script>var english = 1;</script><style>.a{}</style>"
        '<input placeholder="load_id" value="hidden"><span title="county:339901">县</span>'
        '<a href="/schools/1">data_admin</a><td translate="no"><code>xueji/学籍.csv</code></td>'
        "<p>学籍号 G339901201401019999 的出生日期 '2019-04-31' 无效</p>"
    )
    html += (
        '<script type="application/json">{"series":[{"type":"bar","name":"region_share",'
        '"itemStyle":{"color":"#fff"},"data":[{"name":"青湖镇","code":"x1"}]}]}</script>'
    )
    page = visible(html)
    assert foreign_words(page.texts) == {
        "xueji", "load_id", "county:339901", "data_admin", "region_share"
    }  # fmt: skip
    assert page.links == ["/schools/1"]
    assert link_kind("/schools/3399010001") == link_kind("/schools/3399010002") == "schools/{}?"
    assert link_kind("/data-office?tab=quarantine") != link_kind("/data-office?tab=jobs")
    assert link_kind("/api/v1/x") is None


def test_the_english_switch_still_names_the_codes(
    site: tuple[TestClient, list[DemoAccount]],
) -> None:
    client, accounts = site
    auditor = next(a for a in accounts if a.role.value == "auditor")
    login(client, auditor)
    client.get("/home")  # at least one login and one list in the trail
    client.cookies.set("edubrain_lang", "en")
    try:
        page = client.get("/audit").text
        assert "Audit trail" in page and "Log out" in page
        # 登录 / 成功 / 会话 in English: the codes' names, not the codes' Chinese.
        assert "<td>Log in</td>" in page and "<td>ok</td>" in page and "<td>session</td>" in page
        denied = client.get("/warnings")
        assert denied.status_code == 403 and "Log out" in denied.text
    finally:
        client.cookies.set("edubrain_lang", "zh")
