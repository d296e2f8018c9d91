"""The demo's scopes on the synthetic county: a class, that class's school and county, and one
of the class's pupils (a parent's or pupil's own record).

The class and the pupil are picked where the other modules' records are (`DemoEvidence`: exam
item scores, practice responses), so the demo teacher's and parent's pages show exams and a
diagnosis: the first class of the latest school year, by school, grade and class, with an
enrolled pupil who has rows in every evidence table; failing that, in one of them; failing
that, the first class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edubrain.errors import EdubrainError
from edubrain.service.demo import DemoScopes
from edubrain.service.policy import Scope, ScopeLevel
from edubrain.warehouse import Warehouse

if TYPE_CHECKING:
    import ibis.expr.types as ir

CLASS_KEY = ("school_code", "school_year", "grade_code", "class_no")


def _pupils_with(wh: Warehouse, entities: tuple[str, ...]) -> ir.Table:
    """学籍 rows of pupils (in a class of the class table) with rows in every entity."""
    students = wh.table("student")
    students = students.filter(students.status == "enrolled")
    classes = wh.table("class").select(*CLASS_KEY).distinct()
    pupils = students.select("student_number", *CLASS_KEY).semi_join(classes, list(CLASS_KEY))
    for name in entities:
        numbers = wh.table(name).select("student_number").distinct()
        pupils = pupils.semi_join(numbers, "student_number")
    return pupils


def _first(pupils: ir.Table) -> dict[str, Any] | None:
    # The latest school year first: the class as it is now.
    order = [pupils.school_year.desc(), "school_code", "grade_code", "class_no", "student_number"]
    rows = pupils.order_by(order).limit(1).to_pyarrow().to_pylist()
    return rows[0] if rows else None


def _pick_pupil(wh: Warehouse, evidence: tuple[str, ...]) -> dict[str, Any] | None:
    """The first pupil with rows in every evidence table (that the warehouse has), else in
    the most of them one pupil has."""
    present = tuple(name for name in evidence if wh.has_table(name) and wh.count(name) > 0)
    if not present:
        return None
    found = _first(_pupils_with(wh, present))
    if found is not None:
        return found
    for name in present:  # in registry order: exams before diagnosis
        found = _first(_pupils_with(wh, (name,)))
        if found is not None:
            return found
    return None


def pick_scopes(wh: Warehouse, evidence: tuple[str, ...] = ()) -> dict[ScopeLevel, Scope]:
    pupil = _pick_pupil(wh, evidence)
    if pupil is not None:
        c = {k: pupil[k] for k in CLASS_KEY}
        number: str | None = pupil["student_number"]
    else:
        classes = wh.table("class")
        first_class = (
            classes.order_by([classes.school_code, classes.grade_code, classes.class_no])
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        if not first_class:
            raise EdubrainError("no classes in the warehouse: ingest a region first")
        c = first_class[0]
        students = wh.table("student")
        first_pupil = (
            students.filter(
                (students.school_code == c["school_code"])
                & (students.school_year == c["school_year"])
                & (students.grade_code == c["grade_code"])
                & (students.class_no == c["class_no"])
            )
            .order_by(students.student_number)
            .limit(1)
            .to_pyarrow()
            .to_pylist()
        )
        number = first_pupil[0]["student_number"] if first_pupil else None
    schools = wh.table("school")
    region = (
        schools.filter(schools.school_code == c["school_code"])
        .region_code.max()
        .to_pyarrow()
        .as_py()
    )
    county = Scope(ScopeLevel.COUNTY, str(region))
    scopes = {
        ScopeLevel.COUNTY: county,
        ScopeLevel.SCHOOL: Scope(ScopeLevel.SCHOOL, c["school_code"]),
        ScopeLevel.CLASS: Scope(
            ScopeLevel.CLASS,
            f"{c['school_code']}/{c['school_year']}/{c['grade_code']}/{c['class_no']}",
        ),
    }
    if number is not None:
        scopes[ScopeLevel.SELF] = Scope(ScopeLevel.SELF, number)
    return scopes


DEMO_SCOPES = DemoScopes(pick_scopes)
