"""Which files to ingest and how: resolve command-line paths to one `FileSpec` per file.

A file is recognised by the `files` globs of the built-in source mappings, or as a standard
interchange file named `<entity>.csv` / `<entity>.parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edubrain.errors import UnreadableFileError, UnrecognisedFileError
from edubrain.sources.mapping import (
    SPREADSHEET_FORMATS,
    ColumnRule,
    Export,
    SourceMapping,
    Unpivot,
    builtin_mappings,
    source_mapping,
)
from edubrain.standard.entities import FieldType, entities, entity

STANDARD_SOURCE = "standard"
FileFormat = Literal["csv", "xlsx", "xls", "jsonl", "parquet"]

# How the canonical interchange format writes dates and times.
STANDARD_DATE_FORMATS = ["%Y-%m-%d"]
STANDARD_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


@dataclass(frozen=True)
class FileSpec:
    """One file and everything needed to read it into the standard."""

    path: Path
    source: str
    export: str
    entity: str
    format: FileFormat
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None
    columns: dict[str, ColumnRule] | None = None
    """Field → rule. None for standard files: the header names the fields."""
    unpivot: Unpivot | None = None

    @classmethod
    def from_export(cls, path: Path, source: str, export: Export) -> FileSpec:
        return cls(
            path=path,
            source=source,
            export=export.name,
            entity=export.entity,
            format=format_of(path, export.format),
            encoding=export.encoding,
            delimiter=export.delimiter,
            sheet=export.sheet,
            columns=dict(export.columns),
            unpivot=export.unpivot,
        )

    @classmethod
    def standard(cls, path: Path, entity_name: str) -> FileSpec:
        entity(entity_name)  # fails early on an unknown entity
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise UnreadableFileError(
                path, "a standard-format file must be a .csv (UTF-8) or .parquet file"
            )
        fmt: FileFormat = "csv" if suffix == ".csv" else "parquet"
        return cls(path, STANDARD_SOURCE, entity_name, entity_name, fmt, encoding="utf-8")


def format_of(path: Path, declared: str) -> FileFormat:
    """How to read `path` for an export declared as `declared`: a spreadsheet export is read as
    the file was saved (.xlsx, .xls, or text: .csv, .txt, .tsv), whatever the mapping says."""
    if declared in SPREADSHEET_FORMATS:
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            return "xlsx"
        if suffix == ".xls":
            return "xls"
        if suffix in (".csv", ".txt", ".tsv"):
            return "csv"
    if declared == "jsonl":
        return "jsonl"
    return "xlsx" if declared == "xlsx" else "csv"


def rule(source: str, **options: object) -> ColumnRule:
    """A column rule reading `source` (pydantic spells the field `from`)."""
    return ColumnRule.model_validate({"from": source, **options})


def standard_rules(entity_name: str, header: list[str]) -> dict[str, ColumnRule]:
    """Column rules for a standard file: each field present in the header maps to itself."""
    rules: dict[str, ColumnRule] = {}
    for f in entity(entity_name).fields:
        if f.name not in header:
            continue
        if f.type is FieldType.DATE:
            rules[f.name] = rule(f.name, parse="date", formats=STANDARD_DATE_FORMATS)
        elif f.type is FieldType.DATETIME:
            rules[f.name] = rule(f.name, parse="datetime", formats=STANDARD_DATETIME_FORMATS)
        else:
            rules[f.name] = rule(f.name)
    return rules


@dataclass(frozen=True)
class Discovery:
    specs: list[FileSpec]
    skipped: list[Path]
    """Files inside a given folder that match no export (listed, not loaded)."""
    failed: list[UnreadableFileError]
    """Paths given explicitly that cannot be ingested (missing, unrecognised)."""


def _match_builtin(path: Path, mappings: list[SourceMapping]) -> FileSpec | None:
    for mapping in mappings:
        export = mapping.export_for(path.name)
        if export is not None:
            return FileSpec.from_export(path, mapping.source, export)
    return None


def _match_standard_name(path: Path) -> FileSpec | None:
    if path.suffix.lower() in (".csv", ".parquet") and path.stem in {e.name for e in entities()}:
        return FileSpec.standard(path, path.stem)
    return None


def _spec_for(
    path: Path,
    *,
    source: str | None,
    entity_name: str | None,
    explicit: bool,
    mappings: dict[str, SourceMapping],
) -> FileSpec | None:
    if entity_name is not None:
        if explicit or path.suffix.lower() in (".csv", ".parquet"):
            return FileSpec.standard(path, entity_name)
        return None
    if source is not None:
        mapping = source_mapping(source, mappings)
        export = mapping.export_for(path.name)
        if export is None and explicit and len(mapping.exports) == 1:
            export = mapping.exports[0]  # forcing a one-export source needs no name match
        return FileSpec.from_export(path, source, export) if export else None
    return _match_builtin(path, list(mappings.values())) or _match_standard_name(path)


def discover(
    paths: list[Path],
    *,
    source: str | None = None,
    entity_name: str | None = None,
    mappings: dict[str, SourceMapping] | None = None,
) -> Discovery:
    """Resolve files and folders (recursively) into specs, skipped files and failures.

    `mappings` defaults to the built-in ones (see `available_mappings` for a bureau's own).
    """
    mappings = builtin_mappings() if mappings is None else mappings
    if source is not None:
        source_mapping(source, mappings)  # an unknown source is a usage error, not per file
    if entity_name is not None:
        entity(entity_name)
    specs: list[FileSpec] = []
    skipped: list[Path] = []
    failed: list[UnreadableFileError] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                try:
                    spec = _spec_for(
                        child,
                        source=source,
                        entity_name=entity_name,
                        explicit=False,
                        mappings=mappings,
                    )
                except UnreadableFileError as exc:
                    failed.append(exc)
                    continue
                if spec is None:
                    skipped.append(child)
                else:
                    specs.append(spec)
        elif path.is_file():
            try:
                spec = _spec_for(
                    path, source=source, entity_name=entity_name, explicit=True, mappings=mappings
                )
            except UnreadableFileError as exc:
                failed.append(exc)
                continue
            if spec is None:
                failed.append(_unrecognised(path, source, mappings))
            else:
                specs.append(spec)
        else:
            failed.append(UnreadableFileError(path, "no such file or folder"))
    return Discovery(specs, skipped, failed)


def _unrecognised(
    path: Path, source: str | None, mappings: dict[str, SourceMapping]
) -> UnrecognisedFileError:
    if source is not None:
        exports = source_mapping(source, mappings).exports
        globs = "; ".join(f"{e.name}: {', '.join(e.files)}" for e in exports)
        return UnrecognisedFileError(
            path, f"the name matches no export of source {source!r} ({globs})"
        )
    return UnrecognisedFileError(
        path,
        "not a recognised export (no source mapping matches its name, and it is not "
        "<entity>.csv/.parquet); use --source NAME or --standard ENTITY",
    )
