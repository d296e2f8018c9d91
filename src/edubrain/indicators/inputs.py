"""Shared building blocks of the catalogue: Ibis expressions over the warehouse for one year.

Every base table an indicator groups carries the unit columns (school, 学段, county, city).
Conventions, each stated once here:

* 在校生 (enrolment) = `student` rows of the school year with status `enrolled`; the 学段 of a
  pupil comes from the grade code (1x 小学, 2x 初中, 3x 高中).
* The facility survey of school year Y-(Y+1) is the `facility_survey` of `survey_year` Y
  (the 教育事业统计 is taken in the autumn the school year starts).
* Teachers are the current `teacher` roster; 专任教师 are post `teacher`.
* A school's county is its `region_code`; its city is that county's `parent_code` in `region`
  (the county itself when the region table does not know it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ibis

from edubrain.govern.quality import UNKNOWN_SCHOOL
from edubrain.warehouse.api import Tables

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


def homework_limit(grade: ir.StringValue) -> ir.FloatingValue:
    """双减 daily written-homework limit in minutes by grade (policy_thresholds.md §4)."""
    return ibis.cases(
        (grade.isin(["11", "12"]), 0.0),
        (grade.isin(["13", "14", "15", "16"]), 60.0),
        (grade.substr(0, 1) == "2", 90.0),
        else_=ibis.null("float64"),
    )


class Inputs:
    """The warehouse tables of one school year, with shared intermediate tables built once."""

    def __init__(
        self,
        tables: Tables,
        school_year: str,
        *,
        interop_resolver: ir.Table | None = None,
        quality_rows: list[dict[str, Any]] | None = None,
        cache: bool = True,
    ) -> None:
        self.cache = cache
        self.tables = tables
        self.school_year = school_year
        self.survey_year = int(school_year[:4])
        self.interop_resolver = interop_resolver
        self.quality_rows = quality_rows
        self._memo: dict[str, ir.Table] = {}
        self._scalars: dict[str, str | None] = {}

    def table(self, name: str) -> ir.Table:
        return self._once(f"table:{name}", lambda: self.tables.table(name))

    def _once(self, key: str, build: Callable[[], ir.Table], *, cache: bool = False) -> ir.Table:
        """Build a table once per run; `cache` materialises it on the backend (a temp table on
        DuckDB, a cached DataFrame on Spark) so that the indicators reading it compile small
        queries and do not recompute it."""
        if key not in self._memo:
            table = build()
            self._memo[key] = table.cache() if cache and self.cache else table
        return self._memo[key]

    def shared(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """A base several indicators group (built once and cached)."""
        return self._once(f"shared:{key}", build, cache=True)

    def release(self) -> None:
        """Drop the cached tables of this run."""
        for table in self._memo.values():
            release = getattr(table, "release", None)
            if callable(release):
                release()
        self._memo.clear()

    # -- schools -------------------------------------------------------------------------------
    def schools(self) -> ir.Table:
        """school_code, school_name, stage, urban_rural, county_code, city_code."""

        def build() -> ir.Table:
            s = self.table("school")
            r = self.table("region")
            parents = r.select(_region=r.region_code, _parent=r.parent_code)
            j = s.left_join(parents, s.region_code == parents._region)
            return j.select(
                school_code=j.school_code,
                school_name=j.name,
                stage=j.stages,
                urban_rural=j.urban_rural,
                county_code=j.region_code,
                city_code=j._parent.fill_null(j.region_code),
            )

        return self._once("schools", build, cache=True)

    def attach_school(self, t: ir.Table, *, stage_from_school: bool = True) -> ir.Table:
        """`t` (with school_code) plus the school's unit columns; unknown schools are dropped."""
        s = self.schools()
        j = t.inner_join(s, t.school_code == s.school_code)
        columns = {c: j[c] for c in t.columns}
        extra = {c: j[c] for c in s.columns if c not in t.columns}
        if not stage_from_school:
            extra.pop("stage", None)
        return j.select(**columns, **extra)

    # -- people --------------------------------------------------------------------------------
    def enrolled(self) -> ir.Table:
        """Pupils in school this year: school_code, grade_code, class_no, stage."""

        def build() -> ir.Table:
            st = self.table("student")
            st = st.filter((st.school_year == self.school_year) & (st.status == "enrolled"))
            return st.select(
                "school_code", "grade_code", "class_no", stage=stage_of_grade(st.grade_code)
            )

        return self._once("enrolled", build)

    def teachers_by_school(self) -> ir.Table:
        """Per school: staff (教职工), teachers (专任教师), and the 优质均衡 teacher counts."""

        def build() -> ir.Table:
            t = self.table("teacher")
            s = self.schools()
            j = t.inner_join(s, t.school_code == s.school_code)
            is_teacher = j.post == "teacher"
            above = ibis.cases(
                *(
                    (j.stage == stage, j.education.isin(list(levels)))
                    for stage, levels in ABOVE_REQUIRED_EDUCATION.items()
                ),
                else_=False,
            )
            pe_art = j.subjects.fill_null("").re_search(
                "(^|;)(" + "|".join(PE_ART_SUBJECTS) + ")(;|$)"
            )
            backbone = j.backbone_level.fill_null("").isin(list(BACKBONE_COUNTY_OR_ABOVE))
            return j.group_by(school_code=j.school_code).aggregate(
                staff=j.count(),
                teachers=is_teacher.cast("int64").sum(),
                above_required=(is_teacher & above).cast("int64").sum(),
                backbone=(is_teacher & backbone).cast("int64").sum(),
                pe_art=(is_teacher & pe_art).cast("int64").sum(),
            )

        return self._once("teachers_by_school", build)

    def enrolment_by_school(self) -> ir.Table:
        def build() -> ir.Table:
            e = self.enrolled()
            return e.group_by("school_code").aggregate(students=e.count())

        return self._once("enrolment_by_school", build)

    def facilities(self) -> ir.Table:
        def build() -> ir.Table:
            f = self.table("facility_survey")
            f = f.filter(f.survey_year == self.survey_year)
            return f.select(*(c for c in f.columns if c != "survey_year" and c[0] != "_"))

        return self._once("facilities", build)

    def school_frame(self) -> ir.Table:
        """One row per school: unit columns, students, staff and teacher counts (0 when none)."""

        def build() -> ir.Table:
            s = self.schools()
            e = self.enrolment_by_school().rename(_e_school="school_code")
            t = self.teachers_by_school().rename(_t_school="school_code")
            j = s.left_join(e, s.school_code == e._e_school).select(*s.columns, "students")
            j = j.left_join(t, j.school_code == t._t_school)
            counts = ("students", "staff", "teachers", "above_required", "backbone", "pe_art")
            return j.select(*s.columns, **{c: j[c].fill_null(0).cast("float64") for c in counts})

        return self._once("school_frame", build, cache=True)

    def school_facility_frame(self) -> ir.Table:
        """`school_frame` of the schools that have this year's facility survey, with it."""

        def build() -> ir.Table:
            base = self.school_frame()
            f = self.facilities().rename(_f_school="school_code")
            j = base.inner_join(f, base.school_code == f._f_school)
            return j.drop("_f_school")

        return self._once("school_facility_frame", build, cache=True)

    # -- classes -------------------------------------------------------------------------------
    def class_sizes(self) -> ir.Table:
        """One row per class with pupils: size = its enrolled pupils; stage from the grade."""

        def build() -> ir.Table:
            e = self.enrolled()
            sizes = e.group_by("school_code", "grade_code", "class_no", "stage").aggregate(
                size=e.count()
            )
            return self.attach_school(sizes, stage_from_school=False)

        return self._once("class_sizes", build, cache=True)

    def homework_classes(self) -> ir.Table:
        """Per class on the homework platform: homework days and daily written minutes.

        An assignment's completion time is the mean `minutes_spent` of its submissions (the
        teacher's `expected_minutes` when nobody submitted). A class's daily written minutes
        = Σ completion time of its written assignments ÷ the days it was set any homework.
        """

        def build() -> ir.Table:
            a = self.table("homework_assignment")
            a = a.filter(a.school_year == self.school_year)
            s = self.table("homework_submission")
            per = s.group_by(_a_id=s.assignment_id).aggregate(mean_minutes=s.minutes_spent.mean())
            j = a.left_join(per, a.assignment_id == per._a_id)
            minutes = j.mean_minutes.fill_null(j.expected_minutes).fill_null(0.0)
            j = j.mutate(written_minutes=ibis.ifelse(j.is_written, minutes, 0.0))
            per_class = j.group_by("school_code", "grade_code", "class_no").aggregate(
                homework_days=j.assigned_date.nunique(),
                written_minutes=j.written_minutes.sum(),
                written_assignments=j.is_written.cast("int64").sum(),
            )
            daily = per_class.written_minutes / per_class.homework_days
            limit = homework_limit(per_class.grade_code)
            per_class = per_class.mutate(
                stage=stage_of_grade(per_class.grade_code),
                daily_written_minutes=daily,
                limit_minutes=limit,
                over_limit=(limit.notnull() & (daily > limit)).cast("int64"),
                one=ibis.literal(1.0),
            )
            return self.attach_school(per_class, stage_from_school=False)

        return self._once("homework_classes", build, cache=True)

    # -- teaching ------------------------------------------------------------------------------
    def subject_staffing(self) -> ir.Table:
        """Per school × subject on this year's timetable: is_short = 1 when the school has no
        专任教师 whose 任教学科 include the subject (someone else teaches it)."""

        def build() -> ir.Table:
            ta = self.table("teaching_assignment")
            ta = ta.filter(ta.school_year == self.school_year)
            taught = ta.group_by("school_code", "subject").aggregate(
                weekly_periods=ta.weekly_periods.fill_null(0).sum()
            )
            t = self.table("teacher")
            t = t.filter((t.post == "teacher") & t.subjects.notnull())
            qualified = (
                t.select(_q_school=t.school_code, _q_subject=t.subjects.split(";").unnest())
                .group_by("_q_school", "_q_subject")
                .aggregate(qualified_teachers=ibis._.count())
            )
            j = taught.left_join(
                qualified,
                (taught.school_code == qualified._q_school)
                & (taught.subject == qualified._q_subject),
            )
            rows = j.select(
                "school_code",
                "subject",
                "weekly_periods",
                qualified_teachers=j.qualified_teachers.fill_null(0),
                is_short=j.qualified_teachers.isnull().cast("int64"),
            )
            return self.attach_school(rows)

        return self._once("subject_staffing", build, cache=True)

    def schools_short_of_subjects(self) -> ir.Table:
        def build() -> ir.Table:
            rows = self.subject_staffing()
            per = rows.group_by("school_code").aggregate(
                subjects_short=rows.is_short.sum(), subjects_taught=rows.count()
            )
            per = per.mutate(
                has_short=(per.subjects_short > 0).cast("int64"), one=ibis.literal(1.0)
            )
            return self.attach_school(per)

        return self._once("schools_short_of_subjects", build, cache=True)

    # -- data (governance) ---------------------------------------------------------------------
    def interop(self) -> ir.Table:
        """数据互通率 counts per source × entity × school (govern.scorecard.interop_rates)."""

        def build() -> ir.Table:
            from edubrain.govern.scorecard import interop_rates

            rates = interop_rates(self.tables, resolver=self.interop_resolver)
            return self._attach_or_unknown(rates.select("school_code", "records", "resolved"))

        return self._once("interop", build, cache=True)

    def quality(self) -> ir.Table:
        """Quality scorecard units (records, passed) per school, from govern.scorecard."""

        def build() -> ir.Table:
            rows = [
                {
                    "school_code": r["school_code"],
                    "records": float(r["records"]),
                    "passed": float(r["passed"]),
                }
                for r in self.quality_rows or []
            ]
            schema = {"school_code": "string", "records": "float64", "passed": "float64"}
            memo = (
                ibis.memtable(rows, schema=schema)
                if rows
                else ibis.memtable({k: [] for k in schema}, schema=schema)
            )
            return self._attach_or_unknown(memo)

        # Not cached: a few rows, and Spark cannot cache a plan that reads an unregistered
        # in-memory table.
        return self._once("quality", build)

    def _attach_or_unknown(self, t: ir.Table) -> ir.Table:
        """Like attach_school, but records of no known school stay: in the region's only
        county and city, or under UNKNOWN_SCHOOL."""
        s = self.schools().rename(_s_school="school_code")
        j = t.left_join(s, t.school_code == s._s_school)
        return j.select(
            *t.columns,
            stage=j.stage.fill_null(""),
            county_code=j.county_code.fill_null(self._only("county_code") or UNKNOWN_SCHOOL),
            city_code=j.city_code.fill_null(self._only("city_code") or UNKNOWN_SCHOOL),
            school_name=j.school_name.fill_null(UNKNOWN_SCHOOL),
        )

    def _only(self, column: str) -> str | None:
        """The one county (or city) of every school, if there is just one: records of no
        known school then count there; with several they stay under UNKNOWN_SCHOOL."""
        if column not in self._scalars:
            s = self.schools()
            codes = s.select(column).distinct().limit(2).to_pyarrow().column(column).to_pylist()
            self._scalars[column] = codes[0] if len(codes) == 1 else None
        return self._scalars[column]
