"""The facility survey's tables for indicators.

The facility survey of school year Y-(Y+1) is the `facility_survey` of `survey_year` Y (the
教育事业统计 is taken in the autumn the school year starts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edubrain.indicators.inputs import Inputs
from edubrain.modules.roster.frames import school_frame

if TYPE_CHECKING:
    import ibis.expr.types as ir


def survey_year(inp: Inputs) -> int:
    """The survey year of the run's school year (2025 for 2025-2026)."""
    return int(inp.school_year[:4])


def facilities(inp: Inputs) -> ir.Table:
    """This school year's survey rows (without `survey_year` and internal columns)."""

    def build() -> ir.Table:
        f = inp.table("facility_survey")
        f = f.filter(f.survey_year == survey_year(inp))
        return f.select(*(c for c in f.columns if c != "survey_year" and c[0] != "_"))

    return inp.once("facilities:survey", build)


def school_facility_frame(inp: Inputs) -> ir.Table:
    """The roster's `school_frame` of the schools that have this year's survey, with it."""

    def build() -> ir.Table:
        base = school_frame(inp)
        f = facilities(inp).rename(_f_school="school_code")
        j = base.inner_join(f, base.school_code == f._f_school)
        return j.drop("_f_school")

    return inp.once("facilities:school_facility_frame", build, cache=True)
