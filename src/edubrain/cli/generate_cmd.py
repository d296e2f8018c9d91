"""`edubrain generate`: write a synthetic county or city (exports, truth, fault manifest)."""

from __future__ import annotations

from collections import defaultdict
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

    from edubrain.sources.generator import GeneratorError, generate_region

    if out.exists() and not out.is_dir():
        raise GeneratorError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise GeneratorError(f"{out} is not empty; use --force to write into it anyway")
    err = Console(stderr=True)
    summary = generate_region(
        out, students=students, seed=seed, progress=lambda m: err.print(f"[dim]{m}[/]")
    )

    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, rows in summary.files.items():
        parts = path.split("/")
        key = f"{parts[0]}/{parts[1]}" if parts[0] == "exports" else parts[0]
        by_kind[key][0] += 1
        by_kind[key][1] += rows
    console = Console()
    files = Table(title=f"{summary.students} students, {summary.counties} county/counties → {out}")
    files.add_column("folder")
    files.add_column("files", justify="right")
    files.add_column("rows", justify="right")
    for key, (n, rows) in sorted(by_kind.items()):
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
