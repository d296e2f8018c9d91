"""Declared references between entities of the standard (foreign keys), written once.

Referential-integrity rules are generated from this list, and so is the path by which a record
without a school of its own (a fitness test, an item score) is attributed to a school.
"""

from __future__ import annotations

from dataclasses import dataclass

from edubrain.standard.entities import entity

CLASS_KEY = ("school_code", "school_year", "grade_code", "class_no")


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


# Order matters where an entity has several references to school-bearing targets: the first one
# gives the record's school (a homework submission belongs to the school that set the homework,
# even when the pupil's 学籍 record is missing).
REFERENCES: tuple[Reference, ...] = (
    Reference("school", ("region_code",), "region"),
    Reference("class", ("school_code",), "school"),
    Reference("class", ("head_teacher_staff_number",), "teacher", ("staff_number",)),
    Reference("student", CLASS_KEY, "class"),
    Reference("guardian", ("student_number",), "student"),
    Reference("teacher", ("school_code",), "school"),
    Reference("teaching_assignment", ("staff_number",), "teacher"),
    Reference("teaching_assignment", CLASS_KEY, "class"),
    Reference("facility_survey", ("school_code",), "school"),
    Reference("exam_item", ("exam_id",), "exam"),
    Reference("item_score", ("exam_id", "item_no"), "exam_item"),
    Reference("item_score", ("student_number",), "student"),
    Reference("homework_assignment", CLASS_KEY, "class"),
    Reference("homework_submission", ("assignment_id",), "homework_assignment"),
    Reference("homework_submission", ("student_number",), "student"),
    Reference("fitness_test", ("student_number",), "student"),
    Reference("health_check", ("student_number",), "student"),
    Reference("attendance", ("student_number",), "student"),
)


def references_from(entity_name: str) -> tuple[Reference, ...]:
    return tuple(r for r in REFERENCES if r.entity == entity_name)


def school_reference(entity_name: str) -> Reference | None:
    """The reference through which a record without a `school_code` gets its school, if any."""
    if "school_code" in entity(entity_name).field_names:
        return None
    for ref in references_from(entity_name):
        if "school_code" in entity(ref.target).field_names:
            return ref
    return None
