"""What an indicator's base is built from: the warehouse tables of one school year.

`Inputs` reads the tables, builds each intermediate table once per run and knows the units
(schools, counties, cities) every base table is grouped by; it knows no domain. The families
declared by the domain modules build their bases from it, each with its own conventions
(the module's `indicators`).

* A school's county is its `region_code`; its city is that county's `parent_code` in the
  region table (the county itself when the region table does not know it). The school and
  region tables are the unit registry's (`standard.entities.unit_registry`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ibis

from edubrain.govern.quality import UNKNOWN_SCHOOL
from edubrain.standard.entities import unit_registry
from edubrain.warehouse.api import Tables

if TYPE_CHECKING:
    import ibis.expr.types as ir


class Inputs:
    """The warehouse tables of one school year, with shared intermediate tables built once."""

    def __init__(
        self,
        tables: Tables,
        school_year: str,
        *,
        interop_resolver: ir.Table | None = None,
        quality_rows: list[dict[str, Any]] | None = None,
        cache: bool = True,
    ) -> None:
        self.cache = cache
        self.tables = tables
        self.school_year = school_year
        self.interop_resolver = interop_resolver
        self.quality_rows = quality_rows
        self._memo: dict[str, ir.Table] = {}
        self._scalars: dict[str, str | None] = {}

    def table(self, name: str) -> ir.Table:
        return self.once(f"table:{name}", lambda: self.tables.table(name))

    def has_table(self, name: str) -> bool:
        """Whether the warehouse holds `name` (a derived table a job writes may be absent)."""
        found = getattr(self.tables, "has_table", None)
        return bool(callable(found) and found(name))

    def derived(self, name: str, columns: dict[str, str]) -> ir.Table:
        """A job's derived table, or an empty stand-in with `columns` (name → type) while the
        job has not run, so that its indicators compute to no values instead of failing. The
        stand-in must not be cached: Spark cannot cache a plan over an unregistered in-memory
        table (`once(..., cache=self.has_table(name))`)."""
        if self.has_table(name):
            return self.table(name)
        return ibis.memtable({k: [] for k in columns}, schema=ibis.schema(columns))

    def once(self, key: str, build: Callable[[], ir.Table], *, cache: bool = False) -> ir.Table:
        """Build a table once per run; `cache` materialises it on the backend (a temp table on
        DuckDB, a cached DataFrame on Spark) so that the indicators reading it compile small
        queries and do not recompute it. A module's keys start with its name."""
        if key not in self._memo:
            table = build()
            self._memo[key] = table.cache() if cache and self.cache else table
        return self._memo[key]

    def shared(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """A base several indicators group (built once and cached)."""
        return self.once(f"shared:{key}", build, cache=True)

    def release(self) -> None:
        """Drop the cached tables of this run."""
        for table in self._memo.values():
            release = getattr(table, "release", None)
            if callable(release):
                release()
        self._memo.clear()

    # -- units -------------------------------------------------------------------------------
    def schools(self) -> ir.Table:
        """school_code, school_name, stage, urban_rural, county_code, city_code."""

        def build() -> ir.Table:
            units = unit_registry()
            s = self.table(units.school_entity)
            r = self.table(units.region_entity)
            parents = r.select(_region=r.region_code, _parent=r.parent_code)
            j = s.left_join(parents, s.region_code == parents._region)
            return j.select(
                school_code=j.school_code,
                school_name=j.name,
                stage=j.stages,
                urban_rural=j.urban_rural,
                county_code=j.region_code,
                city_code=j._parent.fill_null(j.region_code),
            )

        return self.once("schools", build, cache=True)

    def attach_school(self, t: ir.Table, *, stage_from_school: bool = True) -> ir.Table:
        """`t` (with school_code) plus the school's unit columns; unknown schools are dropped."""
        s = self.schools()
        j = t.inner_join(s, t.school_code == s.school_code)
        columns = {c: j[c] for c in t.columns}
        extra = {c: j[c] for c in s.columns if c not in t.columns}
        if not stage_from_school:
            extra.pop("stage", None)
        return j.select(**columns, **extra)

    # -- data (governance) ---------------------------------------------------------------------
    def interop(self) -> ir.Table:
        """数据互通率 counts per source × entity × school (govern.scorecard.interop_rates)."""

        def build() -> ir.Table:
            from edubrain.govern.scorecard import interop_rates

            rates = interop_rates(self.tables, resolver=self.interop_resolver)
            return self._attach_or_unknown(rates.select("school_code", "records", "resolved"))

        return self.once("interop", build, cache=True)

    def quality(self) -> ir.Table:
        """Quality scorecard units (records, passed) per school, from govern.scorecard."""

        def build() -> ir.Table:
            rows = [
                {
                    "school_code": r["school_code"],
                    "records": float(r["records"]),
                    "passed": float(r["passed"]),
                }
                for r in self.quality_rows or []
            ]
            schema = {"school_code": "string", "records": "float64", "passed": "float64"}
            memo = (
                ibis.memtable(rows, schema=schema)
                if rows
                else ibis.memtable({k: [] for k in schema}, schema=schema)
            )
            return self._attach_or_unknown(memo)

        # Not cached: a few rows, and Spark cannot cache a plan that reads an unregistered
        # in-memory table.
        return self.once("quality", build)

    def _attach_or_unknown(self, t: ir.Table) -> ir.Table:
        """Like attach_school, but records of no known school stay: in the region's only
        county and city, or under UNKNOWN_SCHOOL."""
        s = self.schools().rename(_s_school="school_code")
        j = t.left_join(s, t.school_code == s._s_school)
        return j.select(
            *t.columns,
            stage=j.stage.fill_null(""),
            county_code=j.county_code.fill_null(self._only("county_code") or UNKNOWN_SCHOOL),
            city_code=j.city_code.fill_null(self._only("city_code") or UNKNOWN_SCHOOL),
            school_name=j.school_name.fill_null(UNKNOWN_SCHOOL),
        )

    def _only(self, column: str) -> str | None:
        """The one county (or city) of every school, if there is just one: records of no
        known school then count there; with several they stay under UNKNOWN_SCHOOL."""
        if column not in self._scalars:
            s = self.schools()
            codes = s.select(column).distinct().limit(2).to_pyarrow().column(column).to_pylist()
            self._scalars[column] = codes[0] if len(codes) == 1 else None
        return self._scalars[column]
