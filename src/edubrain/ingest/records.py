"""Shape a raw table into records: one string array per standard field, one record per row.

Wide exports (`unpivot`) yield one record per (source row, item column), item-major: record
`j * rows + r` is item column j of source row r. Every record remembers its source row, so the
quarantine can show the row number and the raw row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from edubrain.errors import UnreadableFileError
from edubrain.ingest.discover import FileSpec, rule, standard_rules
from edubrain.ingest.readers import RawTable
from edubrain.sources.mapping import ColumnRule
from edubrain.standard.entities import Entity


@dataclass(frozen=True)
class Records:
    values: dict[str, pa.Array]
    """Field → raw string values of the mapped fields (unmapped fields are absent)."""
    rules: dict[str, ColumnRule]
    """Field → the rule that produced it (for transforms and messages)."""
    source_row: npt.NDArray[np.int64]
    """Record → row index in the raw table."""
    row_number: npt.NDArray[np.int64]
    """Record → the source row's number as the file shows it (see `RawTable.row_numbers`)."""

    @property
    def num_records(self) -> int:
        return len(self.source_row)


def _column(raw: RawTable, name: str) -> pa.Array:
    return raw.table.column(name).combine_chunks()


def _missing_columns_error(spec: FileSpec, missing: list[str], raw: RawTable) -> None:
    aliases = {r.source: r.aliases for r in (spec.columns or {}).values() if r.source}
    shown = ", ".join(f"{m}（或 {'/'.join(aliases[m])}）" if aliases.get(m) else m for m in missing)
    hint = ""
    if len(missing) == len({r.source for r in (spec.columns or {}).values() if r.source}):
        hint = "（一个都没有：文件不对？编码不对？）"
    where = f"（第 {raw.layout.header_row} 行）" if raw.layout is not None else ""
    raise UnreadableFileError(
        spec.path,
        f"表头{where}缺少必需列 {shown}{hint}；现有列："
        + ", ".join(raw.header[:12])
        + (" …" if len(raw.header) > 12 else "")
        + f" (its header lacks required column(s) {', '.join(missing)}; a mapping rule may list"
        " other names of a column under `aliases`)",
    )


def resolve_synonyms(rules: dict[str, ColumnRule], header: list[str]) -> dict[str, ColumnRule]:
    """`rules` reading, for each column absent under its `from` name, the first of its
    `aliases` the header has (a renamed header: 学生姓名 for 姓名)."""
    present = set(header)
    resolved = dict(rules)
    for name, r in rules.items():
        if r.source is None or r.source in present or not r.aliases:
            continue
        found = next((a for a in r.aliases if a in present), None)
        if found is not None:
            resolved[name] = r.model_copy(update={"source": found})
    return resolved


@dataclass(frozen=True)
class ColumnUse:
    """How a file's header meets its mapping."""

    renamed: dict[str, str]
    """Header in the file → the mapping's name for it, where a synonym was used."""
    extra: list[str]
    """Headers no rule reads: kept in the quarantine's raw rows, not loaded; the report names
    them so nothing disappears unnoticed."""


def column_use(spec: FileSpec, ent: Entity, header: list[str]) -> ColumnUse:
    if spec.columns is None:
        return ColumnUse({}, [h for h in header if h not in ent.field_names])
    resolved = resolve_synonyms(spec.columns, header)
    renamed = {
        r.source: spec.columns[name].source or ""
        for name, r in resolved.items()
        if r.source is not None and r.source != spec.columns[name].source
    }
    read = {r.source for r in resolved.values() if r.source is not None}
    items = re.compile(spec.unpivot.columns) if spec.unpivot else None
    extra = [h for h in header if h not in read and h.strip() and not (items and items.search(h))]
    return ColumnUse(renamed, extra)


def to_records(raw: RawTable, spec: FileSpec, ent: Entity) -> Records:
    """Select and (for wide exports) unpivot the mapped columns; refuse headers that lack
    the source column of a required field."""
    rules = (
        resolve_synonyms(spec.columns, raw.header)
        if spec.columns is not None
        else standard_rules(ent.name, raw.header)
    )
    present = set(raw.header)
    produced = set(rules) | ({spec.unpivot.key, spec.unpivot.value} if spec.unpivot else set())
    missing = sorted(
        {
            (rules[f.name].source or f.name) if f.name in rules else f.name
            for f in ent.fields
            if f.required
            and (f.name not in produced or (f.name in rules and _lacks(rules[f.name], present)))
        }
    )
    if missing:
        _missing_columns_error(spec, missing, raw)
    # Optional fields whose column is absent are simply not mapped (NULL in the standard).
    rules = {name: rule for name, rule in rules.items() if not _lacks(rule, present)}

    n_rows = raw.num_rows
    if spec.unpivot is None:
        source_row = np.arange(n_rows, dtype=np.int64)
        values = {name: _value_column(raw, rule, n_rows) for name, rule in rules.items()}
        return Records(
            values,
            rules,
            source_row,
            raw.row_numbers.copy(),
        )

    pattern = re.compile(spec.unpivot.columns)
    items = [(h, m.group(1)) for h in raw.header if (m := pattern.search(h))]
    if not items:
        raise UnreadableFileError(
            spec.path, f"has no item columns matching {spec.unpivot.columns!r} in its header"
        )
    n_items = len(items)
    source_row = np.tile(np.arange(n_rows, dtype=np.int64), n_items)
    values = {
        name: _value_column(raw, rule, n_rows).take(pa.array(source_row))
        for name, rule in rules.items()
    }
    values[spec.unpivot.key] = pa.array(np.repeat([key for _, key in items], n_rows), pa.string())
    values[spec.unpivot.value] = pa.concat_arrays([_column(raw, h) for h, _ in items])
    rules = {
        **rules,
        spec.unpivot.key: rule(spec.unpivot.columns),
        spec.unpivot.value: rule(spec.unpivot.columns),
    }
    return Records(values, rules, source_row, raw.row_numbers[source_row])


def _lacks(rule: ColumnRule, present: set[str]) -> bool:
    return rule.source is not None and rule.source not in present


def _value_column(raw: RawTable, rule: ColumnRule, n_rows: int) -> pa.Array:
    if rule.source is not None:
        return _column(raw, rule.source)
    return pa.array(np.full(n_rows, rule.const, dtype=object), pa.string())
