"""Every path under EDUBRAIN_HOME comes from one object, `settings.workspace`; the settings
object is the one reader of `EDUBRAIN_` variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from edubrain.errors import ConfigError
from edubrain.settings import Settings, load_settings

SRC = Path(__file__).resolve().parents[2] / "src" / "edubrain"


def test_the_default_layout_of_a_home(tmp_path: Path) -> None:
    ws = Settings(home=tmp_path).workspace
    assert ws.home == tmp_path
    assert ws.warehouse == tmp_path / "warehouse.duckdb"
    assert ws.store == tmp_path / "edubrain.sqlite3"
    assert ws.service_key == tmp_path / "service.key"
    assert ws.diagnosis == tmp_path / "diagnosis" / "diagnosis.npz"
    assert ws.linkage_spill == tmp_path / "linkage.tmp"
    assert ws.mappings == tmp_path / "mappings"
    assert ws.plans == tmp_path / "plans"
    assert ws.map_outline == tmp_path / "map" / "outline.geojson"
    assert ws.demo_region == tmp_path / "region"


def test_settings_move_what_they_name(tmp_path: Path) -> None:
    ws = Settings(
        home=tmp_path,
        warehouse_file="w.duckdb",
        store_file="s.sqlite3",
        mappings_dir=tmp_path / "m",
        plans_dir=tmp_path / "p",
        map_outline=tmp_path / "o.geojson",
    ).workspace
    assert (ws.warehouse, ws.store) == (tmp_path / "w.duckdb", tmp_path / "s.sqlite3")
    assert (ws.mappings, ws.plans) == (tmp_path / "m", tmp_path / "p")
    assert ws.map_outline == tmp_path / "o.geojson"


def test_no_module_joins_a_path_onto_the_home_itself() -> None:
    joins = re.compile(r"\.home\s*/")
    found = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "workspace.py"
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if joins.search(line)
    ]
    assert not found, f"ask settings.workspace for the path instead: {found}"


def test_spark_is_sized_from_the_same_variables_as_before(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EDUBRAIN_SPARK_PARTITIONS", "8")
    monkeypatch.setenv("EDUBRAIN_SPARK_DRIVER_MEMORY", "4g")
    settings = load_settings()
    assert (settings.spark_partitions, settings.spark_driver_memory) == (8, "4g")
    monkeypatch.setenv("EDUBRAIN_SPARK_DRIVER_MEMORY", "four gigabytes")
    with pytest.raises(ConfigError, match="EDUBRAIN_SPARK_DRIVER_MEMORY"):
        load_settings()


def test_only_settings_read_edubrain_variables() -> None:
    """Settings are read once, at the entry point, and passed down (the CLI's own
    EDUBRAIN_NEW_PASSWORD prompt aside)."""
    reads = re.compile(r"os\.environ(\.get)?\s*[\[(]\s*\"EDUBRAIN_")
    found = [
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if reads.search(path.read_text("utf-8")) and path.parts[-2] != "cli"
    ]
    assert not found
