"""Re-sealing the operational store under a new data key, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import BACKENDS, NOW, add_user
from edubrain.sealing import DataKey, FileKeyProvider, Sealer
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.resealing import reseal_store
from edubrain.service.store import AuditEntry, Store
from edubrain.standard.identifiers import id_check_char

pytestmark = pytest.mark.parametrize("backend", BACKENDS)


def _number(serial: int) -> str:
    body = f"33010220150307{serial:03d}"
    return "G" + body + id_check_char(body)


def _texts(store: Store) -> str:
    reflected = sa.MetaData()
    reflected.reflect(store.engine)
    out = []
    with store.engine.connect() as conn:
        for table in reflected.sorted_tables:
            for row in conn.execute(sa.select(table)):
                out.extend(str(v) for v in row if isinstance(v, str))
    return "\n".join(out)


def test_every_sealed_value_is_resealed_and_the_chain_still_holds(
    store: Store, tmp_path: Path
) -> None:
    provider = FileKeyProvider(tmp_path / "keys" / "data.key")
    old = Sealer(provider)
    pupils = [old.seal_student_number(_number(i)) for i in (1, 2)]
    add_user(store, "parent.a", Role.PARENT, Scope(ScopeLevel.SELF, ";".join(pupils)), "-")
    store.record_steward_decision(
        f"student|{pupils[0]}", f"item_score|{pupils[1]}", "same", by="s", note="", at=NOW
    )
    clear = _number(3)  # left in clear by an older version: sealed on the way
    for i, ids in enumerate(([pupils[0]], [pupils[1], clear], ["school-1"])):
        store.append_audit(
            AuditEntry(
                occurred_at=f"2026-03-0{i + 1}T00:00:00+00:00",
                actor="parent.a",
                role="parent",
                scope="self:" + ";".join(pupils),
                action="read",
                resource="student",
                record_ids=json.dumps(ids),
                query="{}",
                purpose="",
                outcome="ok",
                request_id=f"r{i}",
                client_ip="-",
            )
        )
    assert store.verify_audit_chain().ok

    new_key = DataKey.new()
    provider.write([new_key, old.keys.current()])
    new = Sealer(provider)
    changed = reseal_store(store, new)
    provider.write([new_key])

    assert changed > 0
    texts = _texts(store)
    assert f"~1{old.key_id}" not in texts and clear not in texts
    assert f"~1{new.key_id}" in texts
    report = store.verify_audit_chain()
    assert report.ok and report.records == 3, report
    sealed = [new.seal_student_number(_number(i)) for i in (1, 2, 3)]
    assert [r.entry.request_id for r in store.audit_records(record_id=sealed[1])] == ["r1"]
    assert [r.entry.request_id for r in store.audit_records(record_id=sealed[2])] == ["r1"]
    (user,) = [u for u in store.list_users() if u.username == "parent.a"]
    assert user.scope_key == ";".join(sealed[:2])
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET actor = 'x'"))
