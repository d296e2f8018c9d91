"""The module's command: `edubrain library-loans` counts the loans in the warehouse."""

from __future__ import annotations

from typing import Annotated

import typer

from edubrain.settings import load_settings
from edubrain.warehouse import open_warehouse


def commands(app: typer.Typer) -> None:
    @app.command("library-loans")
    def library_loans(
        school: Annotated[str | None, typer.Option(help="Only this 学校标识码.")] = None,
    ) -> None:
        """图书借阅: how many loans the warehouse holds (per school with --school)."""
        with open_warehouse(load_settings(), read_only=True) as wh:
            t = wh.table("library_loan")
            if school is not None:
                t = t.filter(t.school_code == school)
            typer.echo(f"图书借阅 {t.count().execute()} 条")
