"""Benchmark: the full indicator catalogue on DuckDB beside a straightforward pandas version of
three indicators, on the same warehouse, in the same run.

    python benchmarks/indicators.py --warehouse /tmp/copy/warehouse.duckdb   # an ingested region
    python benchmarks/indicators.py --students 60000 --workdir /tmp/ind-bench  # generate+ingest

The catalogue is timed twice: without the data family (the indicator engine alone) and the data
family on its own (governance's quality scorecard and 数据互通率, whose cost is governance's).
The pandas side reads the tables it needs into DataFrames (timed) and computes
class_size.large_class_share per county, staffing.students_per_staff per school and
balance.cv.sports_area_per_student per 学段 × county; its values are checked against the
catalogue's.

Never point --warehouse at a file another process is writing: copy it first.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from edubrain.govern.quality import RuleContext
from edubrain.govern.scorecard import scorecard_rows
from edubrain.indicators.catalogue import indicators
from edubrain.indicators.run import compute_catalogue
from edubrain.ingest import ingest_paths
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.warehouse import open_warehouse


def machine_details() -> dict[str, Any]:
    # The same machine description as the ingest benchmark (this folder is on sys.path).
    from ingest import machine

    return {**machine(), "pandas": pd.__version__, "load_average_at_start": os.getloadavg()}


def pandas_three(
    wh: Any, year: str
) -> tuple[dict[str, dict[tuple[str, ...], float]], float, float]:
    """The obvious pandas code for three indicators; returns values, read s, compute s."""
    started = time.perf_counter()
    student = (
        wh.to_arrow("student")
        .select(["school_code", "school_year", "grade_code", "class_no", "status"])
        .to_pandas()
    )
    school = wh.to_arrow("school").select(["school_code", "stages", "region_code"]).to_pandas()
    teacher = wh.to_arrow("teacher").select(["school_code"]).to_pandas()
    facility = (
        wh.to_arrow("facility_survey")
        .select(["school_code", "survey_year", "sports_area_m2"])
        .to_pandas()
    )
    read = time.perf_counter() - started

    started = time.perf_counter()
    enrolled = student[(student.school_year == year) & (student.status == "enrolled")]
    out: dict[str, dict[tuple[str, ...], float]] = {}
    # class_size.large_class_share per county
    sizes = enrolled.groupby(["school_code", "grade_code", "class_no"]).size().rename("size")
    sizes = sizes.reset_index().merge(school, on="school_code")
    per_county = sizes.assign(large=sizes["size"] >= 56).groupby("region_code")["large"].mean()
    out["class_size.large_class_share"] = {(c,): 100 * v for c, v in per_county.items()}
    # staffing.students_per_staff per school
    pupils = enrolled.groupby("school_code").size().rename("students")
    staff = teacher.groupby("school_code").size().rename("staff")
    frame = school.set_index("school_code").join(pupils).join(staff).fillna(0)
    frame = frame[frame.students > 0]
    ratio = frame.students / frame.staff.replace(0, np.nan)
    out["staffing.students_per_staff"] = {(s,): v for s, v in ratio.items() if v == v}
    # balance.cv.sports_area_per_student per 学段 × county (enrolment-weighted)
    survey = facility[facility.survey_year == int(year[:4])]
    f = frame.join(survey.set_index("school_code")["sports_area_m2"], how="inner")
    f = f[f.stages.isin(["primary", "junior"]) & f.sports_area_m2.notna()]
    cvs = {}
    for (county, stage), g in f.groupby(["region_code", "stages"]):
        p = g.students.sum()
        x = g.sports_area_m2 / g.students
        mean = (x * g.students).sum() / p
        s = math.sqrt((g.students * (x - mean) ** 2).sum() / p)
        cvs[(county, stage)] = s / mean
    out["balance.cv.sports_area_per_student"] = cvs
    return out, read, time.perf_counter() - started


def check(pandas_values: dict[str, dict[tuple[str, ...], float]], rows: list[dict]) -> int:
    """Compare pandas' values with the catalogue's; returns how many were compared."""
    grain = {
        "class_size.large_class_share": "county",
        "staffing.students_per_staff": "school",
        "balance.cv.sports_area_per_student": "stage_county",
    }
    compared = 0
    for ind, values in pandas_values.items():
        mine = {
            (
                (r["unit_code"], r["stage"]) if grain[ind] == "stage_county" else (r["unit_code"],)
            ): r["value"]
            for r in rows
            if r["indicator_id"] == ind and r["grain"] == grain[ind]
        }
        assert mine.keys() == values.keys(), (ind, len(mine), len(values))
        for key, v in values.items():
            assert math.isclose(mine[key], v, rel_tol=1e-9), (ind, key, mine[key], v)
            compared += 1
    return compared


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="An ingested warehouse file (a copy).")
    parser.add_argument("--students", type=int, default=60_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/edubrain-ind-bench"))
    parser.add_argument("--json", type=Path, help="Write the numbers here.")
    args = parser.parse_args()
    result: dict[str, Any] = {"machine": machine_details()}
    if args.warehouse:
        settings = Settings(home=args.warehouse.parent, warehouse_file=args.warehouse.name,
                            progress=False)  # fmt: skip
    else:
        region = args.workdir / "region"
        settings = Settings(home=args.workdir / "home", progress=False)
        if not settings.workspace.warehouse.exists():
            t = time.perf_counter()
            generate_region(region, students=args.students, seed=20251)
            ingest_paths([region / "standard", region / "exports"], settings)
            result["prepare_s"] = round(time.perf_counter() - t, 1)
    with open_warehouse(settings) as wh:
        result["students"] = wh.count("student")
        result["schools"] = wh.count("school")
        engine_only = [i for i in indicators() if i.family != "data"]
        t = time.perf_counter()
        core = compute_catalogue(wh, indicators=engine_only)
        result["catalogue_without_data_s"] = round(time.perf_counter() - t, 2)
        # Governance's step, not the engine's: `edubrain quality` (and the demo) store the
        # scorecard; the data family reads it while no load has landed since.
        t = time.perf_counter()
        scorecard_rows(wh, RuleContext(datetime.now().date(), max_load_age_days=45))
        result["governance_scorecard_stored_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        data = compute_catalogue(wh, indicators=[i for i in indicators() if i.family == "data"])
        result["data_family_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        with open_store(settings) as book:
            full = compute_catalogue(wh, school_year=core.run.school_year, warnings=book)
        result["full_catalogue_with_warnings_s"] = round(time.perf_counter() - t, 2)
        result["values"] = full.run.values
        result["indicators"] = full.run.indicators
        result["warnings_opened_by_run"] = full.warnings.opened if full.warnings else None
        values, read_s, compute_s = pandas_three(wh, core.run.school_year)
        result["pandas_read_s"] = round(read_s, 2)
        result["pandas_compute_s"] = round(compute_s, 2)
        result["pandas_values_checked"] = check(values, core.values)
        t = time.perf_counter()
        three = [i for i in indicators() if i.id in values]
        compute_catalogue(wh, indicators=three)
        result["catalogue_same_three_s"] = round(time.perf_counter() - t, 2)
        result["data_family_values"] = data.run.values
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
