"""`generate_region`: a whole synthetic region — exports, standard files, truth and fault manifest.

Counties are generated independently from their own random streams (spawned from the seed),
so a city run can use several processes and still give the same bytes for the same seed.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edubrain import installed
from edubrain.errors import InvalidInputError
from edubrain.sources.generator.columns import STR, Table, length, truth_columns
from edubrain.sources.generator.faults import (
    EXPECTED_REASON,
    EntityFaults,
    FaultRates,
    apply_rejects,
    apply_variants,
)
from edubrain.sources.generator.outline import write_outline
from edubrain.sources.generator.parts import (
    FAULT_STREAM,
    CountyDraw,
    GeneratorPart,
    NamedPart,
    RegionDraw,
    call_order,
    stream_count,
)
from edubrain.sources.generator.plan import County, plan_counties
from edubrain.sources.generator.render import ExportLook, Wide, csv_lines, render, write_sheet
from edubrain.sources.mapping import Export, builtin_mappings
from edubrain.standard.entities import entities as standard_entities
from edubrain.standard.entities import entity

FAULT_COLUMNS = ("file", "row", "field", "item", "fault", "expected_reason", "detail")
MENTION_COLUMNS = ("file", "row", "true_student_number")


class GeneratorError(InvalidInputError):
    """The synthetic region cannot be generated as asked (bad size, unusable folder)."""


@dataclass
class GenerationSummary:
    out: Path
    students: int
    counties: int
    seconds: float = 0.0
    files: dict[str, int] = field(default_factory=dict)  # path under OUT → data rows
    entities: dict[str, int] = field(default_factory=dict)  # truth rows per entity
    faults: dict[str, int] = field(default_factory=dict)  # faults per kind


@dataclass
class _CountyResult:
    files: dict[str, int]
    entities: Counter[str]
    faults: list[tuple[str, int, str, str, str, str, str]]
    mentions: list[tuple[str, int, str]]


def generate_region(
    out: Path,
    *,
    students: int = 60_000,
    seed: int = 20251,
    progress: Callable[[str], None] | None = None,
    fault_rates: FaultRates | None = None,
    workers: int | None = None,
) -> GenerationSummary:
    """Generate a synthetic county (or a city of counties) into `out`.

    Writes OUT/exports/<source>/…, OUT/standard/…, OUT/truth/… (see truth/README.md), the
    folders the installed modules' generator parts declare (the diagnosis module's
    knowledge/) and OUT/map/outline.geojson (a synthetic outline per county). Those folders
    and that file under `out` are replaced; nothing else is touched. What is generated is
    the installed modules' parts (`generator_parts`), called county by county.
    """
    if students < 200:
        raise GeneratorError(f"--students must be at least 200 (got {students})")
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    rates = fault_rates or FaultRates()
    out = Path(out)
    parts_in_order = call_order(generator_parts())
    own_folders = [f for p in parts_in_order for f in p.part.folders]
    for sub in ("exports", "standard", "truth", *own_folders):
        shutil.rmtree(out / sub, ignore_errors=True)
    parts = out / "truth" / ".parts"
    parts.mkdir(parents=True, exist_ok=True)
    (out / "standard").mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(seed)
    counties = plan_counties(students, rng)
    streams = rng.spawn(len(counties))
    say(f"{students} students in {len(counties)} count{'y' if len(counties) == 1 else 'ies'}")
    n_workers = min(workers or os.cpu_count() or 1, len(counties))
    jobs = [
        (out, c, s, rates, len(counties), parts_in_order)
        for c, s in zip(counties, streams, strict=True)
    ]
    results: list[_CountyResult] = []
    if n_workers > 1:
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(n_workers, mp_context=ctx) as pool:
            for c, r in zip(counties, pool.map(_county_job, jobs), strict=True):
                say(f"county {c.code} {c.name}: {c.students} students done")
                results.append(r)
    else:
        for job in jobs:
            results.append(_county_job(job))
            say(f"county {job[1].code} {job[1].name}: {job[1].students} students done")

    summary = GenerationSummary(out, students, len(counties))
    for r in results:
        summary.files.update(r.files)
    truth_rows: Counter[str] = Counter()
    for r in results:
        truth_rows.update(r.entities)
    say("merging truth files")
    own_truth = {name for p in parts_in_order for name in p.part.own_truth}
    region = RegionDraw(out, counties, summary.files, dict(truth_rows))
    for p in parts_in_order:
        if p.part.region is not None:
            p.part.region(region)
    for ent in standard_entities():
        if ent.name not in own_truth:
            _merge_parts(out, ent.name, counties)
        summary.entities[ent.name] = region.entities.get(ent.name, 0)
    for name in (name for p in parts_in_order for name in p.part.standard):
        shutil.copyfile(out / "truth" / f"{name}.csv", out / "standard" / f"{name}.csv")
        summary.files[f"standard/{name}.csv"] = summary.entities[name]
    shutil.rmtree(parts, ignore_errors=True)

    faults = sorted((f for r in results for f in r.faults), key=lambda f: (f[0], f[1]))
    _write_table(out / "truth" / "faults.csv", FAULT_COLUMNS, [[str(x) for x in f] for f in faults])
    mentions = sorted((m for r in results for m in r.mentions), key=lambda m: (m[0], m[1]))
    _write_table(
        out / "truth" / "person_mentions.csv",
        MENTION_COLUMNS,
        [[str(x) for x in m] for m in mentions],
    )
    summary.faults = dict(sorted(Counter(f[4] for f in faults).items()))
    (out / "truth" / "README.md").write_text(
        _readme(summary, rates, [p.part for p in parts_in_order]), encoding="utf-8"
    )
    write_outline(out, counties, seed)
    summary.seconds = time.perf_counter() - started
    return summary


def generator_parts() -> list[NamedPart]:
    """The generator parts of the installed modules, in registry order."""
    found: list[NamedPart] = []
    for module in installed.modules():
        part = getattr(module, "generator", None)
        if isinstance(part, GeneratorPart):
            found.append(NamedPart(module.name, part))
    return found


# ---- one county -------------------------------------------------------------------------


def _county_job(
    job: tuple[Path, County, np.random.Generator, FaultRates, int, list[NamedPart]],
) -> _CountyResult:
    out, county, rng, rates, n_counties, parts = job
    # The numbered streams: a part draws from its own (see `parts`), the faults from theirs.
    streams = rng.spawn(stream_count(parts))
    draw = CountyDraw(out, county, n_counties, streams)
    for p in parts:
        if p.part.county is not None:
            draw.drawing = p
            p.part.county(draw)
    draw.drawing = None

    profiles = {f.entity: f for p in parts for f in p.part.faults}
    looks = {look.entity: look for p in parts for look in p.part.looks}
    emitter = _Emitter(out, county, rates, streams[FAULT_STREAM], profiles, looks)
    for source, mapping in sorted(builtin_mappings().items()):
        done: set[str] = set()
        for export in mapping.exports:
            if export.entity in done:
                continue
            done.add(export.entity)
            if export.entity in draw.sheets:
                for sheet in draw.sheets[export.entity]:
                    emitter.emit(source, export, sheet.rows, sheet.suffix, sheet.wide)
            elif export.entity in draw.tables:
                emitter.emit(source, export, draw.tables[export.entity], county.code)
    for name, table in draw.truth.items():
        emitter.write_truth(name, table)
    return _CountyResult(emitter.files, emitter.entities, emitter.faults, emitter.mentions)


def export_file_name(export: Export, suffix: str) -> str:
    """A file name matching the export's first glob, with '*' standing for `suffix`."""
    pattern = export.files[0]
    head, _, tail = pattern.partition("*")
    name = f"{head}{'' if head.endswith('_') else '_'}{suffix}{tail}" if "*" in pattern else pattern
    if not export.matches(name):
        raise GeneratorError(f"generated file name {name!r} does not match {export.files}")
    return name


class _Emitter:
    """Renders, corrupts and writes one county's exports and collects what the truth keeps."""

    def __init__(
        self,
        out: Path,
        county: County,
        rates: FaultRates,
        rng: np.random.Generator,
        profiles: dict[str, EntityFaults],
        looks: dict[str, ExportLook],
    ) -> None:
        self.out = out
        self.profiles = profiles
        self.looks = looks
        self.county = county
        self.rates = rates
        self.rng = rng
        self.files: dict[str, int] = {}
        self.entities: Counter[str] = Counter()
        self.faults: list[tuple[str, int, str, str, str, str, str]] = []
        self.mentions: list[tuple[str, int, str]] = []

    def emit(
        self, source: str, export: Export, table: Table, suffix: str, wide: Wide | None = None
    ) -> None:
        name = export_file_name(export, suffix)
        rel = f"exports/{source}/{name}"
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = self.rng.spawn(1)[0]
        table = {k: v.copy() for k, v in table.items()}
        n = length(table)
        used = np.zeros(n, dtype=bool)
        profile = self.profiles.get(export.entity, EntityFaults(export.entity))
        variants = (
            []
            if wide
            else apply_variants(export, table, rng, self.rates, used, self.county.code, profile)
        )
        look = self.looks.get(export.entity)
        salt = int(rng.integers(2**32))
        sheet = render(export, f"{source}/{export.name}", table, salt, wide, look)
        injected = apply_rejects(export, sheet, rng, self.rates, used, profile)
        dups = np.array(sorted(injected.duplicates), dtype=np.int64)
        pos = np.arange(n) + np.searchsorted(dups, np.arange(n), side="left")
        order = np.sort(np.concatenate([np.arange(n), dups]), kind="stable")
        sheet.utf8_rows = {int(pos[i]) for i in sheet.utf8_rows}
        write_sheet(path, export, sheet, order)
        self.files[rel] = int(order.size)
        first_row = 1 if export.format == "jsonl" else 2  # as a spreadsheet numbers rows
        for f in [*variants, *injected.faults]:
            row = int(pos[f.row]) + first_row + int(f.duplicate)
            self.faults.append(
                (rel, row, f.field, f.item, f.kind, EXPECTED_REASON[f.kind], f.detail)
            )
            if f.true_student_number:
                self.mentions.append((rel, row, f.true_student_number))

        keep = np.ones(n, dtype=bool)
        keep[list(injected.rejected_rows)] = False
        if wide is None:
            self.write_truth(export.entity, {k: v[keep] for k, v in table.items()})
            return
        cells = np.repeat(keep[:, None], len(wide.keys), axis=1)
        col_of = {str(k): j for j, k in enumerate(wide.keys)}
        for r, item in injected.rejected_cells:
            cells[r, col_of[item]] = False
        rows, cols = np.nonzero(cells)
        unpivot = export.unpivot
        if unpivot is None:
            raise GeneratorError(f"{rel}: a wide sheet for an export without `unpivot`")
        # One truth row per accepted (row, item): the row's own fields, the item's key and value.
        long: Table = {
            f.name: table[f.name][rows]
            for f in entity(export.entity).fields
            if f.name in table and f.name not in (unpivot.key, unpivot.value)
        }
        long[unpivot.key] = np.array(wide.keys, dtype=np.float64)[cols]
        long[unpivot.value] = wide.values[rows, cols]
        self.write_truth(export.entity, long)

    def write_truth(self, name: str, table: Table) -> None:
        n = length(table)
        self.entities[name] += n
        path = self.out / "truth" / ".parts" / name / f"{self.county.code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if n == 0:
            path.touch()
            return
        cols = truth_columns(entity(name), table)
        with path.open("ab") as fh:
            for lo in range(0, n, 1_000_000):
                lines = csv_lines([c[lo : lo + 1_000_000] for c in cols])
                fh.write(("\n".join(lines) + "\n").encode("utf-8"))


# ---- region-level files -----------------------------------------------------------------


def _merge_parts(out: Path, name: str, counties: list[County]) -> None:
    header = ",".join(entity(name).field_names) + "\n"
    with (out / "truth" / f"{name}.csv").open("wb") as fh:
        fh.write(header.encode("utf-8"))
        for c in counties:
            part = out / "truth" / ".parts" / name / f"{c.code}.csv"
            if part.exists():
                with part.open("rb") as src:
                    shutil.copyfileobj(src, fh, 16 * 1024 * 1024)


def _write_table(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if rows:
        cols = [np.array([r[j] for r in rows], dtype=STR) for j in range(len(header))]
        body = "\n".join(csv_lines(cols)) + "\n"
    else:
        body = ""
    path.write_bytes((",".join(header) + "\n" + body).encode("utf-8"))


def write_table(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    """A small CSV file (UTF-8, header) from rows of strings."""
    _write_table(path, header, rows)


def _readme(summary: GenerationSummary, rates: FaultRates, parts: list[GeneratorPart]) -> str:
    standard = ", ".join(f"`{name}.csv`" for p in parts for name in p.standard)
    own = "".join(p.readme for p in parts)
    kinds = "\n".join(
        f"| `{k}` | {('`' + v + '`') if v else 'accepted'} | {getattr(rates, k)} |"
        for k, v in EXPECTED_REASON.items()
    )
    return f"""# Synthetic region: ground truth

Generated by `edubrain generate` ({summary.students} students, {summary.counties} county/counties).
All people are synthetic: names from common characters, ID numbers with a random sequence and a
correct check digit. Nothing here describes a real person.

## Folders

* `exports/<source>/` — what each source system exports, in its own layout (see
  `edubrain/modules/<module>/mappings/<source>.yaml`): encodings, Chinese headers, local code
  spellings, dates in several hands, one file per county (file names end with the county code;
  exam score sheets with the exam id). These files contain the injected faults.
* `standard/` — standard-format files (UTF-8, header = standard field names) for entities no
  source system exports: {standard}.
* `truth/<entity>.csv` — for every entity of the standard, exactly what a perfect ingestion of
  `exports/` and `standard/` holds: every accepted row, normalised (codes, ISO dates
  `YYYY-MM-DD`, datetimes `YYYY-MM-DDTHH:MM:SS`, booleans `true`/`false`, numbers after
  `scale`, full-width digits made half-width), in file order, and none of the rejected rows.
  Decimals are written with the precision the export has; a number that went through a
  `scale` (万元 → 元, % → ratio, seconds → minutes) should be compared with a relative
  tolerance of 1e-9, as binary floating point may differ in the last bit.
* `truth/faults.csv` — every injected fault: `file` (path under this folder), `row` (the row
  number as a spreadsheet shows it, the header being row 1; for jsonl the line), `field`
  (standard field; `score` for an item column of a wide score sheet, with the item number in
  `item`), `fault`, `expected_reason`
  (the reason code ingestion must give; empty = the row must be accepted) and `detail`. At most
  one fault per source row. A reject fault in an item column of a score sheet rejects only that
  item's row; a fault in any other column rejects the whole source row (all its items).
  `duplicate_row` marks the copy, which follows the original row.
* `truth/person_mentions.csv` — rows of secondary systems (体测, 体检, 作业) whose written 学籍号
  is not the student's current one (an old temporary L number): `true_student_number` is who
  the row is about. The truth files keep the number as written.
{own}
## Fault kinds

| fault | expected reason | rate (share of rows) |
|---|---|---|
{kinds}

Identity variants (`name_homophone`, `name_typo`, `birth_date_day_month_swapped`, `id_missing`,
`student_number_variant`) are accepted, and the truth holds the value as the source wrote it.
"""
