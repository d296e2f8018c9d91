"""The quarantine loop (issue 15, item 4): Chinese messages and reason names, counts by reason,
file and school, the rejected rows back as .xlsx, and rows that a corrected re-upload resolves.

Expected values come from the generator's truth (`truth/faults.csv`: every injected fault with
its expected reason), never from the code under test.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook

from conftest import add_user
from edubrain.ingest import ingest_paths
from edubrain.ingest.quarantine import REASON_NAMES, Reason, reason_name
from edubrain.ingest.quarantine_views import rejected_rows
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service import spreadsheet
from edubrain.service.auth import open_session
from edubrain.service.masking import quarantine_cells
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.standard.entities import DataClass
from edubrain.warehouse import QUARANTINE_TABLE, open_warehouse

STUDENTS = 300
STUDENT_FILE = "exports/xueji/学籍_学生信息_339901.csv"


def _settings(home: Path) -> Settings:
    return Settings(
        home=home, progress=False, password_hash_time_cost=1, password_hash_memory_kib=64
    )


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small generated county, ingested: (the region folder, the ingested home)."""
    root = tmp_path_factory.mktemp("quarantine-loop")
    generate_region(root / "region", students=STUDENTS, seed=5)
    home = root / "home"
    ingest_paths([root / "region" / "standard", root / "region" / "exports"], _settings(home))
    return root / "region", home


def _faults(region: Path) -> list[dict[str, str]]:
    with (region / "truth" / "faults.csv").open(encoding="utf-8") as fh:
        return [f for f in csv.DictReader(fh) if f["expected_reason"]]


def _quarantine(home: Path) -> list[dict]:
    with open_warehouse(_settings(home), read_only=True) as wh:
        rows: list[dict] = wh.to_arrow(QUARANTINE_TABLE).to_pylist()
    return rows


class Client:
    def __init__(self, home: Path, tmp: Path) -> None:
        fresh = tmp / "service-home"
        fresh.mkdir()
        shutil.copy(home / "warehouse.duckdb", fresh / "warehouse.duckdb")
        self.settings = _settings(fresh)
        self.client = TestClient(create_app(self.settings))

    def admin(self, region_code: str = "339901") -> dict[str, str]:
        services = self.client.app.state.services  # type: ignore[attr-defined]
        scope = Scope(ScopeLevel.COUNTY, region_code)
        user_id = add_user(services.store, f"data_admin_{region_code}", Role.DATA_ADMIN, scope, "-")
        session = open_session(
            services.store, services.settings, services.store.user(user_id), datetime.now(UTC)
        )
        return {"Authorization": f"Bearer {session.token}"}


@pytest.fixture
def api(region: tuple[Path, Path], tmp_path: Path) -> Iterator[Client]:
    c = Client(region[1], tmp_path)
    with c.client:
        yield c


# -- 1. Chinese messages and reason names ------------------------------------------------

# What may stay ASCII in a message: the quoted values and column names the user typed, units
# and numbers. Anything else of two letters or more is an internal code or English.
_USER_TEXT = re.compile(r"'[^']*'|“[^”]*”|（如 [^）]*）|\d+'\d+\"")
_ALLOWED: set[str] = set()


def _english_words(message: str) -> list[str]:
    rest = _USER_TEXT.sub("", message)
    return [w for w in re.findall(r"[A-Za-z_]{2,}", rest) if w not in _ALLOWED]


def test_every_reason_has_a_chinese_name() -> None:
    for reason in Reason:
        zh, en = REASON_NAMES[reason]
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[A-Za-z]", zh)
        assert reason_name(reason.value) == zh and reason_name(reason.value, "en") == en
    assert reason_name("no_such_code") == "no_such_code"


def test_messages_are_chinese_for_every_injected_reason(region: tuple[Path, Path]) -> None:
    path, home = region
    rows = _quarantine(home)
    injected = {f["expected_reason"] for f in _faults(path)}
    assert len(injected) >= 8
    seen = {q["reason"] for q in rows}
    assert injected <= seen
    for q in rows:
        message = q["message"]
        # Chinese first (a field's label may start with a number: 50米跑).
        assert re.match(r"[\d.]*[\u4e00-\u9fff]", message), message
        assert not _english_words(message), message
        assert "%Y" not in message and "%m" not in message, message
    dates = [q["message"] for q in rows if q["reason"] == "bad_date"]
    assert dates and all("应为" in m and "2019" in m for m in dates)


# -- 2. counts ------------------------------------------------------------------------------


def test_counts_per_reason_equal_the_truth(api: Client, region: tuple[Path, Path]) -> None:
    faults = _faults(region[0])
    truth = Counter(r for r, _ in {(f["expected_reason"], (f["file"], f["row"])) for f in faults})
    headers = api.admin()
    got = api.client.get(
        "/api/v1/ingest/quarantine/summary", params={"status": "all"}, headers=headers
    )
    assert got.status_code == 200, got.text
    summary = got.json()
    by_reason = {r["reason"]: r["rows"] for r in summary["reason"]}
    assert by_reason == dict(truth)
    assert {r["reason"]: r["name"] for r in summary["reason"]} == {r: reason_name(r) for r in truth}
    rows = len({(f["file"], f["row"]) for f in faults})
    assert sum(r["rows"] for r in summary["file"]) == rows
    assert sum(r["rows"] for r in summary["school"]) == rows
    # Freshly ingested: everything is open.
    assert [(s["status"], s["name"], s["rows"]) for s in summary["status"]] == [
        ("open", "未处理", rows),
        ("resolved", "已解决", 0),
    ]
    # Another county's admin sees nothing of it (scoped like the list).
    other = api.admin("110101")
    nothing = api.client.get("/api/v1/ingest/quarantine/summary", headers=other).json()
    assert nothing["reason"] == [] and nothing["file"] == []


# -- 3. the rejected rows as xlsx -------------------------------------------------------


def _student_file(api: Client, headers: dict[str, str]) -> str:
    summary = api.client.get("/api/v1/ingest/quarantine/summary", headers=headers).json()
    return next(r["file"] for r in summary["file"] if r["file"].endswith(Path(STUDENT_FILE).name))


def test_download_rejected_rows_as_xlsx(api: Client, region: tuple[Path, Path]) -> None:
    headers = api.admin()
    file = _student_file(api, headers)
    response = api.client.get(
        "/api/v1/ingest/quarantine/download", params={"file": file}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    sheet = book.get_sheet_by_index(0).to_python()
    header, body = [str(h) for h in sheet[0]], sheet[1:]
    source_header = next(csv.reader(io.StringIO(_text(region[0] / STUDENT_FILE))))
    assert header == [*source_header, "行号", "原因", "隔离编号"]
    expected_rows = sorted({int(f["row"]) for f in _faults(region[0]) if f["file"] == STUDENT_FILE})
    assert sorted(int(r[header.index("行号")]) for r in body) == expected_rows
    assert all(re.match(r"[\u4e00-\u9fff]", str(r[header.index("原因")])) for r in body)
    # A data admin has no 核心 clearance: no ID number (nor a G 学籍号's body) in clear; the
    # body of a J or L 学籍号 is in a 敏感 role's clearance.
    for r in body:
        for value in r[: len(source_header)]:
            assert not re.search(r"(?<![\d.JL])\d{14,}", str(value)), value
            assert "~1" not in str(value)  # nor a sealed token
    # The download is on the trail, as every personal read.
    services = api.client.app.state.services  # type: ignore[attr-defined]
    entries = services.store.audit_records(resource="quarantine", action="download")
    assert entries and '"file"' in entries[-1].entry.query


def test_a_role_without_sensitive_clearance_gets_the_columns_but_no_values() -> None:
    record = {
        "load_id": "L1",
        "file": "学生.csv",
        "row_number": 7,
        "reason": "bad_date",
        "message": "出生日期 '***' 不是有效日期",
        "raw": '{"姓名": "黄晨轩", "身份证件号": "330102201004310012", "电话": "13812345678"}',
    }
    from edubrain.ingest.quarantine_views import raw_cells

    cells = quarantine_cells(raw_cells(record["raw"]), {DataClass.PUBLIC, DataClass.INTERNAL})
    header, rows = rejected_rows([record | {"cells": cells}])
    assert header == ["姓名", "身份证件号", "电话", "行号", "原因"]
    assert rows[0]["姓名"] == rows[0]["身份证件号"] == rows[0]["电话"] == "***"
    assert rows[0]["行号"] == 7 and rows[0]["原因"].startswith("日期无效：")
    sensitive = {DataClass.PUBLIC, DataClass.INTERNAL, DataClass.SENSITIVE}
    cells = quarantine_cells(raw_cells(record["raw"]), sensitive)
    assert cells["姓名"] == "黄晨轩" and "330102201004310012" not in cells["身份证件号"]


# -- 4. open / resolved ---------------------------------------------------------------------


def _lines(path: Path) -> list[tuple[str, str]]:
    """A generated export's lines, each with the encoding it is written in: a GBK export may
    hold rows written as UTF-8 (the generator's `wrong_encoding` fault), so a line is read as
    UTF-8 when it is valid UTF-8 and as GB18030 otherwise."""
    out = []
    for raw in path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\r\n"):
        for encoding in ("utf-8", "gb18030"):
            try:
                out.append((raw.decode(encoding), encoding))
                break
            except UnicodeDecodeError:
                continue
        else:
            raise AssertionError(f"{path}: a line is neither UTF-8 nor GB18030")
    return out


def _text(path: Path) -> str:
    return "\r\n".join(line for line, _ in _lines(path))


def _fixed_copy(region: Path, to: Path) -> list[int]:
    """The student file with its out-of-range and bad-number cells put back as they were
    (truth's detail: 'good' → 'bad'); returns the rows fixed. Every other line keeps its bytes
    (a UTF-8 row in a GBK file stays one)."""
    source = region / STUDENT_FILE
    original = source.read_bytes()
    lines = _lines(source)
    fixed = []
    for f in _faults(region):
        if f["file"] != STUDENT_FILE or f["expected_reason"] not in ("out_of_range", "bad_number"):
            continue
        good, bad = re.findall(r"'([^']*)'", f["detail"])[-2:]
        at = int(f["row"])  # the header is line 1
        text, encoding = lines[at - 1]
        (cells,) = list(csv.reader(io.StringIO(text)))
        if cells.count(bad) != 1:
            continue
        cells[cells.index(bad)] = good
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells)
        lines[at - 1] = (out.getvalue(), encoding)
        fixed.append(at)
    to.mkdir(parents=True)
    bom = b"\xef\xbb\xbf" if original.startswith(b"\xef\xbb\xbf") else b""
    body = b"\r\n".join(text.encode(encoding) for text, encoding in lines)
    (to / source.name).write_bytes(bom + body)
    return fixed


def test_a_corrected_reupload_resolves_the_rows(region: tuple[Path, Path], tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(region[1], home)
    fixed = _fixed_copy(region[0], tmp_path / "fixed" / "xueji")
    assert fixed
    ingest_paths([tmp_path / "fixed"], _settings(home))
    c = Client(home, tmp_path)
    with c.client:
        headers = c.admin()
        file = str(region[0] / STUDENT_FILE)
        items = c.client.get(
            "/api/v1/ingest/quarantine",
            params={"file": file, "status": "all", "limit": 500},
            headers=headers,
        ).json()["items"]
        status = {(i["row_number"], i["status"]) for i in items}
        for row in fixed:
            assert (row, "resolved") in status
        resolved = {i["row_number"] for i in items if i["status"] == "resolved"}
        assert resolved == set(fixed)
        open_items = c.client.get(
            "/api/v1/ingest/quarantine",
            params={"file": file, "status": "open", "limit": 500},
            headers=headers,
        ).json()["items"]
        assert not {i["row_number"] for i in open_items} & set(fixed)
        summary = c.client.get(
            "/api/v1/ingest/quarantine/summary", params={"file": file}, headers=headers
        ).json()
        counts = {s["status"]: s["rows"] for s in summary["status"]}
        assert counts["resolved"] == len(fixed)


# -- the cockpit's quarantine tab ---------------------------------------------------------

PASSWORD = "Quarantine-test-2026!"


def test_the_quarantine_tab(api: Client, region: tuple[Path, Path]) -> None:
    from edubrain.cockpit.i18n import LANG_COOKIE
    from edubrain.service.auth import password_hasher

    services = api.client.app.state.services  # type: ignore[attr-defined]
    hashed = password_hasher(api.settings).hash(PASSWORD)
    add_user(services.store, "office", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, "339901"), hashed)
    r = api.client.post(
        "/login",
        data={"username": "office", "password": PASSWORD, "next": "/data-office"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = api.client.get("/data-office", params={"tab": "quarantine"})
    assert page.status_code == 200, page.text
    html = page.text
    # Status, reasons by name and files are select boxes; 未处理 is chosen by default.
    assert re.search(r'<option value="open" selected>未处理（\d+）</option>', html)
    for reason in {f["expected_reason"] for f in _faults(region[0])}:
        assert re.search(rf'<option value="{reason}">{reason_name(reason)}（\d+）</option>', html)
    assert '<select id="q-file" name="file">' in html and "学籍_学生信息_339901.csv（" in html
    assert 'id="q-entity"' not in html and 'id="q-load"' not in html
    assert "<code>bad_date</code>" not in html and "下载被拒绝的行" in html
    assert 'id="quarantine-by-reason"' in html and 'id="quarantine-by-school"' in html
    # The download link works with the cockpit's session.
    link = re.search(r'<a href="([^"]+)" download>下载被拒绝的行</a>', html)
    assert link
    got = api.client.get(link.group(1).replace("&amp;", "&"))
    assert got.status_code == 200 and got.content[:2] == b"PK"
    # A filter that matches nothing says so.
    empty = api.client.get("/data-office", params={"tab": "quarantine", "status": "resolved"})
    assert "没有符合条件的隔离记录" in empty.text and "下载被拒绝的行" not in empty.text
    # English with the language switch: reason and status names too.
    api.client.cookies.set(LANG_COOKIE, "en")
    english = api.client.get("/data-office", params={"tab": "quarantine"}).text
    assert re.search(r'<option value="open" selected>Open（\d+）</option>', english)
    assert "Invalid date" in english and "Download the rejected rows" in english


# -- the rejected rows come back ------------------------------------------------------------

_DETAIL = re.compile(r"^(?P<header>[^:]+): '(?P<before>[^']*)' → ")


def _download(api: Client, headers: dict[str, str], file: str) -> tuple[list[str], list[list]]:
    got = api.client.get(
        "/api/v1/ingest/quarantine/download", params={"file": file}, headers=headers
    )
    assert got.status_code == 200, got.text
    book = CalamineWorkbook.from_filelike(io.BytesIO(got.content))
    assert book.sheet_names == ["被拒绝的行"]
    sheet = book.get_sheet_by_index(0).to_python()
    return [str(h) for h in sheet[0]], sheet[1:]


def test_fixed_rows_come_back_with_their_masked_values(
    api: Client, region: tuple[Path, Path], tmp_path: Path
) -> None:
    """The officer sees 学籍号 and 身份证件号 masked; fixing a row's date or school and uploading
    the workbook again loads the row with its real identifiers, and resolves it."""
    headers = api.admin()
    file = _student_file(api, headers)
    header, body = _download(api, headers, file)
    # Rows with one fault in a field the officer can see, the true value from the truth.
    faults = [f for f in _faults(region[0]) if f["file"] == STUDENT_FILE]
    per_row = Counter(int(f["row"]) for f in faults)
    fixable = {
        int(f["row"]): _DETAIL.match(f["detail"])
        for f in faults
        if per_row[int(f["row"])] == 1 and f["field"] not in ("id_number", "student_number")
    }
    fixed: list[dict] = []
    for values in body:
        row = dict(zip(header, values, strict=True))
        m = fixable.get(int(row["行号"]))
        if m is None or not str(row["学籍号"]).startswith("G*") or len(fixed) == 2:
            continue
        row[m["header"]] = m["before"]  # the officer types the right value
        fixed.append(row)
    assert len(fixed) == 2, "the small county has two fixable rows with masked identifiers"
    tampered = dict(next(
        dict(zip(header, v, strict=True)) for v in body
        if str(v[header.index("学籍号")]).startswith("G*")
        and int(v[header.index("行号")]) not in {int(r["行号"]) for r in fixed}
    ))  # fmt: skip
    load, row_no, check = str(tampered["隔离编号"]).split(".")
    tampered["隔离编号"] = f"{load}.{row_no}.{'0' * len(check)}"
    folder = tmp_path / "back"
    folder.mkdir()
    workbook = folder / "学籍_学生信息_339901-被拒绝的行.xlsx"
    workbook.write_bytes(spreadsheet.xlsx_sheet("被拒绝的行", header, [*fixed, tampered]))

    (report,) = ingest_paths([folder], api.settings)
    assert report.status == "loaded" and report.rows_read == 3
    assert report.restored_rows == 2  # the tampered reference restores nothing
    assert report.rows_accepted == 2 and report.rows_quarantined == 1
    assert "行号" not in report.extra_columns and "隔离编号" not in report.extra_columns
    # The accepted rows hold the pupils' real 学籍号 (sealed at rest as every G 学籍号).
    truth = {int(f["row"]) for f in faults}
    lines = _text(region[0] / STUDENT_FILE).splitlines()
    source_header = next(csv.reader(io.StringIO(lines[0])))
    numbers = {
        int(r["行号"]): next(csv.reader(io.StringIO(lines[int(r["行号"]) - 1])))[
            source_header.index("学籍号")
        ]
        for r in fixed
    }
    assert set(numbers) <= truth
    with open_warehouse(api.settings, read_only=True) as wh:
        sealer = sealer_for(api.settings)
        stored = {sealer.open_student_number(n) for n in
                  wh.to_arrow("student").column("student_number").to_pylist()}  # fmt: skip
    assert set(numbers.values()) <= stored
    items = api.client.get(
        "/api/v1/ingest/quarantine",
        params={"file": file, "status": "resolved", "limit": 500},
        headers=headers,
    ).json()["items"]
    assert {i["row_number"] for i in items} == set(numbers)
