"""Re-sealing the operational store under a new data key (`edubrain keys rotate`).

The store keeps sealed 学籍号 wherever people's work names a pupil: self scopes (`users`,
`export_requests`), the audit trail's scopes, record keys and queries, steward decisions'
mention keys. Every text column of every table is rewritten in one transaction: each token not
under the current key is opened and sealed again, and ID numbers still in clear (an older
store) are sealed. The audit chain hashes the text it holds, so after its records are rewritten
the chain is computed again from the first record; it is verified first, so a chain that was
already broken is reported, never silently re-blessed. The triggers that keep `audit_log`
append-only are lifted inside that transaction only, and are back when it commits.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from edubrain.errors import EdubrainError
from edubrain.sealing import Sealer
from edubrain.service.store import (
    _AUDIT_ENTRY_FIELDS,
    GENESIS_HASH,
    AuditEntry,
    Store,
    audit_head,
    audit_log,
    chain_hash,
)


class ResealError(EdubrainError):
    """The operational store cannot be re-sealed as it is (a broken audit chain)."""


def _candidates(column: sa.Column[str], dialect: str) -> sa.ColumnElement[bool]:
    """Values that may hold a token or an ID number in clear (the rest are skipped in SQL)."""
    token = column.like("%~1%")
    if dialect == "postgresql":
        return sa.or_(token, column.regexp_match(r"[0-9]{17}"))
    if dialect == "sqlite":
        return sa.or_(token, column.op("GLOB")("*" + "[0-9]" * 17 + "*"))
    return sa.literal(True)


def reseal_store(
    store: Store, sealer: Sealer, progress: Callable[[str, int], None] | None = None
) -> int:
    """Every sealed value in the store under `sealer`'s current key; returns values changed."""
    report = store.verify_audit_chain()
    if not report.ok:
        raise ResealError(
            f"the audit chain is broken at record {report.broken_seq} ({report.problem}); "
            "nothing was re-sealed"
        )
    reflected = sa.MetaData()
    reflected.reflect(store.engine)
    changed_total = 0
    audit_changed = False
    with store.engine.begin() as conn:
        _lift_append_only(conn, store.dialect)
        for table in reflected.sorted_tables:
            changed = 0
            for column in table.columns:
                if not isinstance(column.type, sa.String) or column.name == "alembic_version":
                    continue
                olds = [
                    value
                    for (value,) in conn.execute(
                        sa.select(column).distinct().where(_candidates(column, store.dialect))
                    )
                    if isinstance(value, str)
                ]
                pairs = [(old, sealer.reseal_text(sealer.seal_valid_ids(old))) for old in olds]
                pairs = [(old, new) for old, new in pairs if new != old]
                if not pairs:
                    continue
                conn.execute(
                    table.update()
                    .where(column == sa.bindparam("old_value"))
                    .values({column.name: sa.bindparam("new_value")}),
                    [{"old_value": old, "new_value": new} for old, new in pairs],
                )
                changed += len(pairs)
            if table.name == audit_log.name and changed:
                audit_changed = True
            changed_total += changed
            if progress is not None:
                progress(table.name, changed)
        if audit_changed:
            _rechain(conn)
        _restore_append_only(conn, store.dialect)
    return changed_total


# The guards of migration 0001 (audit_log refuses UPDATE); lifted and restored in one transaction.
_SQLITE_UPDATE_GUARD = (
    "CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)


def _lift_append_only(conn: sa.Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only_update")
    elif dialect == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def _restore_append_only(conn: sa.Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql(_SQLITE_UPDATE_GUARD)
    elif dialect == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def _rechain(conn: sa.Connection, batch: int = 5000) -> None:
    """Compute every audit record's hash again, in order, and move the head to the last."""
    prev_hash, after, seq = GENESIS_HASH, 0, 0
    while True:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
            .limit(batch)
        ).all()  # fmt: skip
        if not rows:
            break
        updates = []
        for row in rows:
            entry = AuditEntry(**{name: getattr(row, name) for name in _AUDIT_ENTRY_FIELDS})
            seq = int(row.seq)
            digest = chain_hash(prev_hash, entry, seq)
            updates.append({"seq_value": seq, "prev_value": prev_hash, "hash_value": digest})
            prev_hash = digest
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == sa.bindparam("seq_value"))
            .values(prev_hash=sa.bindparam("prev_value"), hash=sa.bindparam("hash_value")),
            updates,
        )
        after = seq
    conn.execute(
        audit_head.update().where(audit_head.c.head_id == 1).values(seq=seq, hash=prev_hash)
    )
