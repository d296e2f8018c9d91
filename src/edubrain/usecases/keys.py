"""The data key that seals ID numbers and G 学籍号 at rest (核心数据加密): status and rotation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from edubrain.sealing import (
    KEY_CHECK_TABLE,
    RESEAL_CANDIDATES,
    DataKey,
    Sealer,
    SealingError,
    check_key,
    key_provider,
    write_key_check,
)
from edubrain.service.resealing import reseal_store
from edubrain.service.store import AuditEntry, open_store
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


@dataclass(frozen=True)
class KeyFile:
    path: Path
    key_ids: list[str]
    """The current key first; more than one means a rotation was interrupted."""


def key_file(settings: Settings) -> KeyFile | None:
    """Where the data key file is and the key ids it holds; None when sealing is off."""
    if not settings.seal_core_fields:
        return None
    provider = key_provider(settings.data_key_path, settings.home)
    return KeyFile(provider.path, [k.key_id for k in provider.keys])


def warehouse_opens(settings: Settings) -> bool:
    """True when the key file opens what the warehouse holds sealed, False when it holds
    nothing sealed yet; a wrong key file raises."""
    provider = key_provider(settings.data_key_path, settings.home)
    with open_warehouse(settings, read_only=True) as wh:
        if not wh.has_table(KEY_CHECK_TABLE):
            return False
        check_key(wh, Sealer(provider), write=False)
        return True


class RotationProgress(Protocol):
    def started(self, old: str, new: str, path: Path, *, resuming: bool) -> None:
        """The rotation from key `old` to `new` begins, or an interrupted one resumes."""

    def resealed(self, where: str, table: str, values: int) -> None:
        """`values` values of `table` in the warehouse or the store were re-sealed."""


@dataclass(frozen=True)
class Rotation:
    old_key: str
    new_key: str
    warehouse_values: int
    store_values: int
    seconds: float


def rotate_key(settings: Settings, *, by: str, progress: RotationProgress) -> Rotation:
    """Seal every stored ID number and G 学籍号 under a new key, then forget the old one.

    The warehouse is rewritten in one transaction, then the operational store in one (its audit
    chain recomputed); the key file holds both keys until both are done, so an interrupted
    rotation is finished by running this again. The service must be stopped (it holds the
    warehouse). Values left in clear by an older version are sealed on the way. `by` is who
    rotates, for the audit trail.
    """
    if not settings.seal_core_fields:
        raise SealingError("sealing is switched off (EDUBRAIN_SEAL_CORE_FIELDS=false)")
    started = time.perf_counter()
    provider = key_provider(settings.data_key_path, settings.home)
    keys = provider.keys
    if len(keys) == 1:
        old = keys[0]
        new = DataKey.new()
        while new.key_id == old.key_id:  # ids are 30 bits: make rotation's choice unambiguous
            new = DataKey.new()
        provider.write([new, old])
        progress.started(old.key_id, new.key_id, provider.path, resuming=False)
    else:
        new, old = keys[0], keys[1]
        progress.started(old.key_id, new.key_id, provider.path, resuming=True)
    sealer = Sealer(provider)  # seals under the new key, opens under both

    def report(where: str) -> Callable[[str, int], None]:
        return lambda table, values: progress.resealed(where, table, values)

    with open_warehouse(settings) as wh:
        if wh.has_table(KEY_CHECK_TABLE):
            check_key(wh, sealer, write=False)  # the key file opens what is stored
        in_warehouse = wh.rewrite_strings(
            RESEAL_CANDIDATES, sealer.rewrite_column, report("warehouse")
        )
        write_key_check(wh, sealer)  # a warehouse written in clear has none yet
    with open_store(settings) as store:
        in_store = reseal_store(store, sealer, report("store"))
        store.append_audit(
            AuditEntry(
                occurred_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                actor=by,
                role="-",
                scope="-",
                action="rotate",
                resource="data_key",
                record_ids=json.dumps([old.key_id, new.key_id]),
                query=json.dumps({"warehouse_values": in_warehouse, "store_values": in_store}),
                purpose="data key rotation (edubrain keys rotate)",
                outcome="ok",
                request_id=uuid.uuid4().hex,
                client_ip="-",
            )
        )
    provider.write([new])  # nothing is left under the old key: forget it
    return Rotation(old.key_id, new.key_id, in_warehouse, in_store, time.perf_counter() - started)
