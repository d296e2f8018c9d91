"""Issue 15, item 7: search for schools and pupils, the county pupil list, error pages.

Search is scoped to the caller, masked per clearance, audited and bounded, and no oracle: a
field a role sees masked is no search term for it (a teacher cannot find a pupil by guessing a
G 学籍号, which carries the ID number; a leader, who sees names masked, cannot search names).
Expected values come from the generated county's records, read straight from the warehouse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import NOW, County, bearer_for
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings


class Site:
    def __init__(self, client: TestClient, county: County, settings: Settings) -> None:
        self.client, self.county = client, county
        self.store = client.app.state.services.store  # type: ignore[attr-defined]
        self.sealer = sealer_for(settings)
        self.region = county.schools[0]["region_code"]
        self.made = 0

    def user(self, role: Role, level: ScopeLevel, key: str) -> dict[str, str]:
        self.made += 1
        return bearer_for(self.store, f"s{self.made}_{role.value}", role, Scope(level, key))

    def clear_number(self, pupil: dict[str, Any]) -> str:
        assert self.sealer is not None
        return str(self.sealer.open_student_number(pupil["student_number"]))

    def search(self, headers: dict[str, str], q: str, **params: Any) -> Any:
        r = self.client.get("/api/v1/search", params={"q": q, **params}, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="module")
def site(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import shutil

    home = tmp_path_factory.mktemp("search-home")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False)
    with TestClient(create_app(settings, clock=lambda: NOW), base_url="http://127.0.0.1") as c:
        yield Site(c, county, settings)


def _class_of(p: dict[str, Any]) -> str:
    return f"{p['school_code']}/{p['school_year']}/{p['grade_code']}/{p['class_no']}"


@pytest.fixture(scope="module")
def a_class(county: County) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """A class, its pupils, and a pupil of another school whose name no pupil of the class
    has."""
    by_class: dict[str, list[dict[str, Any]]] = {}
    for p in county.students:
        by_class.setdefault(_class_of(p), []).append(p)
    key = max(by_class, key=lambda k: (len(by_class[k]), k))
    pupils = by_class[key]
    names = {p["name"] for p in pupils}
    school = pupils[0]["school_code"]
    outsider = next(
        p for p in county.students if p["school_code"] != school and p["name"] not in names
    )
    return key, pupils, outsider


def _refs_named(site: Site, headers: dict[str, str], name: str) -> list[str]:
    return [p["name"] for p in site.search(headers, name)["pupils"]]


def test_a_teacher_finds_the_pupils_of_the_class_and_no_other(
    site: Site, a_class: tuple[str, list[dict[str, Any]], dict[str, Any]]
) -> None:
    key, pupils, outsider = a_class
    teacher = site.user(Role.TEACHER, ScopeLevel.CLASS, key)
    pupil = pupils[0]
    found = site.search(teacher, pupil["name"])
    assert found["pupil_fields"] == ["name", "student_number"]
    same_name_in_class = sum(1 for p in pupils if pupil["name"] in p["name"])
    assert len(found["pupils"]) == same_name_in_class
    assert all(p["school_code"] == pupil["school_code"] for p in found["pupils"])
    school_name = next(
        s["name"] for s in site.county.schools if s["school_code"] == pupil["school_code"]
    )
    assert {p["school_name"] for p in found["pupils"]} == {school_name}
    # The ref opens the portrait, two clicks from the header's box.
    ref = next(p["ref"] for p in found["pupils"] if p["name"] == pupil["name"])
    assert site.client.get(f"/students/{ref}", headers=teacher).status_code == 200
    # A pupil of another school, searched by the exact name: nothing.
    assert site.search(teacher, outsider["name"])["pupils"] == []
    # The county's data admin finds that pupil.
    admin = site.user(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    assert outsider["name"] in _refs_named(site, admin, outsider["name"])


def test_a_number_a_role_sees_masked_is_no_search_term(
    site: Site, a_class: tuple[str, list[dict[str, Any]], dict[str, Any]]
) -> None:
    key, pupils, _ = a_class
    teacher = site.user(Role.TEACHER, ScopeLevel.CLASS, key)
    g_pupils = [p for p in pupils if site.clear_number(p).startswith("G")]
    assert g_pupils, "the class has a pupil with a G 学籍号"
    number = site.clear_number(g_pupils[0])
    # The teacher sees G numbers masked (they carry the ID number): a right guess finds nothing,
    # exactly like a wrong one.
    right = site.search(teacher, number)
    wrong = site.search(teacher, number[:-1] + ("0" if number[-1] != "0" else "1"))
    assert right["pupils"] == wrong["pupils"] == []
    # The enrolment office, cleared for 核心, finds the pupil by the same number.
    office = site.user(Role.ENROLMENT_OFFICER, ScopeLevel.COUNTY, site.region)
    hits = site.search(office, number)["pupils"]
    assert [h["name"] for h in hits] == [g_pupils[0]["name"]]
    assert hits[0]["student_number"] == number  # in clear for 核心
    # J and L numbers (birth date inside) are 敏感: the teacher finds them in the class.
    jl = [p for p in pupils if site.clear_number(p)[0] in "JL"]
    for pupil in jl[:2]:
        assert [h["name"] for h in site.search(teacher, site.clear_number(pupil))["pupils"]] == [
            pupil["name"]
        ]


def test_roles_that_see_names_masked_cannot_search_names(
    site: Site, a_class: tuple[str, list[dict[str, Any]], dict[str, Any]]
) -> None:
    _, pupils, _ = a_class
    leader = site.user(Role.BUREAU_LEADER, ScopeLevel.COUNTY, site.region)
    found = site.search(leader, pupils[0]["name"])
    assert found["pupil_fields"] == []  # names and numbers are masked for the leader
    assert found["pupils"] == []
    vendor = site.user(Role.APP_VENDOR, ScopeLevel.SCHOOL, pupils[0]["school_code"])
    assert site.search(vendor, pupils[0]["name"])["pupils"] == []
    # The list shows the leader the same pupils masked: 张*明.
    listed = site.client.get("/api/v1/students", headers=leader).json()["items"]
    assert all("*" in p["name"] for p in listed if p["name"] and len(p["name"]) > 1)


def test_schools_by_name_and_code_within_the_region(site: Site) -> None:
    school = site.county.schools[0]
    teacher_scope = site.user(Role.SCHOOL_ADMIN, ScopeLevel.SCHOOL, school["school_code"])
    by_name = site.search(teacher_scope, school["name"])["schools"]
    assert school["school_code"] in [s["school_code"] for s in by_name]
    by_code = site.search(teacher_scope, school["school_code"])["schools"]
    assert [s["name"] for s in by_code] == [school["name"]]
    # A code prefix matches every school of the county; limit bounds it and says there is more.
    prefix = school["school_code"][:6]
    expected = sum(1 for s in site.county.schools if s["school_code"].startswith(prefix))
    assert expected > 1
    found = site.search(teacher_scope, prefix, limit=1)
    assert len(found["schools"]) == 1 and found["more"] is True


def test_search_is_bounded(site: Site) -> None:
    admin = site.user(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    for params in ({"q": "王"}, {"q": "王" * 41}, {"q": "王芳", "limit": 21}, {}):
        r = site.client.get("/api/v1/search", params=params, headers=admin)
        assert r.status_code == 422, params
    # The page says so in Chinese instead of failing.
    page = site.client.get("/search", params={"q": "王"}, headers=admin)
    assert page.status_code == 200 and "请至少输入两个字" in page.text


def test_every_pupil_search_is_audited(
    site: Site, a_class: tuple[str, list[dict[str, Any]], dict[str, Any]]
) -> None:
    key, pupils, outsider = a_class
    teacher = site.user(Role.TEACHER, ScopeLevel.CLASS, key)
    who = f"s{site.made}_teacher"
    site.search(teacher, pupils[0]["name"])
    site.search(teacher, outsider["name"])  # a miss is audited too
    auditor = site.user(Role.AUDITOR, ScopeLevel.COUNTY, site.region)
    trail = site.client.get(
        "/api/v1/audit", params={"user": who, "action": "search"}, headers=auditor
    ).json()["items"]
    assert len(trail) == 2
    assert {a["resource"] for a in trail} == {"student"}
    hit = next(a for a in trail if a["record_ids"])
    same = [p for p in pupils if pupils[0]["name"] in p["name"]]
    assert len(hit["record_ids"]) == len(same)


def test_the_county_pupil_list_shows_school_and_total(site: Site) -> None:
    admin = site.user(Role.DATA_ADMIN, ScopeLevel.COUNTY, site.region)
    names = {s["school_code"]: s["name"] for s in site.county.schools}
    in_county = [p for p in site.county.students if p["school_code"] in names]
    page = site.client.get("/students", headers=admin)
    assert page.status_code == 200
    assert f"共 {len(in_county):,} 名学生" in page.text
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr ")[1:]
    assert len(rows) == 50
    per_school = Counter(p["school_code"] for p in in_county)
    for row in rows:
        code = row.split('data-school="')[1].split('"')[0]
        assert code in per_school
        assert f">{names[code]}</a>" in row
    assert "下一页" in page.text
    # Filtered to one school: that school's count.
    code = site.county.schools[0]["school_code"]
    one = site.client.get("/students", params={"school_code": code}, headers=admin)
    assert f"共 {per_school[code]:,} 名学生" in one.text


def test_error_pages_keep_the_menu_and_say_what_happened(
    site: Site, a_class: tuple[str, list[dict[str, Any]], dict[str, Any]]
) -> None:
    teacher = site.user(Role.TEACHER, ScopeLevel.CLASS, a_class[0])
    cases: list[tuple[str, int, str]] = [
        ("/audit", 403, "您的角色无权查看审计日志"),
        ("/warnings", 403, "您的角色无权查看预警"),
        ("/no-such-page", 404, "页面不存在"),
        ("/students/no-such-ref", 404, "未找到该记录，或它不在您的权限范围内"),
        ("/overview?trend=" + "x" * 65, 422, "请求的参数不符合要求"),
    ]
    for url, status, message in cases:
        r = site.client.get(url, headers=teacher)
        assert r.status_code == status, url
        assert message in r.text, url
        # Inside the layout, with the teacher's menu and the search box.
        assert '<nav aria-label="驾驶舱">' in r.text and 'href="/students"' in r.text, url
        assert 'action="/search"' in r.text
        for english in ("your role may not", "Not Found", "String should"):
            assert english not in r.text, url
