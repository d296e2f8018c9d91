"""Issue 17 item 3, probed role by role: a pupil's psychological screening result reaches only
the psychology teacher of the pupil's school, with a purpose that the audit keeps; everyone else
who runs or plans schools reads counts in which no cell of 1–4 can be read or rebuilt.

The expected sets come from the warehouse's own tables (the scored results and the 学籍), not
from the endpoints.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from conftest import County, bearer_for
from edubrain.modules.psych.reads import SMALLEST_CELL, UNSCORED
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.sealed_refs import SealedRefs
from edubrain.settings import Settings
from edubrain.usecases.psych_screening import psych_screening
from edubrain.warehouse import open_warehouse

R = Role
PURPOSE = {"X-Purpose": quote("复核筛查结果")}


@dataclass
class Probe:
    client: TestClient
    settings: Settings
    results: list[dict]  # psych_result, as stored
    school_of: dict[str, str]  # 学籍号 (as stored) → current school
    made: int = 0

    def as_(self, role: Role, level: str, key: str) -> dict[str, str]:
        self.made += 1
        store = self.client.app.state.services.store  # type: ignore[attr-defined]
        name = f"p{self.made}_{role.value}_{uuid.uuid4().hex[:6]}"
        return bearer_for(store, name, role, Scope(ScopeLevel(level), key))

    def refs_of(self, school: str, *, warning_only: bool) -> set[str]:
        refs = SealedRefs.for_workspace(self.settings.workspace)
        return {
            refs.seal(r["student_number"])
            for r in self.results
            if self.school_of.get(r["student_number"]) == school
            and (r["warning"] or not warning_only)
        }


@pytest.fixture(scope="module")
def probe_settings(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    import shutil

    home = tmp_path_factory.mktemp("psych-home")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False, lookup_miss_limit_per_address=1_000_000)
    found = psych_screening(settings)
    assert found.table.num_rows > 500  # the county's 四年级–高三 pupils sat the example scale
    yield settings


@pytest.fixture
def probe(probe_settings: Settings, county: County) -> Iterator[Probe]:
    with open_warehouse(probe_settings, read_only=True) as wh:
        results = wh.to_arrow("psych_result").to_pylist()
    school_of = {s["student_number"]: s["school_code"] for s in county.students}
    with TestClient(create_app(probe_settings)) as client:
        yield Probe(client, probe_settings, results, school_of)


def _busiest_schools(probe: Probe) -> tuple[str, str]:
    warned = Counter(
        probe.school_of.get(r["student_number"]) for r in probe.results if r["warning"]
    )
    (first, _), (second, _) = [(k, n) for k, n in warned.most_common() if k][:2]
    return first, second


def test_only_the_schools_psychology_teacher_reads_its_pupils_results(probe: Probe) -> None:
    school, other = _busiest_schools(probe)
    county_code = "339901"
    pupil = next(r["student_number"] for r in probe.results if probe.school_of.get(
        r["student_number"]) == school)  # fmt: skip
    a_class = "/".join([school, "2025-2026", "21", "1"])
    everyone: list[tuple[Role, str, str]] = [
        (R.BUREAU_LEADER, "county", county_code),
        (R.DATA_ADMIN, "county", county_code),
        (R.SCHOOL_ADMIN, "school", school),
        (R.TEACHER, "school", school),
        (R.HEAD_TEACHER, "class", a_class),
        (R.TEACHING_RESEARCHER, "county", county_code),
        (R.PARENT, "self", pupil),
        (R.STUDENT, "self", pupil),
        (R.ENROLMENT_OFFICER, "county", county_code),
        (R.AUDITOR, "county", county_code),
        (R.APP_VENDOR, "school", school),
    ]
    for role, level, key in everyone:
        headers = probe.as_(role, level, key) | PURPOSE
        response = probe.client.get("/api/v1/psych/results", headers=headers)
        assert response.status_code == 403, (role, response.text)
    assert {r for r, _, _ in everyone} | {R.PSYCH_TEACHER} == set(Role)  # all 12 roles probed

    teacher = probe.as_(R.PSYCH_TEACHER, "school", school) | PURPOSE
    warned = probe.client.get("/api/v1/psych/results", headers=teacher)
    assert warned.status_code == 200
    rows = warned.json()["results"]
    assert {r["ref"] for r in rows} == probe.refs_of(school, warning_only=True) != set()
    assert all(r["warning"] and r["level"] == "预警" for r in rows)
    everything = probe.client.get(
        "/api/v1/psych/results", params={"warning_only": "false"}, headers=teacher
    ).json()["results"]
    assert {r["ref"] for r in everything} == probe.refs_of(school, warning_only=False)

    elsewhere = probe.as_(R.PSYCH_TEACHER, "school", other) | PURPOSE
    theirs = probe.client.get(
        "/api/v1/psych/results", params={"warning_only": "false"}, headers=elsewhere
    ).json()["results"]
    assert {r["ref"] for r in theirs} == probe.refs_of(other, warning_only=False)
    assert not {r["ref"] for r in theirs} & {r["ref"] for r in everything}


def test_a_read_needs_a_purpose_and_the_audit_keeps_it(probe: Probe) -> None:
    school, _ = _busiest_schools(probe)
    teacher = probe.as_(R.PSYCH_TEACHER, "school", school)
    refused = probe.client.get("/api/v1/psych/results", headers=teacher)
    assert refused.status_code in (400, 422) and "X-Purpose" in refused.text
    headers = teacher | PURPOSE
    assert probe.client.get("/api/v1/psych/results", headers=headers).status_code == 200
    store = probe.client.app.state.services.store  # type: ignore[attr-defined]
    last = store.audit_records(descending=True, limit=1)[0].entry
    assert (last.action, last.resource, last.purpose) == ("read", "psych_result", "复核筛查结果")
    assert last.role == "psych_teacher"


def _truth_counts(probe: Probe, schools: set[str] | None) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for r in probe.results:
        now_at = probe.school_of.get(r["student_number"])  # the pupil's rule: the 学籍's school
        if now_at is None or (schools is not None and now_at not in schools):
            continue
        level = r["level"] if r["status"] != "缺答过多" and r["level"] else UNSCORED
        out[r["school_code"] or ""][level] += 1
    return out


def _check_withheld(rows: list[dict], total: dict, truth: dict[str, Counter[str]]) -> None:
    somewhere = set()
    for row in rows:
        counts = truth[row["school_code"] or ""]
        assert row["sittings"] == sum(counts.values())
        withheld = [k for k, v in row["levels"].items() if v is None]
        assert len(withheld) != 1, row  # one alone would come back from the row's sittings
        somewhere |= set(withheld)
        for level, value in row["levels"].items():
            if value is None:
                continue
            assert value == counts[level]
            assert value == 0 or value >= SMALLEST_CELL, row
        for level, n in counts.items():
            if 0 < n < SMALLEST_CELL:
                assert row["levels"][level] is None
    assert somewhere <= {k for k, v in total["levels"].items() if v is None}


@pytest.mark.parametrize(
    ("role", "level"),
    [
        (R.BUREAU_LEADER, "county"),
        (R.DATA_ADMIN, "county"),
        (R.TEACHING_RESEARCHER, "county"),
        (R.SCHOOL_ADMIN, "school"),
        (R.PSYCH_TEACHER, "school"),
    ],
)
def test_counts_withhold_every_cell_under_five(probe: Probe, role: Role, level: str) -> None:
    school, _ = _busiest_schools(probe)
    key = "339901" if level == "county" else school
    response = probe.client.get("/api/v1/psych/summary", headers=probe.as_(role, level, key))
    assert response.status_code == 200
    (scale,) = response.json()["scales"]
    truth = _truth_counts(probe, None if level == "county" else {school})
    assert {r["school_code"] or "" for r in scale["schools"]} == set(truth)
    _check_withheld(scale["schools"], scale["total"], truth)
    if level == "county":  # small cells exist (未评分: ~1 % of sittings): the rule bites
        assert any(v is None for row in scale["schools"] for v in row["levels"].values())


@pytest.mark.parametrize(
    ("role", "level", "key"),
    [
        (R.TEACHER, "school", None),
        (R.PARENT, "self", "pupil"),
        (R.AUDITOR, "county", "339901"),
        (R.ENROLMENT_OFFICER, "county", "339901"),
        (R.APP_VENDOR, "county", "339901"),
    ],
)
def test_counts_are_not_for_everyone(probe: Probe, role: Role, level: str, key: str | None) -> None:
    school, _ = _busiest_schools(probe)
    pupil = next(iter(probe.school_of))
    scope_key = {None: school, "pupil": pupil}.get(key, key)
    assert isinstance(scope_key, str)
    response = probe.client.get("/api/v1/psych/summary", headers=probe.as_(role, level, scope_key))
    assert response.status_code == 403


HEAD_PURPOSE = {"X-Purpose": quote("配合心理辅导")}


def test_a_referral_opens_one_pupils_level_to_the_head_teacher_of_that_class(probe: Probe) -> None:
    """转介: the head teacher of a referred pupil's class reads the pupil's level and the note,
    never the scores, only while the referral is open; no other class, school or role does."""
    school, other = _busiest_schools(probe)
    placed = {s["student_number"]: s for s in probe.client.app.state.services.reader.rows(  # type: ignore[attr-defined]
        probe.client.app.state.services.reader.table("student"))}  # fmt: skip
    warned = [r for r in probe.results if r["warning"]
              and probe.school_of.get(r["student_number"]) == school]  # fmt: skip
    pupil = warned[0]["student_number"]
    p = placed[pupil]
    its_class = f"{p['school_code']}/{p['school_year']}/{p['grade_code']}/{p['class_no']}"
    # another class of the same school, with a pupil who has a warning too
    neighbour = next(
        f"{q['school_code']}/{q['school_year']}/{q['grade_code']}/{q['class_no']}"
        for r in warned
        if (q := placed[r["student_number"]])
        and (q["grade_code"], q["class_no"]) != (p["grade_code"], p["class_no"])
    )
    refs = SealedRefs.for_workspace(probe.settings.workspace)
    ref = refs.seal(pupil)
    head = probe.as_(R.HEAD_TEACHER, "class", its_class)
    psych = probe.as_(R.PSYCH_TEACHER, "school", school)

    before = probe.client.get("/api/v1/psych/referred", headers=head | HEAD_PURPOSE)
    assert before.status_code == 200 and before.json()["results"] == []
    no_purpose = probe.client.get("/api/v1/psych/referred", headers=head)
    assert no_purpose.status_code in (400, 422) and "X-Purpose" in no_purpose.text

    # only the psychology teacher refers, and only a pupil of her own school
    body = {"ref": ref, "note": "请关注情绪变化，每周与我沟通一次"}
    for role, level, key in [
        (R.HEAD_TEACHER, "class", its_class),
        (R.TEACHER, "school", school),
        (R.SCHOOL_ADMIN, "school", school),
    ]:
        refused = probe.client.post(
            "/api/v1/psych/referrals", json=body, headers=probe.as_(role, level, key)
        )
        assert refused.status_code == 403, role
    stranger = probe.as_(R.PSYCH_TEACHER, "school", other)
    assert (
        probe.client.post("/api/v1/psych/referrals", json=body, headers=stranger).status_code == 404
    )
    forged = {"ref": ref[:-2] + ("AA" if ref[-2:] != "AA" else "BB"), "note": "x"}
    assert (
        probe.client.post("/api/v1/psych/referrals", json=forged, headers=psych).status_code == 404
    )

    made = probe.client.post("/api/v1/psych/referrals", json=body, headers=psych)
    assert made.status_code == 201, made.text
    referral = made.json()
    assert referral["ref"] == ref and referral["open"]
    assert (referral["school_code"], referral["grade_code"], referral["class_no"]) == (
        p["school_code"], p["grade_code"], str(p["class_no"]))  # fmt: skip
    again = probe.client.post("/api/v1/psych/referrals", json=body, headers=psych).json()
    assert again["referral_id"] == referral["referral_id"]  # one open referral per pupil and class

    seen = probe.client.get("/api/v1/psych/referred", headers=head | HEAD_PURPOSE)
    assert seen.status_code == 200
    (row,) = seen.json()["results"]
    stored = next(r for r in probe.results if r["student_number"] == pupil)
    assert row["ref"] == ref and row["level"] == stored["level"] and row["warning"]
    assert row["referral_note"] == body["note"]
    assert "total" not in row and "subscales" not in row  # the scores stay with the teacher

    # nobody else gains anything from it
    other_head = probe.as_(R.HEAD_TEACHER, "class", neighbour)
    assert (
        probe.client.get("/api/v1/psych/referred", headers=other_head | HEAD_PURPOSE).json()[
            "results"
        ]
        == []
    )
    for role, level, key in [(R.TEACHER, "school", school), (R.PARENT, "self", pupil),
                             (R.SCHOOL_ADMIN, "school", school)]:  # fmt: skip
        response = probe.client.get(
            "/api/v1/psych/referred", headers=probe.as_(role, level, key) | HEAD_PURPOSE
        )
        assert response.status_code == 403, role
    theirs = probe.client.get("/api/v1/psych/referrals", headers=stranger).json()["referrals"]
    assert referral["referral_id"] not in {r["referral_id"] for r in theirs}
    rid = referral["referral_id"]
    assert (
        probe.client.post(f"/api/v1/psych/referrals/{rid}/withdraw", headers=stranger).status_code
        == 404
    )

    listed = probe.client.get("/api/v1/psych/referrals", headers=psych).json()["referrals"]
    assert rid in {r["referral_id"] for r in listed}
    closed = probe.client.post(
        f"/api/v1/psych/referrals/{rid}/withdraw", json={"note": "辅导结束"}, headers=psych
    )
    assert closed.status_code == 200 and not closed.json()["open"]
    after = probe.client.get("/api/v1/psych/referred", headers=head | HEAD_PURPOSE).json()
    assert after["results"] == []

    store = probe.client.app.state.services.store  # type: ignore[attr-defined]
    trail = [r.entry for r in store.audit_records(descending=True, limit=12)]
    assert any(e.action == "refer" and e.outcome == "ok" and pupil in e.record_ids for e in trail)
    assert any(e.action == "withdraw" and rid in e.record_ids for e in trail)
    read = next(e for e in trail if e.role == "head_teacher" and e.resource == "psych_result"
                and pupil in e.record_ids)  # fmt: skip
    assert read.purpose == "配合心理辅导"
