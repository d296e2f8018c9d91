"""教研分析, 学校质量报告 and 学业进步 over a hand-built county, for each role, with exports.

The county of `indicator_region` plus a second 初中 J2 (3301010007) with one class 21/1 of ten
pupils. Exam E1 (七年级数学, 满分 10; items 1, 2, 3 of 2, 3, 5 points on knowledge points A;
A and B; B — A is 一元一次方程, B 整式的加减) was taken by ten pupils of J1 and ten of J2:

    J1 totals 10 9 8 7 6 5 4 3 2 1   item sums 12, 14, 29   mean 5.5
    J2 totals  8 8 7 6 6 8 5 4 4 4   item sums  2, 18, 40   mean 6.0

By hand: county mean 115/20 = 5.75; 难度 of the items 14/40 = 0.35, 32/60 = 0.53, 69/100 = 0.69.
得分率 of A (items 1, 2: 5 points): J1 26/50 = 52 %, J2 20/50 = 40 %, county 46/100 = 46 %;
of B (items 2, 3: 8 points): J1 43/80 = 53.75 %, J2 58/80 = 72.5 %, county 101/160 = 63.125 %.
So J2 is 6 points below the county on A (薄弱, ≤ −5) and 9.4 above on B (优势); J1 the
other way round. J2's weakest item of A is item 1: 2/20 = 10 % against the county's 35 %.
County SD of the totals: Σ(x − 5.75)² = 82.625 + 26.625 = 109.25, /19 = 5.75, SD 2.398; a
school of ten lies within 5.75 ± 1.96 × 2.398/√10 = ± 1.486, so both are 与全县持平.
E0 (2024-2025 期末, J1's ten pupils only, the same paper and scores) gives the trend a year.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from indicator_region import COUNTY, J1, YEAR, load, tables

from accounts import bearer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.report_export import (
    Column,
    Kind,
    Report,
    Table,
    header,
    pdf,
    xlsx,
)
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

J2 = "3301010007"
J1_SCORES = [
    [2, 3, 5], [2, 3, 4], [2, 2, 4], [2, 2, 3], [2, 1, 3],
    [2, 1, 2], [0, 1, 3], [0, 1, 2], [0, 0, 2], [0, 0, 1],
]  # fmt: skip
J2_SCORES = [
    [0, 3, 5], [0, 3, 5], [0, 2, 5], [0, 2, 4], [0, 2, 4],
    [2, 2, 4], [0, 1, 4], [0, 1, 3], [0, 1, 3], [0, 1, 3],
]  # fmt: skip
J1_PUPILS = [f"S05210{c}0{k:02d}" for c in (1, 2) for k in range(5)]
J2_PUPILS = [f"S07210100{k}" for k in range(10)]
ITEMS = [(1, 2.0, "objective", "A"), (2, 3.0, "subjective", "A;B"), (3, 5.0, "subjective", "B")]


def _exam(
    exam_id: str, year: str, day: date, takers: list[tuple[str, list[int]]]
) -> dict[str, list[dict[str, Any]]]:
    return {
        "exam": [
            {"exam_id": exam_id, "name": f"七年级数学{exam_id}", "school_year": year,
             "term": "1" if exam_id == "E1" else "2", "subject": "math", "grade_code": "21",
             "exam_date": day, "max_score": 10.0}
        ],
        "exam_item": [
            {"exam_id": exam_id, "item_no": n, "max_score": m, "item_type": t,
             "knowledge_points": k}
            for n, m, t, k in ITEMS
        ],
        "item_score": [
            {"exam_id": exam_id, "student_number": s, "item_no": j + 1, "score": float(v)}
            for s, row in takers
            for j, v in enumerate(row)
        ],
    }  # fmt: skip


def _county(home: Path) -> Settings:
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    data = tables()
    data["school"].append(
        {"school_code": J2, "name": "学校7", "stages": "junior", "urban_rural": "urban",
         "region_code": COUNTY}
    )  # fmt: skip
    data["student"] += [
        {"student_number": s, "name": f"学生乙{k}", "sex": "2", "birth_date": date(2012, 3, 1),
         "school_code": J2, "school_year": YEAR, "grade_code": "21", "class_no": 1,
         "status": "enrolled"}
        for k, s in enumerate(J2_PUPILS)
    ]  # fmt: skip
    data["knowledge_point"] = [
        {"kp_code": "A", "subject": "math", "grade_code": "21", "name": "一元一次方程"},
        {"kp_code": "B", "subject": "math", "grade_code": "21", "name": "整式的加减"},
    ]
    load(settings, data)
    j1 = list(zip(J1_PUPILS, J1_SCORES, strict=True))
    j2 = list(zip(J2_PUPILS, J2_SCORES, strict=True))
    load(settings, _exam("E0", "2024-2025", date(2025, 6, 30), j1), load_id="X0")
    load(settings, _exam("E1", YEAR, date(2025, 11, 20), j1 + j2), load_id="X1")
    return settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _county(tmp_path_factory.mktemp("report-pages") / "home")


def _bearer(settings: Settings, name: str, role: Role, scope: Scope) -> dict[str, str]:
    with open_store(settings) as store:
        return bearer_for(store, name, role, scope)


def _cells(html: str, table: str) -> list[list[str]]:
    """The text of each body row's cells of a table on the page."""
    import re

    body = html.split(f'id="table-{table}"', 1)[1].split("</table>", 1)[0]
    body = body.split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


COUNTY_SCOPE = Scope(ScopeLevel.COUNTY, COUNTY)


def test_the_researcher_sees_the_county_items_points_and_schools(settings: Settings) -> None:
    researcher = _bearer(settings, "jyy", Role.TEACHING_RESEARCHER, COUNTY_SCOPE)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        home = client.get("/home", headers=researcher).text
        assert 'href="/research"' in home  # the menu
        html = client.get("/research", headers=researcher).text  # the newest exam: E1
        assert "七年级数学E1" in html
        items = _cells(html, "items")
        assert [r[0] for r in items] == ["1", "2", "3"]
        assert [r[3] for r in items] == ["0.35", "0.53", "0.69"]  # 难度
        assert items[1][2] == "一元一次方程、整式的加减"
        points = _cells(html, "points")
        assert [r[0] for r in points] == ["一元一次方程", "整式的加减"]  # weakest first
        assert [r[4] for r in points] == ["46.0%", "63.1%"]
        schools = _cells(html, "schools")
        assert [r[0] for r in schools] == ["学校5", "学校7", "全县（全部参考学生）"]
        assert [r[2] for r in schools] == ["5.50", "6.00", "5.75"]
        assert [r[4:7] for r in schools[:2]] == [["20.0%", "40.0%", "50.0%"],
                                                 ["0.0%", "40.0%", "60.0%"]]  # fmt: skip
        assert [r[7] for r in schools[:2]] == ["与全县持平", "与全县持平"]
        # the trend across years: E0 (2024-2025, J1 only: 55 %) and E1 (57.5 %)
        trend = _cells(html, "trend")
        assert [(r[2], r[5]) for r in trend] == [("2024-2025", "55.0%"), (YEAR, "57.5%")]
        # a school's row links to its report, which the researcher may read
        assert f'href="/schools/{J2}/report?exam=E1"' in html
        report = client.get(f"/schools/{J2}/report?exam=E1", headers=researcher)
        assert report.status_code == 200
        # the older exam by its link
        older = client.get("/research?exam=E0", headers=researcher).text
        assert [r[0] for r in _cells(older, "schools")] == ["学校5", "全县（全部参考学生）"]
        assert client.get("/research?exam=NOPE", headers=researcher).status_code == 404
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="item_score")]
    assert any(e.actor == "jyy" and '"view": "research"' in e.query for e in trail)


def test_the_principal_reads_the_own_school_and_not_another(settings: Settings) -> None:
    j2 = _bearer(settings, "principal7", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, J2))
    j1 = _bearer(settings, "principal5", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, J1))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        assert 'href="/school-report"' in client.get("/home", headers=j2).text
        own = client.get("/school-report", headers=j2, follow_redirects=False)
        assert own.status_code == 303 and own.headers["location"] == f"/schools/{J2}/report"
        html = client.get(f"/schools/{J2}/report", headers=j2).text
        summary = _cells(html, "summary")
        assert [r[:3] for r in summary] == [["本校", "10", "6.00"], ["全县", "20", "5.75"]]
        points = {r[0]: r for r in _cells(html, "points")}
        assert points["一元一次方程"][1:] == ["40.0%", "46.0%", "-6.0", "薄弱"]
        assert points["整式的加减"][1:] == ["72.5%", "63.1%", "9.4", "优势"]
        work = _cells(html, "work_on")
        assert [(r[0], r[1], r[3], r[4]) for r in work] == [
            ("一元一次方程", "1", "10.0%", "35.0%"),
            ("一元一次方程", "2", "60.0%", "53.3%"),
        ]
        # no value-added table yet: said in Chinese
        assert "增值评价尚未计算" in html
        # the other principal: J2's report is not theirs (404 like any scoped read), nor the
        # 教研员's page (403)
        assert client.get(f"/schools/{J2}/report", headers=j1).status_code == 404
        assert client.get(f"/schools/{J2}/report/export", headers=j1).status_code == 404
        assert client.get("/research", headers=j1).status_code == 403
        mine = client.get(f"/schools/{J1}/report", headers=j1).text
        assert _cells(mine, "points")[0][0] == "整式的加减"  # J1 is weak on B
        assert "学校7" not in mine


def test_the_parent_sees_the_own_child_only(settings: Settings) -> None:
    child = J2_PUPILS[0]  # 0, 3, 5: total 8 of 10
    parent = _bearer(settings, "parent7", Role.PARENT, Scope(ScopeLevel.SELF, child))
    other = _bearer(settings, "parent5", Role.PARENT, Scope(ScopeLevel.SELF, J1_PUPILS[0]))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        home = client.get("/home", headers=parent).text
        ref = home.split('href="/students/', 1)[1].split('"', 1)[0]  # click 1: the child
        portrait = client.get(f"/students/{ref}", headers=parent).text
        assert f'href="/students/{ref}/progress"' in portrait  # click 2: 学业进步
        html = client.get(f"/students/{ref}/progress", headers=parent).text
        exams = _cells(html, "exams")
        # two of the twenty takers scored more than 8 (10 and 9): 2/20 = 10 % → 前10%–25%
        assert exams == [["七年级数学E1", "数学", "2025-11-20", "80.0%", "前10%–25%"]]
        assert _cells(html, "points") == [
            ["七年级数学E1", "一元一次方程", "60.0%"],
            ["七年级数学E1", "整式的加减", "100.0%"],
        ]
        # nothing of other pupils: no other name, no 学籍号, no school comparison
        for number in (*J1_PUPILS, *J2_PUPILS[1:]):
            assert number not in html
        assert "学生乙1" not in html and "学校5" not in html
        # another family: 404, as for a pupil who does not exist
        assert client.get(f"/students/{ref}/progress", headers=other).status_code == 404
        assert client.get(f"/students/{ref}/progress/export", headers=other).status_code == 404
        assert client.get("/research", headers=parent).status_code == 403
        assert client.get(f"/schools/{J2}/report", headers=parent).status_code == 403
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="item_score")]
    assert any(e.actor == "parent7" and '"view": "progress"' in e.query for e in trail)
    assert ("parent5", "not_found") in {(e.actor, e.outcome) for e in trail}


def test_a_role_not_cleared_for_scores_sees_the_progress_masked(settings: Settings) -> None:
    leader = _bearer(settings, "leader7", Role.BUREAU_LEADER, COUNTY_SCOPE)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        listed = client.get(f"/api/v1/students?school_code={J2}&limit=1", headers=leader)
        ref = listed.json()["items"][0]["ref"]
        html = client.get(f"/students/{ref}/progress", headers=leader).text
        assert "成绩属敏感信息" in html
        assert _cells(html, "exams")[0][3:] == ["—", "—"]


def test_exports_open_with_their_layout(settings: Settings) -> None:
    import openpyxl
    import pypdf

    researcher = _bearer(settings, "jyy2", Role.TEACHING_RESEARCHER, COUNTY_SCOPE)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        book = client.get("/research/export?format=xlsx&exam=E1&table=schools", headers=researcher)
        assert book.status_code == 200 and book.content[:2] == b"PK"
        sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
        assert sheet["A1"].value == "教研分析：试题与学校"
        assert str(sheet["A2"].value).startswith("考试：七年级数学E1")
        assert "A1:H1" in {str(r) for r in sheet.merged_cells.ranges}  # the title row
        # the header: 比率 merged over its three rates; 学校 over both header rows
        assert "E5:G5" in {str(r) for r in sheet.merged_cells.ranges}
        assert "A5:A6" in {str(r) for r in sheet.merged_cells.ranges}
        assert sheet["E5"].value == "比率" and sheet["E6"].value == "优秀率"
        assert sheet["A7"].value == "学校5" and sheet["C7"].value == pytest.approx(5.5)
        assert sheet["E7"].value == pytest.approx(0.2) and sheet["E7"].number_format == "0.0%"
        assert sheet["C7"].number_format == "0.00"
        everything = client.get("/research/export?format=xlsx&exam=E1", headers=researcher)
        names = openpyxl.load_workbook(io.BytesIO(everything.content)).sheetnames
        assert len(names) == 4  # items, points, schools, trend
        printed = client.get("/research/export?format=pdf&exam=E1", headers=researcher)
        assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(printed.content)).pages)
        assert "教研分析：试题与学校" in text and "学校7" in text and "一元一次方程" in text
        missing = client.get("/research/export?format=pdf&table=nope", headers=researcher)
        assert missing.status_code == 404


def test_cells_that_look_like_formulas_are_neutralised_in_both_files() -> None:
    import openpyxl
    import pypdf

    report = Report(
        '=HYPERLINK("http://x","点我")',
        ("@SUM(A1)",),
        (
            Table(
                "t",
                "-2+3",
                (Column("名称"), Column("值", Kind.DECIMAL), Column("率", Kind.PERCENT, digits=1)),
                (("=1+1", -1.5, 0.25), ("＋危险", None, None)),
            ),
        ),
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx(report))).active
    assert sheet["A1"].value == '\'=HYPERLINK("http://x","点我")'
    assert sheet["A2"].value == "'@SUM(A1)"
    assert sheet["A4"].value == "'-2+3"
    assert sheet["A6"].value == "'=1+1" and sheet["B6"].value == -1.5  # a number stays one
    assert sheet["A7"].value == "'＋危险" and sheet["B7"].value is None
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    text = pypdf.PdfReader(io.BytesIO(pdf(report))).pages[0].extract_text()
    assert "25.0%" in text and "-1.50" in text


def test_a_two_row_header_merges_groups_and_spans_the_rest() -> None:
    table = Table(
        "t",
        "表",
        (Column("学校"), Column("本校", group="得分率"), Column("全县", group="得分率"),
         Column("评价")),
        (),
    )  # fmt: skip
    top, bottom = header(table)
    assert [(c.label, c.first, c.span, c.rows) for c in top] == [
        ("学校", 0, 1, 2), ("得分率", 1, 2, 1), ("评价", 3, 1, 2)
    ]  # fmt: skip
    assert [(c.label, c.first) for c in bottom] == [("本校", 1), ("全县", 2)]


def test_the_school_report_shows_the_value_added_band_when_computed(tmp_path: Path) -> None:
    settings = _county(tmp_path / "home")
    rows = [
        {"school_year": YEAR, "subject": "math", "grade_code": "21", "exam_id": "E1",
         "level": "school", "school_code": J2, "class_code": None, "pupils": 10,
         "effect": 0.42, "lower": 0.11, "upper": 0.73, "band": "above", "small_group": True,
         "progress_score": 0.8, "method": "multilevel", "fitted_at": "2026-01-01T00:00:00"},
        {"school_year": YEAR, "subject": "math", "grade_code": "21", "exam_id": "E1",
         "level": "school", "school_code": J1, "class_code": None, "pupils": 10,
         "effect": -0.42, "lower": -0.73, "upper": -0.11, "band": "below", "small_group": True,
         "progress_score": -0.8, "method": "multilevel", "fitted_at": "2026-01-01T00:00:00"},
    ]  # fmt: skip
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.append_rows("exam_value_added", pa.Table.from_pylist(rows))
    j2 = _bearer(settings, "principal7va", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, J2))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        html = client.get(f"/schools/{J2}/report", headers=j2).text
    va = _cells(html, "value_added")
    assert va == [["数学", "初中一年级(七年级)", YEAR, "10", "0.42", "0.11", "0.73",
                   "显著高于", "0.80", "人数较少，结果仅供参考"]]  # fmt: skip
    assert len(va) == 1 and "-0.42" not in html  # J1's row is not J2's


def test_groups_too_small_are_withheld_from_roles_not_cleared_for_scores(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edubrain.modules.exams import reads

    monkeypatch.setattr(reads, "SMALLEST_GROUP", 11)  # each school here has ten takers
    researcher = _bearer(settings, "jyy3", Role.TEACHING_RESEARCHER, COUNTY_SCOPE)
    principal = _bearer(settings, "principal7s", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, J2))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        schools = _cells(client.get("/research", headers=researcher).text, "schools")
        assert [r[2] for r in schools] == ["—", "—", "5.75"]  # the county's twenty are shown
        assert [r[7] for r in schools[:2]] == ["人数过少，不显示"] * 2
        report = client.get(f"/schools/{J2}/report", headers=researcher).text
        assert "为保护学生个人信息" in report and 'id="table-summary"' not in report
        # the school's own principal is cleared for 敏感 scores: the figures are shown
        own = client.get(f"/schools/{J2}/report", headers=principal).text
        assert _cells(own, "summary")[0][:3] == ["本校", "10", "6.00"]


def test_the_api_gives_each_page_as_data_with_the_same_scope(settings: Settings) -> None:
    """`/api/v1/research`, `/api/v1/schools/{code}/report` and `/api/v1/students/{ref}/progress`:
    the tables the pages show, as values (the hand calculation above), scoped like the pages."""
    researcher = _bearer(settings, "jyy-api", Role.TEACHING_RESEARCHER, COUNTY_SCOPE)
    j1 = _bearer(settings, "principal5-api", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, J1))
    child = J2_PUPILS[0]
    parent = _bearer(settings, "parent7-api", Role.PARENT, Scope(ScopeLevel.SELF, child))
    other = _bearer(settings, "parent5-api", Role.PARENT, Scope(ScopeLevel.SELF, J1_PUPILS[0]))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        found = client.get("/api/v1/research", headers=researcher).json()
        assert found["exam_id"] == "E1"
        tables = {t["key"]: t for t in found["tables"]}
        items = tables["items"]
        assert [c["label"] for c in items["columns"]][3] == "难度"
        assert [round(r[3], 2) for r in items["rows"]] == [0.35, 0.53, 0.69]
        schools = tables["schools"]["rows"]
        assert [r[0] for r in schools] == ["学校5", "学校7", "全县（全部参考学生）"]
        assert [r[2] for r in schools] == pytest.approx([5.5, 6.0, 5.75])
        assert [(e["label"], e["current"]) for e in found["exams"]] == [
            ("七年级数学E1（2025-11-20）", True),
            ("七年级数学E0（2025-06-30）", False),
        ]

        assert client.get(f"/api/v1/schools/{J2}/report", headers=j1).status_code == 404
        mine = client.get(f"/api/v1/schools/{J1}/report", headers=j1).json()
        summary = {t["key"]: t for t in mine["tables"]}["summary"]["rows"]
        assert [r[:3] for r in summary] == [["本校", 10, pytest.approx(5.5)],
                                            ["全县", 20, pytest.approx(5.75)]]  # fmt: skip
        assert client.get("/api/v1/research", headers=j1).status_code == 403

        ref = client.get("/api/v1/students?limit=1", headers=parent).json()["items"][0]["ref"]
        progress = client.get(f"/api/v1/students/{ref}/progress", headers=parent).json()
        exams = {t["key"]: t for t in progress["tables"]}["exams"]["rows"]
        assert [(r[0], r[3], r[4]) for r in exams] == [("七年级数学E1", pytest.approx(0.8),
                                                       "前10%–25%")]  # fmt: skip
        assert child not in str(progress) and "学校5" not in str(progress)
        assert client.get(f"/api/v1/students/{ref}/progress", headers=other).status_code == 404
        assert client.get(f"/api/v1/schools/{J2}/report", headers=parent).status_code == 403
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="item_score")]
    assert any(e.actor == "parent7-api" and '"api": true' in e.query for e in trail)
