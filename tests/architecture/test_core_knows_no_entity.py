"""The core frameworks know no entity name: every domain fact lives in its module.

The core is the standard, ingest, warehouse, governance (quality, identity), indicators and
the service's access, store and routes. A string literal in it that equals an entity name of
an installed module is a domain fact in the wrong place. The files listed in
`NOT_YET_PORTED` still hold such literals (issue 14 ports them module by module); the list
must shrink, never grow: a new literal fails here, and so does a file that was ported but is
still listed. Some literals there are not entity names at all (the grain "school", the code
table "term") — they go when the file is ported, or stay with a reason in a comment.
"""

from __future__ import annotations

import ast
from pathlib import Path

from edubrain.standard.entities import entities

SRC = Path(__file__).resolve().parents[2] / "src" / "edubrain"
CORE = ("standard", "ingest", "warehouse", "govern", "indicators", "service", "sealing.py",
        "installed.py", "settings.py", "errors.py")  # fmt: skip

NOT_YET_PORTED: dict[str, set[str]] = {
    "standard/codes.py": {"school", "teacher", "term"},  # code values and a code-table name
    "service/policy.py": {"class", "school", "student", "teacher"},  # roles and scope levels
}  # fmt: skip


def _core_files() -> list[Path]:
    files: list[Path] = []
    for part in CORE:
        path = SRC / part
        files += [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))
    return files


def entity_literals(path: Path, names: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names
    }


def test_the_core_names_no_entity_beyond_the_files_not_yet_ported() -> None:
    names = {e.name for e in entities()}
    found = {}
    for path in _core_files():
        literals = entity_literals(path, names)
        if literals:
            found[str(path.relative_to(SRC))] = literals
    assert found == NOT_YET_PORTED


def test_the_check_finds_a_planted_entity_name(tmp_path: Path) -> None:
    planted = tmp_path / "framework.py"
    planted.write_text('TABLE = "fitness_test"\nGRAIN = "fitness"\n', encoding="utf-8")
    assert entity_literals(planted, {e.name for e in entities()}) == {"fitness_test"}


def test_the_ported_frameworks_hold_no_entity_name() -> None:
    """The entity list, references, quality rule kinds, mappings and access scopes are ported."""
    names = {e.name for e in entities()}
    ported = ("standard/entities.py", "standard/fields.py", "govern/references.py",
              "govern/quality.py", "sources/mapping.py", "warehouse", "installed.py")  # fmt: skip
    for part in ported:
        path = SRC / part
        for file in [path] if path.suffix == ".py" else sorted(path.rglob("*.py")):
            assert entity_literals(file, names) == set(), file
