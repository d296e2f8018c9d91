"""Which records speak about a pupil: the facts identity governance reads, declared by modules.

A module whose entity's rows carry a pupil's 学籍号 (the person registry's key,
`standard.entities.person_registry`) declares a `PersonSource` for it. From these facts:

- record linkage (`govern.mentions`) finds its person mentions and their evidence;
- golden records (`govern.golden`) take the values a source wrote for the registry's fields,
  the person registry's values first, then the other sources' in registry order;
- 数据互通率 (`govern.scorecard.interop_rates`) counts every record of every source other
  than the registry itself, and how many resolve to a registry pupil.

The staff registry (人事, `standard.entities.StaffRegistry`) is the other population: its
records are clustered by ID number, not linked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from edubrain import installed
from edubrain.errors import ConfigError
from edubrain.govern.references import Reference
from edubrain.standard.entities import person_registry

# What a 学籍号 says about its pupil: a G number is "G" + the ID number (birth date, sex
# digit); J and L numbers carry region + birth date.
FROM_NUMBER = ("id_number", "sex", "birth_date")


@dataclass(frozen=True)
class PersonSource:
    """The rows of `entity` mention a pupil by the 学籍号 the source system wrote.

    - `label_zh`: the source system as people call it (学籍, 体测, 阅卷 …).
    - `fields`: the person registry's field → this entity's column holding it (`name` →
      `student_name`): linkage evidence, and the values golden records choose from.
    - `by_number`: the rows say nothing about the pupil but the number, so all rows with one
      written number are a single mention (keyed `entity|number`); otherwise each row is one
      (keyed `entity|natural key`).
    - `context`: a reference to another entity whose columns describe the pupil too (a
      homework submission: the class its assignment was set to); `fields` may name its columns.
    - `dated_by`: the record's own date, for recency; without it (or where it is empty) the
      start of the record's school year, when it has one.
    - `from_number`: the fields read out of the written number where the row leaves them empty
      (linkage evidence only, never a golden value).
    - `linked`: False for records about a pupil that are no mention of them (a guardian's row):
      they count in 数据互通率 but record linkage does not read them.
    """

    entity: str
    label_zh: str
    fields: Mapping[str, str] = field(default_factory=dict)
    by_number: bool = False
    context: Reference | None = None
    dated_by: str | None = None
    from_number: tuple[str, ...] = FROM_NUMBER
    linked: bool = True


@installed.per_installation
def person_sources() -> tuple[PersonSource, ...]:
    """Every declared person source, in registry order; the person registry's must be one."""
    found = installed.declared(PersonSource)
    names = [s.entity for s in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"two person sources are declared for {', '.join(twice)}")
    registry = person_registry().entity
    if registry not in names:
        raise ConfigError(f"the person registry {registry!r} is declared as no person source")
    return found


def linked_sources() -> tuple[PersonSource, ...]:
    """The sources whose rows are person mentions, in registry order."""
    return tuple(s for s in person_sources() if s.linked)


def row_sources() -> tuple[PersonSource, ...]:
    """The linked sources whose rows are mentions one by one (they carry more than a number)."""
    return tuple(s for s in linked_sources() if not s.by_number)


def secondary_sources() -> tuple[PersonSource, ...]:
    """Every source but the person registry: the records 数据互通率 resolves."""
    registry = person_registry().entity
    return tuple(s for s in person_sources() if s.entity != registry)
