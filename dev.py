#!/usr/bin/env python3
"""Set up a virtual environment and run edubrain — the two Quick start commands.

    python3 dev.py demo [ARGS...]   set up, then run `edubrain demo`
    python3 dev.py test [ARGS...]   set up, then run the whole test suite (what CI runs)

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
    print("Installing edubrain and its test tools into .venv (first run takes a minute) ...",
          flush=True)
    subprocess.run(
        [str(_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "-e", f"{ROOT}[test]"],
        check=True,
    )
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    env = dict(os.environ)
    if command == "demo":
        return subprocess.call([str(BIN / "edubrain"), "demo", *rest], cwd=ROOT, env=env)
    return subprocess.call([str(_python()), "-m", "pytest", *rest], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
