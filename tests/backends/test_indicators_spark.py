"""The whole catalogue on PySpark (local mode) gives the same values as on DuckDB.

A small generated county is ingested into DuckDB, its tables exported as Parquet and read by a
local Spark session; the same Ibis definitions run on both. Values agree to 1e-9 relative (the
two engines add floating-point numbers in different orders). With CI=true this test must run:
a missing PySpark or Java fails it instead of skipping.
"""

from __future__ import annotations

import importlib.util
import math
import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from edubrain.govern.quality import RuleContext
from edubrain.govern.scorecard import person_bearing, scorecard
from edubrain.indicators.catalogue import indicators
from edubrain.indicators.engine import compute_values, default_school_year
from edubrain.indicators.inputs import Inputs
from edubrain.ingest import ingest_paths
from edubrain.modules.exams.value_added_job import VALUE_ADDED_SCHEMA, VALUE_ADDED_TABLE
from edubrain.modules.fitness.score_job import FITNESS_SCORE_TABLE
from edubrain.modules.health.screening_job import HEALTH_STATUS_TABLE
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.usecases.fitness_scores import fitness_scores
from edubrain.usecases.health_screening import health_screening
from edubrain.warehouse import open_warehouse

pytestmark = [
    pytest.mark.spark,
    # py4j leaves its gateway sockets to the garbage collector
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    # PySpark 4.0's toPandas passes pandas 3 a deprecated `copy=` keyword
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

TABLES = (
    "region", "school", "student", "teacher", "facility_survey", "class",
    "homework_assignment", "homework_submission", "teaching_assignment", *person_bearing(),
    "teacher_training", "teacher_literacy",
    VALUE_ADDED_TABLE, FITNESS_SCORE_TABLE, HEALTH_STATUS_TABLE,
)  # fmt: skip


def _spark_available() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed (pip install 'edubrain[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime for Spark"
    return None


def _key(r: dict[str, Any]) -> tuple[str, str, str, str]:
    return (r["indicator_id"], r["grain"], r["unit_code"], r["stage"])


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _value_added_rows(settings: Settings) -> None:
    """A value-added table with a row per school of this year (a county this small has too few
    schools a paper for the model, and the comparison is of the engines, not of the model)."""
    rng = np.random.default_rng(11)
    with open_warehouse(settings) as wh:
        year = default_school_year(wh)
        schools = sorted(wh.to_arrow("school").column("school_code").to_pylist())
        rows = []
        for i, (code, subject) in enumerate(
            (c, s) for c in schools for s in ("chinese", "math", "english")
        ):
            effect = float(rng.normal(0, 3))
            rows.append(
                {
                    "school_year": year,
                    "subject": subject,
                    "grade_code": "21" if i % 2 else "16",
                    "exam_id": f"E{i}",
                    "prior_exam_id": f"P{i}",
                    "level": "school",
                    "school_code": code,
                    "class_code": None,
                    "pupils": int(rng.integers(5, 80)),
                    "effect": effect,
                    "lower": effect - 2.0,
                    "upper": effect + 2.0,
                    "shrinkage": 0.8,
                    "band": "above" if effect > 2 else "below" if effect < -2 else "in_line",
                    "small_group": False,
                    "progress_score": effect,
                    "max_score": 120.0,
                    "teacher": None,
                    "teacher_note": None,
                    "method": "test",
                    "fitted_at": None,
                }
            )
        with wh.transaction() as tx:
            tx.replace_table(VALUE_ADDED_TABLE, pa.Table.from_pylist(rows, VALUE_ADDED_SCHEMA))


def test_catalogue_is_identical_on_duckdb_and_spark(tmp_path: Path) -> None:
    missing = _spark_available()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the Spark comparison: {missing}")
        pytest.skip(missing)
    from edubrain.warehouse import SparkTables

    region = tmp_path / "region"
    generate_region(region, students=1000, seed=11)
    settings = Settings(home=tmp_path / "home", progress=False)
    ingest_paths([region / "standard", region / "exports"], settings)
    _value_added_rows(settings)  # the value-added indicators read the job's table
    fitness_scores(settings)  # and the fitness indicators the scoring job's
    health_screening(settings)  # and the health indicators the screening job's
    exported = tmp_path / "parquet"
    with open_warehouse(settings) as wh:
        year = default_school_year(wh)
        quality = [r.as_dict() for r in scorecard(wh, RuleContext(date(2026, 3, 1), 45))]
        inputs = Inputs(wh, year, quality_rows=quality)
        try:
            on_duckdb = compute_values(inputs, indicators()).rows
        finally:
            inputs.release()
        for name in TABLES:
            wh.export_parquet(name, exported / f"{name}.parquet", exclude=("_row_hash",))
    with SparkTables.local(settings, tmp_dir=tmp_path / "spark") as spark:
        spark.register_folder(exported)
        inputs = Inputs(spark, year, quality_rows=quality)
        try:
            on_spark = compute_values(inputs, indicators()).rows
        finally:
            inputs.release()

    duck = {_key(r): r for r in on_duckdb}
    sparked = {_key(r): r for r in on_spark}
    assert len(duck) == len(on_duckdb) and len(duck) > 150
    assert {k[0] for k in duck} == {i.id for i in indicators()}  # every indicator has values
    assert sparked.keys() == duck.keys()
    differ = [
        (k, column, duck[k][column], sparked[k][column])
        for k in duck
        for column in ("value", "numerator", "denominator")
        if not _same(duck[k][column], sparked[k][column])
    ]
    assert not differ, differ[:10]
    assert all(duck[k]["units"] == sparked[k]["units"] for k in duck)
