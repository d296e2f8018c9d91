"""`edubrain generate`: write a synthetic county or city (exports, truth, fault manifest)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
    files = Table(title=f"{summary.students} students, {summary.counties} county/counties → {out}")
    files.add_column("folder")
    files.add_column("files", justify="right")
    files.add_column("rows", justify="right")
    for key, (n, rows) in sorted(files_by_folder(summary).items()):
        files.add_row(key, str(n), f"{rows:,}")
    console.print(files)
    truth = Table(title="truth rows per entity")
    truth.add_column("entity")
    truth.add_column("rows", justify="right")
    for name, rows in summary.entities.items():
        truth.add_row(name, f"{rows:,}")
    console.print(truth)
    faults = Table(title="injected faults")
    faults.add_column("fault")
    faults.add_column("rows", justify="right")
    for kind, n in summary.faults.items():
        faults.add_row(kind, f"{n:,}")
    console.print(faults)
    console.print(f"done in {summary.seconds:.1f} s")
