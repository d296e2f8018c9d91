"""`edubrain serve --workers 2`: two processes on one port, one operational store, one audit
chain; the warehouse is open read-only in both, so the CLI can read it beside them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from conftest import County
from edubrain.service.demo import create_demo_accounts
from edubrain.service.policy import Role
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_two_worker_processes_share_the_store_and_the_audit_chain(
    make_settings: Callable[..., Settings], county: County
) -> None:
    settings = make_settings("sqlite", county=county)
    leader = next(a for a in create_demo_accounts(settings) if a.role is Role.BUREAU_LEADER)
    port = _free_port()
    edubrain = shutil.which("edubrain") or str(Path(sys.executable).with_name("edubrain"))
    env = dict(os.environ, EDUBRAIN_HOME=str(settings.home), EDUBRAIN_SERVICE_PORT=str(port))
    server = subprocess.Popen([edubrain, "serve", "--workers", "2"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/v1"
    workers: set[int] = set()
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        # Two workers; multiprocessing's resource tracker, also a child, is not one.
        workers = {
            pid
            for pid in _children(server.pid)
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        }
        assert len(workers) == 2
        credentials = {"username": leader.username, "password": leader.password}
        login = httpx.post(f"{base}/auth/login", json=credentials, timeout=10)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        # New connections each time: the kernel spreads them over both workers.
        pages = [
            httpx.get(f"{base}/students", params={"limit": 5}, headers=headers, timeout=10)
            for _ in range(30)
        ]
        assert [p.status_code for p in pages] == [200] * 30
        assert len({json.dumps(p.json()) for p in pages}) == 1  # the same page from each
        # The CLI reads the warehouse beside the running service (both read-only).
        with open_warehouse(settings, read_only=True) as wh:
            assert wh.count("student") == len(county.students)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    assert server.returncode == 0
    for _ in range(100):  # stopped with the server (reaped once it has exited)
        if not any(Path(f"/proc/{pid}").exists() for pid in workers):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker processes left running: {workers}")
    with open_store(settings) as store:
        chain = store.verify_audit_chain()
        listed = [r for r in store.audit_records() if r.entry.action == "list"]
    assert chain.ok
    assert len(listed) == 30
