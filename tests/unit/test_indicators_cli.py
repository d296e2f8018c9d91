"""`edubrain indicators` and `edubrain warnings` on the hand-made county."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import indicator_region as region
import pytest
from indicator_region import COUNTY, S1
from typer.testing import CliRunner

from edubrain.cli.main import build_app


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = region.build(tmp_path_factory.mktemp("cli"))
    return settings.home


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(build_app(), list(args), env={"EDUBRAIN_HOME": str(home)})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_compute_show_explain_plans_and_warnings(home: Path) -> None:
    computed = json.loads(run(home, "indicators", "compute", "--json"))
    assert computed["school_year"] == "2025-2026" and computed["values"] > 100
    assert computed["warnings"]["opened"] > 0
    shown = json.loads(run(home, "indicators", "show", "--grain", "county", "--id",
                           "class_size.large_class_share", "--json"))  # fmt: skip
    assert [(r["unit_code"], round(r["value"], 3), r["meets"]) for r in shown] == [
        (COUNTY, round(100 * 3 / 17, 3), False)  # vs ≤ 5%
    ]
    # 数据互通率 is computed from governance's tables: homework submissions name pupils that
    # are not in the registry, so not every record resolves.
    interop = json.loads(run(home, "indicators", "show", "--id", "data.interop_rate", "--json"))
    assert interop and 0 <= interop[0]["value"] < 100
    text = run(home, "indicators", "explain", "staffing.students_per_staff", "--school", S1)
    assert "Σ students 250 ÷ Σ staff 15" in text and "NOT met" in text
    plans = json.loads(run(home, "indicators", "plans", "--json"))
    gigabit = [r for r in plans["checklist"] if r.get("indicator") == "info.gigabit_school_share"]
    assert [r["result"] for r in gigabit] == ["fail"]  # 66.7% < 95%
    assert any(r["result"] == "not computable" for r in plans["checklist"])
    listed = json.loads(run(home, "warnings", "list", "--json"))
    assert listed and listed[0]["level"] == "red"
    wid = listed[0]["warning_id"]
    assert "acknowledged by 张三" in run(home, "warnings", "acknowledge", wid, "--by", "张三",
                                          "--note", "跟进")  # fmt: skip
    history = json.loads(run(home, "warnings", "history", wid, "--json"))
    assert [e["event"] for e in history["events"]] == ["opened", "acknowledged"]
    catalogue = json.loads(run(home, "indicators", "show", "--list", "--json"))
    assert len(catalogue) == len({c["id"] for c in catalogue}) > 40


def test_unknown_indicator_is_one_line_and_exit_2(home: Path) -> None:
    env = {**os.environ, "EDUBRAIN_HOME": str(home)}
    env.pop("EDUBRAIN_DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-m", "edubrain", "indicators", "explain", "no.such", "--school", S1],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no indicator 'no.such'" in result.stderr
