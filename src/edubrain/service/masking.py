"""Field masking by data class (脱敏): the one place a record is shaped for a reader.

Each field's class comes from the data standard. A role sees the classes in its clearance
(`policy.CLEARANCE`) in clear; every other sensitive or core value is masked here:
身份证 `110***********1234`, 姓名 `张*明`, phone `138****5678`, dates keep the year, anything else
becomes `***`. A `G` 学籍号 carries the ID number, so it is masked like one (`G110***********1234`)
for every role that may not see ID numbers; such roles address pupils by `ref` (`service.refs`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from edubrain.sealing import TOKEN_IN_TEXT
from edubrain.standard.entities import Check, DataClass, Entity, Field, FieldType, entity

PROTECTED = frozenset({DataClass.SENSITIVE, DataClass.CORE})
_ID_CLASS = entity("student").field("id_number").data_class
REDACTED = "***"


def mask_id_number(value: str) -> str:
    """Keep the 6-digit region's first three digits and the last four: 110***********1234."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """Keep the family name and, from three characters on, the last one: 张*明, 欧阳**, 李*."""
    if len(value) <= 1:
        return "*"
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_phone(value: str) -> str:
    """Keep the operator prefix and the last four digits: 138****5678."""
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_date(value: str) -> str:
    """Keep the year only: 2014-**-**."""
    return value[:4] + "-**-**"


_BY_NAME: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "name": mask_name,
    "student_name": mask_name,
    "phone": mask_phone,
}


def _mask(f: Field, value: str) -> str:
    by_name = _BY_NAME.get(f.name)
    if by_name is not None:
        return by_name(value)
    if f.type in (FieldType.DATE, FieldType.DATETIME):
        return mask_date(value)
    return REDACTED


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


_SEALED_CHECKS = (Check.ID_NUMBER, Check.STUDENT_NUMBER)
_UNREAD = "*" * 18  # what a sealed ID number reads as to a role that may not open it


def _unseal(value: Any, opener: Callable[[str], str], clear: frozenset[DataClass]) -> Any:
    """A value sealed at rest (`edubrain.sealing`): opened for 核心 clearance only; for any
    other role never opened, its ID number reads as 18 `*` before the rules below apply."""
    if not isinstance(value, str):
        return value
    if _ID_CLASS in clear:
        return opener(value)
    return TOKEN_IN_TEXT.sub(_UNREAD, value)


def present(
    ent: Entity,
    row: Mapping[str, Any],
    seen_in_clear: Iterable[DataClass],
    opener: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    """The record as a reader may see it: protected fields as text, masked outside clearance.

    `opener` opens values sealed at rest (ID numbers, G 学籍号). Adds `masked`: the names of
    the fields that were masked.
    """
    clear = frozenset(seen_in_clear)
    out: dict[str, Any] = {}
    masked: list[str] = []
    for f in ent.fields:
        value = row.get(f.name)
        if opener is not None and value and f.check in _SEALED_CHECKS:
            value = _unseal(value, opener, clear)
        if f.data_class in PROTECTED and value is not None:
            text = _text(value)
            if f.data_class in clear:
                value = text
            else:
                value = _mask(f, text)
                masked.append(f.name)
        elif f.check is Check.STUDENT_NUMBER and value and _ID_CLASS not in clear:
            # A G 学籍号 is G + the pupil's ID number: shown, it would show the ID number.
            text = str(value)
            if text.startswith("G"):
                value = "G" + mask_id_number(text[1:])
                masked.append(f.name)
        out[f.name] = value
    out["masked"] = masked
    return out


_ID_IN_TEXT = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1\d{10}(?!\d)")


def mask_free_text(text: str, seen_in_clear: Iterable[DataClass]) -> str:
    """Mask ID and mobile numbers inside free text (a quarantined source row)."""
    clear = frozenset(seen_in_clear)
    if DataClass.CORE not in clear:
        text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group()), text)
    if DataClass.SENSITIVE not in clear:
        text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
    return text
