"""Benchmark: full ingest of a synthetic city vs DuckDB's raw scan of the same files.

    python benchmarks/ingest.py --students 1000000 --workdir /tmp/edubrain-bench

Generates the region (timed), then times, in the same run and on the same csv/jsonl files:

- **edubrain, one call** (`ingest_paths(all files)`, as `edubrain ingest DIR` runs: one warehouse
  open, the next file read while one is written) against **DuckDB, one connection** loading
  every file with plain `read_csv` / `read_json` into a table — no decoding of GBK (UTF-8 copies
  made outside the timed part), no validation, no merge: the floor any ingest must sit above.
  This is the like-for-like pair and the headline ratio (`ratio_csv_jsonl`).
- **edubrain, one call per file** (each call opens the warehouse, checks the key, writes one
  file and checkpoints it on close) against **DuckDB, one connection per file** (open, load,
  close: DuckDB checkpoints on close too): `ratio_csv_jsonl_per_file`.
- For continuity with earlier runs, the per-file calls against the one-connection scan
  (`ratio_per_file_calls_vs_one_connection`, the measure before 2026-12-06): it charges
  edubrain an open, a key check and a checkpoint per file that the raw side does not pay.

xlsx files have no offline DuckDB reader, so they are timed by edubrain alone (per file).
Prints a markdown table for docs/performance.md and writes the raw numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from edubrain.ingest import ingest_paths
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "os": platform.platform(),
    }


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def utf8_copies(files: list[Path], workdir: Path) -> list[Path]:
    """DuckDB cannot read GBK offline: hand it UTF-8 copies, made outside the timed part.

    This favours the raw scan (it skips the decoding edubrain has to do), so the ratio is
    conservative.
    """
    out = []
    folder = workdir / "utf8"
    folder.mkdir(exist_ok=True)
    for i, path in enumerate(files):
        if path.suffix == ".csv" and not _is_utf8(path):
            copy = folder / f"{i}.csv"
            copy.write_text(path.read_bytes().decode("gbk", errors="replace"), encoding="utf-8")
            out.append(copy)
        else:
            out.append(path)
    return out


def raw_scan(files: list[Path], workdir: Path) -> tuple[int, float]:
    """Rows and seconds for DuckDB to load every CSV/JSONL file as-is into a table."""
    db = workdir / "raw.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db), config={"autoinstall_known_extensions": False})
    rows = 0
    started = time.perf_counter()
    for i, path in enumerate(files):
        con.execute(f"CREATE TABLE raw_{i} AS SELECT * FROM {_source(path)}")
        rows += con.execute(f"SELECT count(*) FROM raw_{i}").fetchone()[0]  # type: ignore[index]
    seconds = time.perf_counter() - started
    con.close()
    db.unlink(missing_ok=True)
    return rows, seconds


def raw_scan_per_file(files: list[Path], workdir: Path) -> float:
    """Seconds for DuckDB to load the same files opening and closing the database per file."""
    db = workdir / "raw-per-file.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    for i, path in enumerate(files):
        con = duckdb.connect(str(db), config={"autoinstall_known_extensions": False})
        con.execute(f"CREATE TABLE raw_{i} AS SELECT * FROM {_source(path)}")
        con.close()
    seconds = time.perf_counter() - started
    db.unlink(missing_ok=True)
    return seconds


def _source(path: Path) -> str:
    if path.suffix == ".jsonl":
        return f"read_json('{path}', format='newline_delimited')"
    return f"read_csv('{path}', all_varchar=true, header=true)"


def _is_utf8(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the buffer's end
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20251)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/edubrain-bench"))
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="Reuse an existing generated region.")
    parser.add_argument(
        "--one-call",
        action="store_true",
        help="Accepted for older command lines: the one-call ingest now always runs.",
    )
    args = parser.parse_args()

    workdir: Path = args.workdir
    region = workdir / "region"
    home = workdir / "home"
    results: dict[str, Any] = {"machine": machine(), "students": args.students}
    results["load_average_at_start"] = [round(x, 1) for x in os.getloadavg()]

    if not (args.keep and region.exists()):
        shutil.rmtree(workdir, ignore_errors=True)
        workdir.mkdir(parents=True)
        started = time.perf_counter()
        summary = generate_region(region, students=args.students, seed=args.seed)
        results["generate_seconds"] = round(time.perf_counter() - started, 1)
        results["generated_rows"] = sum(summary.files.values())
    shutil.rmtree(home, ignore_errors=True)
    # The benchmark's own key file: a run must not depend on (or change) the user's key.
    key_file = workdir / "data.key"
    settings = Settings(home=home, key_file=key_file, progress=False)

    files = sorted(p for p in (region / "exports").rglob("*") if p.is_file())
    files = sorted((region / "standard").glob("*.csv")) + files
    results["bytes"] = sum(p.stat().st_size for p in files)

    by_kind: dict[str, dict[str, float]] = defaultdict(lambda: {"rows": 0, "seconds": 0.0})
    started = time.perf_counter()
    for path in files:
        t0 = time.perf_counter()
        (report,) = ingest_paths([path], settings)
        if report.status != "loaded":
            print(f"{path}: {report.status} {report.error}", file=sys.stderr)
            return 1
        kind = "xlsx" if path.suffix == ".xlsx" else "csv/jsonl"
        by_kind[kind]["rows"] += report.rows_read
        by_kind[kind]["seconds"] += time.perf_counter() - t0
    ingest_seconds = time.perf_counter() - started
    ingest_rows = int(sum(k["rows"] for k in by_kind.values()))
    results["ingest"] = {
        "seconds": round(ingest_seconds, 1),
        "rows": ingest_rows,
        "rows_per_s": round(ingest_rows / ingest_seconds),
        "by_kind": {
            k: {"rows": int(v["rows"]), "seconds": round(v["seconds"], 1)}
            for k, v in by_kind.items()
        },
        "warehouse_mib": round(settings.workspace.warehouse.stat().st_size / 2**20),
    }
    results["peak_rss_mib_after_ingest"] = round(peak_rss_mib())

    scannable = [p for p in files if p.suffix in (".csv", ".jsonl")]
    print(json.dumps(results, indent=2, ensure_ascii=False), flush=True)  # in case of a crash
    copies = utf8_copies(scannable, workdir)
    raw_rows, raw_seconds = raw_scan(copies, workdir)
    raw_per_file_seconds = raw_scan_per_file(copies, workdir)
    ours = by_kind["csv/jsonl"]
    results["raw_scan"] = {
        "seconds": round(raw_seconds, 1),
        "rows": raw_rows,
        "rows_per_s": round(raw_rows / raw_seconds),
        "per_file_connection_seconds": round(raw_per_file_seconds, 1),
    }
    one_home = workdir / "home-one-call"
    shutil.rmtree(one_home, ignore_errors=True)
    started = time.perf_counter()
    one_settings = Settings(home=one_home, key_file=key_file, progress=False)
    reports = ingest_paths(scannable, one_settings)
    one_seconds = time.perf_counter() - started
    if any(r.status != "loaded" for r in reports):
        print("one call: a file failed", file=sys.stderr)
        return 1
    results["one_call_csv_jsonl"] = {
        "seconds": round(one_seconds, 1),
        "records": sum(r.rows_read for r in reports),
    }
    shutil.rmtree(one_home, ignore_errors=True)
    # Same files, same source lines: the rate ratio is the inverse time ratio. (Wide score
    # sheets unpivot into many records per line, so edubrain's own record count is larger.)
    results["ratio_csv_jsonl"] = round(raw_seconds / one_seconds, 3)
    results["ratio_csv_jsonl_per_file"] = round(raw_per_file_seconds / ours["seconds"], 3)
    results["ratio_per_file_calls_vs_one_connection"] = round(raw_seconds / ours["seconds"], 3)
    results["ratio_definitions"] = {
        "ratio_csv_jsonl": "edubrain, all files in one call / DuckDB, all files in one connection",
        "ratio_csv_jsonl_per_file": "edubrain, one call per file / DuckDB, one connection per file",
        "ratio_per_file_calls_vs_one_connection": "edubrain, one call per file / DuckDB, all "
        "files in one connection (the measure before 2026-12-06)",
    }

    results["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print("| step | rows | seconds | rows/s |")
    print("|---|---:|---:|---:|")
    if "generate_seconds" in results:
        print(f"| generate | {results['generated_rows']:,} | {results['generate_seconds']} | |")
    print(
        f"| edubrain ingest, all files | {ingest_rows:,} | {ingest_seconds:.1f} | "
        f"{ingest_rows / ingest_seconds:,.0f} |"
    )
    for kind, v in by_kind.items():
        print(
            f"| edubrain ingest, {kind} | {int(v['rows']):,} | {v['seconds']:.1f} | "
            f"{v['rows'] / v['seconds']:,.0f} |"
        )
    print(
        f"| DuckDB raw read_csv/read_json → table, csv/jsonl, one connection (source lines) | "
        f"{raw_rows:,} | {raw_seconds:.1f} | {raw_rows / raw_seconds:,.0f} |"
    )
    print(
        f"| edubrain ingest, csv/jsonl in one call (same source lines) | {raw_rows:,} | "
        f"{one_seconds:.1f} | {raw_rows / one_seconds:,.0f} |"
    )
    print(
        f"| DuckDB raw, one connection per file (same source lines) | {raw_rows:,} | "
        f"{raw_per_file_seconds:.1f} | {raw_rows / raw_per_file_seconds:,.0f} |"
    )
    print(
        f"| edubrain ingest, csv/jsonl, one call per file (same source lines) | {raw_rows:,} | "
        f"{ours['seconds']:.1f} | {raw_rows / ours['seconds']:,.0f} |"
    )
    for key, meaning in results["ratio_definitions"].items():
        print(f"{key} = {results[key]}  ({meaning})")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
