"""`edubrain keys`: the data key that seals ID numbers and G 学籍号 at rest (核心数据加密)."""

from __future__ import annotations

import getpass
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

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
from edubrain.settings import load_settings
from edubrain.warehouse import open_warehouse

keys_app = typer.Typer(
    help="The data key sealing ID numbers and G 学籍号 at rest (核心数据加密): show, rotate.",
    no_args_is_help=True,
)


@keys_app.command("show")
def keys_show() -> None:
    """Where the data key file is, the key id it holds, and whether it opens the warehouse."""
    settings = load_settings()
    if not settings.seal_core_fields:
        typer.echo("sealing is switched off (EDUBRAIN_SEAL_CORE_FIELDS=false)")
        return
    provider = key_provider(settings.data_key_path, settings.home)
    ids = [k.key_id for k in provider.keys]
    typer.echo(f"key file {provider.path}: current key {ids[0]}")
    if len(ids) > 1:
        typer.echo(f"an interrupted rotation still holds {', '.join(ids[1:])}: rerun rotate")
    with open_warehouse(settings, read_only=True) as wh:
        if wh.has_table(KEY_CHECK_TABLE):
            check_key(wh, Sealer(provider), write=False)
            typer.echo("the warehouse opens under this key file")
        else:
            typer.echo("the warehouse holds nothing sealed yet")


@keys_app.command("rotate")
def keys_rotate(
    by: Annotated[str, typer.Option("--by", help="Who rotates (for the audit trail).")] = "",
) -> None:
    """Seal every stored ID number and G 学籍号 under a new key, then forget the old one.

    The warehouse is rewritten in one transaction, then the operational store in one (its audit
    chain recomputed); the key file holds both keys until both are done, so an interrupted
    rotation is finished by running this again. The service must be stopped (it holds the
    warehouse). Values left in clear by an older version are sealed on the way.
    """
    settings = load_settings()
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
        typer.echo(f"rotating from key {old.key_id} to {new.key_id} ({provider.path})")
    else:
        new, old = keys[0], keys[1]
        typer.echo(f"finishing the interrupted rotation to key {new.key_id}")
    sealer = Sealer(provider)  # seals under the new key, opens under both

    def progress(where: str) -> Callable[[str, int], None]:
        def report(table: str, values: int) -> None:
            if values:
                typer.echo(f"  {where} {table}: {values:,} values re-sealed", err=True)

        return report

    with open_warehouse(settings) as wh:
        if wh.has_table(KEY_CHECK_TABLE):
            check_key(wh, sealer, write=False)  # the key file opens what is stored
        in_warehouse = wh.rewrite_strings(
            RESEAL_CANDIDATES, sealer.rewrite_column, progress("warehouse")
        )
        write_key_check(wh, sealer)  # a warehouse written in clear has none yet
    with open_store(settings) as store:
        in_store = reseal_store(store, sealer, progress("store"))
        store.append_audit(
            AuditEntry(
                occurred_at=datetime.now(UTC).isoformat(timespec="microseconds"),
                actor=by or getpass.getuser(),
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
    typer.echo(
        f"rotated to key {new.key_id}: {in_warehouse:,} warehouse and {in_store:,} store "
        f"values re-sealed in {time.perf_counter() - started:.1f} s; key {old.key_id} removed"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
