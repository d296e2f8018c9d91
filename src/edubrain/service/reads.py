"""Warehouse reads for the API: scoped inside the query, masked on the way out, paged by cursor.

Every personal record the API returns leaves the warehouse through `ScopedReader.page` or
`ScopedReader.one`: the caller's scope is an Ibis filter of the query itself (never
fetch-then-filter), and `masking.present` shapes each record for the caller's role.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from edubrain.errors import EdubrainError
from edubrain.service.masking import present
from edubrain.service.policy import Actor, Scope, clearance, scope_predicate
from edubrain.standard.entities import DataClass, entity
from edubrain.warehouse import Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir

MAX_PAGE = 500


class BadCursorError(EdubrainError, ValueError):
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
    items: list[dict[str, Any]]
    next_cursor: str | None


class WarehouseReader:
    """Serialised access to the warehouse: one DuckDB connection serves every request thread."""

    def __init__(self, wh: Warehouse) -> None:
        self._wh = wh
        self._lock = threading.RLock()
        self._tables: dict[str, ir.Table] = {}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def warehouse(self) -> Warehouse:
        return self._wh

    def table(self, name: str) -> ir.Table:
        # Table expressions (and their schemas) are looked up once; the service is the
        # warehouse's only writer while it runs.
        if name not in self._tables:
            self._tables[name] = self._wh.table(name)
        return self._tables[name]

    def has_table(self, name: str) -> bool:
        with self._lock:
            return self._wh.has_table(name)

    def rows(self, expr: ir.Table) -> list[dict[str, Any]]:
        with self._lock:
            result: pa.Table = expr.to_pyarrow()
        rows: list[dict[str, Any]] = result.to_pylist()
        return rows

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

    def __init__(self, reader: WarehouseReader) -> None:
        self._reader = reader

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
        after: str | None = None,
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
            columns = list(fields or entity(entity_name).field_names)
            if key not in columns:
                columns.insert(0, key)
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
        limit = max(1, min(limit, MAX_PAGE))
        after = decode_cursor(cursor) if cursor else None
        expr = self.query(actor.scope, entity_name, filters=filters, after=after, limit=limit + 1)
        rows = self._reader.rows(expr)
        key = _key_field(entity_name)
        next_cursor = encode_cursor(str(rows[limit - 1][key])) if len(rows) > limit else None
        return Page(self._present(actor, entity_name, rows[:limit]), next_cursor)

    def one(self, actor: Actor, entity_name: str, key_value: str) -> dict[str, Any] | None:
        key = _key_field(entity_name)
        expr = self.query(actor.scope, entity_name, filters={key: key_value}, limit=1)
        rows = self._reader.rows(expr)
        return self._present(actor, entity_name, rows)[0] if rows else None

    def export_rows(
        self, scope: Scope, entity_name: str, fields: Sequence[str]
    ) -> list[dict[str, Any]]:
        """An approved export: the requested fields of every record in scope, in clear."""
        rows = self._reader.rows(self.query(scope, entity_name, fields=fields))
        ent = entity(entity_name)
        everything = frozenset(DataClass)
        chosen = [ent.field(name) for name in fields]
        return [{f.name: present(ent, row, everything)[f.name] for f in chosen} for row in rows]

    @staticmethod
    def _present(
        actor: Actor, entity_name: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        ent = entity(entity_name)
        seen = clearance(actor.role)
        return [present(ent, row, seen) for row in rows]
