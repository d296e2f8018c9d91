"""The core frameworks know no entity name: every domain fact lives in its module.

The core is the standard, ingest, warehouse, governance (quality, identity), indicators, the
sources (mappings and the synthetic-region generator, whose domain parts the modules declare)
and the service's access, store and routes. A string literal in it that equals an entity name of
an installed module is a domain fact in the wrong place: a new one fails here.

`SAME_WORD_OTHER_MEANING` lists the literals that spell an entity's name but mean something
else, each with its reason: the role 教师 ("teacher") and the scope levels school and class,
the code values and the code table "term". A listed literal that is no longer found fails too,
so the list stays exact.
"""

from __future__ import annotations

import ast
from pathlib import Path

from edubrain.standard.entities import entities

SRC = Path(__file__).resolve().parents[2] / "src" / "edubrain"
CORE = ("standard", "ingest", "warehouse", "govern", "indicators", "service", "sources",
        "sealing.py", "installed.py", "settings.py", "errors.py")  # fmt: skip

SAME_WORD_OTHER_MEANING: dict[str, set[str]] = {
    # code values (荣誉级别 "school" 校级, 岗位 "teacher" 专任教师) and the code table "term" 学期
    "standard/codes.py": {"school", "teacher", "term"},
    # the roles 教师 and 学生 and the scope levels school and class, not the tables
    "service/policy.py": {"class", "school", "student", "teacher"},
    # the generator's shared world: 岗位 "teacher" 专任教师 and 骨干级别 "school" 校级 (codes)
    "sources/generator/region.py": {"school", "teacher"},
    # the code table "term" 学期, whose labels the faults misspell
    "sources/generator/faults.py": {"term"},
    # the quarantine summary's grouping "by school" (a key of its counts), not the table
    "ingest/quarantine_views.py": {"school"},
}


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


def test_the_core_names_no_entity() -> None:
    names = {e.name for e in entities()}
    found = {}
    for path in _core_files():
        literals = entity_literals(path, names)
        if literals:
            found[str(path.relative_to(SRC))] = literals
    assert found == SAME_WORD_OTHER_MEANING


def test_the_check_finds_a_planted_entity_name(tmp_path: Path) -> None:
    planted = tmp_path / "framework.py"
    planted.write_text('TABLE = "fitness_test"\nGRAIN = "fitness"\n', encoding="utf-8")
    assert entity_literals(planted, {e.name for e in entities()}) == {"fitness_test"}


def test_the_ported_frameworks_hold_no_entity_name() -> None:
    """The entity list, references, quality rule kinds, mappings and access scopes are ported."""
    names = {e.name for e in entities()}
    ported = ("standard/entities.py", "standard/fields.py", "govern/references.py",
              "govern/quality.py", "sources/mapping.py", "warehouse", "installed.py",
              "sources/generator/pipeline.py", "sources/generator/parts.py",
              "sources/generator/render.py")  # fmt: skip
    for part in ported:
        path = SRC / part
        for file in [path] if path.suffix == ".py" else sorted(path.rglob("*.py")):
            assert entity_literals(file, names) == set(), file
