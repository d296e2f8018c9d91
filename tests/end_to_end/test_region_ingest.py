"""Generate a small county, ingest everything, and hold the result against the generator's truth.

This is the spine's acceptance test: every injected row-level fault is quarantined with the right
reason code, no clean row is quarantined, the warehouse holds exactly the truth, the same files
again change nothing, and a changed re-export updates only the changed rows.
"""

from __future__ import annotations

import csv
import math
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from edubrain.ingest import ingest_paths
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.standard.entities import FieldType, entities, entity
from edubrain.warehouse import QUARANTINE_TABLE, history_table, open_warehouse

pytestmark = pytest.mark.slow

STUDENTS = 3000


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Settings, list]:
    root = tmp_path_factory.mktemp("county")
    region = root / "region"
    generate_region(region, students=STUDENTS, seed=7)
    settings = Settings(home=root / "home", progress=False)
    # The knowledge folder holds the diagnosis module's entities (graph, items, practice).
    folders = [region / "standard", region / "exports", region / "knowledge"]
    reports = ingest_paths(folders, settings)
    return region, settings, reports


def _faults(region: Path) -> list[dict[str, str]]:
    with (region / "truth" / "faults.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _quarantine(settings: Settings, region: Path) -> list[dict]:
    with open_warehouse(settings) as wh:
        rows = wh.to_arrow(QUARANTINE_TABLE).to_pylist()
    for row in rows:
        row["rel"] = Path(row["file"]).resolve().relative_to(region.resolve()).as_posix()
    return rows


def test_every_file_balances(county) -> None:
    _, _, reports = county
    loaded = [r for r in reports if r.status == "loaded"]
    assert loaded, "nothing was ingested"
    assert not [r for r in reports if r.status == "failed"]
    for r in loaded:
        assert r.rows_read == r.rows_accepted + r.rows_quarantined, r.file
        assert r.rows_accepted == r.rows_inserted + r.rows_updated + r.rows_unchanged, r.file
    sources = {r.source for r in loaded}
    assert {"xueji", "renshi", "yuejuan", "tice", "tijian", "zuoye", "zhuangbei"} <= sources


def test_every_row_fault_is_quarantined_with_its_reason(county) -> None:
    region, settings, _ = county
    expected = [f for f in _faults(region) if f["expected_reason"]]
    assert len({f["fault"] for f in expected}) >= 8, "the generator injected too few fault kinds"
    got = {(q["rel"], q["row_number"], q["reason"]) for q in _quarantine(settings, region)}
    missing = [f for f in expected if (f["file"], int(f["row"]), f["expected_reason"]) not in got]
    assert not missing, f"{len(missing)} injected faults not quarantined as expected: {missing[:5]}"


def test_no_clean_row_is_quarantined(county) -> None:
    region, settings, _ = county
    faulty = {(f["file"], int(f["row"])) for f in _faults(region) if f["expected_reason"]}
    wrongly = [
        q for q in _quarantine(settings, region) if (q["rel"], q["row_number"]) not in faulty
    ]
    assert not wrongly, f"{len(wrongly)} clean rows quarantined, e.g. {wrongly[:3]}"


def _normalised(value: object, kind: FieldType) -> object:
    if value is None or value == "":
        return None
    if kind in (FieldType.DECIMAL,):
        return round(float(str(value)), 6)
    if kind is FieldType.INTEGER:
        return int(float(str(value)))
    if kind is FieldType.BOOLEAN:
        return str(value).lower() in ("true", "1")
    if kind in (FieldType.DATE, FieldType.DATETIME):
        return str(value).replace(" ", "T")[: 10 if kind is FieldType.DATE else 19]
    return unicodedata.normalize("NFKC", str(value))  # as ingestion stores text (y=ax² → y=ax2)


def _as_rows(table: pa.Table, name: str) -> Counter[tuple]:
    ent = entity(name)
    rows: Counter[tuple] = Counter()
    for record in table.select(list(ent.field_names)).to_pylist():
        rows[tuple(_normalised(record[f.name], f.type) for f in ent.fields)] += 1
    return rows


def _opened(table: pa.Table, settings: Settings) -> pa.Table:
    """ID numbers and G 学籍号 are stored sealed (decision 0011); the truth is in clear."""
    sealer = sealer_for(settings)
    assert sealer is not None
    for name in ("student_number", "id_number"):
        if name in table.column_names:
            i = table.schema.get_field_index(name)
            table = table.set_column(i, name, sealer.open_column(table.column(i)))
    return table


def test_warehouse_holds_exactly_the_truth(county) -> None:
    region, settings, _ = county
    checked = 0
    with open_warehouse(settings) as wh:
        for ent in entities():
            truth_file = region / "truth" / f"{ent.name}.csv"
            if not truth_file.exists():
                continue
            with truth_file.open(encoding="utf-8") as fh:
                truth_rows = list(csv.DictReader(fh))
            truth = Counter(
                tuple(_normalised(r[f.name], f.type) for f in ent.fields) for r in truth_rows
            )
            stored = _as_rows(_opened(wh.to_arrow(ent.name), settings), ent.name)
            only_truth = truth - stored
            only_stored = stored - truth
            assert not only_truth and not only_stored, (
                f"{ent.name}: {sum(only_truth.values())} truth rows missing, "
                f"{sum(only_stored.values())} unexpected; e.g. "
                f"{list(only_truth)[:1]} vs {list(only_stored)[:1]}"
            )
            checked += 1
    assert checked >= 12


def test_same_files_again_change_nothing(county) -> None:
    region, settings, _ = county
    with open_warehouse(settings) as wh:
        before = {t: wh.count(t) for t in ("student", QUARANTINE_TABLE, history_table("student"))}
    again = ingest_paths([region / "standard", region / "exports"], settings)
    assert sum(r.rows_inserted + r.rows_updated for r in again) == 0
    assert all(r.rows_unchanged == r.rows_accepted for r in again)
    with open_warehouse(settings) as wh:
        after = {t: wh.count(t) for t in before}
    assert after == before


def test_a_changed_export_updates_only_changed_rows(county, tmp_path: Path) -> None:
    region, settings, _ = county
    source = next((region / "exports").rglob("体测_*.csv"))
    changed = tmp_path / source.name
    shutil.copy(source, changed)
    text = changed.read_text("utf-8-sig").splitlines()
    header = text[0].split(",")
    col = header.index("肺活量")
    edited = 0
    for i in range(1, len(text)):
        cells = text[i].split(",")
        if edited < 5 and cells[col].isdigit() and int(cells[col]) > 1000:
            cells[col] = str(int(cells[col]) + 1)
            text[i] = ",".join(cells)
            edited += 1
    assert edited == 5
    changed.write_text("\n".join(text) + "\n", encoding="utf-8-sig")
    with open_warehouse(settings) as wh:
        history_before = wh.count(history_table("fitness_test"))
    (report,) = ingest_paths([changed], settings)
    assert report.rows_updated == 5
    assert report.rows_inserted == 0
    with open_warehouse(settings) as wh:
        assert wh.count(history_table("fitness_test")) == history_before + 5
    assert math.isclose(report.rows_unchanged, report.rows_accepted - 5)
