"""Declarative source mappings: how one source system's exports map onto the data standard.

A mapping file (YAML, one per source system, in the `mappings/` folder of the domain module
that owns the source's entities, e.g. `edubrain/modules/roster/mappings/xueji.yaml`) lists the
system's exports. Each export names the files it matches, their format and encoding, the
standard entity it feeds, and for every standard field where the value comes from and how it is
transformed. Adding a simple source is a new mapping file, not new code.

The same description drives two directions: ingestion reads an export into the standard, and
the synthetic-region generator renders standard data into the export's own layout.
"""

from __future__ import annotations

import fnmatch
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edubrain import installed
from edubrain.errors import MappingError, UnknownEntityError
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import FieldType, entity

DateFormat = str  # strftime pattern, or "excel_serial" for Excel day numbers

SPREADSHEET_FORMATS = ("csv", "xlsx")
"""Export formats a bureau may save as any of `TABLE_SUFFIXES` (the reader follows the file)."""
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xls")


def _without_table_suffix(pattern: str) -> str:
    lowered = pattern.lower()
    for suffix in TABLE_SUFFIXES:
        if lowered.endswith(suffix):
            return pattern[: -len(suffix)]
    return pattern


class ColumnRule(BaseModel):
    """Where one standard field comes from in an export, and how its value is transformed.

    Exactly one of `source` (a column header; a dotted path into JSON objects) or `const`.
    Transforms apply in this order: value map → parse → scale.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str | None = Field(default=None, alias="from")
    aliases: list[str] = Field(default_factory=list)
    """Other headers the same column goes by in some exports (a renamed header: 学生姓名 for 姓名).
    The first of `source` and `aliases` present in a file's header is read."""
    const: str | None = None
    values: dict[str, str] | None = None
    """Local value → standard code. Values not listed must already be standard codes."""
    labels: bool = False
    """Also accept the code table's Chinese labels (汉族 → 01) as values."""
    parse: Literal["date", "datetime", "minsec"] | None = None
    formats: list[DateFormat] = Field(default_factory=list)
    scale: float | None = None
    """Multiply the number by this (万元 → 元: 10000; % → ratio: 0.01; seconds → minutes)."""

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnRule:
        if (self.source is None) == (self.const is None):
            raise ValueError("give exactly one of 'from' or 'const'")
        if self.aliases and self.source is None:
            raise ValueError("'aliases' name other headers of a 'from' column")
        if self.parse in ("date", "datetime") and not self.formats:
            raise ValueError("parse: date needs at least one entry in 'formats'")
        return self


class Unpivot(BaseModel):
    """A wide export: one column per item becomes one standard row per (source row, column)."""

    model_config = ConfigDict(extra="forbid")

    columns: str
    """Regex on header names; group 1 is the key (e.g. '^第(\\d+)题$' → item_no)."""
    key: str
    value: str
    render_format: str = "{key}"
    """How the generator writes a header from a key, e.g. '第{key}题'."""


class Export(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    entity: str
    files: list[str]
    """Glob patterns on the file name (not the folder) that identify this export."""
    format: Literal["csv", "xlsx", "jsonl"]
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    columns: dict[str, ColumnRule]
    unpivot: Unpivot | None = None

    def matches(self, file_name: str) -> bool:
        """Whether a file's name fits one of `files`. A spreadsheet export matches whatever
        table format it was saved in: "学籍_学生信息*.csv" also matches "学籍_学生信息2025.xlsx"
        (and .xls, .txt, .tsv), so a mapping needs no per-format copy."""
        if any(fnmatch.fnmatch(file_name, pattern) for pattern in self.files):
            return True
        if self.format not in SPREADSHEET_FORMATS:
            return False
        stem, dot, suffix = file_name.rpartition(".")
        if not dot or f".{suffix.lower()}" not in TABLE_SUFFIXES:
            return False
        return any(fnmatch.fnmatch(stem, _without_table_suffix(p)) for p in self.files)

    @property
    def source_headers(self) -> list[str]:
        """Headers this export must contain (unpivoted item columns excluded)."""
        return [r.source for r in self.columns.values() if r.source is not None]

    @property
    def known_headers(self) -> set[str]:
        """Every header name the mapping reads, synonyms included."""
        return {h for r in self.columns.values() if r.source for h in (r.source, *r.aliases)}


class SourceMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: str
    label: str
    description: str = ""
    exports: list[Export]

    def export_for(self, file_name: str) -> Export | None:
        for export in self.exports:
            if export.matches(file_name):
                return export
        return None


def _check_against_standard(mapping: SourceMapping, origin: str) -> None:
    """Every mapped field must exist in the entity, every required field must be mapped."""
    problems: list[str] = []
    tables = code_tables()
    for export in mapping.exports:
        try:
            ent = entity(export.entity)
        except UnknownEntityError as exc:
            problems.append(f"export {export.name}: {exc}")
            continue
        produced = set(export.columns)
        if export.unpivot:
            produced |= {export.unpivot.key, export.unpivot.value}
        for name in produced - set(ent.field_names):
            problems.append(f"export {export.name}: {ent.name} has no field {name!r}")
        for f in ent.fields:
            if f.required and f.name not in produced:
                problems.append(f"export {export.name}: required field {f.name!r} is not mapped")
        aliases = [a for r in export.columns.values() for a in r.aliases]
        sources = {r.source for r in export.columns.values()}
        for alias in sorted({a for a in aliases if a in sources or aliases.count(a) > 1}):
            problems.append(f"export {export.name}: alias {alias!r} names another column too")
        for name, rule in export.columns.items():
            if name not in ent.field_names:
                continue
            f = ent.field(name)
            if rule.values and f.type in (FieldType.CODE, FieldType.CODE_LIST) and f.code_table:
                table = tables[f.code_table]
                for local, code in rule.values.items():
                    if code not in table:
                        problems.append(
                            f"export {export.name}: {name}: {local!r} maps to {code!r}, "
                            f"not a code of {table.name}"
                        )
    if problems:
        raise MappingError(f"{origin}: " + "; ".join(problems))


def parse_mapping(text: str, origin: str) -> SourceMapping:
    try:
        raw: Any = yaml.safe_load(text)
        mapping = SourceMapping.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as exc:
        raise MappingError(f"{origin}: {exc}") from None
    _check_against_standard(mapping, origin)
    return mapping


def load_mapping_file(path: Path) -> SourceMapping:
    return parse_mapping(path.read_text("utf-8"), str(path))


@installed.per_installation
def builtin_mappings() -> dict[str, SourceMapping]:
    """The mappings the installed modules ship (each module's `mappings` folder), by source."""
    files: list[Traversable] = []
    for module in installed.modules():
        folder: Traversable | None = getattr(module, "mappings", None)
        if folder is not None and folder.is_dir():
            files += [item for item in folder.iterdir() if item.name.endswith(".yaml")]
    mappings = [
        parse_mapping(item.read_text("utf-8"), f"mappings/{item.name}")
        for item in sorted(files, key=lambda p: p.name)
    ]
    by_source: dict[str, SourceMapping] = {}
    for mapping in mappings:
        if mapping.source in by_source:
            raise MappingError(f"two modules ship a mapping for the source {mapping.source!r}")
        by_source[mapping.source] = mapping
    return by_source


def available_mappings(local_dir: Path | None = None) -> dict[str, SourceMapping]:
    """Built-in mappings plus a bureau's own `*.yaml` files in `local_dir`.

    A local mapping with the same source name replaces the built-in one: that is how a bureau
    adapts, say, the 学籍 mapping to its province's export variant without touching code.
    """
    mappings = dict(builtin_mappings())
    if local_dir is not None and local_dir.is_dir():
        for path in sorted(local_dir.glob("*.yaml")):
            mapping = load_mapping_file(path)
            mappings[mapping.source] = mapping
    return mappings


def source_mapping(name: str, mappings: dict[str, SourceMapping] | None = None) -> SourceMapping:
    mappings = builtin_mappings() if mappings is None else mappings
    if name not in mappings:
        raise MappingError(f"unknown source {name!r}; known sources: {', '.join(mappings)}")
    return mappings[name]
