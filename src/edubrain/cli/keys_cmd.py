"""`edubrain keys`: the data key that seals ID numbers and G 学籍号 at rest (核心数据加密)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.settings import load_settings
from edubrain.usecases import keys as usecase

keys_app = typer.Typer(
    help="The data key sealing ID numbers and G 学籍号 at rest (核心数据加密): show, rotate.",
    no_args_is_help=True,
)


@keys_app.command("show")
def keys_show() -> None:
    """Where the data key file is, the key id it holds, and whether it opens the warehouse."""
    settings = load_settings()
    found = usecase.key_file(settings)
    if found is None:
        typer.echo(say("sealing is switched off (EDUBRAIN_SEAL_CORE_FIELDS=false)"))
        return
    ids = found.key_ids
    typer.echo(say("key file {path}: current key {key}", path=found.path, key=ids[0]))
    if len(ids) > 1:
        typer.echo(say("an interrupted rotation still holds {keys}: rerun rotate",
                       keys=", ".join(ids[1:])))  # fmt: skip
    if usecase.warehouse_opens(settings):
        typer.echo(say("the warehouse opens under this key file"))
    else:
        typer.echo(say("the warehouse holds nothing sealed yet"))


class _Echo:
    """Prints the rotation's progress: its start on stdout, each table re-sealed on stderr."""

    def started(self, old: str, new: str, path: Path, *, resuming: bool) -> None:
        if resuming:
            typer.echo(say("finishing the interrupted rotation to key {new}", new=new))
        else:
            typer.echo(
                say("rotating from key {old} to {new} ({path})", old=old, new=new, path=path)
            )

    def resealed(self, where: str, table: str, values: int) -> None:
        if values:
            typer.echo(say("  {where} {table}: {values:,} values re-sealed", where=say(where),
                           table=table, values=values), err=True)  # fmt: skip


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
    done = usecase.rotate_key(load_settings(), by=by or getpass.getuser(), progress=_Echo())
    typer.echo(
        say(
            "rotated to key {new}: {warehouse:,} warehouse and {store:,} store values re-sealed "
            "in {seconds:.1f} s; key {old} removed",
            new=done.new_key,
            warehouse=done.warehouse_values,
            store=done.store_values,
            seconds=done.seconds,
            old=done.old_key,
        )
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
