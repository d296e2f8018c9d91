"""A draft mapping for a file no mapping recognises: what the data officer reviews and saves.

From the suggestion (`suggest.likeness`: the export whose headers the file shares most) a draft
says which entity the file feeds and, for each of its columns, the standard field it fills or
忽略 (ignore): a header the export knows (its `from` or one of its `aliases`) keeps that field
and the export's transforms; another header that names a field of the entity (its Chinese
name, or contains it: 学生姓名 → 姓名) takes that field with the transforms its type needs. The
draft also names the encoding, the format and the header row as found.

The officer changes the choices (`DraftMapping.choose`), the draft is checked as a hand-written
local mapping is (`parse_mapping`: every field exists, every required field is covered, value
maps hit codes), plus: one column per field. Saved (`save_draft`) it becomes one export of a
local mapping in the workspace's `mappings/` folder, under a source name of its own (never a
built-in one: a local mapping of the same name would replace it), and each save keeps the
version before it with who saved it and when.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from edubrain.errors import MappingError
from edubrain.ingest.suggest import SUGGEST_PROBE_BYTES, first_rows, likeness
from edubrain.sources.mapping import ColumnRule, SourceMapping, builtin_mappings, parse_mapping
from edubrain.standard.entities import Entity, FieldType, entities, entity

IGNORED_LABEL = "忽略"
DRAFT_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "excel_serial"]
DRAFT_DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"]
VERSIONS_FOLDER = ".versions"
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class DraftColumn:
    """One column of the file and the field it fills (None: 忽略)."""

    header: str
    field: str | None
    why: str
    """known (the export reads this header), label (it names the field), none, chosen."""


@dataclass(frozen=True)
class DraftMapping:
    file_name: str
    source: str
    label: str
    export: str
    entity: str
    files: list[str]
    format: str
    encoding: str
    header_row: int
    """The header's row as the spreadsheet numbers it (1: the first row)."""
    columns: list[DraftColumn]
    based_on: str | None = None
    """`source export` of the built-in export it was drafted from."""
    base_rules: dict[str, ColumnRule] = field(default_factory=dict)

    @property
    def target(self) -> Entity:
        return entity(self.entity)

    def field_choices(self) -> list[tuple[str, str]]:
        """(field name, Chinese name) of every field of the entity, the required marked."""
        return [(f.name, f.label + ("（必填）" if f.required else "")) for f in self.target.fields]

    def choose(
        self, choices: dict[str, str | None], *, entity_name: str | None = None
    ) -> DraftMapping:
        """The draft with the officer's field per header (a header left out keeps its field;
        '' or None: 忽略); a new entity clears the choices its fields cannot keep."""
        target = entity(entity_name) if entity_name else self.target
        names = set(target.field_names)
        columns = []
        for column in self.columns:
            chosen = choices.get(column.header, column.field)
            chosen = chosen or None
            if chosen is not None and chosen not in names:
                raise MappingError(f"{target.label}没有字段 {chosen!r}")
            changed = chosen != column.field
            columns.append(replace(column, field=chosen, why="chosen" if changed else column.why))
        rules = self.base_rules if target.name == self.entity else {}
        return replace(self, entity=target.name, columns=columns, base_rules=rules)

    def named(self, label: str) -> DraftMapping:
        """The draft under another (Chinese) name for the source."""
        return replace(self, label=label.strip()[:60] or self.label)

    def problems(self) -> list[str]:
        """Why the draft cannot be saved yet (Chinese), empty when it can."""
        found: list[str] = []
        seen: dict[str, str] = {}
        labels = {f.name: f.label for f in self.target.fields}
        for column in self.columns:
            if column.field is None:
                continue
            if column.field in seen:
                found.append(
                    f"「{column.header}」和「{seen[column.field]}」都选了"
                    f"字段「{labels[column.field]}」，每个字段只能来自一列"
                )
            seen[column.field] = column.header
        for f in self.target.fields:
            if f.required and f.name not in seen:
                found.append(f"必填字段「{f.label}」还没有对应的列")
        if not _SOURCE_NAME.match(self.source):
            found.append(f"映射名 {self.source!r} 只能用小写字母、数字和下划线")
        elif self.source in builtin_mappings():
            found.append(f"映射名 {self.source!r} 是内置映射，保存不能覆盖内置映射")
        if not found:
            try:
                parse_mapping(self.to_yaml(), f"草稿 {self.file_name}")
            except MappingError as exc:
                found.append(str(exc))
        return found

    def rules(self) -> dict[str, ColumnRule]:
        """Field → rule: the header read, its synonyms and the transforms its type needs."""
        headers = {c.header for c in self.columns}
        chosen = {c.field: c.header for c in self.columns if c.field is not None}
        rules: dict[str, ColumnRule] = {}
        for f in self.target.fields:
            header = chosen.get(f.name)
            if header is None:
                continue
            base = self.base_rules.get(f.name)
            options: dict[str, Any] = {}
            if base is not None and base.source is not None:
                options = base.model_dump(
                    by_alias=True, exclude_none=True, exclude_defaults=True, exclude={"source"}
                )
                synonyms = [base.source, *base.aliases]
                options["aliases"] = [
                    s for s in dict.fromkeys(synonyms) if s != header and s not in headers
                ]
                if not options["aliases"]:
                    del options["aliases"]
            elif f.type is FieldType.DATE:
                options = {"parse": "date", "formats": DRAFT_DATE_FORMATS}
            elif f.type is FieldType.DATETIME:
                options = {"parse": "datetime", "formats": DRAFT_DATETIME_FORMATS}
            elif f.type in (FieldType.CODE, FieldType.CODE_LIST) and f.code_table:
                options = {"labels": True}
            rules[f.name] = ColumnRule.model_validate({"from": header, **options})
        return rules

    def to_mapping_dict(self) -> dict[str, Any]:
        export: dict[str, Any] = {
            "name": self.export,
            "entity": self.entity,
            "files": list(self.files),
            "format": self.format,
            "encoding": self.encoding,
            "columns": {
                name: rule.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
                for name, rule in self.rules().items()
            },
        }
        return {"source": self.source, "label": self.label, "exports": [export]}

    def comment(self, note: str | None = None) -> str:
        """What the YAML says about the draft in comments (its file, header row, base)."""
        ignored = [c.header for c in self.columns if c.field is None]
        lines = [
            f"# 映射草稿：{self.file_name}（表头在第 {self.header_row} 行）",
            *([f"# 依据内置导出 {self.based_on}"] if self.based_on else []),
            *([f"# 忽略的列：{'、'.join(ignored)}"] if ignored else []),
            *([note] if note else []),
        ]
        return "\n".join(lines) + "\n"

    def to_yaml(self) -> str:
        body = yaml.safe_dump(self.to_mapping_dict(), allow_unicode=True, sort_keys=False)
        return self.comment() + body

    def as_dict(self) -> dict[str, Any]:
        labels = {f.name: f.label for f in self.target.fields}
        return {
            "file_name": self.file_name,
            "source": self.source,
            "label": self.label,
            "export": self.export,
            "entity": self.entity,
            "entity_label": self.target.label,
            "based_on": self.based_on,
            "files": self.files,
            "format": self.format,
            "encoding": self.encoding,
            "header_row": self.header_row,
            "columns": [
                {
                    "header": c.header,
                    "field": c.field,
                    "field_label": labels[c.field] if c.field else IGNORED_LABEL,
                    "why": c.why,
                }
                for c in self.columns
            ],
            "fields": [{"name": n, "label": label} for n, label in self.field_choices()],
            "problems": self.problems(),
        }


def _encoding(path: Path) -> str:
    if path.suffix.lower() in (".xlsx", ".xls"):
        return "utf-8"
    with path.open("rb") as fh:
        head = fh.read(SUGGEST_PROBE_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def _files_pattern(name: str) -> str:
    """The file's name with its runs of digits as wildcards: next year's export matches too."""
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    pattern = re.sub(r"\d+", "*", stem)
    return f"{pattern}.{suffix.lower()}" if dot else pattern


def _label_field(header: str, target: Entity, taken: set[str]) -> str | None:
    """The field whose Chinese name the header is, else the one it contains (longest)."""
    cleaned = re.sub(r"[\s（）()]", "", header)
    for f in target.fields:
        if f.name not in taken and cleaned in (f.label, f.name):
            return f.name
    contained = [
        f for f in target.fields if f.name not in taken and len(f.label) >= 2 and f.label in cleaned
    ]
    contained.sort(key=lambda f: -len(f.label))
    return contained[0].name if contained else None


def _row_score(row: list[str], known: set[str], target: Entity) -> int:
    labels = {f.label for f in target.fields}
    return sum(1 for c in row if c and (c in known or c in labels))


def draft_for(path: Path, mappings: dict[str, SourceMapping]) -> DraftMapping:
    """The draft for a file (see the module): raises MappingError when it has no table."""
    rows = first_rows(path)
    if not any(any(cells) for cells in rows):
        raise MappingError(f"{path.name}：读不出表格的行，无法生成映射草稿")
    found = likeness(path, mappings)
    if found is not None:
        target = entity(found.export.entity)
        known = found.export.known_headers
        base_rules = dict(found.export.columns)
        based_on: str | None = f"{found.mapping.source} {found.export.name}"
        source = f"{found.mapping.source}_local"
        label = f"{found.mapping.label}（本地）"
        export_name = found.export.name
    else:  # no export looks like it: the entity whose field names its header shares most
        target = max(entities(), key=lambda e: max(_row_score(r, set(), e) for r in rows))
        known, base_rules, based_on = set(), {}, None
        source, label, export_name = "local_source", f"本地导出（{target.label}）", target.name
    header_index = max(range(len(rows)), key=lambda i: (_row_score(rows[i], known, target), -i))
    taken: set[str] = set()
    columns: list[DraftColumn] = []
    by_header = {
        h: name
        for name, rule in base_rules.items()
        if rule.source
        for h in (rule.source, *rule.aliases)
    }
    for header in rows[header_index]:
        if not header:
            continue
        if header in by_header and by_header[header] not in taken:
            chosen: str | None = by_header[header]
            why = "known"
        else:
            chosen = _label_field(header, target, taken)
            why = "label" if chosen else "none"
        if chosen:
            taken.add(chosen)
        columns.append(DraftColumn(header, chosen, why))
    suffix = path.suffix.lower()
    return DraftMapping(
        file_name=path.name,
        source=source,
        label=label,
        export=export_name,
        entity=target.name,
        files=[_files_pattern(path.name)],
        format="xlsx" if suffix in (".xlsx", ".xls") else "csv",
        encoding=_encoding(path),
        header_row=header_index + 1,
        columns=columns,
        based_on=based_on,
        base_rules=base_rules,
    )


@dataclass(frozen=True)
class SavedMapping:
    path: Path
    source: str
    version: int
    saved_by: str
    saved_at: datetime


def save_draft(draft: DraftMapping, folder: Path, *, by: str, now: datetime) -> SavedMapping:
    """Save the draft as (one export of) the local mapping `folder/<source>.yaml`; the
    version it replaces is kept in `folder/.versions/`. Refused while the draft has problems
    or would replace a built-in mapping."""
    problems = draft.problems()
    if problems:
        raise MappingError("映射草稿还不能保存：" + "；".join(problems))
    target = folder / f"{draft.source}.yaml"
    versions = folder / VERSIONS_FOLDER
    version = len(list(versions.glob(f"{draft.source}.v*.yaml"))) + 1
    mapping = draft.to_mapping_dict()
    if target.exists():  # the version it replaces is kept, and its other exports stay
        earlier = yaml.safe_load(target.read_text("utf-8")) or {}
        kept = [e for e in earlier.get("exports", []) if e.get("name") != draft.export]
        mapping["exports"] = kept + mapping["exports"]
        versions.mkdir(parents=True, exist_ok=True)
        (versions / f"{draft.source}.v{version}.yaml").write_text(
            target.read_text("utf-8"), "utf-8"
        )
        version += 1
    note = f"# 第 {version} 版：{by} 于 {now.isoformat(timespec='seconds')} 保存"
    text = draft.comment(note) + yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False)
    parse_mapping(text, str(target))  # what is written loads, or nothing is written
    folder.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".yaml.tmp")
    partial.write_text(text, "utf-8")
    partial.replace(target)
    return SavedMapping(target, draft.source, version, by, now)
