"""The demo's scopes on the synthetic county: its first class, that class's school and county,
and the class's first pupil (a parent's or pupil's own record)."""

from __future__ import annotations

from edubrain.errors import EdubrainError
from edubrain.service.demo import DemoScopes
from edubrain.service.policy import Scope, ScopeLevel
from edubrain.warehouse import Warehouse


def pick_scopes(wh: Warehouse) -> dict[ScopeLevel, Scope]:
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
    pupil = (
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
    if pupil:
        scopes[ScopeLevel.SELF] = Scope(ScopeLevel.SELF, pupil[0]["student_number"])
    return scopes


DEMO_SCOPES = DemoScopes(pick_scopes)
