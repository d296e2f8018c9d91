"""Benchmark: bounded load on the API's student list and indicator values at county scale.

    python benchmarks/api.py --home /tmp/svc-bench/home --requests 20000 --concurrency 32

HOME must hold an ingested warehouse (e.g. `edubrain generate --students 60000` + `edubrain
ingest`). The script creates a county-scope bureau_leader and a class-scope head_teacher in a
fresh operational store, starts `edubrain serve` (uvicorn, WORKERS processes; default one per
core) on 127.0.0.1, and sends REQUESTS requests from CONCURRENCY concurrent clients, in equal
thirds: the leader's county-wide student pages (GET /api/v1/students, limit 50, at random
cursors: masked, 60k students in scope), the head teacher's class list, and the leader's
school-level values of a random indicator (GET /api/v1/indicators/values, needs `edubrain
indicators compute` first). Every request is
authenticated and scoped; the student reads are masked and audited.

In the same run it times the same page as one plain DuckDB query on the warehouse file (no
HTTP, no auth, no masking, no audit): the floor any API sits above.

With `--while-ingesting DIR`, an ingest job of DIR is queued and its runner started as the
measured load begins (decision 0016: the job writes a copy of the warehouse and publishes it
when done; the service switches to it between requests). The result then says when the job
ran against the load's window, and any request that failed or returned no rows counts as an
error: serving must not stop, and no request may see a half-loaded warehouse.

Prints a markdown table for docs/performance.md and writes the raw numbers as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
import httpx

from edubrain.service.auth import token_hash
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.sealed_refs import SealedRefs
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.workspace import Workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def prepare(home: Path) -> tuple[dict[str, str], list[str], list[str]]:
    """Fresh store with two users and live sessions; the student numbers to page from; the
    indicators with school-level values."""
    for name in ("edubrain.sqlite3", "edubrain.sqlite3-wal", "edubrain.sqlite3-shm"):
        (home / name).unlink(missing_ok=True)
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    numbers = [
        r[0] for r in con.execute("SELECT student_number FROM student ORDER BY 1").fetchall()
    ]
    region = con.execute("SELECT min(region_code) FROM school").fetchone()[0]  # type: ignore[index]
    with_values = con.execute(
        "SELECT DISTINCT indicator_id FROM indicator_value WHERE grain = 'school' ORDER BY 1"
    ).fetchall()
    indicators = [r[0] for r in with_values]
    klass = con.execute(
        "SELECT school_code, school_year, grade_code, class_no FROM class "
        "ORDER BY 1, 2, 3, 4 LIMIT 1"
    ).fetchone()
    con.close()
    assert klass is not None
    settings = Settings(home=home)
    now = datetime.now(UTC)
    tokens = {}
    with open_store(settings) as store:
        for name, role, scope in (
            ("leader", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, region)),
            ("head", Role.HEAD_TEACHER, Scope(ScopeLevel.CLASS, "/".join(map(str, klass)))),
        ):
            user = store.create_user(
                username=name,
                display_name=name,
                role=role.value,
                scope_level=scope.level.value,
                scope_key=scope.key,
                password_hash="-",
                now=now,
            )
            token = f"bench-{name}-{os.getpid()}"
            store.create_session(
                user.user_id, token_hash(token), now=now, expires_at=now + timedelta(hours=2)
            )
            tokens[name] = token
    return tokens, numbers, indicators


def raw_duckdb(home: Path, numbers: list[str], repeats: int) -> list[float]:
    """The same county page as one plain query: the floor."""
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    rng = random.Random(1)
    times = []
    for _ in range(repeats):
        after = rng.choice(numbers)
        started = time.perf_counter()
        con.execute(
            "SELECT * FROM student WHERE school_code IN (SELECT school_code FROM school "
            "WHERE region_code = (SELECT min(region_code) FROM school)) AND student_number > ? "
            "ORDER BY student_number LIMIT 51",
            [after],
        ).fetchall()
        times.append(time.perf_counter() - started)
    con.close()
    return times


async def load(
    base: str,
    tokens: dict[str, str],
    numbers: list[str],
    indicators: list[str],
    refs: SealedRefs,
    total: int,
    concurrency: int,
) -> tuple[list[float], dict[str, list[float]], int, float]:
    rng = random.Random(7)
    plan = []
    pageable = numbers[:-60]  # a cursor near the end would give an empty (error) page
    for i in range(total):
        if i % 3 == 0:
            cursor = refs.seal(f"after:{rng.choice(pageable)}")
            plan.append(("students", "leader", {"limit": 50, "cursor": cursor}))
        elif i % 3 == 1:
            plan.append(("students", "head", {"limit": 50}))
        else:
            wanted = {"indicator_id": rng.choice(indicators), "grain": "school", "limit": 200}
            plan.append(("indicators/values", "leader", wanted))
    latencies: list[float] = []
    by_path: dict[str, list[float]] = {}
    errors = 0
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    host, port = base.removeprefix("http://").split(":")

    async def worker() -> None:
        # Plain HTTP/1.1 over one keep-alive connection: a full client library costs as much
        # CPU per request as the server, and this machine's two cores are shared by both.
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while True:
                try:
                    path, who, params = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    status, body = await http_get(
                        reader, writer, f"/api/v1/{path}?{urlencode(params)}", tokens[who]
                    )
                    ok = status == 200 and b'"items":[{' in body
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                latencies.append(time.perf_counter() - started)
                label = "class list" if who == "head" else path
                by_path.setdefault(label, []).append(latencies[-1])
                if not ok:
                    errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return latencies, by_path, errors, elapsed


async def http_get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: str, token: str
) -> tuple[int, bytes]:
    """One GET on a keep-alive connection: the status and the body (Content-Length framed)."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
    writer.write((request + "\r\n").encode())
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=60)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")
    )
    return status, await reader.readexactly(length)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time so far (Linux /proc) of a process and its live descendants (the
    server's worker processes), all their threads."""
    total = 0.0
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += process_cpu_seconds(int(child))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return total + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=None, help="Server processes (default: one per core)."
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--while-ingesting",
        type=Path,
        default=None,
        help="Run an ingest job of this folder during the measured load.",
    )
    args = parser.parse_args()
    home: Path = args.home
    tokens, numbers, indicators = prepare(home)
    # Paging cursors are sealed under the service's key; the operator's benchmark may make them.
    refs = SealedRefs.for_workspace(Workspace(home))
    students = len(numbers)
    floor = raw_duckdb(home, numbers, 500)

    port = free_port()
    edubrain = shutil.which("edubrain") or str(Path(sys.executable).with_name("edubrain"))
    env = dict(os.environ, EDUBRAIN_HOME=str(home), EDUBRAIN_SERVICE_PORT=str(port))
    log = (home / "serve.log").open("w")
    command = [edubrain, "serve"] + ([f"--workers={args.workers}"] if args.workers else [])
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/v1/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Warm-up, not counted: each worker process keeps its own results, and connections
        # land on workers by a hash, so warm through 64 connections (each worker gets some;
        # with 4, one worker was sometimes left cold and the measured run began by reading
        # the county's records there, 1–2 s). The cold start is timed separately.
        started = time.perf_counter()
        asyncio.run(load(base, tokens, numbers, indicators, refs, 640, 64))
        warm_up_s = time.perf_counter() - started
        runner = None
        if args.while_ingesting:
            queued = subprocess.run(
                [edubrain, "jobs", "start", "ingest", str(args.while_ingesting.absolute())],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            job_id = queued.stdout.split()[0]
            runner = subprocess.Popen(
                [edubrain, "jobs", "run"], env=env, stdout=subprocess.DEVNULL, stderr=log
            )
        cpu_before = process_cpu_seconds(server.pid)
        load_began = datetime.now(UTC)
        latencies, by_path, errors, elapsed = asyncio.run(
            load(base, tokens, numbers, indicators, refs, args.requests, args.concurrency)
        )
        load_ended = datetime.now(UTC)
        server_cpu = process_cpu_seconds(server.pid) - cpu_before
        if runner is not None:
            runner.wait(timeout=3600)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    with open_store(Settings(home=home)) as store:
        chain = store.verify_audit_chain()
        job = store.job(job_id) if args.while_ingesting else None
    result = {
        "machine": machine(),
        "students": students,
        "requests": args.requests,
        "concurrency": args.concurrency,
        "server_processes": args.workers or len(os.sched_getaffinity(0)),
        "seconds": round(elapsed, 2),
        "requests_per_second": round(args.requests / elapsed, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies), 1),
        "by_request": {
            label: {
                "p50_ms": round(1000 * statistics.median(values), 1),
                "p99_ms": round(1000 * percentile(values, 0.99), 1),
            }
            for label, values in sorted(by_path.items())
        },
        "errors": errors,
        "server_cpu_ms_per_request": round(1000 * server_cpu / args.requests, 2),
        "audit_records": chain.records,
        "audit_chain_ok": chain.ok,
        "warm_up_seconds_640_requests": round(warm_up_s, 2),
        "raw_duckdb_page_p50_ms": round(1000 * statistics.median(floor), 2),
        "raw_duckdb_page_p99_ms": round(1000 * percentile(floor, 0.99), 2),
    }
    if job is not None:
        started_at, finished_at = job["started_at"], job["finished_at"]
        result["ingest_job"] = {
            "folder": str(args.while_ingesting),
            "status": job["status"],
            "rows_read": job["outcome"]["summary"].get("rows_read") if job["outcome"] else None,
            "seconds": round((finished_at - started_at).total_seconds(), 1),
            "began_after_load_start_s": round((started_at - load_began).total_seconds(), 1),
            "ended_after_load_start_s": round((finished_at - load_began).total_seconds(), 1),
            "load_seconds": round((load_ended - load_began).total_seconds(), 1),
            "published_during_load": started_at >= load_began and finished_at <= load_ended,
        }
    print(json.dumps(result, indent=2))
    print()
    print("| measure | value |")
    print("|---|---:|")
    for key in ("requests", "concurrency", "server_processes", "seconds", "requests_per_second",
                "p50_ms", "p99_ms", "max_ms", "errors", "server_cpu_ms_per_request",
                "audit_records", "raw_duckdb_page_p50_ms", "raw_duckdb_page_p99_ms"):  # fmt: skip
        print(f"| {key} | {result[key]} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if job is not None:
        print(f"| ingest job | {json.dumps(result['ingest_job'], ensure_ascii=False)} |")
    ok_job = job is None or job["status"] == "succeeded"
    return 0 if errors == 0 and chain.ok and ok_job else 1


if __name__ == "__main__":
    sys.exit(main())
