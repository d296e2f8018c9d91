"""Exams at 1M: one paper of 1,000,000 pupils × 40 items in the warehouse, end to end.

    python benchmarks/exams_scale.py [--pupils 1000000] [--items 40] [--rows-up-to 100000]
                                     [--home DIR] [--json OUT]

Builds a warehouse (`--home`, default a temporary folder) holding one exam paper whose item
scores (pupils × items rows) are drawn from a seeded 2PL (a ~ lognormal(0, 0.3), b ~ N(0, 1),
θ ~ N(0, 1)), written straight into the `item_score` table (a 40 M-row ingest is the ingest
benchmark's business, not this one's). Then, each step in a fresh process of its own so that
its CPU seconds (user + system) and peak RSS are its own:

- `pivot`: the paper's scores read from the warehouse (Arrow) and pivoted into the pupils ×
  items matrix (`modules.exams.matrix.pivot_scores`), as `reads.scoped_paper` does;
- `rows`: beside it, the matrix built as it was before (rows as Python dicts, a loop), on the
  first `--rows-up-to` pupils only (1M would need tens of GB of dicts);
- `report`: the score report of the whole paper (`reads.exam_report`, the operator's read);
- `items`: the CTT item analysis (`reads.exam_items`);
- `scale`: `edubrain exams scale`'s use case (`usecases.exams_scale.scale`): read and pivot,
  2PL calibration, EAP, cross-product standard errors, item fit on 5,000 pupils, and the
  1M-row `exam_scale_score` written; recovery of a and b against the generating values.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

SEED = 16
EXAM = "B-2025-2-21-SX-QM"

WORKER = r"""
import json, resource, sys, time
import numpy as np
step, home, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
from edubrain.settings import Settings
from edubrain.usecases.exams_scale import scale
from edubrain.modules.exams import reads
from edubrain.service.reads import WarehouseReader
from edubrain.warehouse import open_warehouse
settings = Settings(home=home, progress=False, seal_core_fields=False)
start_cpu, start_wall = time.process_time(), time.perf_counter()
extra = {}
if step == "scale":
    outcome = scale(settings)[0]
    truth = np.load(home + "/truth.npz")
    cal = outcome.calibrated
    rmse = lambda x, y: float(np.sqrt(np.mean((np.asarray(x) - y) ** 2)))
    extra = {"status": outcome.status, "iterations": cal.iterations,
             "rmse_a": round(rmse(cal.a, truth["a"]), 4),
             "rmse_b": round(rmse(cal.b[:, 0], truth["b"]), 4),
             "rmse_theta": round(rmse(cal.theta, truth["theta"]), 4)}
else:
    with open_warehouse(settings, read_only=True) as wh:
        reader = WarehouseReader(wh)
        if step == "pivot":
            _, paper = reads.scoped_paper(reader, None, sys.argv[4])
            extra = {"pupils": len(paper.students), "items": len(paper.item_nos)}
        elif step == "rows":
            s = wh.table("item_score")
            numbers = s.select("student_number").distinct().order_by("student_number").limit(limit)
            expr = s.filter(s.student_number.isin(numbers.student_number))
            rows = expr.select("student_number", "item_no", "score").to_pyarrow().to_pylist()
            start_cpu, start_wall = time.process_time(), time.perf_counter()  # the loop alone
            item_nos = sorted({int(r["item_no"]) for r in rows})
            column = {no: j for j, no in enumerate(item_nos)}
            students = tuple(sorted({str(r["student_number"]) for r in rows}))
            row = {s: i for i, s in enumerate(students)}
            matrix = np.zeros((len(students), len(item_nos)))
            for r in rows:
                j = column.get(int(r["item_no"]))
                if j is not None and r["score"] is not None:
                    matrix[row[str(r["student_number"])], j] = float(r["score"])
            extra = {"pupils": len(students), "note": "loop only, dict rows already read"}
        elif step == "report":
            found = reads.exam_report(reader, None, sys.argv[4])
            extra = {"pupils": found["report"]["pupils"], "mean": round(found["report"]["mean"], 3)}
        elif step == "items":
            found = reads.exam_items(reader, None, sys.argv[4])
            extra = {"alpha": round(found["analysis"]["alpha"], 4)}
cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
print(json.dumps({"step": step, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                  **extra}))
"""


def build(home: Path, pupils: int, items: int) -> None:
    """The warehouse with one exam paper of `pupils` × `items` 0/1 scores."""
    import pyarrow as pa

    from edubrain.settings import Settings
    from edubrain.warehouse import open_warehouse

    rng = np.random.default_rng(SEED)
    a = rng.lognormal(0.0, 0.3, items)
    b = rng.normal(0.0, 1.0, items)
    theta = rng.normal(0.0, 1.0, pupils)
    data = np.empty((pupils, items), dtype=np.int8)
    for start in range(0, pupils, 100_000):
        t = theta[start : start + 100_000, None]
        p = 1.0 / (1.0 + np.exp(-a[None, :] * (t - b[None, :])))
        data[start : start + 100_000] = rng.random(p.shape) < p
    np.savez(home / "truth.npz", a=a, b=b, theta=theta)
    numbers = pa.array([f"G{330101 * 10**12 + n:018d}" for n in range(pupils)])
    settings = Settings(home=home, progress=False, seal_core_fields=False)
    exam = pa.table(
        {
            "exam_id": [EXAM],
            "name": ["七年级数学期末（百万人卷）"],
            "school_year": ["2025-2026"],
            "term": ["2"],
            "subject": ["math"],
            "grade_code": ["21"],
            "exam_date": pa.array([date(2026, 1, 15)], pa.date32()),
            "max_score": [float(items)],
        }
    )
    exam_items = pa.table(
        {
            "exam_id": [EXAM] * items,
            "item_no": pa.array(range(1, items + 1), pa.int64()),
            "max_score": [1.0] * items,
            "item_type": ["objective"] * items,
            "knowledge_points": [f"KP{j % 8}" for j in range(items)],
            "bank_item_id": [f"K{j:03d}" for j in range(items)],
        }
    )
    scores = pa.table(
        {
            "exam_id": pa.array([EXAM] * (pupils * items)),
            "student_number": numbers.take(pa.array(np.repeat(np.arange(pupils), items))),
            "item_no": pa.array(np.tile(np.arange(1, items + 1), pupils), pa.int64()),
            "score": pa.array(data.reshape(-1).astype(np.float64)),
        }
    )
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table("exam", exam)
        tx.replace_table("exam_item", exam_items)
        tx.replace_table("item_score", scores)
        record_load(tx, pupils * items)


def record_load(tx: Any, rows: int) -> None:
    """The load the tables stand for (a workspace with no load is empty to the use cases)."""
    from datetime import datetime

    from edubrain.warehouse import LoadRecord

    when = datetime(2026, 1, 20)
    tx.record_load(
        LoadRecord(load_id="bench", file="bench", sha256="bench", source="bench",
                   export="item_score", entity="item_score", started_at=when,
                   finished_at=when, rows_read=rows, rows_accepted=rows, rows_inserted=rows,
                   rows_updated=0, rows_unchanged=0, rows_quarantined=0, status="loaded")
    )  # fmt: skip


def run_step(step: str, home: Path, limit: int) -> dict[str, object]:
    env = dict(os.environ)
    # OpenBLAS held to one thread, as in benchmarks/irt.py: on the shared 2 cores its threads
    # spin (the same 100k calibration took 10x the CPU with its default threads)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", WORKER, step, str(home), str(limit), EXAM],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        return {"step": step, "error": done.stderr.strip().splitlines()[-1:]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--rows-up-to", type=int, default=100_000)
    parser.add_argument("--home", type=Path, default=None)
    parser.add_argument("--steps", default="pivot,rows,report,items,scale")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="exams-scale-"))
    home.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if not (home / "truth.npz").exists():
        build(home, args.pupils, args.items)
    print(f"warehouse {home}: {args.pupils} pupils × {args.items} items, "
          f"built in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    results = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
        "pupils": args.pupils,
        "items": args.items,
        "steps": [],
    }
    for step in args.steps.split(","):
        found = run_step(step, home, args.rows_up_to)
        print(json.dumps(found, ensure_ascii=False), flush=True)
        results["steps"].append(found)  # type: ignore[attr-defined]
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
