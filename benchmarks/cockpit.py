"""Benchmark: the cockpit's region overview over a slow link (seed 004 asks for ≤ 3 s).

    python benchmarks/cockpit.py --home edubrain-demo --runs 5

HOME is a workspace after `edubrain demo` (warehouse with indicators and warnings, and the map
outline). Its warehouse and outline are copied into a temporary workspace with a fresh
operational store and one bureau_leader account; `edubrain serve` runs there on 127.0.0.1.

Debian's Chromium (driven by Playwright) logs in, then the DevTools protocol emulates the link
(`Network.emulateNetworkConditions`: 1 Mbit/s = 125,000 B/s down and up, 150 ms latency) and
the browser opens /overview with an empty cache. Measured per run:

* time from navigation start to the main chart rendered: cockpit.js sets the performance mark
  `chart:main-chart` on ECharts' `finished` event (the mark's startTime is relative to the
  navigation's time origin);
* the first-load transfer: the sum of `transferSize` (bytes on the wire, headers included) of
  the navigation and every resource up to that mark;
* the server's share: the HTML's time to first byte, and the same again with the cache warm.

Prints a markdown table for docs/performance.md and writes the raw numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from edubrain.service.auth import create_user
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "Bench-cockpit-2026!"


def machine_details() -> dict[str, Any]:
    from ingest import machine  # this folder is on sys.path

    return {**machine(), "chromium": _chromium_version(), "load_average": os.getloadavg()}


def _chromium_version() -> str:
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(source: Path, work: Path) -> tuple[Settings, str]:
    """A copy of the workspace's warehouse and outline, a fresh store, one bureau_leader."""
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "warehouse.duckdb", work / "warehouse.duckdb")
    outline = source / "map" / "outline.geojson"
    if outline.is_file():
        (work / "map").mkdir(exist_ok=True)
        shutil.copy(outline, work / "map" / "outline.geojson")
    settings = Settings(home=work, progress=False)
    import duckdb

    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as con:
        row = con.execute("SELECT min(region_code) FROM school").fetchone()
    county = str(row[0]) if row else ""
    with open_store(settings) as store:
        create_user(
            store,
            settings,
            username="bench_leader",
            password=PASSWORD,
            role=Role.BUREAU_LEADER,
            scope=Scope(ScopeLevel.COUNTY, county),
            display_name="基准 局领导",
            now=datetime.now(UTC),
        )
    return settings, county


def serve(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EDUBRAIN_HOME": str(home), "EDUBRAIN_SERVICE_PORT": str(port)}
    edubrain = Path(sys.executable).with_name("edubrain")
    proc = subprocess.Popen(
        [str(edubrain), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("edubrain serve did not start")


MEASURE = """() => {
  const mark = performance.getEntriesByName('chart:main-chart')[0];
  const nav = performance.getEntriesByType('navigation')[0];
  const until = mark ? mark.startTime : Infinity;
  const resources = performance.getEntriesByType('resource').filter(r => r.startTime <= until);
  return {
    chart_ms: mark ? mark.startTime : null,
    html_ttfb_ms: nav.responseStart - nav.requestStart,
    html_done_ms: nav.responseEnd,
    dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    transfer_bytes: nav.transferSize + resources.reduce((n, r) => n + r.transferSize, 0),
    decoded_bytes: nav.decodedBodySize + resources.reduce((n, r) => n + r.decodedBodySize, 0),
    requests: 1 + resources.length,
    files: [[nav.name, nav.transferSize]].concat(resources.map(r => [r.name, r.transferSize])),
  };
}"""


def one_run(browser: Any, base: str, down: int, up: int, latency: int) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#username", "bench_leader")
    page.fill("#password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/home")
    page.goto("about:blank")
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": latency, "downloadThroughput": down,
         "uploadThroughput": up},
    )  # fmt: skip
    page.goto(f"{base}/overview", wait_until="commit")
    page.wait_for_function("performance.getEntriesByName('chart:main-chart').length > 0",
                           timeout=60_000)  # fmt: skip
    cold = page.evaluate(MEASURE)
    page.goto(f"{base}/overview", wait_until="commit")
    page.wait_for_function("performance.getEntriesByName('chart:main-chart').length > 0",
                           timeout=60_000)  # fmt: skip
    warm = page.evaluate(MEASURE)
    context.close()
    return {"cold": cold, "warm": warm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="an `edubrain demo` workspace")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--down", type=int, default=125_000, help="bytes/s (1 Mbit/s)")
    parser.add_argument("--up", type=int, default=125_000, help="bytes/s")
    parser.add_argument("--latency", type=int, default=150, help="ms added per round trip")
    parser.add_argument("--json", type=Path, default=Path("cockpit-bench.json"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cockpit-bench-"))
    _settings, county = prepare(args.home, work)
    port = _free_port()
    proc = serve(work, port)
    base = f"http://127.0.0.1:{port}"
    runs = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for n in range(args.runs):
                run = one_run(browser, base, args.down, args.up, args.latency)
                runs.append(run)
                print(f"run {n + 1}: chart {run['cold']['chart_ms']:.0f} ms, "
                      f"{run['cold']['transfer_bytes']:,} B; warm {run['warm']['chart_ms']:.0f} ms",
                      flush=True)  # fmt: skip
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)

    def median(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in runs)

    result = {
        "machine": machine_details(),
        "county": county,
        "link": {"down_Bps": args.down, "up_Bps": args.up, "latency_ms": args.latency},
        "runs": runs,
        "median": {
            kind: {
                k: median(kind, k)
                for k in ("chart_ms", "html_ttfb_ms", "transfer_bytes", "decoded_bytes", "requests")
            }
            for kind in ("cold", "warm")
        },
        "max_cold_chart_ms": max(r["cold"]["chart_ms"] for r in runs),
    }
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    m = result["median"]
    print()
    print(f"| measure (median of {args.runs} runs) | cold cache | warm cache |")
    print("|---|---:|---:|")
    print(
        f"| main chart rendered after navigation | **{m['cold']['chart_ms']:,.0f} ms** "
        f"(max {result['max_cold_chart_ms']:,.0f}) | {m['warm']['chart_ms']:,.0f} ms |"
    )
    print(
        f"| transferred (bytes on the wire) | **{m['cold']['transfer_bytes']:,.0f} B** | "
        f"{m['warm']['transfer_bytes']:,.0f} B |"
    )
    print(
        f"| decoded size | {m['cold']['decoded_bytes']:,.0f} B | "
        f"{m['warm']['decoded_bytes']:,.0f} B |"
    )
    print(f"| requests | {m['cold']['requests']:.0f} | {m['warm']['requests']:.0f} |")
    print(
        f"| HTML time to first byte | {m['cold']['html_ttfb_ms']:,.0f} ms | "
        f"{m['warm']['html_ttfb_ms']:,.0f} ms |"
    )
    print()
    for name, size in runs[0]["cold"]["files"]:
        print(f"- {name.split('/', 3)[-1]}: {size:,} B")


if __name__ == "__main__":
    main()
