"""`edubrain generate`: write a synthetic county or city (exports, truth, fault manifest)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.cli.render import entity_label


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)


def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write into (must be empty).")],
    students: Annotated[
        int, typer.Option("--students", min=200, help="Number of students.")
    ] = 60_000,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed: same seed, same bytes.")
    ] = 20251,
    force: Annotated[bool, typer.Option("--force", help="Write into a non-empty folder.")] = False,
) -> None:
    """Generate a synthetic region: source exports with faults, plus the ground truth."""
    from rich.console import Console
    from rich.table import Table

    from edubrain.usecases.generate import files_by_folder
    from edubrain.usecases.generate import generate as run_generate

    err = Console(stderr=True)
    summary = run_generate(
        out, students=students, seed=seed, force=force, progress=lambda m: err.print(f"[dim]{m}[/]")
    )

    console = Console()
    title = say(
        "{students} students, {counties} county/counties → {out}",
        students=summary.students,
        counties=summary.counties,
        out=out,
    )
    files = Table(title=title)
    files.add_column(say("folder"))
    files.add_column(say("files"), justify="right")
    files.add_column(say("rows"), justify="right")
    for key, (n, rows) in sorted(files_by_folder(summary).items()):
        files.add_row(key, str(n), f"{rows:,}")
    console.print(files)
    truth = Table(title=say("truth rows per entity"))
    truth.add_column(say("entity"))
    truth.add_column(say("rows"), justify="right")
    for name, rows in summary.entities.items():
        truth.add_row(entity_label(name), f"{rows:,}")
    console.print(truth)
    faults = Table(title=say("injected faults"))
    faults.add_column(say("fault"))
    faults.add_column(say("rows"), justify="right")
    for kind, n in summary.faults.items():
        faults.add_row(kind, f"{n:,}")
    console.print(faults)
    console.print(say("done in {seconds:.1f} s", seconds=summary.seconds))
