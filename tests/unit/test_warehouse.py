"""The DuckDB warehouse: table layout, merge by natural key with history, transactions."""

from __future__ import annotations

from datetime import date, datetime

import pyarrow as pa
import pytest

from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.warehouse import (
    LINEAGE_COLUMNS,
    QUARANTINE_SCHEMA,
    DuckDBWarehouse,
    entity_schema,
    history_table,
    open_warehouse,
)

TERM = entity("term")


def _terms(*rows: tuple[str, str, date, date]) -> pa.Table:
    names = entity_schema(TERM).names
    return pa.Table.from_pylist(
        [dict(zip(names, r, strict=True)) for r in rows], entity_schema(TERM)
    )


T1 = ("2025-2026", "1", date(2025, 9, 1), date(2026, 1, 20))
T2 = ("2025-2026", "2", date(2026, 2, 20), date(2026, 7, 5))


@pytest.fixture
def wh(tmp_path) -> DuckDBWarehouse:
    with open_warehouse(Settings(home=tmp_path)) as warehouse:
        yield warehouse


def _merge(wh: DuckDBWarehouse, rows: pa.Table, load_id: str, when: datetime):
    with wh.transaction() as tx:
        return tx.merge(TERM, rows, load_id=load_id, source="test", valid_from=when)


def test_every_entity_has_a_table_with_lineage_and_a_history_table(wh) -> None:
    columns = wh.table("student").columns
    assert columns[-4:] == LINEAGE_COLUMNS
    assert "_valid_to" in wh.table(history_table("student")).columns
    assert wh.count("class") == 0  # a SQL keyword as a table name is quoted
    assert tuple(wh.table("quarantine").columns) == tuple(QUARANTINE_SCHEMA.names)


def test_merge_inserts_then_leaves_identical_rows_unchanged(wh) -> None:
    first = _merge(wh, _terms(T1, T2), "L1", datetime(2026, 1, 1))
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = _merge(wh, _terms(T1, T2), "L2", datetime(2026, 1, 2))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert set(wh.to_arrow("term").column("_load_id").to_pylist()) == {"L1"}
    assert wh.count(history_table("term")) == 0


def test_a_changed_row_is_updated_and_its_old_version_kept(wh) -> None:
    _merge(wh, _terms(T1, T2), "L1", datetime(2026, 1, 1))
    changed = (*T2[:3], date(2026, 7, 10))
    counts = _merge(wh, _terms(T1, changed), "L2", datetime(2026, 3, 1))
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 1)
    current = {r["term"]: r for r in wh.to_arrow("term").to_pylist()}
    assert current["2"]["end_date"] == date(2026, 7, 10)
    assert current["2"]["_load_id"] == "L2"
    assert current["1"]["_load_id"] == "L1"
    (old,) = wh.to_arrow(history_table("term")).to_pylist()
    assert old["end_date"] == date(2026, 7, 5)
    assert (old["_load_id"], old["_superseded_by"]) == ("L1", "L2")
    assert (old["_valid_from"], old["_valid_to"]) == (datetime(2026, 1, 1), datetime(2026, 3, 1))


def test_one_merge_of_new_changed_and_unchanged_rows_stores_each_once(wh) -> None:
    _merge(wh, _terms(T1, T2), "L1", datetime(2026, 1, 1))
    changed = (*T2[:3], date(2026, 7, 10))
    new = ("2026-2027", "1", date(2026, 9, 1), date(2027, 1, 20))
    counts = _merge(wh, _terms(T1, changed, new), "L2", datetime(2026, 3, 1))
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 1)
    current = {(r["school_year"], r["term"]): r for r in wh.to_arrow("term").to_pylist()}
    assert len(current) == 3 and wh.count("term") == 3
    assert current[("2025-2026", "1")]["_load_id"] == "L1"
    assert current[("2025-2026", "2")]["end_date"] == date(2026, 7, 10)
    assert current[("2025-2026", "2")]["_load_id"] == "L2"
    assert current[("2026-2027", "1")]["_load_id"] == "L2"
    (old,) = wh.to_arrow(history_table("term")).to_pylist()
    assert (old["term"], old["end_date"]) == ("2", date(2026, 7, 5))


def test_history_keeps_its_values_after_a_field_was_added_to_the_standard(tmp_path) -> None:
    """A warehouse made before a field existed gets the column last (after _valid_to and
    _superseded_by in the history table): the old version must still land in its columns."""
    settings = Settings(home=tmp_path)
    with open_warehouse(settings) as warehouse:
        _merge(warehouse, _terms(T1, T2), "L1", datetime(2026, 1, 1))
        con = warehouse._con  # the test plays an older release's warehouse file
        for table in ("term", history_table("term")):
            con.execute(f'ALTER TABLE "{table}" DROP COLUMN start_date')  # as if added later
        con.execute("UPDATE term SET _row_hash = 0")  # the old rows' hashes differ anyway
    with open_warehouse(settings) as warehouse:  # the migration adds start_date back, last
        changed = (*T2[:3], date(2026, 7, 10))
        counts = _merge(warehouse, _terms(T1, changed), "L2", datetime(2026, 3, 1))
        assert counts.updated == 2
        old = {r["term"]: r for r in warehouse.to_arrow(history_table("term")).to_pylist()}
    assert old["2"]["end_date"] == date(2026, 7, 5)
    assert old["2"]["start_date"] is None  # the column did not exist then
    assert (old["2"]["_load_id"], old["2"]["_superseded_by"]) == ("L1", "L2")
    assert old["2"]["_valid_to"] == datetime(2026, 3, 1)


def test_a_failed_transaction_leaves_nothing(wh) -> None:
    with pytest.raises(KeyboardInterrupt), wh.transaction() as tx:
        tx.merge(TERM, _terms(T1), load_id="L1", source="t", valid_from=datetime(2026, 1, 1))
        raise KeyboardInterrupt
    assert wh.count("term") == 0


def test_quarantine_records_are_not_stored_twice(wh) -> None:
    record = dict.fromkeys(QUARANTINE_SCHEMA.names, "x") | {"row_number": 3}
    table = pa.Table.from_pylist([record], QUARANTINE_SCHEMA)
    with wh.transaction() as tx:
        assert tx.write_quarantine(table) == 1
    with wh.transaction() as tx:
        assert tx.write_quarantine(table) == 0
    assert wh.count("quarantine") == 1


def test_quarantine_chunks_of_one_file_are_all_stored_once(wh) -> None:
    def records(*numbers: int) -> pa.Table:
        rows = [dict.fromkeys(QUARANTINE_SCHEMA.names, "x") | {"row_number": n} for n in numbers]
        return pa.Table.from_pylist(rows, QUARANTINE_SCHEMA)

    with wh.transaction() as tx:
        assert tx.write_quarantine(records(1, 2, 5)) == 3
        assert tx.write_quarantine(records(6, 7)) == 2  # later rows of the same file
        assert tx.write_quarantine(records(3, 4)) == 2  # rows between, as a split chunk's
        assert tx.write_quarantine(records(4, 8)) == 1  # row 4 is stored already
        assert tx.write_quarantine(records(9)) == 1
    assert wh.count("quarantine") == 9
    with wh.transaction() as tx:
        assert tx.write_quarantine(records(9, 10)) == 1
    assert wh.count("quarantine") == 10


def test_ibis_expressions_run_on_the_warehouse(wh) -> None:
    _merge(wh, _terms(T1, T2), "L1", datetime(2026, 1, 1))
    t = wh.table("term")
    assert t.filter(t.term == "2").count().execute() == 1


def _people(wh: DuckDBWarehouse, n: int) -> None:
    rows = pa.table({"key": [f"k{i:04d}" for i in range(n)], "grp": [i % 3 for i in range(n)]})
    with wh.transaction() as tx:
        tx.replace_table("people", rows)


def test_a_prepared_read_binds_new_values_each_run(wh) -> None:
    import ibis

    _people(wh, 30)
    t = wh.table("people")
    low, high = ibis.param("string"), ibis.param("string")
    prepared = wh.prepare(
        t.filter((t.key > low) & (t.key <= high)).order_by("key"), {"low": low, "high": high}
    )
    # By hand: keys k0000..k0029, so (k0004, k0007] is k0005, k0006, k0007.
    got = prepared.run({"low": "k0004", "high": "k0007"}).column("key").to_pylist()
    assert got == ["k0005", "k0006", "k0007"]
    assert prepared.run({"low": "k0028", "high": "k9999"}).column("key").to_pylist() == ["k0029"]
    # A value is data, never SQL.
    assert prepared.run({"low": "' OR 1=1 --", "high": "k0000"}).num_rows == 1


def test_a_parameter_missing_from_the_query_is_refused(wh) -> None:
    import ibis

    from edubrain.errors import WarehouseError

    _people(wh, 3)
    t = wh.table("people")
    unused = ibis.param("string")
    with pytest.raises(WarehouseError, match="not a string literal"):
        wh.prepare(t.filter(t.key == "k0001"), {"unused": unused})


def test_prepared_reads_run_from_many_threads_at_once(wh) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import ibis

    _people(wh, 3000)
    t = wh.table("people")
    wanted = ibis.param("string")
    prepared = wh.prepare(t.filter(t.key == wanted), {"wanted": wanted})

    def look(i: int) -> int:
        row = prepared.run({"wanted": f"k{i:04d}"}).to_pylist()
        return int(row[0]["grp"])

    with ThreadPoolExecutor(8) as pool:
        groups = list(pool.map(look, range(3000)))
    assert groups == [i % 3 for i in range(3000)]


def test_closing_a_writer_checkpoints_under_the_small_limit_and_keeps_everything(
    tmp_path, monkeypatch
) -> None:
    settings = Settings(home=tmp_path, warehouse_checkpoint_memory_limit="64MB")
    wal = settings.workspace.warehouse.with_name(settings.workspace.warehouse.name + ".wal")
    limits: list[str] = []
    bounded = DuckDBWarehouse._bounded_checkpoint

    def spy(self: DuckDBWarehouse, limit: str) -> None:
        bounded(self, limit)
        # Still open: the limit is in force and the commit is already in the file.
        limits.append(self._con.execute("SELECT current_setting('memory_limit')").fetchone()[0])
        assert not wal.exists()

    monkeypatch.setattr(DuckDBWarehouse, "_bounded_checkpoint", spy)
    with open_warehouse(settings) as warehouse:
        _merge(warehouse, _terms(T1, T2), "L1", datetime(2026, 1, 1))
        assert wal.exists()  # committed, not yet checkpointed
    assert limits == ["61.0 MiB"]  # 64 MB = 64,000,000 bytes
    with open_warehouse(settings, read_only=True) as warehouse:
        assert warehouse.count("term") == 2


def test_a_checkpoint_limit_that_is_not_a_size_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="warehouse_checkpoint_memory_limit"):
        Settings(home=tmp_path, warehouse_checkpoint_memory_limit="half")


def test_the_checkpoint_limit_can_be_turned_off(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDUBRAIN_WAREHOUSE_CHECKPOINT_MEMORY_LIMIT", "off")
    assert Settings(home=tmp_path).warehouse_checkpoint_memory_limit is None


def test_the_write_ahead_log_size_reaches_the_engine(tmp_path) -> None:
    settings = Settings(home=tmp_path, warehouse_wal_size="64MB")
    with open_warehouse(settings) as warehouse:
        row = warehouse._con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()
    assert row is not None
    value = str(row[0])
    assert value == "61.0 MiB"  # 64 × 10⁶ bytes, as DuckDB prints it
