"""Indicator values as a time series in the warehouse, with the provenance of every run.

`indicator_value`: one row per indicator × grain × unit × 学段 × run; never updated, so
every value ever published stays readable. `indicator_run`: per run, the school year, when,
on which backend, every definition's version and every input table's load versions.
The latest value of an indicator for a year is the one of its latest run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from edubrain.warehouse import Transaction, Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir

VALUES_TABLE = "indicator_value"
RUNS_TABLE = "indicator_run"

VALUE_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("indicator_id", pa.string()),
        pa.field("definition_version", pa.int64()),
        pa.field("school_year", pa.string()),
        pa.field("grain", pa.string()),
        pa.field("unit_code", pa.string()),
        pa.field("unit_name", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("units", pa.int64()),
        pa.field("numerator", pa.float64()),
        pa.field("denominator", pa.float64()),
        pa.field("value", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("threshold_op", pa.string()),
        pa.field("meets", pa.bool_()),
        pa.field("computed_at", pa.timestamp("us")),
    ]
)

RUN_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string()),
        pa.field("school_year", pa.string()),
        pa.field("computed_at", pa.timestamp("us")),
        pa.field("backend", pa.string()),
        pa.field("indicators", pa.int64()),
        pa.field("values", pa.int64()),
        pa.field("seconds", pa.float64()),
        pa.field("definitions", pa.string()),  # JSON {indicator id: version}
        pa.field("inputs", pa.string()),  # JSON {table: {rows, loads, last_load_id, ...}}
        pa.field("skipped", pa.string()),  # JSON {indicator id: reason}
    ]
)


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    school_year: str
    computed_at: datetime
    backend: str
    indicators: int
    values: int
    seconds: float
    definitions: dict[str, int]
    inputs: dict[str, dict[str, Any]]
    skipped: dict[str, str]

    def as_row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "school_year": self.school_year,
            "computed_at": self.computed_at,
            "backend": self.backend,
            "indicators": self.indicators,
            "values": self.values,
            "seconds": self.seconds,
            "definitions": json.dumps(self.definitions, sort_keys=True),
            "inputs": json.dumps(self.inputs, sort_keys=True, ensure_ascii=False, default=str),
            "skipped": json.dumps(self.skipped, sort_keys=True, ensure_ascii=False),
        }


def write_run(tx: Transaction, run: RunRecord, values: Sequence[dict[str, Any]]) -> None:
    tx.append_rows(VALUES_TABLE, pa.Table.from_pylist(list(values), schema=VALUE_SCHEMA))
    tx.append_rows(RUNS_TABLE, pa.Table.from_pylist([run.as_row()], schema=RUN_SCHEMA))


def has_values(wh: Warehouse) -> bool:
    return wh.has_table(VALUES_TABLE) and wh.has_table(RUNS_TABLE)


def latest_values_expr(wh: Warehouse) -> ir.Table:
    """Each indicator's values from its latest run per school year."""
    return latest_of(wh.table(VALUES_TABLE))


def latest_of(values: ir.Table) -> ir.Table:
    """The rows of `values` (an `indicator_value` table) from each indicator's latest run."""
    newest = values.computed_at.max().over(group_by=[values.school_year, values.indicator_id])
    return values.filter(values.computed_at == newest)


def latest_values(
    wh: Warehouse,
    *,
    school_year: str | None = None,
    grain: str | None = None,
    indicator_ids: Sequence[str] | None = None,
    unit_code: str | None = None,
) -> list[dict[str, Any]]:
    if not has_values(wh):
        return []
    t = latest_values_expr(wh)
    if school_year:
        t = t.filter(t.school_year == school_year)
    if grain:
        t = t.filter(t.grain == grain)
    if indicator_ids:
        t = t.filter(t.indicator_id.isin(list(indicator_ids)))
    if unit_code:
        t = t.filter(t.unit_code == unit_code)
    t = t.order_by(["school_year", "indicator_id", "grain", "unit_code", "stage"])
    rows: list[dict[str, Any]] = t.to_pyarrow().to_pylist()
    return rows


def stored_years(wh: Warehouse) -> list[str]:
    if not has_values(wh):
        return []
    t = wh.table(RUNS_TABLE)
    years = t.select("school_year").distinct().to_pyarrow().column("school_year").to_pylist()
    return sorted(years)


def run_record(wh: Warehouse, run_id: str) -> RunRecord | None:
    if not has_values(wh):
        return None
    t = wh.table(RUNS_TABLE)
    rows = t.filter(t.run_id == run_id).to_pyarrow().to_pylist()
    if not rows:
        return None
    r = rows[0]
    return RunRecord(
        run_id=r["run_id"],
        school_year=r["school_year"],
        computed_at=r["computed_at"],
        backend=r["backend"],
        indicators=r["indicators"],
        values=r["values"],
        seconds=r["seconds"],
        definitions=json.loads(r["definitions"]),
        inputs=json.loads(r["inputs"]),
        skipped=json.loads(r["skipped"]),
    )
