"""考试分析 over a hand-built warehouse: scope, masking, audit, the CLI and bad input.

The county of `indicator_region` plus exam E1 (满分 10; items of 2, 3 and 5 points, as in
test_exam_analysis.py) taken by ten pupils of 初中 J1: five of class 21/1 with totals 10, 9, 8,
7, 6 and five of class 21/2 with totals 5, 4, 3, 2, 1. E2 is E1 with one score of 3 on the
2-point item 1; E3 is E1 with every pupil on full marks for item 1.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from indicator_region import COUNTY, J1, YEAR, load, tables
from typer.testing import CliRunner

from accounts import bearer_for
from edubrain.cli.main import build_app
from edubrain.modules.exams import reads
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings

SCORES = [
    [2, 3, 5], [2, 3, 4], [2, 2, 4], [2, 2, 3], [2, 1, 3],
    [2, 1, 2], [0, 1, 3], [0, 1, 2], [0, 0, 2], [0, 0, 1],
]  # fmt: skip
PUPILS = [f"S0521010{i:02d}" for i in range(5)] + [f"S0521020{i:02d}" for i in range(5)]
ITEMS = [(1, 2.0, "objective", "A"), (2, 3.0, "subjective", "A;B"), (3, 5.0, "subjective", "B")]


def _exam(exam_id: str, scores: list[list[int]]) -> dict[str, list[dict[str, Any]]]:
    return {
        "exam": [
            {
                "exam_id": exam_id,
                "name": f"七年级数学{exam_id}",
                "school_year": YEAR,
                "term": "1",
                "subject": "math",
                "grade_code": "21",
                "exam_date": date(2025, 11, int(exam_id[1:]) + 10),
                "max_score": 10.0,
            }
        ],
        "exam_item": [
            {
                "exam_id": exam_id,
                "item_no": n,
                "max_score": m,
                "item_type": t,
                "knowledge_points": k,
            }
            for n, m, t, k in ITEMS
        ],
        "item_score": [
            {"exam_id": exam_id, "student_number": s, "item_no": j + 1, "score": float(v)}
            for s, row in zip(PUPILS, scores, strict=True)
            for j, v in enumerate(row)
        ],
    }


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # written in clear (no key file): the scores and numbers here are not core fields anyway
    home = tmp_path_factory.mktemp("exams") / "home"
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    load(settings, tables())
    above = [list(r) for r in SCORES]
    above[0][0] = 3
    full = [[2, *r[1:]] for r in SCORES]
    for n, (exam_id, scores) in enumerate((("E1", SCORES), ("E2", above), ("E3", full))):
        load(settings, _exam(exam_id, scores), load_id=f"X{n}")
    return settings


def edubrain(home: Path, *args: str) -> str:
    """The CLI in this process (an interpreter per command would make the file slow)."""
    env = {"EDUBRAIN_HOME": str(home), "EDUBRAIN_SEAL_CORE_FIELDS": "false"}
    result = CliRunner().invoke(build_app(), list(args), env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def _bearer(settings: Settings, name: str, role: Role, scope: Scope) -> dict[str, str]:
    with open_store(settings) as store:
        return bearer_for(store, name, role, scope)


def _class(no: int) -> Scope:
    return Scope(ScopeLevel.CLASS, f"{J1}/{YEAR}/21/{no}")


def test_reports_in_scope_masked_and_audited(settings: Settings) -> None:
    head = _bearer(settings, "head1", Role.HEAD_TEACHER, _class(1))
    other = _bearer(settings, "head2", Role.HEAD_TEACHER, _class(2))
    leader = _bearer(settings, "leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        exams = client.get("/api/v1/exams", headers=head).json()
        assert {e["exam_id"]: e["pupils"] for e in exams} == {"E1": 5, "E2": 5, "E3": 5}
        # the class's trend: mean 得分率 8.0/10 on E1; E2 has one more point (8.2); E3 gives
        # item 1 full marks to pupils who all had it already (8.0)
        rates = {e["exam_id"]: e["mean_rate"] for e in exams}
        assert rates == pytest.approx({"E1": 0.8, "E2": 0.82, "E3": 0.8})
        # the head teacher's class only: totals 10, 9, 8, 7, 6
        mine = client.get("/api/v1/exams/E1/report", headers=head).json()["report"]
        assert mine["pupils"] == 5
        assert mine["mean"] == pytest.approx(8.0)
        assert mine["excellent_rate"] == pytest.approx(0.4)  # 10, 9 ≥ 8.5
        assert mine["pass_rate"] == pytest.approx(1.0)
        # asking for the other class gives nothing of it
        assert client.get("/api/v1/exams/E1/report?class_no=2", headers=head).status_code == 404
        # five pupils are too few for item analysis: said, not computed
        items = client.get("/api/v1/exams/E1/items", headers=head).json()["analysis"]
        assert items["items"] == [] and any("只有5人" in n for n in items["notices"])
        # the county: all ten (mean 5.5), class 2 alone (totals 5..1, mean 3)
        county = client.get("/api/v1/exams/E1/report", headers=leader).json()["report"]
        assert county["mean"] == pytest.approx(5.5)
        second = client.get(
            f"/api/v1/exams/E1/report?school={J1}&class_no=2", headers=leader
        ).json()["report"]
        assert second["mean"] == pytest.approx(3.0) and second["pass_rate"] == 0.0
        analysis = client.get("/api/v1/exams/E1/items", headers=leader).json()["analysis"]
        assert analysis["alpha"] == pytest.approx(1.5 * (1 - 32.9 / 82.5))
        assert [i["band"] for i in analysis["items"]] == ["很好", "很好", "很好"]
        sheet = client.get("/api/v1/exams/E1/report.xlsx?table=1", headers=leader)
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        # a pupil: total 8 of 10, two of ten above → 前10%–25%; trend over E1..E3
        # the list is ordered by 学籍号 (shown masked to a teacher): the third is S052101002
        listed = client.get("/api/v1/students?limit=3", headers=head).json()["items"]
        pupil_ref = listed[2]["ref"]
        pupil = client.get(f"/api/v1/students/{pupil_ref}/exams", headers=head)
        assert pupil.status_code == 200, pupil.text
        body = pupil.json()
        assert [e["exam_id"] for e in body["exams"]] == ["E1", "E2", "E3"]
        first = body["exams"][0]
        assert (first["total"], first["rate"], first["rank_band"]) == (8.0, 0.8, "前10%–25%")
        # the other class's teacher: 404, as for a pupil who does not exist
        assert client.get(f"/api/v1/students/{pupil_ref}/exams", headers=other).status_code == 404
        # the bureau leader is not cleared for 敏感 scores: the exams, no score
        ref = body["student"]["ref"]
        masked = client.get(f"/api/v1/students/{ref}/exams", headers=leader).json()
        assert masked["scores_masked"]
        assert {e["total"] for e in masked["exams"]} == {None}
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="item_score")]
    reports = [e for e in trail if '"view": "report"' in e.query]
    assert {e.actor for e in reports} >= {"head1", "leader"}
    assert {e.record_ids for e in reports} == {'["E1"]'}
    # the other class's teacher asked for the pupil and was told nothing: audited too
    assert ("head2", "not_found") in {(e.actor, e.outcome) for e in trail}


def test_bad_input_is_said_in_chinese(settings: Settings) -> None:
    leader = _bearer(settings, "leader2", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        above = client.get("/api/v1/exams/E2/items", headers=leader).json()["analysis"]
        assert above["items"] == []
        assert any("第1题有1个得分超过该题分值2分" in n for n in above["notices"])
        full = client.get("/api/v1/exams/E3/items", headers=leader).json()["analysis"]
        assert any("第1题全体学生得满分" in n for n in full["notices"])
        assert full["items"][0]["point_biserial"] is None


def test_cli_lists_reports_and_analyses(settings: Settings) -> None:
    listed = edubrain(settings.home, "exams", "list")
    assert "E1" in listed and "10人" in listed
    report = edubrain(settings.home, "exams", "report", "E1")
    assert "优秀率" in report and "20.0%" in report
    items = edubrain(settings.home, "exams", "items", "E1")
    assert "很好" in items and "0.902" in items


def test_the_page_is_two_clicks_away_for_the_teacher_and_the_bureau(settings: Settings) -> None:
    head = _bearer(settings, "head1p", Role.HEAD_TEACHER, _class(1))
    leader = _bearer(settings, "leaderp", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        for who, pupils in ((head, "5"), (leader, "10")):
            home = client.get("/home", headers=who).text
            assert 'href="/exams"' in home  # the menu: click 1
            listed = client.get("/exams", headers=who).text
            assert "七年级数学E1" in listed and f'<td class="num">{pupils}</td>' in listed
            report = client.get("/exams?exam=E1", headers=who)  # click 2
            assert report.status_code == 200
            assert "分数段分布" in report.text and "bands-chart" in report.text
            assert f"<td>{pupils}</td>" in report.text  # the summary table's 人数
        items = client.get("/exams?exam=E1&tab=items", headers=leader).text
        assert "没有记录学生所选的选项" in items
        assert f"{1.5 * (1 - 32.9 / 82.5):.3f}" in items  # α in the facts
        few = client.get("/exams?exam=E1&tab=items", headers=head).text
        assert "只有5人" in few
        # a pupil's school is not the page of another class's teacher
        other = _bearer(settings, "head2p", Role.HEAD_TEACHER, _class(3))
        assert client.get("/exams?exam=E1", headers=other).status_code == 404


def test_a_small_group_is_withheld_from_roles_not_cleared_for_scores(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reads, "SMALLEST_GROUP", 6)  # the classes here have 5 pupils each
    head = _bearer(settings, "head1s", Role.HEAD_TEACHER, _class(1))
    leader = _bearer(settings, "leaders", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    path = f"/api/v1/exams/E1/report?school={J1}&class_no=1"
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        withheld = client.get(path, headers=leader).json()["report"]
        assert withheld["pupils"] == 5 and withheld["mean"] is None and withheld["bands"] == []
        assert any("为保护学生个人信息" in n for n in withheld["notices"])
        # the class's own teacher (cleared for 敏感) sees it; the county as a whole is shown
        assert client.get(path, headers=head).json()["report"]["mean"] == pytest.approx(8.0)
        county = client.get("/api/v1/exams/E1/report", headers=leader).json()["report"]
        assert county["mean"] == pytest.approx(5.5)
        page = client.get(f"/exams?exam=E1&school={J1}&class_no=1", headers=leader)
        assert page.status_code == 200 and "为保护学生个人信息" in page.text
