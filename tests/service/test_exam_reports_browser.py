"""教研分析, 学校质量报告 and 学业进步 in a real browser, on the generated county (issue 16).

The 教研员 opens 教研分析 from the menu and sees the county's item analysis of the newest exam;
the principal opens 学校质量报告 from the menu and sees the own school against the county, and
another school's report is a 404; the parent reaches the child's 学业进步 in two clicks from the
home page and sees only the child's own exams. Expected figures are computed here from the
warehouse's item scores (a mean of scores over an item's 分值), never by the code under test.
Screenshots go to artifacts/screenshots/ (`<role>-<shot>.png`). Marker `e2e`.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from test_cockpit_browser import (  # the running site, the browser, a role's logged-in page
    Site,
    as_role,
    browser,
    site,
    visit,
)

from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.e2e
__all__ = ["as_role", "browser", "site"]  # fixtures, used by name


def _tables(site: Site, *names: str) -> dict[str, list[dict[str, Any]]]:
    with open_warehouse(site.settings, read_only=True) as wh:  # as the server holds it
        return {name: wh.to_arrow(name).to_pylist() for name in names}


def _newest(exams: list[dict[str, Any]], taken: set[str]) -> dict[str, Any]:
    """The page's default exam: the newest (date, then id) with scores."""
    found = [e for e in exams if e["exam_id"] in taken]
    newest = max(str(e["exam_date"]) for e in found)
    return min((e for e in found if str(e["exam_date"]) == newest), key=lambda e: e["exam_id"])


def test_the_researcher_sees_the_county_item_analysis(site: Site, as_role: Any) -> None:
    page = as_role("teaching_researcher")
    page.locator("header nav a", has_text="教研分析").click()
    page.wait_for_url("**/research")
    visit(page, site, "/research", "research")
    data = _tables(site, "exam", "exam_item", "item_score", "student", "school")
    exam = _newest(data["exam"], {r["exam_id"] for r in data["item_score"]})
    maxima = {r["item_no"]: r["max_score"] for r in data["exam_item"]
              if r["exam_id"] == exam["exam_id"]}  # fmt: skip
    # the county's pupils: a score under a 学籍号 the registry does not know is in no scope
    county = {s["school_code"] for s in data["school"] if s["region_code"] == site.county_code}
    registered = {s["student_number"] for s in data["student"] if s["school_code"] in county}
    scores = [r for r in data["item_score"]
              if r["exam_id"] == exam["exam_id"] and r["student_number"] in registered]  # fmt: skip
    takers = {r["student_number"] for r in scores}
    sums: dict[int, float] = defaultdict(float)
    for r in scores:
        sums[r["item_no"]] += r["score"] or 0.0
    assert exam["name"] in page.locator(".report-line").first.inner_text()
    rows = page.locator("#table-items tbody tr")
    assert rows.count() == len(maxima)
    for i, item_no in enumerate(sorted(maxima)):
        cells = rows.nth(i).locator("td")
        assert cells.nth(0).inner_text() == str(item_no)
        difficulty = sums[item_no] / len(takers) / maxima[item_no]
        assert cells.nth(3).inner_text() == f"{difficulty:.2f}"  # 难度
    assert page.locator("#items-chart canvas").count() == 1
    # every school whose pupils sat the exam, by name, and the county
    school_of = {s["student_number"]: s["school_code"] for s in data["student"]}
    names = {s["school_code"]: s["name"] for s in data["school"]}
    expected = sorted({school_of[n] for n in takers if n in school_of})
    shown = page.locator("#table-schools tbody tr td:first-child")
    assert shown.all_inner_texts() == [names[c] for c in expected] + ["全县（全部参考学生）"]
    assert page.locator("#schools-chart canvas").count() == 1


def test_the_principal_sees_the_own_school_report_only(site: Site, as_role: Any) -> None:
    page = as_role("school_admin")
    own = site.scopes["demo_school_admin"]
    page.locator("header nav a", has_text="学校质量报告").click()
    page.wait_for_url(f"**/schools/{own}/report")
    visit(page, site, f"/schools/{own}/report", "school-report")
    data = _tables(site, "exam", "item_score", "student", "school")
    pupils = {s["student_number"] for s in data["student"] if s["school_code"] == own}
    mine = [r for r in data["item_score"] if r["student_number"] in pupils]
    exam = _newest(data["exam"], {r["exam_id"] for r in mine})
    sat = {r["student_number"] for r in mine if r["exam_id"] == exam["exam_id"]}
    summary = page.locator("#table-summary tbody tr").first.locator("td")
    assert summary.nth(0).inner_text() == "本校"
    assert summary.nth(1).inner_text() == str(len(sat))
    assert page.locator("#table-points tbody tr").count() >= 1
    assert page.locator("#points-chart canvas").count() == 1
    text = page.locator("main").inner_text()
    others = [s for s in data["school"] if s["school_code"] != own]
    assert all(s["name"] not in text for s in others), "another school's name on the page"
    assert "增值评价" in text
    other = others[0]["school_code"]
    assert visit(page, site, f"/schools/{other}/report", "other-school-report").status == 404
    assert visit(page, site, "/research", "research-denied").status == 403


def test_the_parent_sees_the_childs_own_progress_in_two_clicks(site: Site, as_role: Any) -> None:
    page = as_role("parent")
    child = site.scopes["demo_parent"]
    page.click("a[data-child]")  # click 1: the child's portrait
    page.wait_for_url("**/students/**")
    page.click("#progress-link")  # click 2: 学业进步
    page.wait_for_url("**/progress")
    visit(page, site, page.url.removeprefix(site.base), "progress")
    data = _tables(site, "exam", "item_score", "student")
    exams = {e["exam_id"]: e for e in data["exam"]}
    totals: dict[str, float] = defaultdict(float)
    for r in data["item_score"]:
        if r["student_number"] == child:
            totals[r["exam_id"]] += r["score"] or 0.0
    assert totals, "the demo's child has exam scores"
    rows = page.locator("#table-exams tbody tr")
    assert rows.count() == len(totals)
    shown = {
        rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(3).inner_text()
        for i in range(rows.count())
    }
    assert shown == {
        exams[e]["name"]: f"{t / exams[e]['max_score'] * 100:.1f}%" for e, t in totals.items()
    }
    assert page.locator("#exams-chart canvas").count() == 1
    text = page.locator("main").inner_text()
    me = next(s for s in data["student"] if s["student_number"] == child)
    # (a classmate whose name is part of the child's own — 孙泽 beside 孙泽宇 — cannot be told
    # apart by a text search, and is left out of it)
    classmates = [
        s for s in data["student"]
        if s["school_code"] == me["school_code"] and s["student_number"] != child
        and s["name"] not in me["name"]
    ]  # fmt: skip
    assert classmates and all(s["name"] not in text for s in classmates[:50])
    other = classmates[0]["student_number"]
    assert visit(page, site, f"/students/{other}/progress", "other-progress").status == 404
