"""Rejected rows coming back: a 下载被拒绝的行 workbook, fixed in Excel and uploaded again.

The download masks what the reader may not see (a data officer sees 学籍号 and 身份证件号 as
`G******************`), so a row fixed for its date would come back with its identifiers
masked and be refused again. Each downloaded row therefore carries a reference (隔离编号:
`<load id>.<row number>.<check>`); on the way back, a cell that still holds the mask — it
contains `*` and is as long as the cell it came from — takes the original value from the
quarantined row again. Cells the officer changed are kept as typed. Nobody reads the original
value in the process: it goes from the warehouse back into the warehouse.

The check is a digest of the quarantined row as the warehouse stores it (sealed), so a
reference cannot be made up for a row one has not downloaded: a changed or foreign reference
restores nothing, and the row is checked as it stands.

A returned workbook is known by its sheet name (`SHEET`), which Excel keeps when it saves, so
spotting one costs a look at the workbook's sheet list, not a read of any file's rows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import python_calamine

from edubrain.ingest.discover import FileSpec
from edubrain.ingest.quarantine_views import REF_HEADER
from edubrain.ingest.readers import RawTable, ReadBounds, read_chunks
from edubrain.warehouse import QUARANTINE_TABLE

if TYPE_CHECKING:
    from edubrain.sealing import Sealer
    from edubrain.warehouse import Warehouse

SHEET = "被拒绝的行"
"""The sheet name of a 下载被拒绝的行 workbook."""
MASK = "*"
_REF = re.compile(r"^(?P<load>[0-9A-Za-z-]{1,64})\.(?P<row>\d{1,9})\.(?P<check>[0-9a-f]{12})$")


def row_ref(load_id: str, row_number: int, raw: str | None) -> str:
    """The 隔离编号 of a quarantined row: its load and row, and a digest of its stored text."""
    check = hashlib.sha256(f"{load_id}\n{row_number}\n{raw or ''}".encode()).hexdigest()[:12]
    return f"{load_id}.{row_number}.{check}"


def _parse(ref: str) -> tuple[str, int] | None:
    m = _REF.fullmatch(ref.strip())
    return (m["load"], int(m["row"])) if m else None


def is_returned_workbook(path: Path) -> bool:
    """True for an .xlsx/.xls whose first sheet is the download's (`SHEET`)."""
    if path.suffix.lower() not in (".xlsx", ".xls"):
        return False
    try:
        names = python_calamine.CalamineWorkbook.from_path(str(path)).sheet_names
    except Exception:  # noqa: BLE001 — not a workbook we can read: the reader will say why
        return False
    return bool(names) and names[0] == SHEET


@dataclass(frozen=True)
class ReturnedRows:
    """The original cells of the rows a returned workbook names, by 隔离编号."""

    originals: Mapping[str, Mapping[str, Any]]

    def restore(self, raw: RawTable) -> tuple[RawTable, int]:
        """`raw` with masked cells of referenced rows given their original values back, and
        how many rows got a value back."""
        if REF_HEADER not in raw.header:
            return raw, 0
        refs = raw.table.column(REF_HEADER).to_pylist()
        columns = {name: raw.table.column(name).to_pylist() for name in raw.table.column_names}
        changed: dict[int, dict[str, Any]] = {}
        for i, ref in enumerate(refs):
            original = self.originals.get(str(ref or "").strip())
            if not original:
                continue
            for name in raw.header:
                value = columns[name][i]
                before = original.get(name)
                if _still_masked(value, before):
                    columns[name][i] = str(before)
                    changed.setdefault(i, {})[name] = str(before)
        if not changed:
            return raw, 0
        table = pa.table(
            [pa.array(columns[n], raw.table.schema.field(n).type) for n in raw.table.column_names],
            names=raw.table.column_names,
        )
        source_json = raw.raw_json

        def raw_json(indices: npt.NDArray[np.int64]) -> list[str]:
            texts = source_json(indices)
            out = []
            for index, text in zip(indices, texts, strict=True):
                cells = changed.get(int(index))
                out.append(_with_cells(text, cells) if cells else text)
            return out

        return replace(raw, table=table, raw_json=raw_json), len(changed)


def _still_masked(value: Any, before: Any) -> bool:
    if not isinstance(value, str) or MASK not in value or before is None:
        return False
    return len(value) == len(str(before))


def _with_cells(text: str, cells: Mapping[str, Any]) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if not isinstance(value, dict):
        return text
    value.update(cells)
    return json.dumps(value, ensure_ascii=False)


def _refs(spec: FileSpec, bounds: ReadBounds) -> list[str]:
    refs: list[str] = []
    for raw in read_chunks(spec, bounds):
        if REF_HEADER not in raw.header:
            return []
        refs.extend(str(r) for r in raw.table.column(REF_HEADER).to_pylist() if r)
    return refs


def returned_rows(
    specs: Sequence[FileSpec],
    warehouse: Warehouse,
    sealer: Sealer | None,
    bounds: ReadBounds,
) -> dict[Path, ReturnedRows]:
    """For each of `specs` (returned workbooks, `is_returned_workbook`): the original cells of
    the rows it names (their check verified, sealed values opened)."""
    found: dict[Path, ReturnedRows] = {}
    for spec in specs:
        try:
            refs = _refs(spec, bounds)
        except Exception:  # noqa: BLE001 — the ingest itself reads it and reports the error
            continue
        found[spec.path] = ReturnedRows(_originals(refs, warehouse, sealer))
    return found


def _originals(
    refs: Iterable[str], warehouse: Warehouse, sealer: Sealer | None
) -> dict[str, Mapping[str, Any]]:
    wanted: dict[tuple[str, int], str] = {}
    for given in refs:
        parsed = _parse(given)
        if parsed is not None:
            wanted[parsed] = given.strip()
    if not wanted or not warehouse.has_table(QUARANTINE_TABLE):
        return {}
    t = warehouse.table(QUARANTINE_TABLE)
    loads = sorted({load for load, _ in wanted})
    rows = (
        t.filter(t.load_id.isin(loads) & t.row_number.isin(sorted({r for _, r in wanted})))
        .select("load_id", "row_number", "raw")
        .distinct()
        .to_pyarrow()
        .to_pylist()
    )
    out: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        key = (row["load_id"], int(row["row_number"]))
        ref = wanted.get(key)
        if ref is None or row_ref(key[0], key[1], row["raw"]) != ref:
            continue
        text = row["raw"] or ""
        opened = sealer.open_text(text) if sealer is not None else text
        try:
            cells = json.loads(opened)
        except ValueError:
            continue
        if isinstance(cells, dict):
            out[ref] = {str(k): v for k, v in cells.items() if not str(k).startswith("__")}
    return out
