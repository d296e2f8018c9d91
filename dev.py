#!/usr/bin/env python3
"""Set up a virtual environment and run edubrain — the Quick start commands, and the gates.

    python3 dev.py demo [ARGS...]   set up, then run `edubrain demo`
    python3 dev.py test             set up, run the gates, then the whole test suite (what CI runs)
    python3 dev.py test ARGS...     set up, then only pytest ARGS (e.g. one test file)
    python3 dev.py check            set up, then only the gates

The gates, in order; the first that fails stops the run with its exit code:
    ruff check, ruff format --check (src tests benchmarks probes), mypy --strict (src), and
    lint-imports (the import contracts in pyproject.toml: layers, engines only in the warehouse).

Only Python 3.11+ is needed. The environment lives in .venv and is reinstalled only when
pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".edubrain-installed"


def _python() -> Path:
    return BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"edubrain needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not _python().exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print(
        "Installing edubrain and its test tools into .venv (first run takes a minute) ...",
        flush=True,
    )
    subprocess.run(
        [
            str(_python()),
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "-q",
            "-e",
            f"{ROOT}[test]",
        ],
        check=True,
    )
    STAMP.write_text(wanted)


CHECKED = ("src", "tests", "benchmarks", "probes")

# (what it checks, the command): each prints one line before it runs.
GATES: tuple[tuple[str, list[str]], ...] = (
    ("ruff check: lint rules, import order, banned imports", ["ruff", "check", *CHECKED]),
    ("ruff format --check: the code is formatted", ["ruff", "format", "--check", *CHECKED]),
    ("mypy --strict: types of src/edubrain", ["mypy", "src"]),
    (
        "lint-imports: the import contracts (layers, engines only in the warehouse)",
        ["lint-imports"],
    ),
)


def run_gates(env: dict[str, str]) -> int:
    """Run every gate in order; the first that fails stops and gives its exit code."""
    # The gates read this checkout's package, whichever one the environment has installed.
    env = {
        **env,
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
        ),
    }
    for what, (tool, *args) in GATES:
        print(f"gate: {what}", flush=True)
        code = subprocess.call([str(BIN / tool), *args], cwd=ROOT, env=env)
        if code != 0:
            print(f"gate failed: {what} (exit {code})", file=sys.stderr, flush=True)
            return code
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "check"}:
        print(__doc__)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    env = dict(os.environ)
    if command == "demo":
        return subprocess.call([str(BIN / "edubrain"), "demo", *rest], cwd=ROOT, env=env)
    if command == "check" or not rest:
        # The whole run (what CI runs) is gated; a targeted `test ARGS...` is not.
        code = run_gates(env)
        if code != 0 or command == "check":
            return code
    return subprocess.call([str(_python()), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
