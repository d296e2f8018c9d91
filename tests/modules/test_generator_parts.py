"""The synthetic-region generator is assembled from the modules' generator parts.

Each module declares its `GeneratorPart` (`Module.generator`); `generate_region` collects the
parts of the installed modules in registry order. The test module `library_loans` declares one
too: installed, its loans are generated, rendered through its mapping with faults, and a
perfect ingest holds exactly its truth rows; not installed, nothing of it is written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from library_loans import MODULE

from edubrain import installed
from edubrain.ingest import ingest_paths
from edubrain.modules.registry import MODULES
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.sources.generator.parts import (
    FAULT_STREAM,
    CountyDraw,
    GeneratorPart,
    NamedPart,
    call_order,
    stream_count,
)
from edubrain.sources.generator.pipeline import generator_parts
from edubrain.sources.generator.plan import County
from edubrain.warehouse import open_warehouse


def _names(parts: list[NamedPart]) -> list[str]:
    return [p.module for p in parts]


def test_the_parts_are_collected_from_the_registry_in_order() -> None:
    assert _names(generator_parts()) == [m.name for m in MODULES if m.generator is not None]
    assert all(m.generator is not None for m in MODULES)  # every registry module has one
    with installed.installing(MODULE):
        parts = generator_parts()
        assert _names(parts)[-1] == "library_loans"
        assert parts[-1].part is MODULE.generator
    assert "library_loans" not in _names(generator_parts())


def test_parts_run_in_registry_order_except_after() -> None:
    order = _names(call_order(generator_parts()))
    registry = [m.name for m in MODULES]
    # fitness continues the random stream the health checks drew from
    assert order.index("fitness") == order.index("health") + 1
    assert [n for n in order if n != "fitness"] == [n for n in registry if n != "fitness"]
    a = NamedPart("a", GeneratorPart(after=("b",)))
    b = NamedPart("b", GeneratorPart(after=("a",)))
    with pytest.raises(ValueError, match="wait for each other"):
        call_order([a, b])
    # a part waiting for a module that is not installed does not wait
    assert _names(call_order([a])) == ["a"]


def test_streams_are_numbered_and_the_faults_stream_is_the_generators() -> None:
    parts = generator_parts()
    assert stream_count(parts) == 15  # the numbers in use: 0–8, 10–14, and the faults' 9
    with pytest.raises(ValueError, match="faults' own"):
        stream_count([NamedPart("x", GeneratorPart(streams=(FAULT_STREAM,)))])
    with installed.installing(MODULE):
        assert stream_count(generator_parts()) == 16


def test_a_part_draws_only_from_the_streams_it_declares(tmp_path: Path) -> None:
    streams = np.random.default_rng(1).spawn(3)
    draw = CountyDraw(tmp_path, County(0, "339901", "示范一县", 300), 1, streams)
    draw.drawing = NamedPart("x", GeneratorPart(streams=(2,)))
    assert draw.stream(2) is streams[2]
    with pytest.raises(ValueError, match="does not declare"):
        draw.stream(1)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_an_installed_modules_part_is_generated_and_ingests_to_its_truth(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    generate_region(plain, students=400, seed=7, workers=1)
    assert not (plain / "exports" / "tushu").exists()
    assert not (plain / "truth" / "library_loan.csv").exists()

    region = tmp_path / "region"
    settings = Settings(home=tmp_path / "home", progress=False)
    with installed.installing(MODULE):
        summary = generate_region(region, students=400, seed=7, workers=1)
        export = region / "exports" / "tushu" / "图书_借阅记录_339901.csv"
        assert export.exists()
        truth = _rows(region / "truth" / "library_loan.csv")
        assert summary.entities["library_loan"] == len(truth) > 50
        faults = _rows(region / "truth" / "faults.csv")
        assert any(f["file"].startswith("exports/tushu/") for f in faults)  # messy like any
        ingest_paths([region / "standard", region / "exports"], settings)
        with open_warehouse(settings, read_only=True) as wh:
            held = wh.to_arrow("library_loan").to_pylist()
    assert sorted(r["loan_id"] for r in held) == sorted(r["loan_id"] for r in truth)
    # The registry's parts draw from their own streams: what they write before faults (which
    # are drawn export by export) is the same with the extra part installed.
    for name in ("standard/attendance.csv", "knowledge/practice_response.csv",
                 "truth/knowledge_mastery.csv", "map/outline.geojson"):  # fmt: skip
        assert (region / name).read_bytes() == (plain / name).read_bytes(), name
