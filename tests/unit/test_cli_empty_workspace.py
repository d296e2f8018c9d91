"""Every command on an empty or missing workspace says, in one Chinese-first line, what to run
first, and exits with its kind's code (NotFoundError: 2); none ends in a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edubrain.cli import service_cmd
from edubrain.errors import EmptyWorkspaceError, NotFoundError
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse

COMMANDS = [
    ("govern",),
    ("govern", "review", "list"),
    ("indicators", "compute"),
    ("indicators", "show"),
    ("indicators", "explain", "school.pupils", "--school", "4301020001"),
    ("quality",),
    ("quality", "--interop"),
    ("diagnose", "fit"),
    ("exams", "scale"),
    ("quarantine",),
    ("warnings", "list"),
]
# Lists that are simply empty once a warehouse exists (`serve` made one, nothing loaded yet).
LISTS = {("quarantine",), ("warnings", "list")}


def edubrain(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDUBRAIN_HOME": str(home)}
    env.pop("EDUBRAIN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "edubrain", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


@pytest.mark.parametrize("made", ["missing", "empty", "warehouse"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_command_on_an_empty_workspace_says_what_to_run_first(
    tmp_path: Path, command: tuple[str, ...], made: str
) -> None:
    home = tmp_path / "home"
    if made != "missing":
        home.mkdir()
    if made == "warehouse":  # an empty warehouse, as `serve` leaves it
        open_warehouse(Settings(home=home, progress=False)).close()
    result = edubrain(home, *command)
    if made == "warehouse" and command in LISTS:
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("edubrain: error: 工作区还没有"), lines[0]
    assert "请先运行 edubrain " in lines[0]
    if made == "missing":
        assert not home.exists()  # asking does not create the workspace


def test_the_error_is_a_not_found_kind() -> None:
    assert issubclass(EmptyWorkspaceError, NotFoundError)


def test_serve_on_an_empty_workspace_starts_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from edubrain.service import serving

    started: list[object] = []
    monkeypatch.setenv("EDUBRAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(serving, "refuse_taken_port", lambda host, port: None)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: started.append(app))
    service_cmd.serve(host="127.0.0.1", port=8765, workers=1)
    assert started  # it serves anyway: the data office may upload exports
    err = capsys.readouterr().err
    assert "工作区还没有数据" in err and "edubrain ingest" in err


def test_serve_prints_the_cockpit_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    from edubrain.serve import cockpit_url
    from edubrain.service import serving

    monkeypatch.setenv("EDUBRAIN_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(serving, "refuse_taken_port", lambda host, port: None)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)
    service_cmd.serve(host="0.0.0.0", port=8766, workers=1)
    assert "驾驶舱地址: http://127.0.0.1:8766/" in capsys.readouterr().out
    assert cockpit_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert cockpit_url("::", 8000) == "http://[::1]:8000/"
    assert cockpit_url("fe80::1", 80) == "http://[fe80::1]:80/"
    assert cockpit_url("edu.example", 8443) == "http://edu.example:8443/"
