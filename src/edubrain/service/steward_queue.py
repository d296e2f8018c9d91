"""The steward's queue (人工审核) as people work it: side by side, by impact, in bulk, undone,
in effect at once. The service API and the cockpit call these directly, the CLI through
`usecases.steward` (the service layer sits below the use cases, so the shared part is here).

- **Side by side** (`side_by_side`): each pair's two mentions field by field (姓名, 性别, 出生日期,
  学校, 年级, 班级, 来源, 来源文件, 行数, 学籍号), masked for the reader's clearance by
  `masking.present` like any pupil record (a G 学籍号 carries the ID number: masked without
  核心 clearance), each field with `differs` (the stored values differ; computed before
  masking, so it tells only whether two values are equal).
- **By impact** (`steward.impact`): the source rows the decision moves × the model's
  uncertainty; the pairs still to decide first.
- **States** (`with_states`): 待定 (no decision in force), 已判定·生效中 (the decision in force is
  not yet the one the warehouse's identities were resolved with; also a withdrawn one), 已生效.
- **Bulk** (`decide_many`): each decision checked on its own; a refused one is reported with its
  reason and the others are kept (not all-or-nothing: one stale pair must not cost the
  steward the rest of the page).
- **Undo** (`undo`): appended as an `undo` event, never deleted (`steward.live_decisions`).
- **In effect**: the `steward` job (`usecases.steward.apply`) re-resolves the touched persons
  only (`govern.steward_apply`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edubrain.errors import EdubrainError
from edubrain.govern.steward import (
    UNDO,
    VERDICTS,
    live_decisions,
    pair_of,
)
from edubrain.service.masking import present
from edubrain.service.store import Store
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import DataClass, entity, person_registry

PENDING, APPLYING, APPLIED = "pending", "applying", "applied"
STATE_LABELS = {PENDING: "待定", APPLYING: "已判定·生效中", APPLIED: "已生效"}
WITHDRAWING_LABEL = "已撤销·生效中"
NOT_IN_SCOPE = "您的范围内没有该记录或人员"
SAME_MENTION = "两侧是同一条记录"
NOTHING_TO_UNDO = "该对记录没有可撤销的判定"
VERDICT_LABELS = {"same": "同一人", "different": "不同人"}
SEX_LABELS = {"1": "男", "2": "女"}
# (field, label) in the order shown; the registry's own field names.
SIDE_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("school_name", "学校"),
    ("grade_code", "年级"),
    ("class_no", "班级"),
    ("source", "来源"),
    ("file", "来源文件"),
    ("rows", "行数"),
    ("student_number", "学籍号"),
)


def with_states(
    review: Iterable[Mapping[str, Any]],
    applied: Iterable[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """The queue's pairs (still asked, and decided ones as last applied) with their state
    and the decision in force, pairs to decide first, each part by impact."""
    live = live_decisions(events)
    rows: dict[frozenset[str], dict[str, Any]] = {}
    for row in applied:
        rows[pair_of(row["mention_key_l"], row["mention_key_r"])] = {
            **row, "applied_verdict": row.get("verdict")}  # fmt: skip
    for row in review:
        rows.setdefault(
            pair_of(row["mention_key_l"], row["mention_key_r"]),
            {**row, "applied_verdict": None},
        )
    out = []
    for pair, row in rows.items():
        decision = live.get(pair)
        verdict = None if decision is None else str(decision["verdict"])
        if verdict == row["applied_verdict"]:
            state = PENDING if verdict is None else APPLIED
        else:
            state = APPLYING
        row.pop("verdict", None)
        row["decision"] = verdict
        row["decided_by"] = None if decision is None else decision["decided_by"]
        row["state"] = state
        row["state_label"] = (
            WITHDRAWING_LABEL if state == APPLYING and verdict is None else STATE_LABELS[state]
        )
        out.append(row)
    out.sort(key=lambda r: (r["state"] == APPLIED, -(r.get("impact") or 0.0), r["review_id"]))
    return out


def side_by_side(
    row: Mapping[str, Any],
    seen: frozenset[DataClass],
    opener: Callable[[str], str] | None,
    *,
    school_names: Mapping[str, str] | None = None,
    files: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The pair's fields, left and right, masked for `seen`, with `differs` per field."""
    registry = entity(person_registry().entity)
    sides = []
    for side in ("l", "r"):
        raw = dict(row.get(f"side_{side}") or {})
        shown = present(registry, {**raw, "id_number": None}, seen, opener) if raw else {}
        school = raw.get("school_code")
        source = raw.get("entity")
        sides.append(
            (
                {
                    **{f: raw.get(f) for f in ("name", "sex", "birth_date", "grade_code",
                                                "class_no", "student_number", "rows")},
                    "school_name": school,
                    "source": source,
                    "file": (files or {}).get(str(raw.get("load_id"))),
                },
                {
                    "name": shown.get("name"),
                    "sex": SEX_LABELS.get(str(shown.get("sex")), shown.get("sex")),
                    "birth_date": shown.get("birth_date"),
                    "school_name": (school_names or {}).get(str(school), school),
                    "grade_code": _grade_name(shown.get("grade_code")),
                    "class_no": shown.get("class_no"),
                    "source": _source_label(source),
                    "file": _file_name((files or {}).get(str(raw.get("load_id")))),
                    "rows": raw.get("rows"),
                    "student_number": shown.get("student_number"),
                },
            )
        )  # fmt: skip
    (raw_l, shown_l), (raw_r, shown_r) = sides
    out = []
    for name, label in SIDE_FIELDS:
        a, b = raw_l.get(name), raw_r.get(name)
        out.append(
            {
                "field": name,
                "label": label,
                "left": None if shown_l.get(name) is None else str(shown_l[name]),
                "right": None if shown_r.get(name) is None else str(shown_r[name]),
                "differs": a is not None and b is not None and str(a) != str(b),
            }
        )
    return out


def _grade_name(code: Any) -> Any:
    """A grade code by its name in the national code table (21 → 初中一年级)."""
    if code is None:
        return None
    return code_tables()["grade"].codes.get(str(code), code)


def _source_label(entity_name: str | None) -> str | None:
    if not entity_name:
        return None
    try:
        return entity(entity_name).label
    except (KeyError, EdubrainError):
        return entity_name


def _file_name(path: str | None) -> str | None:
    return None if path is None else path.replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class BulkOutcome:
    """What a bulk decision did: each accepted pair's two mention keys, each refused one's
    position in the request and reason."""

    recorded: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    left: str
    right: str
    verdict: str
    note: str = ""


def decide_many(
    store: Store,
    decisions: Sequence[Decision],
    resolve: Callable[[str], str | None],
    *,
    by: str,
    at: datetime,
    unit: tuple[str | None, str | None] = (None, None),
) -> BulkOutcome:
    """Record each decision whose two sides `resolve` to two different mentions (None: no
    such mention for this caller); refuse the others with their reason, keep the rest."""
    outcome = BulkOutcome()
    for index, d in enumerate(decisions):
        if d.verdict not in (*VERDICTS, UNDO):
            outcome.refused.append({"index": index, "reason": f"无效的判定 {d.verdict!r}"})
            continue
        left, right = resolve(d.left), resolve(d.right)
        if left is None or right is None:
            outcome.refused.append({"index": index, "reason": NOT_IN_SCOPE})
            continue
        if left == right:
            outcome.refused.append({"index": index, "reason": SAME_MENTION})
            continue
        if d.verdict == UNDO and pair_of(left, right) not in _undoable(store, left, right):
            outcome.refused.append({"index": index, "reason": NOTHING_TO_UNDO})
            continue
        store.record_steward_decision(left, right, d.verdict, by=by, note=d.note, at=at,
                                      unit_school=unit[0], unit_region=unit[1])  # fmt: skip
        outcome.recorded.append({"index": index, "mention_key_l": left, "mention_key_r": right,
                                 "verdict": d.verdict})  # fmt: skip
    return outcome


def _undoable(store: Store, left: str, right: str) -> set[frozenset[str]]:
    """The pairs with an event to undo (any decision or undo recorded on them)."""
    pair = pair_of(left, right)
    events = [r for r in store.steward_decisions()
              if pair_of(r["mention_key_l"], r["mention_key_r"]) == pair]  # fmt: skip
    return {pair} if events else set()
