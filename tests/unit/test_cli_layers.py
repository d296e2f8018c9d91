"""The CLI is thin: a command module never imports another command module (shared rendering
lives in `cli/render.py`, use cases in `edubrain.usecases`), and use cases never import the CLI.

Read from the source with `ast`, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import edubrain

PACKAGE = Path(edubrain.__file__).parent
REGISTRARS = {"main", "commands"}  # they register every command module


def _imported_modules(path: Path, package: str) -> set[str]:
    """Every module `path` imports, absolute (a `from X import name` also yields `X.name`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _command_imports(path: Path) -> set[str]:
    return {
        m
        for m in _imported_modules(path, "edubrain.cli")
        if m.startswith("edubrain.cli.") and m.split(".")[2].endswith("_cmd")
    }


def test_no_command_module_imports_another() -> None:
    modules = sorted(PACKAGE.joinpath("cli").glob("*.py"))
    assert any(p.stem.endswith("_cmd") for p in modules)
    offenders = {
        p.name: sorted(_command_imports(p))
        for p in modules
        if p.stem not in REGISTRARS and _command_imports(p)
    }
    assert offenders == {}, f"command modules importing command modules: {offenders}"


def test_the_check_sees_every_form_of_import(tmp_path: Path) -> None:
    source = tmp_path / "x_cmd.py"
    for line in (
        "from edubrain.cli import ingest_cmd",
        "from edubrain.cli.govern_cmd import stored_verdicts",
        "import edubrain.cli.demo_cmd",
        "from . import keys_cmd",
        "from .warnings_cmd import warnings_table",
        "def f():\n    from edubrain.cli.indicators_cmd import fmt_value",
    ):
        source.write_text(line + "\n", encoding="utf-8")
        assert _command_imports(source), line
    source.write_text("from edubrain.cli.render import fmt_value\n", encoding="utf-8")
    assert not _command_imports(source)


def test_use_cases_do_not_import_the_cli() -> None:
    offenders = {
        p.name: sorted(m for m in _imported_modules(p, "edubrain.usecases") if "edubrain.cli" in m)
        for p in PACKAGE.joinpath("usecases").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
