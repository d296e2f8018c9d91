"""The cockpit's 考试分析 page: the exams in scope, then an exam's report or item analysis.

Two clicks from the menu: 考试分析 lists the exams with pupils in the caller's scope (a teacher:
their classes'; the bureau: its region's), and an exam opens its score report — every chart
with its table beside it and an .xlsx of each table — or, on the second tab, the paper's item
analysis. The page calls the same reads as the API (`modules.exams.reads`), audited the same.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from edubrain.cockpit.render import page
from edubrain.modules.exams import reads
from edubrain.modules.exams.analysis import EXCELLENT, GOOD, PASS
from edubrain.modules.exams.permissions import EXAMS_READ
from edubrain.modules.exams.routes import SCORES
from edubrain.modules.exams.tables import item_sheet, report_sheets
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor

Text = Annotated[str | None, Query(max_length=80)]


def _bar_chart(labels: list[str], values: list[float], name: str) -> dict[str, Any]:
    return {
        "tooltip": {"trigger": "axis"},
        "grid": {"left": 48, "right": 16, "top": 24, "bottom": 40},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value", "name": name},
        "series": [{"type": "bar", "name": name, "data": values}],
    }


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/exams", response_class=HTMLResponse)
    def exams_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(EXAMS_READ)],
        exam: Text = None,
        school: Annotated[str | None, Query(max_length=20)] = None,
        class_no: Annotated[int | None, Query(ge=1, le=40)] = None,
        tab: Literal["report", "items", "scale"] = "report",
    ) -> Response:
        """考试分析: the exams in scope; an exam's report or its paper's item analysis."""
        context: dict[str, Any] = {"tab": tab, "school": school or "", "class_no": class_no}
        if not exam:
            found = reads.exams_in_scope(services.reader, actor.scope)
            trail.record("list", SCORES, query={"exams": len(found)})
            return page(request, actor, "exams.html", context | {"exams": found, "exam": None})
        query = {"school": school or None, "class_no": class_no}
        if tab == "scale":
            from edubrain.modules.exams.scale_pages import scale_context

            context |= scale_context(services, trail, actor, exam)
            return page(request, actor, "exams.html", context)
        if tab == "items":
            result = reads.exam_items(
                services.reader, actor.scope, exam, school_code=school or None
            )
            analysis = result["analysis"]
            trail.record(
                "read", SCORES, record_ids=[exam],
                query={"view": "items", **query, "pupils": analysis["pupils"]},
            )  # fmt: skip
            context |= {
                "exam": result["exam"],
                "analysis": analysis,
                "sheets": [item_sheet(analysis)],
                "chart_option": _bar_chart(
                    [str(i["item_no"]) for i in analysis["items"]],
                    [round(i["difficulty"], 3) for i in analysis["items"]],
                    "难度",
                ),
            }
        else:
            result = reads.exam_report(
                services.reader,
                actor.scope,
                exam,
                school_code=school or None,
                class_no=class_no,
                smallest_group=reads.smallest_group_for(actor),
            )
            report = result["report"]
            trail.record(
                "read", SCORES, record_ids=[exam],
                query={"view": "report", **query, "pupils": report["pupils"]},
            )  # fmt: skip
            context |= {
                "exam": result["exam"],
                "report": report,
                "sheets": report_sheets(report),
                "chart_option": _bar_chart(
                    [b["label"] for b in report["bands"]],
                    [b["pupils"] for b in report["bands"]],
                    "人数",
                ),
                "thresholds": (EXCELLENT, GOOD, PASS),
            }
        return page(request, actor, "exams.html", context)

    return router
