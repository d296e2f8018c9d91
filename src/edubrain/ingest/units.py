"""The units an ingested file belongs to: the schools and regions it names (decision 0012).

The service shows a load, its quarantined rows and what was derived from them only to a scope
that covers every unit the load names; a quarantined row that names a known school belongs to
that school alone. Recorded with the load, in the same transaction (`LOAD_UNITS_TABLE`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.ingest.discover import FileSpec
from edubrain.ingest.normalise import Column
from edubrain.ingest.records import Records
from edubrain.standard.entities import Entity, entity, person_registry, unit_registry
from edubrain.warehouse import LOAD_UNITS_SCHEMA, Warehouse

_SCHOOL_CODE = re.compile(r"\d{10}")


def _distinct(values: pa.Array | pa.ChunkedArray) -> set[str]:
    return {str(v) for v in pc.unique(values).to_pylist() if v}


def _known_schools(wh: Warehouse, codes: set[str]) -> set[str]:
    schools = unit_registry().school_entity
    if not codes or not wh.has_table(schools):
        return set()
    t = wh.table(schools)
    found = t.filter(t.school_code.isin(sorted(codes))).school_code.to_pyarrow()
    return _distinct(found)


class PupilSchools:
    """The school of each pupil of the registry, for the files that name pupils by 学籍号 only
    (fitness, health, scores …): read from the warehouse once and kept for the files after it,
    instead of joining the whole registry again for every chunk. `forget` after the registry
    changed (the ingest calls it after writing a registry file)."""

    def __init__(self) -> None:
        self._numbers: pa.Array | None = None
        self._schools: pa.Array | None = None

    def forget(self) -> None:
        self._numbers = self._schools = None

    def _read(self, wh: Warehouse) -> tuple[pa.Array, pa.Array]:
        if self._numbers is None or self._schools is None:
            registry = person_registry().entity
            if wh.has_table(registry):
                t = wh.table(registry).select("student_number", "school_code").to_pyarrow()
                numbers = t.column("student_number").combine_chunks()
                schools = pc.dictionary_encode(t.column("school_code").combine_chunks())
            else:
                numbers, schools = pa.array([], pa.string()), pa.array([], pa.string())
            self._numbers, self._schools = numbers, schools
        return self._numbers, self._schools

    def of(self, wh: Warehouse, numbers: pa.Array | pa.ChunkedArray) -> set[str]:
        """The schools of the registry's pupils among `numbers`."""
        wanted = pc.unique(numbers)
        if not len(wanted):
            return set()
        registry_numbers, schools = self._read(wh)
        named = pc.is_in(registry_numbers, value_set=wanted)
        return _distinct(pc.filter(schools, named).cast(pa.string()))


def by_pupils_last(specs: list[FileSpec]) -> list[FileSpec]:
    """The files in their order, except that files naming pupils by 学籍号 only (fitness,
    health, scores, homework, attendance, guardians) come after the others: their unit is the
    pupils' schools, read from the 学籍 already loaded."""

    def by_number_only(spec: FileSpec) -> bool:
        names = set(entity(spec.entity).field_names)
        return "student_number" in names and "school_code" not in names

    return sorted(specs, key=by_number_only)


def load_units(
    load_id: str,
    ent: Entity,
    rows: pa.Table,
    columns: Mapping[str, Column],
    records: Records,
    quarantined: pa.Table,
    wh: Warehouse,
    pupils: PupilSchools | None = None,
) -> pa.Table:
    """LOAD_UNITS_SCHEMA rows of one load: the schools and regions it names, and the known
    school of each quarantined row that names one. `pupils` keeps the registry's schools
    between calls."""
    names = set(ent.field_names)
    schools: set[str] = set()
    regions: set[str] = set()
    if "school_code" in names:
        schools |= _distinct(rows.column("school_code"))
    elif "student_number" in names:
        schools |= (pupils or PupilSchools()).of(wh, rows.column("student_number"))
    if ent.name == unit_registry().region_entity:
        regions |= _distinct(rows.column("region_code"))
    per_row: dict[int, str] = {}
    if "school_code" in columns and quarantined.num_rows:
        typed = columns["school_code"].typed.to_pylist()
        wanted = set(quarantined.column("row_number").to_pylist())
        for index in np.flatnonzero(np.isin(records.row_number, list(wanted))):
            code = typed[index]
            if code and _SCHOOL_CODE.fullmatch(str(code)):
                per_row.setdefault(int(records.row_number[index]), str(code))
        known = schools | _known_schools(wh, set(per_row.values()) - schools)
        per_row = {n: code for n, code in per_row.items() if code in known}
        schools |= set(per_row.values())
    out: list[dict[str, object]] = [
        {"load_id": load_id, "row_number": None, "school_code": s, "region_code": None}
        for s in sorted(schools)
    ]
    out += [
        {"load_id": load_id, "row_number": None, "school_code": None, "region_code": r}
        for r in sorted(regions)
    ]
    if not out:  # the file names no unit: only a scope over the whole workspace sees it
        out.append(
            {"load_id": load_id, "row_number": None, "school_code": None, "region_code": None}
        )
    out += [
        {"load_id": load_id, "row_number": n, "school_code": code, "region_code": None}
        for n, code in sorted(per_row.items())
    ]
    return pa.Table.from_pylist(out, schema=LOAD_UNITS_SCHEMA)
