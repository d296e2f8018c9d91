"""The import contracts in pyproject.toml hold for the real tree and catch a back-import.

`lint-imports` runs on a copy of the package's Python files, once as it is and once with one
import that breaks a contract, so the contracts are known to bite, not only to pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the project's contracts over the package under `tree/src`."""
    script = Path(sys.executable).parent / "lint-imports"
    if not script.exists():
        pytest.fail(f"import-linter is not installed beside {sys.executable} (the test extra)")
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    return subprocess.run(
        [str(script), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of `src/edubrain`, Python files only (the graph is all the linter reads)."""
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(
        ROOT / "src" / "edubrain",
        root / "src" / "edubrain",
        ignore=lambda folder, names: [
            n for n in names if not n.endswith(".py") and not (Path(folder) / n).is_dir()
        ],
    )
    return root


def test_the_real_tree_keeps_every_contract(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        # The standard, the bottom layer, reaching up into the service.
        ("standard/x.py", "import edubrain.service\n", "imports point only downwards"),
        # The service reaching up into the cockpit (the back-import `edubrain.serve` removed).
        ("service/x.py", "from edubrain.cockpit import pages\n", "imports point only downwards"),
        # An engine imported outside the warehouse.
        ("indicators/x.py", "import duckdb\n", "only edubrain.warehouse imports duckdb"),
    ],
)
def test_a_broken_contract_fails(tree: Path, module: str, source: str, contract: str) -> None:
    added = tree / "src" / "edubrain" / module
    added.write_text(source, encoding="utf-8")
    try:
        result = _lint_imports(tree)
    finally:
        added.unlink()
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert len(broken) == 1 and contract in broken[0], result.stdout
