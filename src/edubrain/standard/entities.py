"""Data standard v1: what an entity is — fields, keys, code tables and data classes.

The entities themselves are declared once, by the domain module they belong to
(`edubrain.modules.<name>.entities`), and found here through the installed modules
(`edubrain.installed`). Everything else (ingestion, the warehouse schema,
docs/data-standard.md, masking in the API) reads these definitions; nothing restates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from edubrain import installed
from edubrain.errors import ConfigError, UnknownEntityError

T = TypeVar("T")


class DataClass(StrEnum):
    """Classification of a field (数据分类分级), used for masking and audit."""

    PUBLIC = "公开"
    INTERNAL = "内部"
    SENSITIVE = "敏感"
    CORE = "核心"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    CODE = "code"  # one value of a code table
    CODE_LIST = "code_list"  # several values of a code table joined by ';'


class Check(StrEnum):
    """Named validators for field values whose rule is more than a pattern or range."""

    ID_NUMBER = "id_number"  # GB 11643: 18 chars, real birth date, MOD 11-2 check digit
    STUDENT_NUMBER = "student_number"  # 全国学籍号: G/J/L + 18; a G body is an ID number
    REGION_CODE = "region_code"  # GB/T 2260: 6 digits under a known province


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: FieldType
    required: bool = False
    data_class: DataClass = DataClass.INTERNAL
    code_table: str | None = None
    pattern: str | None = None  # regex the whole normalised value must match
    check: Check | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    description: str = ""


class RowCheck(StrEnum):
    """Checks across fields of one row."""

    BIRTH_DATE_FITS_GRADE = "birth_date_fits_grade"
    TEACHER_WORKING_AGE = "teacher_working_age"


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    description: str
    natural_key: tuple[str, ...]
    fields: tuple[Field, ...]
    row_checks: tuple[RowCheck, ...] = field(default=())
    reference_data: bool = False
    """Code lists and calendars: changed by decree, not by term, so their age says nothing."""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


@dataclass(frozen=True)
class PersonRegistry:
    """The entity that registers the persons other records mention, and its key.

    For pupils, 学籍 (`student` by 学籍号): linkage, golden records and the checks that compare
    a secondary system with the registry read it from here. One module declares it.
    """

    entity: str
    key: str
    label_zh: str


@dataclass(frozen=True)
class StaffRegistry:
    """The entity that registers staff, and its key: for teachers, 人事 (`teacher` by 教职工号).

    Teaching assignments and head-teacher posts name staff by this key alone; identity
    governance gives each staff record a person ID from it. One module declares it.
    """

    entity: str
    key: str
    label_zh: str


@dataclass(frozen=True)
class UnitRegistry:
    """The entities that name the units every record belongs to: the schools (keyed by
    `school_code`, with their county's `region_code`) and the regions (keyed by `region_code`).
    Scopes, load units and indicator grains are resolved through them. One module declares it."""

    school_entity: str
    region_entity: str


def _declared_once(kind: type[T], what: str) -> T:
    found = installed.declared(kind)
    if len(found) != 1:
        raise ConfigError(
            f"the installed modules declare {len(found)} {what}; exactly one is needed"
        )
    return found[0]


@installed.per_installation
def unit_registry() -> UnitRegistry:
    """The one declared unit registry."""
    return _declared_once(UnitRegistry, "unit registries")


@installed.per_installation
def person_registry() -> PersonRegistry:
    """The one declared person registry."""
    return _declared_once(PersonRegistry, "person registries")


@installed.per_installation
def staff_registry() -> StaffRegistry:
    """The one declared staff registry."""
    return _declared_once(StaffRegistry, "staff registries")


@installed.per_installation
def entities() -> tuple[Entity, ...]:
    """Every entity of the installed modules, in registry order."""
    found = installed.declared(Entity)
    names = [e.name for e in found]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"two modules declare the entity {', '.join(twice)}")
    return found


@installed.per_installation
def _by_name() -> dict[str, Entity]:
    return {e.name: e for e in entities()}


def entity(name: str) -> Entity:
    """The entity called `name`, or an error listing the ones that exist."""
    try:
        return _by_name()[name]
    except KeyError:
        known = ", ".join(_by_name())
        raise UnknownEntityError(f"unknown entity {name!r}; the standard has: {known}") from None
