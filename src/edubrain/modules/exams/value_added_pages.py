"""The cockpit's 增值评价 page (`/exams/value-added`): a caterpillar chart and its tables.

The chart shows each school's value-added with its 95 % interval, sorted by the estimate, the
bar coloured by band (显著高于 / 与预期相当 / 显著低于); below it the same figures as tables
listed by band, never by rank, each with its xlsx export; then the classes (with the teacher
where attribution is clear). The page reads what the API reads (`value_added_routes.read`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from edubrain.cockpit.render import page
from edubrain.modules.exams import value_added_reads as va
from edubrain.modules.exams.permissions import EXAMS_VALUE_ADDED
from edubrain.modules.exams.value_added_routes import Grade, Subject, Year, read
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor

BAND_COLOURS = {"above": "#2e7d32", "in_line": "#90a4ae", "below": "#c62828"}


def caterpillar(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An ECharts option of bars and lines only (the cockpit's build): a transparent bar up to
    each interval's lower end, stacked with a bar as long as the interval (stacking across
    signs), and the estimate as a point; a line at 0 is the county's expected progress."""
    labels = [str(r["school_name"]) for r in rows]
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 56, "right": 16, "top": 24, "bottom": 80},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"rotate": 45}},
        "yAxis": {"type": "value", "name": "增值（分）"},
        "series": [
            {
                "type": "bar",
                "name": "区间下限",
                "stack": "interval",
                "stackStrategy": "all",
                "itemStyle": {"color": "transparent"},
                "tooltip": {"show": False},
                "data": [round(float(r["lower"]), 2) for r in rows],
            },
            {
                "type": "bar",
                "name": "95%区间",
                "stack": "interval",
                "stackStrategy": "all",
                "barWidth": 6,
                "data": [
                    {
                        "value": round(float(r["upper"]) - float(r["lower"]), 2),
                        "itemStyle": {"color": BAND_COLOURS.get(str(r["band"]), "#90a4ae")},
                    }
                    for r in rows
                ],
            },
            {
                "type": "line",
                "name": "增值",
                "symbol": "circle",
                "symbolSize": 7,
                "lineStyle": {"width": 0},
                "itemStyle": {"color": "#263238"},
                "data": [round(float(r["effect"]), 2) for r in rows],
                "markLine": {
                    "silent": True,
                    "symbol": "none",
                    "data": [{"yAxis": 0, "name": "预期进步"}],
                },
            },
        ],
    }


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/exams/value-added", response_class=HTMLResponse)
    def value_added_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(EXAMS_VALUE_ADDED)],
        school_year: Year = None,
        subject: Subject = None,
        grade: Grade = None,
    ) -> Response:
        """增值评价: the schools' value-added in scope as a caterpillar chart and tables."""
        found = read(services, trail, actor, school_year, subject, grade)
        chosen = found["selection"]
        query = (
            f"school_year={chosen['school_year']}&subject={chosen['subject']}"
            f"&grade={chosen['grade_code']}"
            if chosen
            else ""
        )
        context = {
            "found": found,
            "sheets": va.sheets(found),
            "query": query,
            "chart_option": caterpillar(found["schools"]) if found["schools"] else None,
        }
        return page(request, actor, "exams_value_added.html", context)

    return router
