"""Backend-neutral table layouts of the warehouse, as Arrow schemas derived from the standard.

Every backend creates its tables from these schemas, so the layout is written once.
"""

from __future__ import annotations

import pyarrow as pa

from edubrain.standard.entities import Entity, FieldType

# Lineage columns on every entity table: which load wrote the current version, from which
# source, a hash of its content (change detection) and since when it is current.
LOAD_ID, SOURCE, ROW_HASH, VALID_FROM = "_load_id", "_source", "_row_hash", "_valid_from"
LINEAGE_COLUMNS = (LOAD_ID, SOURCE, ROW_HASH, VALID_FROM)
# Extra columns of `<entity>__history`: when a version stopped being current and which load
# replaced it.
VALID_TO, SUPERSEDED_BY = "_valid_to", "_superseded_by"

QUARANTINE_TABLE = "quarantine"
LOADS_TABLE = "loads"
# The units (schools, regions) each load and each quarantined row belongs to: what the
# service's scopes are checked against (docs/decisions/0012).
LOAD_UNITS_TABLE = "load_unit"

_ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.CODE: pa.string(),
    FieldType.CODE_LIST: pa.string(),
    FieldType.INTEGER: pa.int64(),
    FieldType.DECIMAL: pa.float64(),
    FieldType.DATE: pa.date32(),
    FieldType.DATETIME: pa.timestamp("us"),
    FieldType.BOOLEAN: pa.bool_(),
}


def arrow_type(kind: FieldType) -> pa.DataType:
    return _ARROW_TYPES[kind]


def entity_schema(ent: Entity) -> pa.Schema:
    """The standard fields of `ent` as typed columns (no lineage)."""
    return pa.schema([pa.field(f.name, arrow_type(f.type)) for f in ent.fields])


def history_table(entity_name: str) -> str:
    return f"{entity_name}__history"


LINEAGE_SCHEMA = pa.schema(
    [
        pa.field(LOAD_ID, pa.string()),
        pa.field(SOURCE, pa.string()),
        pa.field(ROW_HASH, pa.uint64()),
        pa.field(VALID_FROM, pa.timestamp("us")),
    ]
)

HISTORY_EXTRA_SCHEMA = pa.schema(
    [pa.field(VALID_TO, pa.timestamp("us")), pa.field(SUPERSEDED_BY, pa.string())]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string()),
        pa.field("source", pa.string()),
        pa.field("export", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("file", pa.string()),
        pa.field("file_sha256", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("field", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("message", pa.string()),
        pa.field("raw", pa.string()),
        # The record's natural key as the entity table stores it (sealed like it), values joined
        # by NATURAL_KEY_SEPARATOR; null when a key value could not be read. A later load that
        # stores this key resolves the row (`edubrain.ingest.quarantine_views`).
        pa.field("natural_key", pa.string()),
    ]
)
NATURAL_KEY_SEPARATOR = "\x1f"

LOADS_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string()),
        pa.field("file", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("source", pa.string()),
        pa.field("export", pa.string()),
        pa.field("entity", pa.string()),
        pa.field("started_at", pa.timestamp("us")),
        pa.field("finished_at", pa.timestamp("us")),
        pa.field("rows_read", pa.int64()),
        pa.field("rows_accepted", pa.int64()),
        pa.field("rows_inserted", pa.int64()),
        pa.field("rows_updated", pa.int64()),
        pa.field("rows_unchanged", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        pa.field("status", pa.string()),
    ]
)

# One row per unit a load names (row_number null: the load as a whole — a school code, or a
# region code for region and school files; both null: the file names no unit) and one per
# quarantined source row that names a known school (row_number set, school_code set).
LOAD_UNITS_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("school_code", pa.string()),
        pa.field("region_code", pa.string()),
    ]
)
