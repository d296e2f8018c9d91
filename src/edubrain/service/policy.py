"""Who may do what, over which records: the one place that decides access.

Routes only *declare* the permission they need (`require(Permission.AUDIT_READ)`, or a domain
module's own `DomainPermission`); this module answers whether a role has it, which data classes
it sees in clear, and — as an Ibis predicate applied inside the query — which records a scope
covers. Anything not granted here is denied.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import ibis

from edubrain import installed
from edubrain.errors import ConfigError, InvalidInputError
from edubrain.indicators.definitions import Grain
from edubrain.indicators.saved_values import VALUES_TABLE
from edubrain.standard.entities import (
    DataClass,
    person_registry,
    staff_registry,
    unit_registry,
)
from edubrain.warehouse.api import OptionalTables
from edubrain.warehouse.schema import LOAD_UNITS_TABLE, LOADS_TABLE, QUARANTINE_TABLE

if TYPE_CHECKING:
    import ibis.expr.types as ir


class Role(StrEnum):
    BUREAU_LEADER = "bureau_leader"  # 局领导 / 规划科
    DATA_ADMIN = "data_admin"  # 数据管理员 / 信息中心
    SCHOOL_ADMIN = "school_admin"  # 校长 / 学校CIO
    TEACHER = "teacher"  # 任课教师
    HEAD_TEACHER = "head_teacher"  # 班主任
    TEACHING_RESEARCHER = "teaching_researcher"  # 教研员
    PARENT = "parent"  # 家长
    STUDENT = "student"  # 学生
    ENROLMENT_OFFICER = "enrolment_officer"  # 招生办
    PSYCH_TEACHER = "psych_teacher"  # 心理教师
    AUDITOR = "auditor"  # 审计员 / 安全员
    APP_VENDOR = "app_vendor"  # 应用厂商


# How the UI names each role (the cockpit's header and home page, the generated
# docs/service-reference.md).
ROLE_LABELS: dict[Role, str] = {
    Role.BUREAU_LEADER: "局领导",
    Role.DATA_ADMIN: "数据管理员",
    Role.SCHOOL_ADMIN: "校长",
    Role.TEACHER: "教师",
    Role.HEAD_TEACHER: "班主任",
    Role.TEACHING_RESEARCHER: "教研员",
    Role.PARENT: "家长",
    Role.STUDENT: "学生",
    Role.ENROLMENT_OFFICER: "招生办",
    Role.PSYCH_TEACHER: "心理教师",
    Role.AUDITOR: "审计员",
    Role.APP_VENDOR: "应用厂商",
}


class ScopeLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    SCHOOL = "school"
    CLASS = "class"
    SELF = "self"  # one's own record, or one's own children's


REGION_LEVELS = (ScopeLevel.PROVINCE, ScopeLevel.CITY, ScopeLevel.COUNTY)
_REGION_PREFIX = {ScopeLevel.PROVINCE: 2, ScopeLevel.CITY: 4, ScopeLevel.COUNTY: 6}


class Permission(StrEnum):
    """The core's permissions: the directory, the data office, audit, exports, indicators.

    A domain module declares its own (`DomainPermission`: reading pupils, staff …) with the
    roles that hold them; `ROLE_PERMISSIONS` is both.
    """

    ME_READ = "me:read"
    REGIONS_READ = "regions:read"
    SCHOOLS_READ = "schools:read"
    INGEST_READ = "ingest:read"
    QUALITY_READ = "quality:read"
    STEWARD_READ = "steward:read"
    STEWARD_DECIDE = "steward:decide"
    AUDIT_READ = "audit:read"
    EXPORTS_REQUEST = "exports:request"
    EXPORTS_APPROVE = "exports:approve"
    INDICATORS_READ = "indicators:read"
    WARNINGS_READ = "warnings:read"
    WARNINGS_MANAGE = "warnings:manage"
    JOBS_READ = "jobs:read"
    JOBS_RUN = "jobs:run"


class ScopeError(InvalidInputError):
    """A scope that is malformed or not allowed for the role."""


@dataclass(frozen=True)
class Scope:
    """A level and the key that names its records.

    province/city/county: a 6-digit GB/T 2260 code (430000, 430100, 430102); school: a 10-digit
    学校标识码; class: `school_code/school_year/grade_code/class_no`; self: 学籍号s joined by `;`.
    """

    level: ScopeLevel
    key: str

    @classmethod
    def parse(cls, level: str, key: str) -> Scope:
        try:
            lvl = ScopeLevel(level)
        except ValueError:
            known = ", ".join(ScopeLevel)
            raise ScopeError(f"unknown scope level {level!r}; one of {known}") from None
        scope = cls(lvl, key.strip())
        scope.validate()
        return scope

    def validate(self) -> None:
        key = self.key
        if self.level in REGION_LEVELS:
            if not re.fullmatch(r"\d{6}", key):
                raise ScopeError(f"a {self.level} scope is a 6-digit region code, not {key!r}")
        elif self.level is ScopeLevel.SCHOOL:
            if not re.fullmatch(r"\d{10}", key):
                raise ScopeError(f"a school scope is a 10-digit school code, not {key!r}")
        elif self.level is ScopeLevel.CLASS:
            if not re.fullmatch(r"\d{10}/20\d{2}-20\d{2}/\d{2}/\d{1,2}", key):
                raise ScopeError(
                    "a class scope is school_code/school_year/grade_code/class_no, "
                    f"e.g. 4301020001/2025-2026/12/1, not {key!r}"
                )
        elif not self.student_numbers:
            raise ScopeError("a self scope names at least one 学籍号")

    @property
    def region_prefix(self) -> str:
        return self.key[: _REGION_PREFIX[self.level]]

    @property
    def class_key(self) -> tuple[str, str, str, int]:
        school, year, grade, number = self.key.split("/")
        return school, year, grade, int(number)

    @property
    def student_numbers(self) -> tuple[str, ...]:
        return tuple(s for s in (part.strip() for part in self.key.split(";")) if s)

    def describe(self) -> str:
        return f"{self.level}:{self.key}"


@dataclass(frozen=True)
class Actor:
    """The authenticated caller of one request."""

    user_id: int
    username: str
    display_name: str
    role: Role
    scope: Scope


@dataclass(frozen=True)
class DomainPermission:
    """A permission a domain module declares (`MODULE.permissions`): its name, the roles that
    hold it, and the entities whose records it opens (asking to export them needs it too)."""

    value: str
    roles: frozenset[Role]
    reads: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.value


AnyPermission = Permission | DomainPermission

_EVERYONE = frozenset({Permission.ME_READ, Permission.REGIONS_READ, Permission.SCHOOLS_READ})
_P = Permission
# Indicators are aggregates (no person in them) for everyone who plans or runs schools;
# warnings are worked by the bureau and the schools they name.
_INDICATORS = frozenset({_P.INDICATORS_READ})
_WARNINGS = _INDICATORS | {_P.WARNINGS_READ}
_WARNINGS_WORK = _WARNINGS | {_P.WARNINGS_MANAGE}
# The core's grants; each module's permissions name their roles themselves.
_CORE_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.BUREAU_LEADER: _EVERYONE | _WARNINGS_WORK | {_P.EXPORTS_REQUEST, _P.EXPORTS_APPROVE},
    Role.DATA_ADMIN: _EVERYONE
    | _WARNINGS_WORK
    | {
        _P.INGEST_READ,
        _P.QUALITY_READ,
        _P.STEWARD_READ,
        _P.STEWARD_DECIDE,
        _P.EXPORTS_REQUEST,
        _P.EXPORTS_APPROVE,
        _P.JOBS_READ,
        _P.JOBS_RUN,
    },
    Role.SCHOOL_ADMIN: _EVERYONE | _WARNINGS_WORK | {_P.EXPORTS_REQUEST},
    Role.TEACHER: _EVERYONE | _INDICATORS,
    Role.HEAD_TEACHER: _EVERYONE | _INDICATORS,
    Role.TEACHING_RESEARCHER: _EVERYONE | _WARNINGS | {_P.EXPORTS_REQUEST},
    Role.PARENT: _EVERYONE,
    Role.STUDENT: _EVERYONE,
    Role.ENROLMENT_OFFICER: _EVERYONE | _INDICATORS | {_P.EXPORTS_REQUEST},
    Role.PSYCH_TEACHER: _EVERYONE | _INDICATORS | {_P.EXPORTS_REQUEST},
    Role.AUDITOR: _EVERYONE | {_P.AUDIT_READ},
    Role.APP_VENDOR: _EVERYONE,
}


@installed.per_installation
def domain_permissions() -> tuple[DomainPermission, ...]:
    """The installed modules' permissions, in registry order (each name once, none a core
    permission's)."""
    found = installed.declared(DomainPermission)
    names = [p.value for p in found]
    taken = {p.value for p in Permission}
    twice = sorted({n for n in names if names.count(n) > 1 or n in taken})
    if twice:
        raise ConfigError(f"the permission {', '.join(twice)} is declared twice")
    return found


def permissions() -> tuple[AnyPermission, ...]:
    """Every permission: the core's, then the modules'."""
    return (*Permission, *domain_permissions())


@installed.per_installation
def _role_permissions(role: Role) -> frozenset[AnyPermission]:
    mine = frozenset(p for p in domain_permissions() if role in p.roles)
    return _CORE_GRANTS.get(role, frozenset()) | mine


class _RolePermissions(Mapping[Role, frozenset[AnyPermission]]):
    """Role → every permission it holds: the core's grants and the roles each module's
    permissions name, read when asked (the modules are installed by then)."""

    def __getitem__(self, role: Role) -> frozenset[AnyPermission]:
        if role not in _CORE_GRANTS:
            raise KeyError(role)
        return _role_permissions(role)

    def __iter__(self) -> Iterator[Role]:
        return iter(_CORE_GRANTS)

    def __len__(self) -> int:
        return len(_CORE_GRANTS)


ROLE_PERMISSIONS: Mapping[Role, frozenset[AnyPermission]] = _RolePermissions()


def reading(entity_name: str) -> DomainPermission | None:
    """The permission that opens records of `entity_name` (None: no module declares one)."""
    return next((p for p in domain_permissions() if entity_name in p.reads), None)


@dataclass(frozen=True)
class Reading:
    """The permission that opens an entity's records, looked up when asked: for the surfaces
    below the modules (the cockpit), which name the entity through a registry
    (`Reading(lambda: person_registry().entity)`) and cannot import the module's permission.
    `require` and `allowed` take it like a permission; no module declaring one denies."""

    entity: Callable[[], str]

    def resolve(self) -> DomainPermission | None:
        return reading(self.entity())

    def __str__(self) -> str:
        found = self.resolve()
        return found.value if found is not None else f"read:{self.entity()}"


# The scope levels a role may hold. Region-wide work (ingestion, quality, the steward's queue,
# audit, approving exports) needs a region scope; its rows are still divided by unit and seen
# only inside that region (`operational_predicate`, `operational_scope`; decision 0012).
ROLE_SCOPE_LEVELS: dict[Role, frozenset[ScopeLevel]] = {
    Role.BUREAU_LEADER: frozenset(REGION_LEVELS),
    Role.DATA_ADMIN: frozenset(REGION_LEVELS),
    Role.SCHOOL_ADMIN: frozenset({ScopeLevel.SCHOOL}),
    Role.TEACHER: frozenset({ScopeLevel.CLASS, ScopeLevel.SCHOOL}),
    Role.HEAD_TEACHER: frozenset({ScopeLevel.CLASS}),
    Role.TEACHING_RESEARCHER: frozenset(REGION_LEVELS),
    Role.PARENT: frozenset({ScopeLevel.SELF}),
    Role.STUDENT: frozenset({ScopeLevel.SELF}),
    Role.ENROLMENT_OFFICER: frozenset(REGION_LEVELS),
    Role.PSYCH_TEACHER: frozenset({ScopeLevel.SCHOOL}),
    Role.AUDITOR: frozenset(REGION_LEVELS),
    Role.APP_VENDOR: frozenset({ScopeLevel.SCHOOL, ScopeLevel.COUNTY}),
}

# Data classes a role sees in clear; every other sensitive or core value reaches it masked.
_OPEN = frozenset({DataClass.PUBLIC, DataClass.INTERNAL})
_SENSITIVE = _OPEN | {DataClass.SENSITIVE}
_ALL = _SENSITIVE | {DataClass.CORE}
CLEARANCE: dict[Role, frozenset[DataClass]] = {
    Role.BUREAU_LEADER: _OPEN,
    Role.DATA_ADMIN: _SENSITIVE,
    Role.SCHOOL_ADMIN: _SENSITIVE,
    Role.TEACHER: _SENSITIVE,
    Role.HEAD_TEACHER: _SENSITIVE,
    Role.TEACHING_RESEARCHER: _OPEN,
    Role.PARENT: _ALL,  # their own child's record
    Role.STUDENT: _ALL,  # their own record
    Role.ENROLMENT_OFFICER: _ALL,  # verifies ID numbers on applications
    Role.PSYCH_TEACHER: _SENSITIVE,
    Role.AUDITOR: _OPEN,
    Role.APP_VENDOR: _OPEN,
}


def allowed(actor: Actor, permission: AnyPermission | Reading) -> bool:
    """Deny by default: only what ROLE_PERMISSIONS grants, at a scope the role may hold."""
    if isinstance(permission, Reading):
        found = permission.resolve()
        if found is None:
            return False
        permission = found
    return (
        actor.role in _CORE_GRANTS
        and permission in _role_permissions(actor.role)
        and actor.scope.level in ROLE_SCOPE_LEVELS[actor.role]
    )


def check_role_scope(role: Role, scope: Scope) -> None:
    if scope.level not in ROLE_SCOPE_LEVELS[role]:
        levels = ", ".join(sorted(ROLE_SCOPE_LEVELS[role]))
        raise ScopeError(f"a {role} holds a scope of level {levels}, not {scope.level}")


def clearance(role: Role) -> frozenset[DataClass]:
    return CLEARANCE.get(role, _OPEN)


def _schools_in_region(scope: Scope, tables: OptionalTables) -> ir.Column:
    schools = tables.table(unit_registry().school_entity)
    prefix = scope.region_prefix
    if scope.level is ScopeLevel.COUNTY:
        return schools.filter(schools.region_code == prefix).school_code
    return schools.filter(schools.region_code.startswith(prefix)).school_code


def by_school(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue | None:
    if scope.level in REGION_LEVELS:
        return t.school_code.isin(_schools_in_region(scope, tables))
    if scope.level is ScopeLevel.SCHOOL:
        return t.school_code == scope.key
    return None


def in_class(scope: Scope, t: ir.Table) -> ir.BooleanValue:
    """Rows of `t` (students, classes, assignments) that belong to the scope's class."""
    school, year, grade, number = scope.class_key
    return (
        (t.school_code == school)
        & (t.school_year == year)
        & (t.grade_code == grade)
        & (t.class_no == number)
    )


def _region_and_ancestors(code: str) -> list[str]:
    """A GB/T 2260 code with its city and province (430102 → 430102, 430100, 430000)."""
    return sorted({code, code[:4] + "00", code[:2] + "0000"})


def _units_in_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    """Rows of a table keyed by (grain, unit_code) — indicator values, warnings.

    A school's rows belong to the scope that covers the school. A region's rows (county,
    学段×county, city) are seen inside a region scope and by everyone below them, so a
    principal reads the county's figures beside the school's own.
    """
    at_school = t.grain == Grain.SCHOOL.value
    if scope.level in REGION_LEVELS:
        inside = t.unit_code.startswith(scope.region_prefix) | t.unit_code.isin(
            _region_and_ancestors(scope.key)
        )
        in_region = t.unit_code.isin(_schools_in_region(scope, tables))
        return (at_school & in_region) | (~at_school & inside)
    school = _school_of(scope)
    if school is None:  # pupils and parents: no aggregates by this route
        return ibis.literal(False)
    schools = tables.table(unit_registry().school_entity)
    county = schools.filter(schools.school_code == school).region_code
    above = (
        t.unit_code.isin(county)
        | t.unit_code.isin(county.substr(0, 4) + "00")
        | t.unit_code.isin(county.substr(0, 2) + "0000")
    )
    return (at_school & (t.unit_code == school)) | (~at_school & above)


@dataclass(frozen=True)
class UnitsInScope:
    """The (grain, unit) rows a scope covers, as plain values for a query outside the warehouse
    (warnings in the operational store): the rule of `_units_in_scope`, resolved."""

    schools: frozenset[str]  # rows at school grain, by school code
    region_prefix: str | None  # rows at a region grain whose code starts with this
    regions: frozenset[str]  # … or is one of these

    def covers(self, grain: str, unit_code: str) -> bool:
        if grain == Grain.SCHOOL:
            return unit_code in self.schools
        prefixed = self.region_prefix is not None and unit_code.startswith(self.region_prefix)
        return prefixed or unit_code in self.regions


def units_to_act_on(scope: Scope, region_of_school: Mapping[str, str]) -> UnitsInScope:
    """The (grain, unit) rows a scope may act on (acknowledge or resolve a warning): a school's
    by a scope over the school, a region's only by a region scope at or above it. Reading a
    county's figure is fine for a principal; acting on it is the county's business."""
    if scope.level in REGION_LEVELS:
        found = units_in_scope(scope, region_of_school)
        return UnitsInScope(found.schools, found.region_prefix, frozenset())
    school = _school_of(scope)
    if school is None or scope.level is not ScopeLevel.SCHOOL:
        return UnitsInScope(frozenset(), None, frozenset())
    return UnitsInScope(frozenset({school}), None, frozenset())


def _schools_of_region(scope: Scope, region_of_school: Mapping[str, str]) -> frozenset[str]:
    """The schools of a region scope: a county's by its code, a city's or province's by prefix
    (the rule `_schools_in_region` applies inside a query)."""
    prefix = scope.region_prefix
    exact = scope.level is ScopeLevel.COUNTY
    return frozenset(
        school
        for school, region in region_of_school.items()
        if (region == prefix if exact else region.startswith(prefix))
    )


def units_in_scope(scope: Scope, region_of_school: Mapping[str, str]) -> UnitsInScope:
    """What `_units_in_scope` selects, given every school's region code."""
    if scope.level in REGION_LEVELS:
        schools = _schools_of_region(scope, region_of_school)
        return UnitsInScope(
            schools, scope.region_prefix, frozenset(_region_and_ancestors(scope.key))
        )
    school = _school_of(scope)
    county = region_of_school.get(school) if school is not None else None
    if school is None or county is None:
        return UnitsInScope(frozenset(), None, frozenset())
    return UnitsInScope(frozenset({school}), None, frozenset(_region_and_ancestors(county)))


# ---- operational tables (decision 0012) --------------------------------------------------------
# What ingestion, quality and identity work leave in the warehouse belongs to units too: a load
# to every school and region it names (`load_unit`, recorded with the load), a quarantined row
# to the known school it names (else to its load's units), a person mention to its pupil's
# school (else to its load's units), a review pair to both its mentions. A scope sees a row
# whose units it covers, all of them; a row without a unit only a scope over the whole
# workspace, which sees everything (`OperationalScope.everything`).

LOAD_UNITS = LOAD_UNITS_TABLE
# govern.identity.PERSON_MENTION_TABLE and govern.steward.REVIEW_TABLE, named here so that the
# policy does not import the linkage stack (a test holds them equal).
PERSON_MENTIONS = "person_mention"
REVIEW_QUEUE = "review_queue"


def _covered_schools(scope: Scope, tables: OptionalTables) -> ir.Column | list[str]:
    if scope.level in REGION_LEVELS:
        return _schools_in_region(scope, tables)
    school = _school_of(scope)
    return [school] if school is not None else []


def _any(schools: ir.Column | list[str]) -> bool:
    return not isinstance(schools, list) or bool(schools)


def _loads_in_scope(scope: Scope, tables: OptionalTables) -> ir.Column:
    """Load ids every whole-load unit of which the scope covers."""
    units = tables.table(LOAD_UNITS)
    whole = units.filter(units.row_number.isnull())
    schools = _covered_schools(scope, tables)
    school_ok = units.school_code.isin(schools) if _any(schools) else ibis.literal(False)
    if scope.level in REGION_LEVELS:
        region_ok = units.region_code.startswith(scope.region_prefix)
    else:
        region_ok = ibis.literal(False)
    covered = ibis.ifelse(
        units.school_code.notnull(),
        school_ok,
        ibis.ifelse(units.region_code.notnull(), region_ok, ibis.literal(False)),
    )
    outside = whole.filter(~covered.fill_null(False)).load_id
    return whole.filter(~whole.load_id.isin(outside)).load_id


def _row_key(load_id: ir.StringValue, row_number: ir.IntegerValue) -> ir.StringValue:
    return load_id + "#" + row_number.cast("string")


def _quarantine_in_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    units = tables.table(LOAD_UNITS)
    rows = units.filter(units.row_number.notnull() & units.school_code.notnull())
    rows = rows.mutate(key=_row_key(rows.load_id, rows.row_number))
    schools = _covered_schools(scope, tables)
    if not _any(schools):
        return ibis.literal(False)
    key = _row_key(t.load_id, t.row_number)
    own_school = key.isin(rows.filter(rows.school_code.isin(schools)).key)
    by_load = ~key.isin(rows.key) & t.load_id.isin(_loads_in_scope(scope, tables))
    return (own_school | by_load).fill_null(False)


def _loads_of_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    return t.load_id.isin(_loads_in_scope(scope, tables)).fill_null(False)


def _mentions_in_scope(scope: Scope, tables: OptionalTables) -> ir.Column:
    mentions = tables.table(PERSON_MENTIONS)
    person = person_registry()
    pupils = tables.table(person.entity)
    known = mentions.student_number.isin(pupils[person.key]).fill_null(False)
    pupil_here = mentions.student_number.isin(
        pupils.filter(scope_predicate(scope, person.entity, pupils, tables))[person.key]
    ).fill_null(False)
    by_load = mentions.load_id.isin(_loads_in_scope(scope, tables)).fill_null(False)
    return mentions.filter(pupil_here | (~known & by_load)).mention_key


def _review_in_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    if not tables.has_table(PERSON_MENTIONS):
        return ibis.literal(False)
    mentions = _mentions_in_scope(scope, tables)
    return (t.mention_key_l.isin(mentions) & t.mention_key_r.isin(mentions)).fill_null(False)


def _mention_of_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    return t.mention_key.isin(_mentions_in_scope(scope, tables)).fill_null(False)


_OPERATIONAL: dict[str, Callable[[Scope, ir.Table, OptionalTables], ir.BooleanValue]] = {
    LOADS_TABLE: _loads_of_scope,
    QUARANTINE_TABLE: _quarantine_in_scope,
    REVIEW_QUEUE: _review_in_scope,
    PERSON_MENTIONS: _mention_of_scope,
}


def operational_predicate(
    scope: Scope,
    table_name: str,
    t: ir.Table,
    tables: OptionalTables,
    region_of_school: Mapping[str, str],
) -> ir.BooleanValue:
    """The rows of an operational warehouse table (loads, quarantine, review queue, person
    mentions) the scope covers, as a filter for the query; deny by default."""
    if covers_workspace(scope, region_of_school):
        return ibis.literal(True)
    rule = _OPERATIONAL.get(table_name)
    if rule is None or not tables.has_table(LOAD_UNITS):
        return ibis.literal(False)
    return rule(scope, t, tables)


def workspace_region(region_of_school: Mapping[str, str]) -> str | None:
    """The smallest region (GB/T 2260 code) containing every school of the workspace."""
    regions = set(region_of_school.values())
    if not regions:
        return None
    for digits, pad in ((6, ""), (4, "00"), (2, "0000")):
        prefixes = {r[:digits] for r in regions}
        if len(prefixes) == 1:
            return prefixes.pop() + pad
    return None


def covers_workspace(scope: Scope, region_of_school: Mapping[str, str]) -> bool:
    """Whether the scope covers the whole workspace: the only scope that sees a row whose unit
    cannot be determined."""
    whole = workspace_region(region_of_school)
    if scope.level not in REGION_LEVELS or whole is None:
        return False
    return whole.startswith(scope.region_prefix)


@dataclass(frozen=True)
class OperationalScope:
    """The units a scope covers, as plain values for the operational store's SQL (audit
    records, export requests, steward decisions carry `unit_school` and `unit_region`)."""

    schools: frozenset[str]  # a row of one of these schools
    region_prefix: str | None  # a row whose region code starts with this
    everything: bool  # the scope covers the whole workspace: every row, unit or not

    def covers(self, unit_school: str | None, unit_region: str | None) -> bool:
        if self.everything:
            return True
        if unit_school is not None and unit_school in self.schools:
            return True
        return (
            unit_region is not None
            and self.region_prefix is not None
            and unit_region.startswith(self.region_prefix)
        )


def operational_scope(scope: Scope, region_of_school: Mapping[str, str]) -> OperationalScope:
    everything = covers_workspace(scope, region_of_school)
    if scope.level in REGION_LEVELS:
        schools = _schools_of_region(scope, region_of_school)
        return OperationalScope(schools, scope.region_prefix, everything)
    school = _school_of(scope)
    return OperationalScope(frozenset({school} if school else ()), None, everything)


def unit_of(scope: Scope, region_of_school: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The unit (school, region) of what an actor with this scope does or asks for: its
    school and that school's county, or its region; a self scope's pupils are resolved by
    the caller (`None, None` here)."""
    if scope.level in REGION_LEVELS:
        return None, scope.key
    school = _school_of(scope)
    if school is None:
        return None, None
    return school, region_of_school.get(school)


@dataclass(frozen=True)
class Directory:
    """The part of the public directory (regions, schools, the map) a caller is shown: the
    region it works in, not every region the warehouse holds (decision 0012). A region scope
    sees its own region; a school, class or self scope its school's county. `prefix` None: no
    known school, so nothing."""

    prefix: str | None

    def covers_region(self, code: str) -> bool:
        """A region inside the caller's, or one of the city and province above it."""
        if self.prefix is None:
            return False
        return code.startswith(self.prefix) or code in _region_and_ancestors(
            self.prefix.ljust(6, "0")
        )

    def covers_school(self, region_code: str | None) -> bool:
        return (
            self.prefix is not None
            and bool(region_code)
            and (str(region_code).startswith(self.prefix))
        )


def directory(scope: Scope, unit_region: str | None) -> Directory:
    """The directory of `scope`; `unit_region` is its school's (or pupils') county, from
    `unit_of`."""
    if scope.level in REGION_LEVELS:
        return Directory(scope.region_prefix)
    return Directory(unit_region if unit_region else None)


ScopeRule = Callable[[Scope, "ir.Table", OptionalTables], "ir.BooleanValue"]


@dataclass(frozen=True)
class TableScope:
    """How a caller's scope reaches the rows of `table`: a filter for the query.

    Declared by the domain module that owns the table. `of_person` is the usual rule for a
    table of records about pupils.
    """

    table: str
    rule: ScopeRule


def of_person(table: str, key: str) -> TableScope:
    """Rows of `table` whose `key` names a person of the registry inside the caller's scope
    (a pupil's fitness tests, item scores, loans): the registry's own rule decides."""

    def rule(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
        person = person_registry()
        registry = tables.table(person.entity)
        inside = registry.filter(scope_predicate(scope, person.entity, registry, tables))
        return t[key].isin(inside[person.key])

    return TableScope(table, rule)


def of_staff(table: str, key: str) -> TableScope:
    """Rows of `table` whose `key` names a member of staff of the registry inside the caller's
    scope (a teacher's training records, assessments, assignments): the registry's rule."""

    def rule(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
        staff = staff_registry()
        registry = tables.table(staff.entity)
        inside = registry.filter(scope_predicate(scope, staff.entity, registry, tables))
        return t[key].isin(inside[staff.key])

    return TableScope(table, rule)


@installed.per_installation
def _declared_scopes() -> dict[str, ScopeRule]:
    rules: dict[str, ScopeRule] = {VALUES_TABLE: _units_in_scope}
    for declared in installed.declared(TableScope):
        if declared.table in rules:
            raise ConfigError(f"two scope rules for the table {declared.table!r}")
        rules[declared.table] = declared.rule
    return rules


def scope_predicate(
    scope: Scope, entity_name: str, t: ir.Table, tables: OptionalTables
) -> ir.BooleanValue:
    """The records of `entity_name` (table `t`) the scope covers, as a filter for the query.

    A table without a declared rule is covered by no scope at all (deny by default).
    """
    rule = _declared_scopes().get(entity_name)
    if rule is None:
        return ibis.literal(False)
    return rule(scope, t, tables)


def covers(outer: Scope, inner: Scope, region_of_school: Callable[[str], str | None]) -> bool:
    """Whether every record `inner` can reach is also inside `outer` (for approving exports)."""
    if outer.level in REGION_LEVELS:
        if inner.level in REGION_LEVELS:
            return len(inner.region_prefix) >= len(outer.region_prefix) and (
                inner.region_prefix.startswith(outer.region_prefix)
            )
        school = _school_of(inner)
        region = region_of_school(school) if school else None
        return region is not None and region.startswith(outer.region_prefix)
    if outer.level is ScopeLevel.SCHOOL:
        return _school_of(inner) == outer.key
    return outer == inner


def _school_of(scope: Scope) -> str | None:
    if scope.level is ScopeLevel.SCHOOL:
        return scope.key
    if scope.level is ScopeLevel.CLASS:
        return scope.class_key[0]
    return None
