"""Who sees which pupils and staff: the roster's scope rules, applied inside each query."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.service.policy import (
    Scope,
    ScopeLevel,
    TableScope,
    by_school,
    in_class,
    of_staff,
)
from edubrain.warehouse.api import OptionalTables

if TYPE_CHECKING:
    import ibis.expr.types as ir


def students_in_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    """A region's or school's pupils, a class's pupils, or a parent's own children."""
    at_school = by_school(scope, t, tables)
    if at_school is not None:
        return at_school
    if scope.level is ScopeLevel.CLASS:
        return in_class(scope, t)
    return t.student_number.isin(list(scope.student_numbers))


def teachers_in_scope(scope: Scope, t: ir.Table, tables: OptionalTables) -> ir.BooleanValue:
    """A region's or school's staff; a class's teachers and head teacher; pupils see none."""
    at_school = by_school(scope, t, tables)
    if at_school is not None:
        return at_school
    if scope.level is ScopeLevel.CLASS:
        assignments = tables.table("teaching_assignment")
        classes = tables.table("class")
        teaching = assignments.filter(in_class(scope, assignments)).staff_number
        heading = classes.filter(in_class(scope, classes)).head_teacher_staff_number
        return t.staff_number.isin(teaching) | t.staff_number.isin(heading)
    # Pupils and parents have no view of staff records.
    return ibis.literal(False)


SCOPES = (
    TableScope("student", students_in_scope),
    TableScope("teacher", teachers_in_scope),
    # a teacher's timetable is read with the teacher (the 一师一档's teaching load)
    of_staff("teaching_assignment", "staff_number"),
)
