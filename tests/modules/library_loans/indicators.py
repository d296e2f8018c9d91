"""图书借阅 indicators: loans per pupil enrolled, by school and county."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edubrain.indicators.definitions import Direction, Family, Grain, Indicator, Ratio
from edubrain.indicators.inputs import Inputs
from edubrain.modules.roster.frames import enrolment_by_school

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _loans_by_school(inp: Inputs) -> ir.Table:
    loans = inp.table("library_loan")
    per_school = loans.group_by("school_code").aggregate(loans=loans.count())
    pupils = enrolment_by_school(inp)
    joined = pupils.left_join(per_school, pupils.school_code == per_school.school_code).select(
        school_code=pupils.school_code,
        students=pupils.students,
        loans=per_school.loans.fill_null(0),
    )
    return inp.attach_school(joined)


LOANS_PER_PUPIL = Indicator(
    id="library.loans_per_pupil",
    family="library",
    name_zh="生均图书借阅册次",
    name_en="Library loans per pupil enrolled",
    unit="册次/生",
    formula=Ratio(_loans_by_school, "loans", "students"),
    formula_text="Σ loans ÷ Σ pupils enrolled this school year",
    grains=(Grain.SCHOOL, Grain.COUNTY),
    inputs=("library_loan", "student", "school"),
    direction=Direction.HIGHER,
)

FAMILY = Family(
    id="library",
    title="图书借阅",
    description="How much pupils borrow from their school libraries.",
    indicators=(LOANS_PER_PUPIL,),
)
