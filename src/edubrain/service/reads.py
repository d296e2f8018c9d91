"""Warehouse reads for the API: scoped inside the query, masked on the way out, paged by cursor.

Every personal record the API returns leaves the warehouse through `ScopedReader.page` or
`ScopedReader.one`: the caller's scope is an Ibis filter of the query itself (never
fetch-then-filter), and `masking.present` shapes each record for the caller's role.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from edubrain.errors import EdubrainError, InvalidInputError
from edubrain.service.masking import in_clear, key_in_clear, present
from edubrain.service.policy import Actor, Scope, clearance, scope_predicate
from edubrain.service.sealed_refs import SealedRefs
from edubrain.standard.entities import DataClass, entity, unit_registry
from edubrain.warehouse import PreparedRead, Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from edubrain.sealing import Sealer

MAX_PAGE = 500
_SHOWN = 1 << 16  # masked records kept per process (about 1.5 KB each: ~100 MB)


class BadCursorError(InvalidInputError):
    """A paging cursor that this API did not hand out."""


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursorError(f"not a cursor from this API: {cursor!r}") from None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]  # as the caller may see them
    next_cursor: str | None
    keys: list[str]  # the records' keys in clear, for the audit trail
    total: int = 0  # records in scope with these filters, on every page


class _Kept:
    """Results kept in memory, least recently used dropped first within a byte budget."""

    def __init__(self, budget: int) -> None:
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._held = 0
        self.budget = budget

    def get(self, key: Hashable) -> Any:
        found = self._items.get(key)
        if found is None:
            return None
        self._items.move_to_end(key)
        return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if key in self._items or size > self.budget:
            return
        self._items[key] = (value, size)
        self._held += size
        while self._held > self.budget:
            _, (_, dropped) = self._items.popitem(last=False)
            self._held -= dropped


@dataclass(frozen=True)
class SortedRows:
    """A query's rows in key order: the keys always; the rows too when they fit the budget."""

    keys: np.ndarray
    rows: pa.Table | None


class WarehouseReader:
    """The service's access to the warehouse.

    Query shapes a request repeats with new values (a cursor, a record key) are compiled once
    and run on the calling thread's own cursor. Their results are kept in memory within
    `cache_bytes`: the service opens the warehouse read-only and nothing can write it while the
    service holds it, so a result stays true. Anything else is compiled and run per call on the
    shared connection, one at a time.
    """

    def __init__(
        self,
        wh: Warehouse,
        *,
        shapes: int = 1024,
        cache_bytes: int = 512 << 20,
        sealer: Sealer | None = None,
    ) -> None:
        self._wh = wh
        # Opens ID numbers and G 学籍号 sealed at rest, for the roles cleared to read them.
        self.sealer = sealer
        self._lock = threading.RLock()
        self._tables: dict[str, ir.Table] = {}
        self._prepared_reads: OrderedDict[Hashable, PreparedRead] = OrderedDict()
        self._shapes = shapes
        self._present: set[str] = set()
        self._kept = _Kept(cache_bytes)
        self._schools: dict[str, str] | None = None

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def warehouse(self) -> Warehouse:
        return self._wh

    def table(self, name: str) -> ir.Table:
        # Table expressions (and their schemas) are looked up once: nothing writes the
        # warehouse while the service holds it. The look-up runs a query on the shared
        # connection, so it takes the lock like every other (a new version's reader is asked
        # for its first tables by several requests at once).
        found = self._tables.get(name)
        if found is None:
            with self._lock:
                found = self._tables.get(name)
                if found is None:
                    found = self._tables[name] = self._wh.table(name)
        return found

    def has_table(self, name: str) -> bool:
        # A table, once there, stays (nothing drops tables while the service holds the file).
        if name in self._present:
            return True
        with self._lock:
            if self._wh.has_table(name):
                self._present.add(name)
                return True
        return False

    def rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        with self._lock:
            result: pa.Table = expr.to_pyarrow()
        rows: list[dict[str, Any]] = result.to_pylist()
        return rows

    def _prepared(
        self, shape: Hashable, build: Callable[[], tuple[ir.Table, Mapping[str, ir.Scalar]]]
    ) -> PreparedRead:
        with self._lock:
            prepared = self._prepared_reads.get(shape)
            if prepared is None:
                expr, params = build()
                prepared = self._prepared_reads[shape] = self._wh.prepare(expr, params)
                if len(self._prepared_reads) > self._shapes:
                    self._prepared_reads.popitem(last=False)
            return prepared

    def _kept_or_run(
        self,
        kind: str,
        shape: Hashable,
        build: Callable[[], tuple[ir.Table, Mapping[str, ir.Scalar]]],
        values: Mapping[str, str],
        keep: Callable[[pa.Table], tuple[Any, int]],
    ) -> Any:
        kept_as = (kind, shape, tuple(sorted(values.items())))
        with self._lock:
            found = self._kept.get(kept_as)
        if found is not None:
            return found
        value, size = keep(self._prepared(shape, build).run(values))
        with self._lock:
            self._kept.put(kept_as, value, size)
        return value

    def prepared_rows(
        self,
        shape: Hashable,
        build: Callable[[], tuple[ir.Table, Mapping[str, ir.Scalar]]],
        values: Mapping[str, str],
        *,
        keep: bool = True,
    ) -> list[dict[str, Any]]:
        """Rows of the query `build()` makes, compiled once per `shape`, bound to `values`.

        `shape` must fix everything the query depends on except `values`. Kept rows are
        shared with later requests: read them, do not change them. `keep=False` for results
        unlikely to be asked again.
        """
        if not keep:
            fresh: list[dict[str, Any]] = self._prepared(shape, build).run(values).to_pylist()
            return fresh

        def as_rows(result: pa.Table) -> tuple[list[dict[str, Any]], int]:
            # Python objects take about three times the Arrow bytes.
            return result.to_pylist(), 3 * result.nbytes + 64

        rows: list[dict[str, Any]] = self._kept_or_run("rows", shape, build, values, as_rows)
        return rows

    def sorted_rows(
        self,
        shape: Hashable,
        build: Callable[[], tuple[ir.Table, Mapping[str, ir.Scalar]]],
        values: Mapping[str, str],
    ) -> SortedRows:
        """The prepared query's rows sorted by their first column, with that column's values
        as an array to search; a result too large for a quarter of the budget keeps only the
        keys (the caller then reads rows by key range)."""

        def as_sorted(result: pa.Table) -> tuple[SortedRows, int]:
            keys_column = result.column(0)
            order = pc.sort_indices(keys_column)
            ordered = result.take(order)
            keys = np.asarray(ordered.column(0).to_pylist(), dtype=str)
            if ordered.nbytes + keys.nbytes <= self._kept.budget // 4:
                return SortedRows(keys, ordered), ordered.nbytes + keys.nbytes
            return SortedRows(keys, None), keys.nbytes

        found: SortedRows = self._kept_or_run("sorted", shape, build, values, as_sorted)
        return found

    def region_of_school(self) -> Mapping[str, str]:
        """Every school's region code (read once: the school list is small and does not change
        while the service runs)."""
        known = self._schools
        if known is not None:  # every audit write asks; no lock once read
            return known
        with self._lock:
            schools = unit_registry().school_entity
            if self._schools is None and not self.has_table(schools):
                self._schools = {}
            if self._schools is None:
                t = self.table(schools)
                rows = t.select("school_code", "region_code").to_pyarrow().to_pylist()
                self._schools = {r["school_code"]: r["region_code"] for r in rows}
            return self._schools

    def scalar(self, expr: ir.Scalar) -> Any:
        with self._lock:
            return expr.to_pyarrow().as_py()


def _key_field(entity_name: str) -> str:
    key = entity(entity_name).natural_key
    if len(key) != 1:
        raise EdubrainError(f"{entity_name} has a compound key; cursor paging needs one field")
    return key[0]


class ScopedReader:
    """Personal records of one entity, as one caller may see them."""

    def __init__(
        self,
        reader: WarehouseReader,
        refs: SealedRefs,
        shown: dict[Hashable, dict[str, Any]] | None = None,
    ) -> None:
        self._reader = reader
        self._refs = refs
        # Records as each clearance sees them, kept across requests (see `_present`).
        self._shown = shown if shown is not None else {}

    @property
    def opener(self) -> Callable[[str], str] | None:
        """How `masking.present` opens sealed values (None: nothing is sealed)."""
        sealer = self._reader.sealer
        return sealer.open_text if sealer is not None else None

    def address(self, actor: Actor, entity_name: str, ref_or_key: str) -> str | None:
        """The record key a path names for this caller: a `ref` handed out by this service, or
        the key itself if the caller sees such keys in clear (`masking.key_in_clear`). A key
        it sees masked is no address (None), so that lookups cannot test guesses of it."""
        opened = self._refs.open(ref_or_key)
        if opened is not None:
            return opened
        if key_in_clear(entity(entity_name), ref_or_key, clearance(actor.role)):
            # Stored sealed (decision 0011): a 学籍号 given in clear is sealed to match.
            sealer = self._reader.sealer
            return sealer.seal_student_number(ref_or_key) if sealer is not None else ref_or_key
        return None

    def _scoped(self, scope: Scope, entity_name: str) -> ir.Table:
        with self._reader.lock:
            t = self._reader.table(entity_name)
            return t.filter(scope_predicate(scope, entity_name, t, self._reader))

    def query(
        self,
        scope: Scope,
        entity_name: str,
        *,
        filters: Mapping[str, Any] | None = None,
        after: str | ir.Scalar | None = None,
        upto: str | ir.Scalar | None = None,
        limit: int | None = None,
        fields: Sequence[str] | None = None,
    ) -> ir.Table:
        """The scoped, filtered, key-ordered query (nothing runs yet)."""
        key = _key_field(entity_name)
        with self._reader.lock:
            t = self._scoped(scope, entity_name)
            for name, value in (filters or {}).items():
                if value is not None:
                    t = t.filter(t[name] == value)
            if after is not None:
                t = t.filter(t[key] > after)
            if upto is not None:
                t = t.filter(t[key] <= upto)
            # The key first: callers search and page by the first column.
            columns = [key, *(c for c in fields or entity(entity_name).field_names if c != key)]
            t = t.select(*columns).order_by(key)
            return t.limit(limit) if limit is not None else t

    def page(
        self,
        actor: Actor,
        entity_name: str,
        *,
        filters: Mapping[str, Any] | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page:
        """One page after `cursor`, in key order.

        The scope's records (with these filters) are read once, sorted by key, and kept; a page
        is then a slice of them. A scope too large to keep keeps its sorted keys only, and a
        page is the scoped query over one key range (after the cursor, up to the page's last
        key), which touches a page of rows instead of ordering every record in scope.
        """
        limit = max(1, min(limit, MAX_PAGE))
        after = self._after(cursor)
        scope = actor.scope
        present = tuple(sorted((k, v) for k, v in (filters or {}).items() if v is not None))
        key = _key_field(entity_name)
        # Text filters are bound like the cursor; numbers (a class number) are part of the shape.
        texts = tuple(k for k, v in present if isinstance(v, str))
        fixed = tuple((k, v) for k, v in present if not isinstance(v, str))
        bound = {f"f_{k}": v for k, v in present if k in texts}

        def filtered() -> tuple[dict[str, Any], dict[str, ir.Scalar]]:
            params = {f"f_{name}": ibis.param("string") for name in texts}
            return dict(fixed) | {name: params[f"f_{name}"] for name in texts}, params

        def everything() -> tuple[ir.Table, dict[str, ir.Scalar]]:
            wanted, params = filtered()
            return self.query(scope, entity_name, filters=wanted), params

        in_scope = self._reader.sorted_rows(
            ("scope", entity_name, scope, fixed, texts), everything, bound
        )
        keys = in_scope.keys
        start = int(keys.searchsorted(after, side="right")) if after is not None else 0
        chosen = keys[start : start + limit]
        if len(chosen) == 0:
            return Page([], None, [], len(keys))
        upto = str(chosen[-1])
        more = start + limit < len(keys)
        next_cursor = self._refs.seal(f"after:{upto}") if more else None
        if in_scope.rows is not None:
            # Records already shown to this clearance come from `_shown`; only the others
            # are turned into Python rows.
            keys_shown = [str(k) for k in chosen]
            seen = clearance(actor.role)
            found = [self._shown.get((entity_name, seen, k)) for k in keys_shown]
            missing = [i for i, record in enumerate(found) if record is None]
            if missing:
                rows = in_scope.rows.take(pa.array([start + i for i in missing])).to_pylist()
                for i, record in zip(missing, self._present(actor, entity_name, rows), strict=True):
                    found[i] = record
            items = [dict(record) for record in found if record is not None]
            return Page(items, next_cursor, keys_shown, len(keys))

        def build() -> tuple[ir.Table, dict[str, ir.Scalar]]:
            wanted, params = filtered()
            low = ibis.param("string") if after is not None else None
            high = ibis.param("string")
            expr = self.query(scope, entity_name, filters=wanted, after=low, upto=high)
            return expr, params | ({"after": low} if low is not None else {}) | {"upto": high}

        shape = ("range", entity_name, scope, fixed, texts, after is not None)
        values = bound | {"upto": upto}
        values |= {"after": after} if after is not None else {}
        rows = self._reader.prepared_rows(shape, build, values, keep=False)
        keys_shown = [str(row[key]) for row in rows]
        return Page(self._present(actor, entity_name, rows), next_cursor, keys_shown, len(keys))

    def _after(self, cursor: str | None) -> str | None:
        # Cursors over personal records are sealed: a key must not leak through them.
        if not cursor:
            return None
        opened = self._refs.open(cursor)
        if opened is None or not opened.startswith("after:"):
            raise BadCursorError("not a cursor from this API")
        return opened.removeprefix("after:")

    def one(self, actor: Actor, entity_name: str, key_value: str) -> dict[str, Any] | None:
        key = _key_field(entity_name)
        shape = ("one", entity_name, actor.scope)

        def build() -> tuple[ir.Table, dict[str, ir.Scalar]]:
            wanted = ibis.param("string")
            expr = self.query(actor.scope, entity_name, filters={key: wanted}, limit=1)
            return expr, {"key": wanted}

        rows = self._reader.prepared_rows(shape, build, {"key": key_value})
        return self._present(actor, entity_name, rows)[0] if rows else None

    def matching(
        self, actor: Actor, entity_name: str, field_name: str, text: str, limit: int
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Records in the caller's scope whose `field_name` contains `text`, in key order,
        masked for the caller: at most `limit`, their keys, and whether there were more. The
        caller checks that the role sees `field_name` in clear (`service.search`): a search
        must not test values a role sees masked."""
        key = _key_field(entity_name)
        with self._reader.lock:
            t = self.query(actor.scope, entity_name)
            t = t.filter(t[field_name].contains(ibis.literal(text))).limit(limit + 1)
        rows = self._reader.rows(t)
        chosen = rows[:limit]
        keys = [str(row[key]) for row in chosen]
        return self._present(actor, entity_name, chosen), keys, len(rows) > limit

    def records(
        self, actor: Actor, entity_name: str, *, filters: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Every record of `entity_name` with these field values that the caller's scope
        covers (the table's declared scope rule, inside the query), in natural-key order,
        masked for the caller's clearance. For tables keyed by more than one field, read
        whole (a pupil's fitness tests) rather than paged."""
        ent = entity(entity_name)
        with self._reader.lock:
            t = self._scoped(actor.scope, entity_name)
            for name, value in filters.items():
                t = t.filter(t[name] == value)
            t = t.select(*ent.field_names).order_by(list(ent.natural_key))
        seen = clearance(actor.role)
        opener = self.opener
        return [present(ent, row, seen, opener) for row in self._reader.rows(t)]

    def summed(
        self,
        actor: Actor,
        entity_name: str,
        *,
        filters: Mapping[str, Any],
        by: Sequence[str],
        measure: str,
    ) -> list[dict[str, Any]]:
        """Σ `measure` per `by` over the records the caller's scope covers. A sum is as
        sensitive as what it adds up: it reads None for a caller not cleared for the
        measure's data class (the groups still show, as the records themselves would)."""
        ent = entity(entity_name)
        with self._reader.lock:
            t = self._scoped(actor.scope, entity_name)
            for name, value in filters.items():
                t = t.filter(t[name] == value)
            t = t.group_by(list(by)).aggregate(**{measure: t[measure].sum()}).order_by(list(by))
        rows = self._reader.rows(t)
        if not in_clear(ent.field(measure).data_class, clearance(actor.role)):
            for row in rows:
                row[measure] = None
        return rows

    def export_rows(
        self, scope: Scope, entity_name: str, fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        """An approved export: the requested fields of every record in scope, in clear."""
        rows = self._reader.rows(self.query(scope, entity_name, fields=fields))
        ent = entity(entity_name)
        everything = frozenset(DataClass)
        chosen = [ent.field(name) for name in fields]
        opener = self.opener
        return [
            {f.name: present(ent, row, everything, opener)[f.name] for f in chosen} for row in rows
        ]

    def _present(
        self, actor: Actor, entity_name: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`rows` masked for the caller's role, with their refs.

        A record reads the same while the service runs (the warehouse is read-only to it), so
        its masked form per clearance is kept, up to `_SHOWN` records per process; `masked` is
        a tuple there so that the garbage collector can stop walking the kept records.
        """
        ent = entity(entity_name)
        seen = clearance(actor.role)
        key = _key_field(entity_name)
        shown = self._shown
        opener = self.opener
        out = []
        for row in rows:
            kept_as = (entity_name, seen, row[key])
            found = shown.get(kept_as)
            if found is None:
                if len(shown) >= _SHOWN:
                    shown.clear()
                found = present(ent, row, seen, opener) | {"ref": self._refs.seal(row[key])}
                found["masked"] = tuple(found["masked"])
                shown[kept_as] = found
            out.append(dict(found))
        return out
