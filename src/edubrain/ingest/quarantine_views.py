"""The quarantine as the data office reads it: open or resolved, counted, and the rejected rows
of a file given back as the file had them, to fix and upload again.

Open or resolved (未处理 / 已解决) is computed in the query; nothing stores it. At ingest each
quarantined record keeps its natural key (`natural_key`: the entity's key values as the entity
table stores them, sealed alike, see `quarantine.key_text`). A quarantined row is *resolved*
when the current table of its entity holds a row with the same natural key, from the same
source, written by a load later than the one that quarantined it — a corrected re-upload (or
the next export) accepted that pupil, teacher or school. Everything else is *open*: a row whose
key could not be read (a missing or mangled 学籍号), a duplicate whose key was loaded by the same
load, and rows quarantined by an older version that kept no key.

Computing it in the query keeps it true whatever happens later (a rollback, a re-sealed
warehouse, a merge that drops a row) without a second table to keep in step; the cost is one
grouped scan of each quarantined entity's table per query.

Callers pass the quarantine table already scoped to the caller (decision 0012); the functions
here only add columns and group.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import ibis

from edubrain.ingest.quarantine import PRIORITY, reason_name
from edubrain.standard.entities import entities
from edubrain.warehouse.schema import (
    LOAD_ID,
    LOAD_UNITS_TABLE,
    NATURAL_KEY_SEPARATOR,
    SOURCE,
)

if TYPE_CHECKING:
    import ibis.expr.types as ir

OPEN, RESOLVED = "open", "resolved"
STATUS_NAMES = {OPEN: ("未处理", "Open"), RESOLVED: ("已解决", "Resolved")}
UNKNOWN_SCHOOL = ""
"""The school of a quarantined row that names none (or none that could be read)."""
ROW_NUMBER_HEADER, REASON_HEADER, FILE_HEADER = "行号", "原因", "文件"
REF_HEADER = "隔离编号"
"""The column of a downloaded row's reference, by which it finds its masked values when it comes
back (`ingest.returned`)."""


class Tables(Protocol):
    def table(self, name: str) -> ir.Table: ...

    def has_table(self, name: str) -> bool: ...


def status_name(status: str, lang: str = "zh") -> str:
    zh, en = STATUS_NAMES.get(status, (status, status))
    return en if lang == "en" else zh


def with_status(t: ir.Table, tables: Tables, entity_names: Iterable[str]) -> ir.Table:
    """`t` (quarantine records) with a boolean `resolved` column; `entity_names` are the
    entities `t` holds (only their tables are read)."""
    known = {e.name: e for e in entities()}
    latest = []
    for name in sorted(set(entity_names)):
        ent = known.get(name)
        if ent is None or not tables.has_table(name):
            continue
        e = tables.table(name)
        parts = [e[k].cast("string") for k in ent.natural_key]
        key = parts[0] if len(parts) == 1 else ibis.literal(NATURAL_KEY_SEPARATOR).join(parts)
        latest.append(
            e.select(r_entity=ibis.literal(name), r_source=e[SOURCE], r_key=key, r_load=e[LOAD_ID])
        )
    if "natural_key" not in t.columns or not latest:
        return t.mutate(resolved=ibis.literal(False))
    union = latest[0] if len(latest) == 1 else ibis.union(*latest)
    done = union.group_by(["r_entity", "r_source", "r_key"]).aggregate(r_load=union.r_load.max())
    joined = t.left_join(
        done,
        [t.entity == done.r_entity, t.source == done.r_source, t.natural_key == done.r_key],
    )
    resolved = (joined.r_load > joined.load_id).fill_null(False)
    return joined.select(*[joined[c] for c in t.columns], resolved=resolved)


def with_school(t: ir.Table, tables: Tables) -> ir.Table:
    """`t` with `school_code`: the school its row names (load units), UNKNOWN_SCHOOL if none."""
    if not tables.has_table(LOAD_UNITS_TABLE):
        return t.mutate(school_code=ibis.literal(UNKNOWN_SCHOOL))
    units = tables.table(LOAD_UNITS_TABLE)
    units = units.filter(units.row_number.notnull() & units.school_code.notnull())
    per_row = units.group_by(
        [units.load_id.name("u_load"), units.row_number.name("u_row")]
    ).aggregate(u_school=units.school_code.min())
    joined = t.left_join(per_row, [t.load_id == per_row.u_load, t.row_number == per_row.u_row])
    school = joined.u_school.fill_null(UNKNOWN_SCHOOL)
    return joined.select(*[joined[c] for c in t.columns], school_code=school)


def filtered(
    t: ir.Table,
    *,
    reason: str | None = None,
    file: str | None = None,
    entity: str | None = None,
    load_id: str | None = None,
    status: str | None = None,
) -> ir.Table:
    """Quarantine records (with `resolved`) matching every given filter; `file` is a path as
    stored, `status` OPEN or RESOLVED (None or anything else: both)."""
    if reason:
        t = t.filter(t.reason == reason)
    if file:
        t = t.filter(t.file == file)
    if entity:
        t = t.filter(t.entity == entity)
    if load_id:
        t = t.filter(t.load_id == load_id)
    if status == OPEN:
        t = t.filter(~t.resolved)
    elif status == RESOLVED:
        t = t.filter(t.resolved)
    return t


def _rows(t: ir.Table) -> ir.Table:
    """One row per quarantined source row (a file's row number), whatever its records."""
    return t.select("load_id", "file", "row_number", "resolved").distinct()


def summary_exprs(t: ir.Table, with_schools: ir.Table) -> dict[str, ir.Table]:
    """Row counts of `t` (records with `resolved`) by main reason, file, school and status:
    a row counts once per group, however many of its fields broke a rule.
    `with_schools` is `t` passed through `with_school`."""
    # A row counts under its main reason, the most fundamental one (`quarantine.PRIORITY`):
    # the later ones are often its consequences (a mis-decoded code is also an unknown code),
    # and so the counts add up to the rows.
    ranked = t.mutate(rank=t.reason.cases(*PRIORITY.items(), else_=len(PRIORITY)))
    first = ranked.group_by(["load_id", "row_number"]).aggregate(rank=ranked.rank.min())
    by_reason = (
        ranked.join(first, ["load_id", "row_number", "rank"])
        .select("load_id", "row_number", "reason")
        .distinct()
    )
    by_file = _rows(t)
    by_school = with_schools.select("load_id", "row_number", "school_code").distinct()
    return {
        "reason": by_reason.group_by("reason").aggregate(rows=by_reason.count()),
        "file": by_file.group_by("file").aggregate(rows=by_file.count()).order_by("file"),
        "school": by_school.group_by("school_code")
        .aggregate(rows=by_school.count())
        .order_by("school_code"),
        "status": status_expr(t),
    }


def status_expr(t: ir.Table) -> ir.Table:
    """Row counts of `t` (records with `resolved`) by status."""
    rows = _rows(t)
    return rows.group_by("resolved").aggregate(rows=rows.count())


def summary_from(
    results: Mapping[str, Sequence[Mapping[str, Any]]], lang: str = "zh"
) -> dict[str, list[dict[str, Any]]]:
    """The summary's rows, reasons in priority order with their names, statuses named."""
    reasons = sorted(results["reason"], key=lambda r: PRIORITY.get(r["reason"], len(PRIORITY)))
    status = {bool(r["resolved"]): int(r["rows"]) for r in results["status"]}
    return {
        "reason": [
            {"reason": r["reason"], "name": reason_name(r["reason"], lang), "rows": int(r["rows"])}
            for r in reasons
        ],
        "file": [{"file": r["file"], "rows": int(r["rows"])} for r in results["file"]],
        "school": [
            {"school_code": r["school_code"] or UNKNOWN_SCHOOL, "rows": int(r["rows"])}
            for r in results["school"]
        ],
        "status": [
            {"status": s, "name": status_name(s, lang), "rows": status.get(s == RESOLVED, 0)}
            for s in (OPEN, RESOLVED)
        ],
    }


def raw_cells(raw: str | None) -> dict[str, Any]:
    """A quarantined row's source cells by column, as the file had them (a CSV line with the
    wrong number of fields: 列1, 列2, …)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"列1": raw}
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if not str(k).startswith("__")}
    if isinstance(value, list):
        return {f"列{i}": v for i, v in enumerate(value, start=1)}
    return {"列1": value}


def rejected_rows(
    records: Sequence[Mapping[str, Any]], lang: str = "zh"
) -> tuple[list[str], list[dict[str, Any]]]:
    """The rejected source rows of quarantine `records` (already masked for the reader;
    their source cells as `cells`, else parsed from `raw`), one per file row in file and row
    order: the columns as the files had them, then 行号 and 原因 (every reason of the row with
    its message), 隔离编号 when the records carry their `ref` — and 文件 when they come from
    several files."""
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    reasons: dict[tuple[str, str, int], list[str]] = {}
    refs: dict[tuple[str, str, int], str] = {}
    columns: dict[str, None] = {}
    for r in sorted(records, key=lambda r: (r["file"], r["load_id"], r["row_number"])):
        key = (r["file"], r["load_id"], r["row_number"])
        if key not in rows:
            cells = dict(r["cells"]) if "cells" in r else raw_cells(r.get("raw"))
            columns.update(dict.fromkeys(cells))
            rows[key] = cells
            reasons[key] = []
            if r.get("ref"):
                refs[key] = r["ref"]
        why = f"{reason_name(r['reason'], lang)}：{r.get('message') or ''}".rstrip("：")
        if why not in reasons[key]:
            reasons[key].append(why)
    files = {k[0] for k in rows}
    extra = [ROW_NUMBER_HEADER, REASON_HEADER] + ([REF_HEADER] if refs else [])
    extra += [FILE_HEADER] if len(files) > 1 else []
    header = [c for c in columns if c not in extra] + extra
    out = []
    for key, cells in rows.items():
        row = dict(cells)
        row[ROW_NUMBER_HEADER] = key[2]
        row[REASON_HEADER] = "；".join(reasons[key])
        if refs:
            row[REF_HEADER] = refs.get(key, "")
        if len(files) > 1:
            row[FILE_HEADER] = key[0]
        out.append(row)
    return header, out
