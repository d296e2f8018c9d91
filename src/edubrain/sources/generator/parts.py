"""A module's generator part: the piece of the synthetic region that writes its domain's data.

The generator knows no domain. Each module declares a `GeneratorPart` (`Module.generator`);
`generate_region` collects the parts of the installed modules and, for every county, calls
their `county` functions in registry order (a part listed in another's `after` first). A part
reads what earlier parts left in `CountyDraw.shared` (the roster leaves its world there) and
puts its rows in `tables` (rendered into each source's exports through the mappings, with
faults, and kept in the truth), `sheets` (wide score sheets, one export file each) or `truth`
(rows no source exports: the truth only, and `standard/` when the part lists the entity in
`standard`). After the counties, each part's `region` function writes its region-level files.

Randomness: a county has numbered random streams spawned from its seed. A part draws only
from the streams it lists in `streams` (`CountyDraw.stream` refuses others); the numbers are
part of the seed contract (the same seed gives the same bytes), so a new part takes a number
no part uses. Parts that share a stream draw from it in call order. Stream `FAULT_STREAM` is
the generator's own: each export's faults are drawn from it in turn, source by source, so a
new module's export changes the faults of the exports whose source sorts after its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edubrain.sources.generator.columns import Table
from edubrain.sources.generator.faults import EntityFaults
from edubrain.sources.generator.plan import County
from edubrain.sources.generator.render import ExportLook, Wide

FAULT_STREAM = 9  # the stream the faults of a county's exports are drawn from


@dataclass
class WideSheet:
    """One wide export file (a row per person, a column per key), e.g. a score sheet."""

    suffix: str  # the file name's part that stands for '*' in the export's glob
    rows: Table
    wide: Wide


@dataclass
class CountyDraw:
    """One county as the parts fill it in."""

    out: Path
    county: County
    n_counties: int
    streams: Sequence[np.random.Generator]  # all of the county's; a part asks `stream(i)`
    shared: dict[str, Any] = field(default_factory=dict)  # what a part leaves for later parts
    tables: dict[str, Table] = field(default_factory=dict)  # entity → rows for its exports
    sheets: dict[str, list[WideSheet]] = field(default_factory=dict)  # entity → wide files
    truth: dict[str, Table] = field(default_factory=dict)  # entity → rows no source exports
    drawing: NamedPart | None = None  # the part being called (set by the generator)

    def stream(self, number: int) -> np.random.Generator:
        """The county's stream `number`, which the part being called must declare."""
        if self.drawing is not None and number not in self.drawing.part.streams:
            raise ValueError(
                f"the generator part of {self.drawing.module} draws from stream {number}, "
                f"which it does not declare (it declares {self.drawing.part.streams})"
            )
        return self.streams[number]


@dataclass
class RegionDraw:
    """The region after its counties: parts write region-level files and count them."""

    out: Path
    counties: list[County]
    files: dict[str, int]  # path under OUT → data rows
    entities: dict[str, int]  # truth rows per entity (for the entities in `own_truth`)


@dataclass(frozen=True)
class GeneratorPart:
    """What a module adds to the synthetic region (see the module docstring)."""

    county: Callable[[CountyDraw], None] | None = None
    region: Callable[[RegionDraw], None] | None = None
    streams: tuple[int, ...] = ()  # the county streams it draws from (never FAULT_STREAM)
    after: tuple[str, ...] = ()  # modules whose parts must run first, when installed
    standard: tuple[str, ...] = ()  # entities no source exports: their truth is copied to standard/
    own_truth: tuple[str, ...] = ()  # entities whose truth files its `region` writes
    folders: tuple[str, ...] = ()  # folders under OUT it writes (replaced, like exports/)
    readme: str = ""  # its bullet(s) of the truth README's folder list
    faults: tuple[EntityFaults, ...] = ()  # its entities' faults, where not the default
    looks: tuple[ExportLook, ...] = ()  # how its entities' exports are printed, beyond mappings


@dataclass(frozen=True)
class NamedPart:
    """A part with the name of the module that declares it."""

    module: str
    part: GeneratorPart


def call_order(parts: Sequence[NamedPart]) -> list[NamedPart]:
    """Registry order, except that a part comes after the installed parts in its `after`."""
    names = {p.module for p in parts}
    done: list[NamedPart] = []
    placed: set[str] = set()
    waiting = list(parts)
    while waiting:
        for p in waiting:
            if all(a in placed or a not in names for a in p.part.after):
                done.append(p)
                placed.add(p.module)
                waiting.remove(p)
                break
        else:
            cycle = ", ".join(p.module for p in waiting)
            raise ValueError(f"the generator parts of {cycle} wait for each other")
    return done


def stream_count(parts: Sequence[NamedPart]) -> int:
    """How many streams a county spawns: one past the highest number in use."""
    for p in parts:
        if FAULT_STREAM in p.part.streams:
            raise ValueError(f"{p.module}: stream {FAULT_STREAM} is the faults' own")
    return 1 + max([FAULT_STREAM, *(s for p in parts for s in p.part.streams)])
