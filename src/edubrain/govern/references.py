"""Declared references between entities of the standard (foreign keys), written once —
each by the domain module whose entity holds the referencing fields.

Referential-integrity rules are generated from this list, and so is the path by which a record
without a school of its own (a fitness test, an item score) is attributed to a school.
"""

from __future__ import annotations

from dataclasses import dataclass

from edubrain import installed
from edubrain.standard.entities import entity


@dataclass(frozen=True)
class Reference:
    """`entity.fields` must name an existing row of `target` (by `target_fields`).

    `target_fields` defaults to the target's natural key, so most references name only the
    fields. A record whose referencing fields are all empty references nothing and passes.
    """

    entity: str
    fields: tuple[str, ...]
    target: str
    target_fields: tuple[str, ...] = ()

    @property
    def to_fields(self) -> tuple[str, ...]:
        return self.target_fields or entity(self.target).natural_key

    @property
    def name(self) -> str:
        """Short name used in rule ids: the target, or the field when the target is ambiguous."""
        return self.target if self.fields == self.to_fields else self.fields[0]


@installed.per_installation
def references() -> tuple[Reference, ...]:
    """Every reference the installed modules declare, in registry order.

    Order matters where an entity has several references to school-bearing targets: the first
    one gives the record's school (a homework submission belongs to the school that set the
    homework, even when the pupil's 学籍 record is missing).
    """
    return installed.declared(Reference)


def references_from(entity_name: str) -> tuple[Reference, ...]:
    return tuple(r for r in references() if r.entity == entity_name)


def school_reference(entity_name: str) -> Reference | None:
    """The reference through which a record without a `school_code` gets its school, if any."""
    if "school_code" in entity(entity_name).field_names:
        return None
    for ref in references_from(entity_name):
        if "school_code" in entity(ref.target).field_names:
            return ref
    return None
