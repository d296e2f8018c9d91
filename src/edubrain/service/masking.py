"""Field masking by data class (脱敏): the one place a record is shaped for a reader.

Masking holds *jointly* (decision 0013): what a role sees in clear, taken together, must not
pin down a value it sees masked. Each field's class comes from the data standard; a role sees
the classes in its clearance (`policy.CLEARANCE`) in clear, and everything else here:

- ID numbers (核心) show no digit at all (`******************`): region, birth date and sex
  are shown elsewhere in clear to 敏感 roles, and with them the sequence and check digit
  would complete the number.
- A `G` 学籍号 is `G` + the ID number, so it is masked like one (`G` + 18 `*`) for every role
  without 核心 clearance; `J` and `L` 学籍号 embed the birth date, so a role without 敏感
  clearance sees them masked too. Such roles address pupils by `ref` (`service.sealed_refs`), and a
  key they see masked is no address for them (`key_in_clear`).
- 姓名 `张*明`, phone `138****5678`, dates keep the year, anything else protected becomes `***`.

Free text (quarantined source rows and their messages, the steward's mention keys, the audit
trail shown to auditors) goes through `mask_free_text`, which applies the same rule by pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from edubrain.sealing import TOKEN_IN_TEXT
from edubrain.standard.entities import Check, DataClass, Entity, Field, FieldType

PROTECTED = frozenset({DataClass.SENSITIVE, DataClass.CORE})
REDACTED = "***"
# The clearance a 学籍号 needs to be seen in clear, by its first letter: a G number carries the
# ID number (核心); J and L numbers carry the birth date (敏感). Anything else: 核心.
_STUDENT_NUMBER_CLASS = {"G": DataClass.CORE, "J": DataClass.SENSITIVE, "L": DataClass.SENSITIVE}


def mask_id_number(value: str) -> str:
    """No character of an ID number: `******************`.

    Any digit kept would combine with what 敏感 roles see in clear (户口所在地 = the region
    digits, 出生日期, 性别 = the parity of the 17th digit): the last four digits are the whole
    sequence and check digit.
    """
    return "*" * len(value)


def student_number_class(value: str) -> DataClass:
    """The data class a 学籍号 has as a whole, from what it embeds."""
    if len(value) == 19:
        return _STUDENT_NUMBER_CLASS.get(value[0], DataClass.CORE)
    return DataClass.CORE


def mask_student_number(value: str) -> str:
    """The 学籍号's letter and 18 stars (`G******************`); anything malformed, all stars."""
    if len(value) == 19 and value[0] in _STUDENT_NUMBER_CLASS:
        return value[0] + "*" * 18
    return "*" * len(value)


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


def in_clear(data_class: DataClass, seen_in_clear: frozenset[DataClass]) -> bool:
    """Whether a value of this data class is shown in clear to this clearance (公开 and 内部
    always are; 敏感 and 核心 only to roles cleared for them)."""
    return data_class not in PROTECTED or data_class in seen_in_clear


def key_in_clear(ent: Entity, key: str, seen_in_clear: Iterable[DataClass]) -> bool:
    """Whether a reader with this clearance sees the record key `key` of `ent` in clear.

    Only such a key may address a record: a key the reader sees masked could only be guessed,
    and answering a guess would make the API an oracle for it.
    """
    clear = frozenset(seen_in_clear)
    for f in ent.fields:
        if f.name in ent.natural_key:
            if f.check is Check.STUDENT_NUMBER:
                if student_number_class(key) not in clear:
                    return False
            elif not in_clear(f.data_class, clear):
                return False
    return True


_SEALED_CHECKS = (Check.ID_NUMBER, Check.STUDENT_NUMBER)
_UNREAD = "*" * 18  # what a sealed ID number reads as to a role that may not open it


def _unseal(value: Any, opener: Callable[[str], str], clear: frozenset[DataClass]) -> Any:
    """A value sealed at rest (`edubrain.sealing`): opened for 核心 clearance only; for any
    other role never opened, its ID number reads as 18 `*` before the rules below apply."""
    if not isinstance(value, str):
        return value
    if DataClass.CORE in clear:
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
        elif f.check is Check.STUDENT_NUMBER and value:
            # A 学籍号 embeds the ID number (G) or the birth date (J, L).
            text = str(value)
            if student_number_class(text) not in clear:
                value = mask_student_number(text)
                masked.append(f.name)
        out[f.name] = value
    out["masked"] = masked
    return out


# Runs of digits long enough to be an ID number or a 学籍号's body, even a mangled one (a digit
# dropped or doubled, full-width or other Unicode digits, spaces or hyphens between groups):
# 14 digits or more.
_LONG_NUMBER = re.compile(r"(?<!\d)\d(?:[ -]?\d){13,}[XxＸｘ]?")
_STUDENT_NUMBER_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([GJL])(\d{17}[\dXx])(?!\d)")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)1\d{10}(?!\d)")
_QUOTED = re.compile(r"'[^']*'")


def mask_free_text(text: str, seen_in_clear: Iterable[DataClass]) -> str:
    """Free text (a quarantined source row, its message, a mention key) for this clearance.

    Without 核心 clearance every long run of digits is starred out: an ID number, a 学籍号's
    body, a mangled one the ingest refused. J and L 学籍号 stay for 敏感 roles. Without 敏感
    clearance mobile numbers are masked too (names and addresses in free text cannot be found
    by pattern: such roles get no free text about people, see `quarantine_row`).
    """
    clear = frozenset(seen_in_clear)
    if DataClass.CORE not in clear:  # sealed at rest (decision 0011): never opened here
        text = TOKEN_IN_TEXT.sub(_UNREAD, text)

    def student_number(m: re.Match[str]) -> str:
        whole = m.group(1) + m.group(2)
        return whole if student_number_class(whole) in clear else mask_student_number(whole)

    text = _STUDENT_NUMBER_IN_TEXT.sub(student_number, text)
    if DataClass.CORE not in clear:
        text = _LONG_NUMBER.sub(lambda m: _keep_clear_jl(m, text, clear), text)
    if DataClass.SENSITIVE not in clear:
        text = _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group()), text)
    return text


def _keep_clear_jl(m: re.Match[str], text: str, clear: frozenset[DataClass]) -> str:
    """A long digit run is starred out, unless it is the body of a J/L 学籍号 the reader sees."""
    start = m.start()
    letter = text[start - 1] if start else ""
    alone = start < 2 or not text[start - 2].isalnum()
    if letter in ("J", "L") and alone and len(m.group()) == 18 and DataClass.SENSITIVE in clear:
        return m.group()
    return "*" * len(m.group())


def quarantine_row(row: Mapping[str, Any], seen_in_clear: Iterable[DataClass]) -> dict[str, Any]:
    """A quarantined record for this clearance: the raw source row and the message masked
    alike (both quote source values). A reader without 敏感 clearance gets neither the raw
    row nor the quoted values of the message."""
    clear = frozenset(seen_in_clear)
    out = dict(row)
    for column in ("raw", "message"):
        value = out.get(column)
        if value is None:
            continue
        if DataClass.SENSITIVE not in clear:
            value = REDACTED if column == "raw" else _QUOTED.sub("'***'", str(value))
        out[column] = mask_free_text(str(value), clear)
    return out


def quarantine_cells(
    cells: Mapping[str, Any], seen_in_clear: Iterable[DataClass]
) -> dict[str, Any]:
    """A quarantined row's source cells (column → value) masked as `quarantine_row` masks the
    raw row, cell by cell: without 敏感 clearance every value is withheld (the columns stay, so
    the file's shape does), else ID and phone numbers in each text are masked."""
    clear = frozenset(seen_in_clear)
    if DataClass.SENSITIVE not in clear:
        return {k: (None if v is None or v == "" else REDACTED) for k, v in cells.items()}

    def one(value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        text = str(value)  # a number too: an ID number read from a spreadsheet as one
        masked = mask_free_text(text, clear)
        return value if masked == text else masked

    return {k: one(v) for k, v in cells.items()}


_STUDENT_NUMBER = re.compile(r"[GJL]\d{17}[\dX]")


def pseudonymise_key(
    value: str, seen_in_clear: Iterable[DataClass], seal: Callable[[str], str]
) -> str:
    """A record id in the audit trail, for a reader of the trail: a 学籍号 it may not see becomes
    its sealed `ref` (`ref:…`), so an auditor still tells pupils apart — who read the same pupil
    how often — without reading an ID number or a birth date; other text as `mask_free_text`."""
    stored_g = value.startswith("G") and TOKEN_IN_TEXT.fullmatch(value[1:]) is not None
    if (_STUDENT_NUMBER.fullmatch(value) or stored_g) and student_number_class(
        value
    ) not in frozenset(seen_in_clear):
        return "ref:" + seal(value)  # a G 学籍号 is kept sealed at rest (decision 0011)
    return mask_free_text(value, seen_in_clear)
