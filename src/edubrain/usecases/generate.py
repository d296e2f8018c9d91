"""Write a synthetic county or city: source exports with faults, plus the ground truth."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from edubrain.sources.generator import GenerationSummary, GeneratorError, generate_region
from edubrain.usecases.progress import Note

__all__ = ["GenerationSummary", "files_by_folder", "generate"]


def generate(
    out: Path,
    *,
    students: int = 60_000,
    seed: int = 20251,
    force: bool = False,
    progress: Note | None = None,
) -> GenerationSummary:
    """Generate into `out`, which must be an empty folder (or not exist) unless `force`."""
    if out.exists() and not out.is_dir():
        raise GeneratorError(f"{out} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise GeneratorError(f"{out} is not empty; use --force to write into it anyway")
    return generate_region(out, students=students, seed=seed, progress=progress)


def files_by_folder(summary: GenerationSummary) -> dict[str, tuple[int, int]]:
    """Files and data rows per folder: exports/<source>, standard, truth, map."""
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for path, rows in summary.files.items():
        parts = path.split("/")
        key = f"{parts[0]}/{parts[1]}" if parts[0] == "exports" else parts[0]
        by_kind[key][0] += 1
        by_kind[key][1] += rows
    return {key: (n, rows) for key, (n, rows) in by_kind.items()}
