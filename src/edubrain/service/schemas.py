"""Request and response models of the API (they make the OpenAPI document).

Models of warehouse records are derived from the data standard: every field with its label
and data class; sensitive and core fields are text, because they may arrive masked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import orjson
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from edubrain import installed
from edubrain.service.masking import PROTECTED
from edubrain.standard.entities import FieldType, entity

_PYTHON_TYPES: dict[FieldType, Any] = {
    FieldType.STRING: str,
    FieldType.CODE: str,
    FieldType.CODE_LIST: str,
    FieldType.INTEGER: int,
    FieldType.DECIMAL: float,
    FieldType.DATE: date,
    FieldType.DATETIME: datetime,
    FieldType.BOOLEAN: bool,
}


def entity_model(entity_name: str, model_name: str, *, masked: bool) -> type[BaseModel]:
    """A response model with the standard's fields of `entity_name` (all optional)."""
    ent = entity(entity_name)
    fields: dict[str, Any] = {}
    for f in ent.fields:
        kind = str if f.data_class in PROTECTED else _PYTHON_TYPES[f.type]
        fields[f.name] = (
            kind | None,
            Field(default=None, description=f"{f.label} ({f.data_class.value})"),
        )
    if masked:
        fields["masked"] = (
            list[str],
            Field(default_factory=list, description="Fields masked for the caller's role."),
        )
        fields["ref"] = (
            str | None,
            Field(
                default=None,
                description="Opaque, stable reference to this record (for its detail path).",
            ),
        )
    return create_model(model_name, __doc__=f"{ent.label}: {ent.description}", **fields)


def page_model(item: type[BaseModel], model_name: str) -> type[BaseModel]:
    return create_model(
        model_name,
        items=(list[item], ...),  # type: ignore[valid-type]
        next_cursor=(
            str | None,
            Field(default=None, description="Pass as `cursor` for the next page; null at the end."),
        ),
    )


def record_model(entity_name: str, model_name: str, *, masked: bool = True) -> type[BaseModel]:
    """`entity_model`, made once per installation: the one class of that name in the OpenAPI
    document however many routes and models use it (a pupil's record in a list, its detail
    and its portrait). Called when routers are built, not at import (the standard's entities
    are the installed modules')."""
    return _record_model(entity_name, model_name, masked)


@installed.per_installation
def _record_model(entity_name: str, model_name: str, masked: bool) -> type[BaseModel]:
    return entity_model(entity_name, model_name, masked=masked)


def record_page_model(
    entity_name: str, model_name: str, item_name: str, *, masked: bool = True
) -> type[BaseModel]:
    """A page of `record_model(entity_name, item_name, masked=masked)`, made once too."""
    return _record_page_model(entity_name, model_name, item_name, masked)


@installed.per_installation
def _record_page_model(
    entity_name: str, model_name: str, item_name: str, masked: bool
) -> type[BaseModel]:
    return page_model(record_model(entity_name, item_name, masked=masked), model_name)


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Closed):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class ScopeOut(BaseModel):
    level: str
    key: str


class LoginResponse(BaseModel):
    token: str = Field(description="Bearer token for API clients; browsers get the same cookie.")
    token_type: str = "bearer"
    expires_at: datetime


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    scope: ScopeOut
    permissions: list[str]
    sees_in_clear: list[str] = Field(description="Data classes this role reads unmasked.")


class LoadRun(BaseModel):
    load_id: str
    file: str
    source: str | None
    export: str | None
    entity: str | None
    started_at: datetime | None
    finished_at: datetime | None
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    status: str

    @field_validator("started_at", "finished_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        # The warehouse keeps UTC without a zone; the API says so.
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class JobOut(BaseModel):
    """A job (任务) as the data office sees it; times in UTC."""

    job_id: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    requested_by: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    progress: float | None
    stage: str
    log: str
    outcome: dict[str, Any] | None
    error: str | None
    draftable: list[str] = Field(
        default_factory=list,
        description="Files of an upload that were not read (unrecognised): a draft mapping "
        "can be made for each (GET /jobs/{job_id}/mapping-draft?file=).",
    )


class JobRequest(Closed):
    kind: str = Field(
        pattern="^(govern|compute|scorecard|fit)$",
        description="govern, compute, scorecard or fit; an ingest job starts with an upload.",
    )


class DraftColumnOut(BaseModel):
    header: str = Field(description="The file's column (表头).")
    field: str | None = Field(description="The standard field it fills; null: 忽略 (ignored).")
    field_label: str
    why: str = Field(description="known, label, none or chosen: how the field was found.")


class FieldChoice(BaseModel):
    name: str
    label: str


class MappingDraftOut(BaseModel):
    """A draft mapping for a file of an upload that no mapping recognised."""

    job_id: str
    file: str = Field(description="The file within the upload.")
    file_name: str
    source: str
    label: str
    export: str
    entity: str
    entity_label: str
    based_on: str | None
    files: list[str]
    format: str
    encoding: str
    header_row: int
    columns: list[DraftColumnOut]
    fields: list[FieldChoice] = Field(description="The entity's fields to choose from.")
    problems: list[str] = Field(description="Why it cannot be saved yet; empty when it can.")
    yaml: str


class MappingDraftIn(Closed):
    """The officer's choices for a draft: the field per column (null: 忽略), the entity, the
    source's name; columns left out keep the draft's choice."""

    file: str = Field(min_length=1, max_length=300)
    entity: str | None = Field(default=None, pattern="^[a-z][a-z0-9_]{0,39}$")
    label: str | None = Field(default=None, max_length=60)
    columns: dict[str, str | None] = Field(default_factory=dict, max_length=500)


class MappingSavedOut(BaseModel):
    source: str
    label: str
    version: int
    saved_by: str
    saved_at: datetime
    job: JobOut = Field(description="The ingest of the file again, queued.")


class QuarantineRow(BaseModel):
    load_id: str | None
    source: str | None
    entity: str | None
    file: str | None
    row_number: int | None
    field: str | None
    reason: str | None
    message: str | None
    raw: str | None = Field(description="The source row; ID and phone numbers masked.")
    reason_name: str | None = Field(default=None, description="The reason's name (原因).")
    field_label: str | None = Field(default=None, description="The field's label (字段).")
    status: Literal["open", "resolved"] = Field(
        default="open",
        description="open (未处理), or resolved (已解决): a later load of the same source "
        "accepted a row with the same natural key.",
    )


class QuarantinePage(BaseModel):
    items: list[QuarantineRow]
    next_cursor: str | None


class ReasonCount(BaseModel):
    reason: str
    name: str
    rows: int


class FileCount(BaseModel):
    file: str
    rows: int


class SchoolCount(BaseModel):
    school_code: str = Field(description="'' for rows that name no school.")
    rows: int


class StatusCount(BaseModel):
    status: Literal["open", "resolved"]
    name: str
    rows: int


class QuarantineSummary(BaseModel):
    """Quarantined rows counted by reason, file, school and status (未处理/已解决)."""

    reason: list[ReasonCount]
    file: list[FileCount]
    school: list[SchoolCount]
    status: list[StatusCount]


class DimensionScore(BaseModel):
    checked: int
    passed: int
    failed: int
    score: float | None


class QualityRow(BaseModel):
    """A scorecard row; fields grouped away are '*'."""

    source: str
    school_code: str
    load_id: str
    entity: str
    records: int
    quarantined: int
    passed: int
    failed: int
    score: float | None
    dimensions: dict[str, DimensionScore]


class MatchWeight(BaseModel):
    comparison: str = Field(description="The model's comparison: identifier, name, birth_date …")
    level: str = Field(description="The level the pair fell into (e.g. 'same pinyin (同音字)').")
    weight: float = Field(description="Its match weight, log2 Bayes factor: > 0 for, < 0 against.")


class SideField(BaseModel):
    field: str = Field(
        description="name, sex, birth_date, school_name, grade_code, class_no, "
        "source, file, rows or student_number."
    )
    label: str = Field(description="Its Chinese label (姓名, 性别 …).")
    left: str | None = Field(description="The left mention's value, masked for the caller.")
    right: str | None
    differs: bool = Field(description="The two stored values differ (computed before masking).")


class ReviewItem(BaseModel):
    review_id: str
    mention_key_l: str = Field(description="The mention key; its 学籍号 masked for the caller.")
    mention_key_r: str
    mention_ref_l: str = Field(description="The mention, sealed: pass it to steward/decisions.")
    mention_ref_r: str
    person_id_l: str | None
    person_id_r: str | None
    match_probability: float | None
    reason: str | None
    match_weights: list[MatchWeight] = Field(
        default_factory=list,
        description="Why the model scored the pair: each comparison's level and match weight "
        "(they sum, with the prior, to the pair's match weight). Levels name relations, never "
        "values.",
    )
    fields: list[SideField] = Field(
        default_factory=list, description="Side by side: what each mention says, masked."
    )
    impact: float | None = Field(
        default=None,
        description="The order (decision 0017): rows the decision moves × "
        "the model's uncertainty in bits.",
    )
    state: str = Field(default="pending", description="pending, applying or applied.")
    state_label: str = Field(default="待定", description="待定, 已判定·生效中 or 已生效.")
    decision: str | None = Field(default=None, description="The decision in force, if any.")


class ReviewPage(BaseModel):
    items: list[ReviewItem]
    next_cursor: str | None


# A mention key (`entity|key[|part]`, docs/governance.md) or a person ID (`P…`); anything else
# is malformed (422) before any lookup. The entity is any entity-shaped name: the person sources
# are the installed modules' (`govern.persons`), and a key naming no mention is a 404.
MENTION_OR_PERSON = (
    r"^(?:[a-z][a-z0-9_]{0,63}"
    r"\|[0-9A-Za-z_.~-]{1,64}(?:\|[0-9A-Za-z_.-]{1,32})?|P[0-9A-Za-z_-]{1,64}"
    # … or a sealed mention ref from the queue (`mention_ref_l`/`_r`, urlsafe base64)
    r"|[0-9A-Za-z_-]{22,200})$"
)


class StewardDecision(Closed):
    left: str = Field(
        min_length=1,
        max_length=200,
        pattern=MENTION_OR_PERSON,
        description="Mention key (`student|<学籍号>`, `health_check|<学籍号>|<date>` …) or person.",
    )
    right: str = Field(min_length=1, max_length=200, pattern=MENTION_OR_PERSON)
    verdict: str = Field(pattern="^(same|different)$")
    note: str = Field(default="", max_length=500)


class StewardDecisionOut(BaseModel):
    mention_key_l: str
    mention_key_r: str
    verdict: str


class StewardUndo(Closed):
    left: str = Field(min_length=1, max_length=200, pattern=MENTION_OR_PERSON)
    right: str = Field(min_length=1, max_length=200, pattern=MENTION_OR_PERSON)
    note: str = Field(default="", max_length=500)


class StewardBulk(Closed):
    decisions: list[StewardDecision] = Field(min_length=1, max_length=200)


class StewardRefusal(BaseModel):
    index: int = Field(description="The refused decision's position in the request.")
    reason: str


class StewardBulkOut(BaseModel):
    recorded: list[StewardDecisionOut]
    refused: list[StewardRefusal]
    job_id: str | None = Field(description="The job that puts the decisions into effect.")


class AuditRecordOut(BaseModel):
    seq: int
    occurred_at: str
    actor: str
    role: str
    scope: str
    action: str
    resource: str
    record_ids: list[str]
    query: dict[str, Any]
    purpose: str
    outcome: str
    request_id: str
    client_ip: str
    hash: str


class AuditPage(BaseModel):
    items: list[AuditRecordOut]
    next_cursor: str | None


class SchoolHit(BaseModel):
    school_code: str
    name: str
    region_code: str | None = None


class SearchResults(BaseModel):
    query: str
    schools: list[SchoolHit]
    pupils: list[dict[str, Any]] = Field(
        description="Pupils as the caller's list shows them (masked per clearance), with `ref` "
        "and `school_name`"
    )
    pupil_fields: list[str] = Field(description="The pupil fields this caller may search by")
    more: bool = Field(description="More hits than `limit` of schools or of pupils")


class ChainStatus(BaseModel):
    ok: bool
    records: int
    head_seq: int
    broken_seq: int | None
    problem: str | None


class ExportCreate(Closed):
    entity: str = Field(pattern="^(student|teacher)$")
    fields: list[str] = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=2, max_length=200)


class ExportDecision(Closed):
    note: str = Field(default="", max_length=500)


class ExportOut(BaseModel):
    export_id: str
    requester: str
    entity: str
    fields: list[str]
    scope: ScopeOut
    purpose: str
    status: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None
    downloaded_at: datetime | None


def local_zone(value: datetime | None) -> datetime | None:
    # Indicator runs and warnings are stamped in local wall-clock time without a zone (as the
    # CLI writes them); the API states the zone.
    return _zoned(value) if value is not None and value.tzinfo is None else value


@lru_cache(maxsize=4096)
def _zoned(value: datetime) -> datetime:
    # A page of values shares a handful of stamps; the zone lookup is the costly part.
    return value.astimezone()


class ThresholdOut(BaseModel):
    op: str = Field(description="How a value meets it: >=, <=, >, <.")
    values: dict[str, float] = Field(
        description="By `*` (everywhere), 学段 (`primary`) or 学段/城乡 (`primary/urban`)."
    )
    label: str
    grains: list[str]
    reliability: str = Field(description="V verified, S secondary, U unverified, plan.")
    document: str


class IndicatorOut(BaseModel):
    indicator_id: str
    family: str
    name_zh: str
    name_en: str
    unit: str
    formula: str
    direction: str | None = Field(description="higher or lower is better; null: descriptive.")
    headline: bool
    grains: list[str]
    thresholds: list[ThresholdOut]


class IndicatorValueOut(BaseModel):
    indicator_id: str
    school_year: str
    grain: str = Field(description="school, stage_county (学段×区县), county or city.")
    unit_code: str = Field(description="学校标识码 or GB/T 2260 region code.")
    unit_name: str | None
    stage: str
    units: int | None = Field(description="Schools (or classes) the value is computed over.")
    numerator: float | None
    denominator: float | None
    value: float | None
    threshold: float | None
    threshold_op: str | None
    meets: bool | None
    computed_at: datetime

    _zone = field_validator("computed_at")(local_zone)


class IndicatorValuePage(BaseModel):
    items: list[IndicatorValueOut]
    next_cursor: str | None = None


class WarningOut(BaseModel):
    warning_id: str
    rule: str = Field(description="threshold, trend or target_gap.")
    indicator_id: str
    grain: str
    unit_code: str
    unit_name: str | None
    stage: str
    school_year: str
    level: str = Field(description="red 红, orange 橙 or yellow 黄.")
    status: str = Field(description="open, acknowledged or resolved.")
    message: str
    value: float | None
    reference: float | None
    opened_at: datetime
    updated_at: datetime
    times_opened: int
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledge_note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolve_note: str | None = None
    trend: str = Field(default="", description="new, worse, stable, better or unknown.")
    gap: float | None = Field(default=None, description="Shortfall relative to the threshold.")

    _zone = field_validator("opened_at", "updated_at", "acknowledged_at", "resolved_at")(local_zone)


class WarningUnitOut(BaseModel):
    warning_id: str
    unit_code: str
    unit_name: str | None
    level: str
    status: str
    value: float | None
    gap: float | None = Field(description="The shortfall relative to the threshold.")
    trend: str = Field(description="new, worse, stable, better, unknown (or empty).")
    trend_zh: str
    pupils: int = Field(description="Pupils affected (在校生 of the school or region).")


class WarningGroupOut(BaseModel):
    group_key: str = Field(description="rule|indicator|threshold|grain|学段: one condition.")
    title: str
    rule: str
    indicator_id: str
    grain: str
    stage: str
    level: str = Field(description="The worst unit's level.")
    count: int
    levels: dict[str, int]
    pupils: int
    worsening: int = Field(description="Units whose gap is new or grew since last year.")
    units: list[WarningUnitOut]


class WeekItemOut(WarningGroupOut):
    new_or_worse: bool
    largest_gap: float


class SchoolWorstOut(BaseModel):
    warning_id: str
    indicator_id: str
    title: str
    message: str
    level: str
    trend: str
    gap: float | None


class SchoolRollupOut(BaseModel):
    school_code: str
    school_name: str
    level: str = Field(description="The worst item's level.")
    levels: dict[str, int]
    total: int
    worst: SchoolWorstOut


class WarningPage(BaseModel):
    items: list[WarningOut]
    next_cursor: str | None = None


class WarningEventOut(BaseModel):
    warning_id: str
    at: datetime
    event: str
    level: str
    status: str
    who: str
    note: str | None
    value: float | None

    _zone = field_validator("at")(local_zone)


class WarningNote(Closed):
    note: str = Field(min_length=1, max_length=2000, description="Why; kept in the history.")


def as_json(payload: Any) -> Response:
    """`payload` as the JSON body its route's response model describes, without validating it
    against that model again.

    For the busiest list routes only, whose items are built field by field from the model
    (masked records, indicator values): FastAPI's second validation of every item cost about a
    fifth of such a request. The property tests and schemathesis check these responses against
    their schemas.
    """
    body = orjson.dumps(payload, default=_json_default, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")
