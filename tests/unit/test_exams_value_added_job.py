"""`edubrain exams value-added` over the hand-made warehouse of `va_region`.

The expected fit is the lme4-checked core (`fit_value_added`, tests/unit/test_value_added.py)
on the arrays the module docstring of `va_region` describes, with the contextual column (each
school's mean prior) computed here by hand; what the job adds — which exams pair, which pupils
count, the class level, teacher attribution, the Progress-8 groups — is checked by hand.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from indicator_region import COUNTY, P1, P2, P3, P4, YEAR
from typer.testing import CliRunner
from va_region import CURRENT, MISSED_PRIOR, PRIOR, build, pupils, totals

from accounts import bearer_for
from edubrain.cli.main import build_app
from edubrain.modules.exams.value_added_job import (
    VALUE_ADDED_TABLE,
    _prior_groups,
    attribution,
    error_variance,
    exam_pairs,
    true_prior,
    within_true_prior,
)
from edubrain.psychometrics.value_added import fit_value_added, progress_scores
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.usecases.value_added import value_added
from edubrain.warehouse import open_warehouse


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("va") / "home"
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    build(settings)
    return settings


@pytest.fixture(scope="module")
def stored(settings: Settings) -> list[dict]:
    found = value_added(settings)
    assert (found.pairs, found.fitted) == (1, 1), found.notes
    with open_warehouse(settings, read_only=True) as wh:
        return wh.to_arrow(VALUE_ADDED_TABLE).to_pylist()


def test_the_current_qm_pairs_with_last_years_qm_one_grade_lower() -> None:
    def exam(exam_id: str, year: str, term: str, grade: str, day: str) -> dict[str, object]:
        return {"exam_id": exam_id, "school_year": year, "term": term, "subject": "math",
                "grade_code": grade, "exam_date": day, "max_score": 100.0}  # fmt: skip

    exams = [
        exam("X-2025-1-21-SX-QZ", "2025-2026", "1", "21", "2025-11-12"),
        exam("X-2025-1-21-SX-QM", "2025-2026", "1", "21", "2026-01-20"),
        # 六年级 comes before 七年级 (16 → 21), not 20
        exam("X-2024-2-16-SX-QM", "2024-2025", "2", "16", "2025-06-25"),
        exam("X-2024-2-16-SX-QZ", "2024-2025", "2", "16", "2025-04-20"),
        # 八年级 this year has only a 期中 (used), its prior the 七年级 QM above is a year late
        exam("X-2025-1-22-SX-QZ", "2025-2026", "1", "22", "2025-11-12"),
        # a subject with no prior
        {**exam("X-2025-1-21-YW-QM", "2025-2026", "1", "21", "2026-01-20"), "subject": "chinese"},
    ]
    pairs = exam_pairs(exams)
    assert [(p.exam_id, p.prior_exam_id) for p in pairs] == [
        ("X-2025-1-21-SX-QM", "X-2024-2-16-SX-QM")
    ]


def test_teacher_attribution_only_with_one_teacher() -> None:
    assert attribution(["T1"])[0] == "T1"
    assert attribution([]) == (None, "任课记录中没有该班该学科的教师，不归因到教师")
    teacher, reason = attribution(["T1", "T2"])
    assert teacher is None and "2位任课教师" in reason


def test_the_prior_as_its_expected_true_score_by_hand() -> None:
    # school A: 10, 20 (mean 15); B: 30, 40 (mean 35); within-school variance 25;
    # SEM² 12.5 → ρ = 1 − 12.5/25 = 0.5 → 15 ± 2.5, 35 ± 2.5
    found = true_prior(np.array([10.0, 20.0, 30.0, 40.0]), ["A", "A", "B", "B"], 12.5)
    assert found.within_reliability == pytest.approx(0.5)
    assert found.prior.tolist() == pytest.approx([12.5, 17.5, 32.5, 37.5])
    # no error: the prior as it is
    assert true_prior(np.array([10.0, 20.0, 30.0]), ["A", "A", "B"], 0.0).prior.tolist() == [
        10.0,
        20.0,
        30.0,
    ]


def test_another_subjects_prior_as_its_within_class_expected_true_score_by_hand() -> None:
    # class A: 10, 20 (mean 15), B: 30, 40 (mean 35); within variance 25, SEM² 12.5 → ρ = 0.5:
    # deviations ρ(x − mean) = −2.5, +2.5 in each class; the class means do not enter; a
    # pupil who did not sit the paper (NaN) gets 0, the class's mean
    values = np.array([10.0, 20.0, 30.0, 40.0, math.nan])
    found = within_true_prior(values, ["A", "A", "B", "B", "B"], 12.5)
    assert found.tolist() == pytest.approx([-2.5, 2.5, -2.5, 2.5, 0.0])
    assert within_true_prior(np.array([math.nan, math.nan]), ["A", "B"], 1.0).tolist() == [0, 0]


def test_sem_squared_from_cronbachs_alpha_by_hand() -> None:
    # two items of variance 1; totals 0, 1, 3, 4: variance 2.5, α = 2·(1 − 2/2.5) = 0.4,
    # SEM² = 2.5·0.6 = 1.5
    assert error_variance([1.0, 1.0], [0.0, 1.0, 3.0, 4.0]) == pytest.approx(1.5)
    # totals 0, 0, 4, 4: variance 4, α = 1: no error
    assert error_variance([1.0, 1.0], [0.0, 0.0, 4.0, 4.0]) == pytest.approx(0.0)
    # one item: α undefined, taken as measured
    assert error_variance([1.0], [0.0, 1.0]) == 0.0


def test_sem_squared_from_mcdonalds_omega_by_hand() -> None:
    # one factor with loadings 0.2, 0.3, 0.4, 2.5, 3.0 and unique variances 0.2, 0.2, 0.25,
    # 4.0, 5.0: item variances λ² + ψ, item-total covariances λ·Σλ + ψ (Σλ = 6.4), total
    # variance 6.4² + 9.65 = 50.61 (two pupils 2·√50.61 apart); ω = 40.96 / 50.61, so
    # SEM² = 50.61·(1 − ω) = Σψ = 9.65 (α would give 50.61·(1 − 0.6278) = 18.84)
    lam, psi = [0.2, 0.3, 0.4, 2.5, 3.0], [0.2, 0.2, 0.25, 4.0, 5.0]
    variances = [x * x + u for x, u in zip(lam, psi, strict=True)]
    covariances = [x * 6.4 + u for x, u in zip(lam, psi, strict=True)]
    totals = [0.0, 2.0 * math.sqrt(50.61)]
    assert error_variance(variances, totals, covariances) == pytest.approx(9.65)
    assert error_variance(variances, totals) == pytest.approx(50.61 - 1.25 * (50.61 - 25.19))


def test_prior_groups_are_twentieths() -> None:
    prior = np.arange(40, dtype=np.float64)  # two pupils per twentieth
    assert _prior_groups(prior).tolist() == [k // 2 for k in range(40)]


def _expected() -> tuple[object, list[str], list[str], np.ndarray, np.ndarray]:
    now, _, prior, _ = totals()
    kids = [k for k in pupils() if k[0] in prior]
    assert len(kids) == 345 - MISSED_PRIOR
    y = np.array([now[k[0]] for k in kids])
    x = np.array([prior[k[0]] for k in kids])
    schools = [k[1] for k in kids]
    classes = [str(k[2]) for k in kids]
    # one item per paper: no α, the prior is taken as measured (E[true prior] = prior)
    female = np.array([k[3] == "2" for k in kids], dtype=np.float64)
    fit = fit_value_added(
        y, x, np.array(schools), covariates=female[:, None],
        covariate_names=["female"], classes=np.array(classes),
    )  # fmt: skip
    return fit, schools, classes, y, x


def test_school_rows_are_the_core_fit_of_the_paired_pupils(stored: list[dict]) -> None:
    fit, schools, _, y, x = _expected()
    rows = {r["school_code"]: r for r in stored if r["level"] == "school"}
    assert sorted(rows) == sorted([P1, P2, P3, P4])
    for g, school in enumerate(fit.schools.labels):
        row = rows[school]
        assert row["exam_id"] == CURRENT and row["prior_exam_id"] == PRIOR
        assert (row["school_year"], row["subject"], row["grade_code"]) == (YEAR, "math", "13")
        assert row["pupils"] == {P1: 45, P2: 100, P3: 100, P4: 95}[school]
        assert row["effect"] == pytest.approx(fit.schools.effect[g], abs=1e-6)
        assert row["lower"] == pytest.approx(fit.schools.lower[g], abs=1e-6)
        assert row["upper"] == pytest.approx(fit.schools.upper[g], abs=1e-6)
        assert row["shrinkage"] == pytest.approx(fit.schools.shrinkage[g], abs=1e-6)
        band = "above" if row["lower"] > 0 else "below" if row["upper"] < 0 else "in_line"
        assert row["band"] == band
        assert row["small_group"] is False
        assert row["class_code"] is None and row["teacher"] is None
        assert "(1|school:class)" in row["method"]
    # the schools' order follows the generating effects: P2 (+6) first, P3 (−6) last
    order = sorted(rows, key=lambda s: -rows[s]["effect"])
    assert order[0] == P2 and order[-1] == P3
    # Progress-8 score: the pupils' outcome minus their prior group's mean, capped, averaged
    groups = _prior_groups(x)
    simple = progress_scores(y, groups, np.array(schools))
    for label, score in zip(simple.school_labels, simple.school_score, strict=True):
        assert rows[label]["progress_score"] == pytest.approx(score)


def test_class_rows_with_their_teachers(stored: list[dict]) -> None:
    fit, *_ = _expected()
    assert fit.classes is not None
    rows = {
        (r["school_code"], r["class_code"].rsplit("/")[-1]): r
        for r in stored
        if r["level"] == "class"
    }
    assert {r["class_code"] for r in rows.values()} >= {f"{P2}/13/1", f"{P2}/13/2"}
    assert sorted(rows) == [
        (P1, "1"),
        (P2, "1"),
        (P2, "2"),
        (P3, "1"),
        (P3, "2"),
        (P4, "1"),
        (P4, "2"),
    ]
    for g, label in enumerate(fit.classes.labels):
        row = rows[(fit.classes.parent[g], label)]
        assert row["effect"] == pytest.approx(fit.classes.effect[g], abs=1e-6)
        assert row["upper"] == pytest.approx(fit.classes.upper[g], abs=1e-6)
    assert rows[(P1, "1")]["teacher"] == "T0001"
    assert rows[(P2, "1")]["teacher"] == "T0201"
    assert rows[(P2, "2")]["teacher"] is None and "2位" in rows[(P2, "2")]["teacher_note"]
    assert rows[(P3, "1")]["teacher"] is None and "没有" in rows[(P3, "1")]["teacher_note"]
    assert rows[(P4, "1")]["teacher"] == "T0401"
    # P2's class 2 was given +3 over class 1
    assert rows[(P2, "2")]["effect"] > rows[(P2, "1")]["effect"]


def test_the_cli_runs_it_as_a_job(settings: Settings, tmp_path: Path) -> None:
    env = {"EDUBRAIN_HOME": str(settings.home), "EDUBRAIN_SEAL_CORE_FIELDS": "false"}
    result = CliRunner().invoke(build_app(), ["exams", "value-added", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"fitted": 1' in result.output
    jobs = CliRunner().invoke(build_app(), ["jobs", "list", "--json"], env=env)
    assert '"value_added"' in jobs.output


def test_no_prior_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", progress=False, seal_core_fields=False)
    from indicator_region import load, tables

    load(settings, tables())
    found = value_added(settings)
    assert found.fitted == 0 and "没有可计算增值的考试" in found.notes[0]
    with open_warehouse(settings, read_only=True) as wh:
        assert not wh.has_table(VALUE_ADDED_TABLE)


def _bearer(settings: Settings, name: str, role: Role, scope: Scope) -> dict[str, str]:
    with open_store(settings) as store:
        return bearer_for(store, name, role, scope)


def test_the_page_and_api_in_scope(settings: Settings, stored: list[dict]) -> None:
    leader = _bearer(settings, "va-leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, COUNTY))
    head = _bearer(settings, "va-principal", Role.SCHOOL_ADMIN, Scope(ScopeLevel.SCHOOL, P2))
    teacher = _bearer(
        settings, "va-teacher", Role.TEACHER, Scope(ScopeLevel.CLASS, f"{P2}/{YEAR}/13/1")
    )
    parent = _bearer(settings, "va-parent", Role.PARENT, Scope(ScopeLevel.SELF, "S02130100" + "0"))
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        county = client.get("/api/v1/exams/value-added", headers=leader).json()
        assert [c["exam_id"] for c in county["choices"]] == [CURRENT]
        assert county["choices"][0]["label"] == "2025-2026学年 小学三年级 数学"
        assert {r["school_code"] for r in county["schools"]} == {P1, P2, P3, P4}
        effects = [r["effect"] for r in county["schools"]]
        assert effects == sorted(effects)  # the caterpillar's order
        assert len(county["classes"]) == 7
        # a judgement about a teacher: withheld from the bureau leader (not cleared for 敏感)
        assert all(c["teacher"] is None for c in county["classes"])
        mine = client.get("/api/v1/exams/value-added", headers=head).json()
        assert [r["school_code"] for r in mine["schools"]] == [P2]
        assert {(c["school_code"], c["teacher"]) for c in mine["classes"]} == {
            (P2, "T0201"),
            (P2, None),
        }
        for who in (teacher, parent):
            assert client.get("/api/v1/exams/value-added", headers=who).status_code == 403
            assert client.get("/exams/value-added", headers=who).status_code == 403
        page = client.get("/exams/value-added", headers=head)
        assert page.status_code == 200
        assert "caterpillar-chart" in page.text and "学校增值" in page.text
        assert "显著" in page.text or "与预期相当" in page.text
        other = client.get("/exams/value-added", headers=leader).text
        assert other.count("<tr>") > page.text.count("<tr>")
        sheet = client.get(
            "/api/v1/exams/value-added.xlsx?school_year=2025-2026&subject=math&grade=13&table=1",
            headers=head,
        )
        assert sheet.status_code == 200 and sheet.content[:2] == b"PK"
        nothing = client.get("/api/v1/exams/value-added?subject=chinese", headers=leader).json()
        assert nothing["schools"] == [] and nothing["notices"] == ["您权限范围内没有增值评价结果。"]
    with open_store(settings) as store:
        reads = [r.entry for r in store.audit_records(resource="exam_value_added")]
    assert {e.action for e in reads} == {"read"}
    assert {e.actor for e in reads} >= {"va-leader", "va-principal"}


def test_a_past_years_school_is_the_current_one_only_within_the_stage() -> None:
    from edubrain.modules.exams.value_added_job import ExamPair, Placement, placement_then

    now = {
        "2025-2026": {"A": Placement("S1", "22", "3", "1"), "B": Placement("S2", "21", "1", "2")}
    }
    last_year_21 = ExamPair("E", "P", "2024-2025", "math", "21", 120.0)
    last_year_16 = ExamPair("E", "P", "2024-2025", "math", "16", 100.0)
    # 八年级(3)班 now was 七年级(3)班 last year, same school: classes move up intact
    assert placement_then(last_year_21, "A", now) == Placement("S1", "21", "3", "1")
    # 七年级 now: last year's 六年级 was at a primary school the 学籍 does not name
    assert placement_then(last_year_16, "B", now) is None
    # a year the warehouse holds is read as it is; a pupil not in it is unknown
    assert placement_then(last_year_21, "C", now) is None
    this_year = ExamPair("E", "P", "2025-2026", "math", "22", 120.0)
    assert placement_then(this_year, "A", now) == now["2025-2026"]["A"]


def test_indicators_read_the_school_rows(settings: Settings, stored: list[dict]) -> None:
    from edubrain.usecases.compute import compute_indicators

    summary = compute_indicators(settings, school_year=YEAR, families=["value_added"])
    values = {(v["indicator_id"], v["grain"], v["unit_code"]): v["value"] for v in summary.values}
    schools = {r["school_code"]: r for r in stored if r["level"] == "school"}
    for school, row in schools.items():
        # one grade, a paper of 100 points: the school's value is its effect
        assert values[("value_added.school_math", "school", school)] == pytest.approx(row["effect"])
        assert values[("value_added.below_share", "school", school)] == (
            100.0 if row["band"] == "below" else 0.0
        )
    below = sum(r["band"] == "below" for r in schools.values())
    assert values[("value_added.below_share", "county", COUNTY)] == pytest.approx(100 * below / 4)
    assert ("value_added.school_chinese", "school", P2) not in values  # no chinese exam


def _value(year: str, value: float, unit: str = "S1") -> dict[str, object]:
    return {"indicator_id": "value_added.school_math", "grain": "school", "unit_code": unit,
            "unit_name": "一中", "stage": "junior", "school_year": year,
            "value": value}  # fmt: skip


def test_a_fall_two_years_running_warns() -> None:
    from edubrain.indicators.warnings import Level, decline_conditions

    now = [_value("2025-2026", -1.5), _value("2025-2026", 0.0, "S2")]
    last = [_value("2024-2025", 0.5), _value("2024-2025", 0.5, "S2")]
    before = [_value("2023-2024", 2.0), _value("2023-2024", 0.0, "S2")]
    found = decline_conditions(now, [last, before])
    # S1: 2.0 → 0.5 → −1.5, falls of 1.5 and 2.0 (≥ 1 each), 3.5 in all: 黄 (from 2, 橙 from 4)
    assert [(c.unit_code, c.level) for c in found] == [("S1", Level.YELLOW)]
    assert "连续2年下降" in found[0].message and "2 (2023-2024)" in found[0].message
    # S2 rose then fell: no warning; with only last year's values nobody is warned
    assert decline_conditions(now, [last]) == []
    bigger = decline_conditions([_value("2025-2026", -3.0)], [last, before])
    assert [c.level for c in bigger] == [Level.ORANGE]  # 1.5 + 3.5 = 5 in all: ≥ 4, < 6 → 橙
    worst = decline_conditions([_value("2025-2026", -5.0)], [last, before])
    assert [c.level for c in worst] == [Level.RED]  # 1.5 + 5.5 = 7: ≥ 6 → 红
    # a fall under one point a year does not count
    assert decline_conditions([_value("2025-2026", 0.0)], [last, before]) == []


def test_the_caterpillar_draws_each_interval_from_its_lower_end() -> None:
    from edubrain.modules.exams.value_added_pages import caterpillar

    rows = [
        {"school_name": "乙校", "effect": -3.0, "lower": -5.5, "upper": -0.5, "band": "below"},
        {"school_name": "甲校", "effect": 1.0, "lower": -1.0, "upper": 3.0, "band": "in_line"},
    ]
    option = caterpillar(rows)
    base, interval, point = option["series"]
    assert option["xAxis"]["data"] == ["乙校", "甲校"]
    assert base["data"] == [-5.5, -1.0] and base["itemStyle"]["color"] == "transparent"
    # stacked across signs: the visible bar is as long as the interval, from its lower end
    assert [d["value"] for d in interval["data"]] == [5.0, 4.0]
    assert base["stackStrategy"] == interval["stackStrategy"] == "all"
    assert [d["itemStyle"]["color"] for d in interval["data"]] == ["#c62828", "#90a4ae"]
    assert point["data"] == [-3.0, 1.0]
