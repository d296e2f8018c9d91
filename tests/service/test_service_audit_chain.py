"""The audit trail is append-only and hash-chained: tampering with plain SQL is found and named."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from edubrain.cli.main import build_app
from edubrain.service.store import AuditEntry, Store, chain_hash, open_store
from edubrain.settings import Settings

RECORDS = 6


def _entry(n: int) -> AuditEntry:
    return AuditEntry(
        occurred_at=f"2026-03-02T08:30:0{n}.000000+00:00",
        actor=f"user{n}",
        role="teacher",
        scope="class:3133010001/2025-2026/11/1",
        action="read",
        resource="student",
        record_ids=json.dumps([f"G{n:018d}"]),
        query="{}",
        purpose="家访",
        outcome="ok",
        request_id=f"req{n}",
        client_ip="127.0.0.1",
    )


def _fill(store: Store) -> None:
    for n in range(1, RECORDS + 1):
        store.append_audit(_entry(n))


def _without_guards(store: Store, statement: str) -> None:
    """What someone with the database's owner rights can do: drop the guard, then tamper."""
    with store.engine.begin() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_log_append_only_update"))
            conn.execute(sa.text("DROP TRIGGER audit_log_append_only_delete"))
        conn.execute(sa.text(statement))


def test_an_untouched_chain_verifies(store: Store) -> None:
    _fill(store)
    report = store.verify_audit_chain()
    assert report.ok and report.records == RECORDS and report.head_seq == RECORDS


def test_each_hash_covers_the_previous_one(store: Store) -> None:
    _fill(store)
    records = store.audit_records()
    assert records[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
        assert after.hash == chain_hash(before.hash, after.entry, after.seq)


@pytest.mark.parametrize("verb", ["UPDATE audit_log SET purpose = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_changes_to_the_trail(store: Store, verb: str) -> None:
    _fill(store)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text(f"{verb} WHERE seq = 3"))
    assert store.verify_audit_chain().ok


@pytest.mark.parametrize("seq", [1, 3, RECORDS])
def test_a_changed_record_is_named(store: Store, seq: int) -> None:
    _fill(store)
    _without_guards(store, f"UPDATE audit_log SET actor = 'someone else' WHERE seq = {seq}")
    report = store.verify_audit_chain()
    assert not report.ok
    assert report.broken_seq == seq
    assert f"record {seq} was changed" in (report.problem or "")


@pytest.mark.parametrize("seq", [1, 3, RECORDS])
def test_a_deleted_record_is_named(store: Store, seq: int) -> None:
    _fill(store)
    _without_guards(store, f"DELETE FROM audit_log WHERE seq = {seq}")
    report = store.verify_audit_chain()
    assert not report.ok
    assert report.broken_seq == seq
    assert f"record {seq} is missing" in (report.problem or "")


def test_a_record_rewritten_with_a_fresh_hash_is_named(store: Store) -> None:
    """Recomputing the changed record's own hash still breaks the link from the next one."""
    _fill(store)
    forged = _entry(3)
    forged = AuditEntry(**{**forged.__dict__, "actor": "someone else"})
    prev = store.audit_records()[1].hash
    digest = chain_hash(prev, forged, 3)
    _without_guards(
        store, f"UPDATE audit_log SET actor = 'someone else', hash = '{digest}' WHERE seq = 3"
    )
    report = store.verify_audit_chain()
    assert report.broken_seq == 3
    assert "record 3 was changed or replaced" in (report.problem or "")


def test_audit_verify_command_names_the_broken_record(
    backend: str, make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(backend)
    with open_store(settings) as store:
        _fill(store)
    monkeypatch.setenv("EDUBRAIN_HOME", str(settings.home))
    if settings.database_url:
        monkeypatch.setenv("EDUBRAIN_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    result = runner.invoke(build_app(), ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"intact: {RECORDS} records" in result.output
    with open_store(settings) as store:
        _without_guards(store, "UPDATE audit_log SET client_ip = '10.0.0.9' WHERE seq = 4")
    result = runner.invoke(build_app(), ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at record 4" in result.output


def test_the_migrated_schema_matches_the_store_tables(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from edubrain.service.store import metadata

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    # Indexes exist only in the migration (they are a storage concern, not a table shape).
    assert [d for d in diff if d[0] not in ("add_index", "remove_index")] == []


def test_records_appended_from_many_threads_form_one_unbroken_chain(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def append(i: int) -> int:
        return store.append_audit(_entry(i)).seq

    with ThreadPoolExecutor(16) as pool:
        seqs = list(pool.map(append, range(400)))
    assert sorted(seqs) == list(range(1, 401))  # each record got its own place
    report = store.verify_audit_chain()
    assert report.ok and report.records == 400
    actors = sorted(r.entry.actor for r in store.audit_records())
    assert actors == sorted(f"user{i}" for i in range(400))


def _append_from_another_process(home: Path, url: str, first: int, count: int) -> None:
    with open_store(Settings(home=home, database_url=url), migrate=False) as store:
        for i in range(first, first + count):
            store.append_audit(_entry(i))


def test_records_appended_from_several_processes_form_one_unbroken_chain(
    store: Store, tmp_path: Path
) -> None:
    """`edubrain serve` runs several worker processes, each with its own store connection
    (and the CLI may append beside them): the chain must not fork between processes."""
    import multiprocessing

    url = store.engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    workers = [
        spawn.Process(target=_append_from_another_process, args=(tmp_path, url, 1000 * k, 150))
        for k in range(1, 4)
    ]
    for w in workers:
        w.start()
    for i in range(150):  # this process appends at the same time
        store.append_audit(_entry(i))
    for w in workers:
        w.join(timeout=120)
        assert w.exitcode == 0
    report = store.verify_audit_chain()
    assert report.ok and report.records == 600 and report.head_seq == 600
    actors = {r.entry.actor for r in store.audit_records()}
    assert len(actors) == 600  # nothing lost, nothing written twice


def test_the_service_checkpoints_sqlite_in_the_background(tmp_path: Path) -> None:
    """No commit (an audit append that requests wait for) copies the log into the database
    file; a thread of the store does, every second."""
    settings = Settings(home=tmp_path)
    database = settings.workspace.store
    with open_store(settings, checkpoint_in_background=True) as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        before = database.stat().st_size
        for i in range(3000):  # ~3 MB of audit records, in the log first
            store.append_audit(_entry(i))
        for _ in range(50):
            if database.stat().st_size > before + 1_000_000:
                break
            time.sleep(0.1)
        grown = database.stat().st_size - before
        assert store.verify_audit_chain().ok
    assert grown > 1_000_000


def test_a_chain_written_before_units_verifies_after_migration_0003(
    backend: str, make_settings: Callable[..., Settings]
) -> None:
    """Records written at revision 0002 (no unit) keep their hashes; records after it hash
    their unit; a unit changed afterwards breaks the chain like any other field."""
    from alembic import command
    from alembic.config import Config

    from edubrain.service.policy import Scope, ScopeLevel, operational_scope
    from edubrain.service.store import MIGRATIONS

    settings = make_settings(backend)
    with open_store(settings, migrate=False) as store:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0002")
        prev = "0" * 64
        with store.engine.begin() as conn:
            for seq in (1, 2):
                entry = _entry(seq)
                digest = chain_hash(prev, entry, seq)
                old = {k: v for k, v in entry.__dict__.items() if not k.startswith("unit_")}
                row = {"seq": seq, "prev_hash": prev, "hash": digest, **old}
                conn.execute(sa.table("audit_log", *map(sa.column, row)).insert().values(row))
                prev = digest
            conn.execute(sa.text(f"INSERT INTO audit_head VALUES (1, 2, '{prev}')"))
        store.migrate()
        new = AuditEntry(**{**_entry(3).__dict__, "unit_school": None, "unit_region": "339901"})
        store.append_audit(new)
        assert store.verify_audit_chain().ok
        county = operational_scope(Scope(ScopeLevel.COUNTY, "339901"), {"3133010001": "339902"})
        assert [r.seq for r in store.audit_records(units=county)] == [3]  # old: no unit
        _without_guards(store, "UPDATE audit_log SET unit_region = '339902' WHERE seq = 3")
        assert store.verify_audit_chain().broken_seq == 3
