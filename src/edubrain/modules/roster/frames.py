"""The roster's tables for indicators: pupils, classes, staff and timetables of one school year.

Conventions, each stated once here:

* 在校生 (enrolment) = `student` rows of the school year with status `enrolled`; the 学段 of a
  pupil comes from the grade code (1x 小学, 2x 初中, 3x 高中).
* Teachers are the current `teacher` roster; 专任教师 are post `teacher`.

Each table is built once per run (`Inputs.once`); other modules that require the roster build
their bases on these (the facility frame on `school_frame`, 图书借阅 on `enrolment_by_school`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from edubrain.indicators.inputs import Inputs

if TYPE_CHECKING:
    import ibis.expr.types as ir

COMPULSORY = ("primary", "junior")
# 高于规定学历 (教师法 第十一条 sets the 规定学历: 小学 中师, 初中 专科, 高中 本科).
ABOVE_REQUIRED_EDUCATION = {
    "primary": ("associate", "bachelor", "postgraduate"),
    "junior": ("bachelor", "postgraduate"),
    "senior": ("postgraduate",),
}
BACKBONE_COUNTY_OR_ABOVE = ("county", "city", "province")
PE_ART_SUBJECTS = ("pe", "music", "art")


def stage_of_grade(grade: ir.StringValue) -> ir.StringValue:
    first = grade.substr(0, 1)
    return ibis.cases(
        (first == "1", "primary"), (first == "2", "junior"), (first == "3", "senior"), else_=""
    )


# -- people ------------------------------------------------------------------------------------
def enrolled(inp: Inputs) -> ir.Table:
    """Pupils in school this year: school_code, grade_code, class_no, stage."""

    def build() -> ir.Table:
        st = inp.table("student")
        st = st.filter((st.school_year == inp.school_year) & (st.status == "enrolled"))
        return st.select(
            "school_code", "grade_code", "class_no", stage=stage_of_grade(st.grade_code)
        )

    return inp.once("roster:enrolled", build)


def teachers_by_school(inp: Inputs) -> ir.Table:
    """Per school: staff (教职工), teachers (专任教师), and the 优质均衡 teacher counts."""

    def build() -> ir.Table:
        t = inp.table("teacher")
        s = inp.schools()
        j = t.inner_join(s, t.school_code == s.school_code)
        is_teacher = j.post == "teacher"
        above = ibis.cases(
            *(
                (j.stage == stage, j.education.isin(list(levels)))
                for stage, levels in ABOVE_REQUIRED_EDUCATION.items()
            ),
            else_=False,
        )
        pe_art = j.subjects.fill_null("").re_search("(^|;)(" + "|".join(PE_ART_SUBJECTS) + ")(;|$)")
        backbone = j.backbone_level.fill_null("").isin(list(BACKBONE_COUNTY_OR_ABOVE))
        return j.group_by(school_code=j.school_code).aggregate(
            staff=j.count(),
            teachers=is_teacher.cast("int64").sum(),
            above_required=(is_teacher & above).cast("int64").sum(),
            backbone=(is_teacher & backbone).cast("int64").sum(),
            pe_art=(is_teacher & pe_art).cast("int64").sum(),
        )

    return inp.once("roster:teachers_by_school", build)


def enrolment_by_school(inp: Inputs) -> ir.Table:
    def build() -> ir.Table:
        e = enrolled(inp)
        return e.group_by("school_code").aggregate(students=e.count())

    return inp.once("roster:enrolment_by_school", build)


def school_frame(inp: Inputs) -> ir.Table:
    """One row per school: unit columns, students, staff and teacher counts (0 when none)."""

    def build() -> ir.Table:
        s = inp.schools()
        e = enrolment_by_school(inp).rename(_e_school="school_code")
        t = teachers_by_school(inp).rename(_t_school="school_code")
        j = s.left_join(e, s.school_code == e._e_school).select(*s.columns, "students")
        j = j.left_join(t, j.school_code == t._t_school)
        counts = ("students", "staff", "teachers", "above_required", "backbone", "pe_art")
        return j.select(*s.columns, **{c: j[c].fill_null(0).cast("float64") for c in counts})

    return inp.once("roster:school_frame", build, cache=True)


# -- classes -----------------------------------------------------------------------------------
def class_sizes(inp: Inputs) -> ir.Table:
    """One row per class with pupils: size = its enrolled pupils; stage from the grade."""

    def build() -> ir.Table:
        e = enrolled(inp)
        sizes = e.group_by("school_code", "grade_code", "class_no", "stage").aggregate(
            size=e.count()
        )
        return inp.attach_school(sizes, stage_from_school=False)

    return inp.once("roster:class_sizes", build, cache=True)


# -- teaching ----------------------------------------------------------------------------------
def subject_staffing(inp: Inputs) -> ir.Table:
    """Per school × subject on this year's timetable: is_short = 1 when the school has no
    专任教师 whose 任教学科 include the subject (someone else teaches it)."""

    def build() -> ir.Table:
        ta = inp.table("teaching_assignment")
        ta = ta.filter(ta.school_year == inp.school_year)
        taught = ta.group_by("school_code", "subject").aggregate(
            weekly_periods=ta.weekly_periods.fill_null(0).sum()
        )
        t = inp.table("teacher")
        t = t.filter((t.post == "teacher") & t.subjects.notnull())
        qualified = (
            t.select(_q_school=t.school_code, _q_subject=t.subjects.split(";").unnest())
            .group_by("_q_school", "_q_subject")
            .aggregate(qualified_teachers=ibis._.count())
        )
        j = taught.left_join(
            qualified,
            (taught.school_code == qualified._q_school) & (taught.subject == qualified._q_subject),
        )
        rows = j.select(
            "school_code",
            "subject",
            "weekly_periods",
            qualified_teachers=j.qualified_teachers.fill_null(0),
            is_short=j.qualified_teachers.isnull().cast("int64"),
        )
        return inp.attach_school(rows)

    return inp.once("roster:subject_staffing", build, cache=True)


def schools_short_of_subjects(inp: Inputs) -> ir.Table:
    def build() -> ir.Table:
        rows = subject_staffing(inp)
        per = rows.group_by("school_code").aggregate(
            subjects_short=rows.is_short.sum(), subjects_taught=rows.count()
        )
        per = per.mutate(has_short=(per.subjects_short > 0).cast("int64"), one=ibis.literal(1.0))
        return inp.attach_school(per)

    return inp.once("roster:schools_short_of_subjects", build, cache=True)
