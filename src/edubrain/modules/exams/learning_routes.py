"""学情 for teachers: the API (`/api/v1/learning/...`) and the cockpit page (`/learning`).

The teacher's classes (her class scope; a school's staff: the school's classes), and a class's
mastery heatmap, 分层 groups, recommended practice and 错题本 (`modules.exams.learning`), read
in the caller's scope, masked by clearance and audited like every read of pupils' results:
one audit entry per read naming the class and how many pupils it showed.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from edubrain.cockpit.render import page
from edubrain.modules.exams import learning
from edubrain.modules.exams.mastery import MASTERY_TABLE
from edubrain.modules.exams.permissions import LEARNING_READ
from edubrain.modules.exams.reads import scores_in_clear
from edubrain.modules.exams.routes import xlsx_download
from edubrain.service.deps import AuditTrail, ServicesDep, Trail, require
from edubrain.service.policy import Actor

ClassKey = Annotated[
    str,
    Path(max_length=40, pattern=r"^\d{10}-\d{2}-\d{1,2}$",
         description="学校标识码-年级-班号, from the class list."),
]  # fmt: skip
ExamId = Annotated[str | None, Query(max_length=80, description="A 考试编号 (default: latest).")]
SHEETS = "0 掌握度（学生）, 1 分层分组, 2 各层掌握度, 3 推荐练习, 4 错题本, 5 练习题推荐 (if any)."


def _audit(trail: AuditTrail, key: str, view: dict[str, Any], what: str) -> None:
    query = {
        "view": what,
        "exam": (view.get("exam") or {}).get("exam_id"),
        "pupils": len(view.get("pupils", [])),
    }
    trail.record("read", MASTERY_TABLE, record_ids=[key], query=query)


def _view(services: ServicesDep, actor: Actor, key: str, exam: str | None) -> dict[str, Any]:
    return learning.class_learning(
        services.reader,
        actor.scope,
        key,
        exam_id=exam,
        clear=scores_in_clear(actor),
        practice_model=services.settings.workspace.diagnosis,
    )


def list_classes(
    services: ServicesDep, trail: Trail, actor: Annotated[Actor, require(LEARNING_READ)]
) -> list[dict[str, Any]]:
    """The classes in the caller's scope (a teacher: her class), with their pupils."""
    found = learning.classes_in_scope(services.reader, actor.scope)
    trail.record("list", MASTERY_TABLE, query={"classes": len(found)})
    return found


def get_class(
    key: ClassKey,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(LEARNING_READ)],
    exam: ExamId = None,
) -> dict[str, Any]:
    """A class's 学情 from an exam's cognitive diagnosis (and the practice diagnosis where it
    has the pupils): mastery per knowledge point × pupil (null when masked), 分层 groups with
    their members, focus points and recommended items, and the 错题本 of most-missed items."""
    view = _view(services, actor, key, exam)
    _audit(trail, key, view, "class")
    return view


def get_class_xlsx(
    key: ClassKey,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(LEARNING_READ)],
    exam: ExamId = None,
    table: Annotated[int, Query(ge=0, le=5, description=SHEETS)] = 0,
) -> Response:
    """One table of the class's 学情 page as an .xlsx workbook (text cells neutralised)."""
    view = _view(services, actor, key, exam)
    _audit(trail, key, view, f"xlsx-{table}")
    sheets = learning.learning_sheets(view)
    if table >= len(sheets):
        raise learning.ClassNotFoundError(f"no table {table} on this page")
    title, header, rows = sheets[table]
    return xlsx_download(title, header, rows, f"learning-{table}.xlsx")


def routes() -> APIRouter:
    router = APIRouter(tags=["learning"])
    router.get("/learning/classes")(list_classes)
    router.get("/learning/classes/{key}")(get_class)
    router.get("/learning/classes/{key}/export.xlsx", response_class=Response)(get_class_xlsx)
    return router


def _heat_colour(value: float | None) -> str:
    """A cell's background: red (0) through yellow to green (1); grey when unknown."""
    if value is None:
        return "#eeeeee"
    hue = round(120 * max(0.0, min(1.0, value)))
    return f"hsl({hue}, 70%, 82%)"


def _bar_option(view: dict[str, Any]) -> dict[str, Any]:
    labels = [c["label"] for c in view["columns"]]
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "top": 36, "bottom": 60},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"interval": 0}},
        "yAxis": {"type": "value", "name": "掌握度", "min": 0, "max": 1},
        "series": [
            {"type": "bar", "name": g["layer"], "data": g["by_point"]} for g in view["groups"]
        ],
    }


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/learning", response_class=HTMLResponse)
    def learning_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(LEARNING_READ)],
        class_key: Annotated[
            str | None, Query(max_length=40, pattern=r"^\d{10}-\d{2}-\d{1,2}$")
        ] = None,
        exam: ExamId = None,
        by: Literal["pupils", "groups"] = "pupils",
    ) -> Response:
        """学情: the caller's classes; a class's heatmap, groups, practice and 错题本."""
        classes = learning.classes_in_scope(services.reader, actor.scope)
        context: dict[str, Any] = {"classes": classes, "view": None, "by": by}
        if class_key is None and len(classes) == 1:
            class_key = classes[0]["class_key"]
        if class_key is None:
            trail.record("list", MASTERY_TABLE, query={"classes": len(classes)})
            return page(request, actor, "learning.html", context)
        view = _view(services, actor, class_key, exam)
        _audit(trail, class_key, view, "page")
        if view.get("exam"):
            rows = (
                [
                    {"label": c["label"], "cells": [(v, _heat_colour(v)) for v in values]}
                    for c, values in zip(view["columns"], view["heat_pupils"], strict=True)
                ]
                if by == "pupils"
                else [
                    {
                        "label": c["label"],
                        "cells": [
                            (g["by_point"][k], _heat_colour(g["by_point"][k]))
                            for g in view["groups"]
                        ],
                    }
                    for k, c in enumerate(view["columns"])
                ]
            )
            heads = view["pupils"] if by == "pupils" else [g["layer"] for g in view["groups"]]
            context |= {
                "heat_rows": rows,
                "heat_heads": heads,
                "sheets": learning.learning_sheets(view),
                "chart_option": _bar_option(view),
            }
        context |= {"view": view, "class_key": class_key}
        return page(request, actor, "learning.html", context)

    return router
