"""学情 reads (`modules.exams.learning`) on the generated county with both diagnoses fitted:
the exams' cognitive diagnosis (job `exam_mastery`) and the practice diagnosis (BKT on the
county's knowledge folder). Expected values come from the warehouse's rows (the mastery the
jobs wrote, the roster) and from the recommendation policy's own rules, not from the reads."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from conftest import County
from edubrain.modules.exams.learning import ClassNotFoundError, class_learning, classes_in_scope
from edubrain.modules.exams.mastery_job import fit_exam_mastery
from edubrain.service.policy import Scope, ScopeLevel
from edubrain.service.reads import WarehouseReader
from edubrain.settings import Settings
from edubrain.usecases.diagnose import fit
from edubrain.warehouse import open_warehouse


@dataclass
class Fitted:
    settings: Settings
    exam_rows: list[dict]
    practice_rows: list[dict]
    students: list[dict]
    exams: dict[str, dict]


@pytest.fixture(scope="module")
def fitted(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fitted]:
    home = tmp_path_factory.mktemp("learning-reads")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False)
    fit(settings, county.warehouse.parent.parent / "region" / "knowledge")
    fit_exam_mastery(settings)
    with open_warehouse(settings, read_only=True) as wh:
        yield Fitted(
            settings,
            wh.to_arrow("exam_mastery").to_pylist(),
            wh.to_arrow("diagnosis_mastery").to_pylist(),
            wh.to_arrow("student").to_pylist(),
            {e["exam_id"]: e for e in wh.to_arrow("exam").to_pylist()},
        )


def _math_class(f: Fitted) -> tuple[Scope, str, str]:
    """A 七年级 class whose pupils have practice mastery and a diagnosed mathematics exam."""
    practised = {r["student_number"] for r in f.practice_rows}
    for s in f.students:
        if s["grade_code"] == "21" and s["student_number"] in practised:
            key = f"{s['school_code']}/{s['school_year']}/{s['grade_code']}/{s['class_no']}"
            members = {p["student_number"] for p in f.students
                       if (p["school_code"], p["school_year"], p["grade_code"], p["class_no"])
                       == (s["school_code"], s["school_year"], "21", s["class_no"])}  # fmt: skip
            exam = next(
                r["exam_id"] for r in f.exam_rows
                if r["student_number"] in members and f.exams[r["exam_id"]]["subject"] == "math"
                and f.exams[r["exam_id"]]["grade_code"] == "21"  # this year's: the graph's M7
            )  # fmt: skip
            return Scope(ScopeLevel.CLASS, key), f"{s['school_code']}-21-{s['class_no']}", exam
    raise AssertionError("no 七年级 class with practice")


def test_a_class_reads_both_diagnoses_and_recommends_by_the_policy(fitted: Fitted) -> None:
    scope, key, exam = _math_class(fitted)
    school, year, grade, number = scope.key.split("/")
    members = {s["student_number"] for s in fitted.students
               if (s["school_code"], s["school_year"], s["grade_code"], str(s["class_no"]))
               == (school, year, grade, number)}  # fmt: skip
    with open_warehouse(fitted.settings, read_only=True) as wh:
        reader = WarehouseReader(wh)
        assert [c["class_key"] for c in classes_in_scope(reader, scope)] == [key]
        view = class_learning(reader, scope, key, exam_id=exam, clear=True,
                              practice_model=fitted.settings.workspace.diagnosis)  # fmt: skip
        with pytest.raises(ClassNotFoundError):
            class_learning(reader, scope, "9999999999-21-1", clear=True)
    rows = [r for r in fitted.exam_rows if r["exam_id"] == exam and r["student_number"] in members]
    took = sorted({r["student_number"] for r in rows})
    assert len(view["pupils"]) == len(took)
    # the class mean of each exam attribute: the mean of the rows the job wrote
    codes = sorted({r["kp_code"] for r in rows})
    exam_columns = [c for c in view["columns"] if c["source"] == "考试"]
    assert [c["key"] for c in exam_columns] == codes
    for k, code in enumerate(codes):
        values = [r["mastery"] for r in rows if r["kp_code"] == code]
        assert view["class_mean"][k] == pytest.approx(np.mean(values), abs=1e-3)
    # practice rows: the pupils' mean practice mastery of the points under an exam attribute
    practice_columns = [c for c in view["columns"] if c["source"] == "练习"]
    assert practice_columns
    first = practice_columns[0]["key"]
    k = len(exam_columns)

    def practised(pupil: str) -> list[float]:
        return [r["mastery"] for r in fitted.practice_rows if r["student_number"] == pupil
                and r["attempts"] > 0
                and (r["kp_code"] == first or r["kp_code"].startswith(first + "."))]  # fmt: skip

    # per pupil (the page orders pupils by group): the mean of the practised points, or
    # nothing when the pupil practised none (not the model's prior)
    expected = [round(float(np.mean(v)), 3) if (v := practised(p)) else None for p in took]
    assert any(v is not None for v in expected)

    def key(v: float | None) -> float:
        return -1.0 if v is None else v

    shown = sorted(view["heat_pupils"][k], key=key)
    assert [
        None if v is None else pytest.approx(v, abs=2e-3) for v in sorted(expected, key=key)
    ] == shown
    # groups cover every diagnosed pupil once
    assert sum(g["size"] for g in view["groups"]) == len(took)
    # practice items: of the class's grade, in the policy's band (0.6–0.8), on open points
    recommended = [p for g in view["groups"] for p in g["bank_practice"]]
    assert recommended
    for p in recommended:
        assert p["item_id"].startswith("SX-M7.")
        assert 0.6 <= p["success"] <= 0.8
        assert p["point_mastery"] < 0.95
    # exam items again for a group: in that group's 30–80 % band
    for g in view["groups"]:
        for p in g["practice"]:
            assert 0.3 <= p["success"] <= 0.8
    # 错题本: most-missed first
    shares = [w["share"] for w in view["wrong_items"]]
    assert shares == sorted(shares, reverse=True) and shares


def test_a_role_not_cleared_sees_no_pupil_values(fitted: Fitted) -> None:
    scope, key, exam = _math_class(fitted)
    with open_warehouse(fitted.settings, read_only=True) as wh:
        view = class_learning(WarehouseReader(wh), scope, key, exam_id=exam, clear=False)
    assert view["mastery_masked"]
    assert all(v is None for row in view["heat_pupils"] for v in row)
    assert all("*" in name for name in view["pupils"])


def test_the_command_runs_the_job_and_names_an_unknown_exam(
    county: County, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`edubrain diagnose exams --exam ID` refits one paper as a recorded job; the other
    papers' rows stay; an exam without scores is a one-line not-found error."""
    import json
    import os
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("learning-cli")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, progress=False)
    fit_exam_mastery(settings)
    with open_warehouse(settings, read_only=True) as wh:
        before = wh.to_arrow("exam_mastery").to_pylist()
    exam = sorted({r["exam_id"] for r in before})[0]
    env = {**os.environ, "EDUBRAIN_HOME": str(home)}
    env.pop("EDUBRAIN_DEBUG", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edubrain", *args], capture_output=True,
                              text=True, env=env, check=False)  # fmt: skip

    done = run("diagnose", "exams", "--exam", exam, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [p["exam_id"] for p in out["papers"]] == [exam]
    with open_warehouse(settings, read_only=True) as wh:
        after = wh.to_arrow("exam_mastery").to_pylist()
    assert len(after) == len(before)
    assert {r["exam_id"] for r in after} == {r["exam_id"] for r in before}
    jobs = json.loads(run("jobs", "list", "--json").stdout)
    assert any(j["kind"] == "exam_mastery" and j["status"] == "succeeded" for j in jobs)
    missing = run("diagnose", "exams", "--exam", "no-such-exam")
    assert missing.returncode != 0 and "no-such-exam" in missing.stderr
    assert "Traceback" not in missing.stderr
