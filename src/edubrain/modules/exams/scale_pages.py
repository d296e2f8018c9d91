"""The 项目反应理论 tab of the cockpit's exam page: the paper's calibration and link, each
item's parameters with its flags (chart, table, .xlsx), and the pupils' scale scores in scope
as an aggregate. Reads and audits through `scale_routes.read_scale`, as the API does."""

from __future__ import annotations

from typing import Any

from edubrain.modules.exams import scale_reads
from edubrain.modules.exams.scale_routes import read_scale
from edubrain.service.deps import AuditTrail, Services
from edubrain.service.policy import Actor


def scale_context(
    services: Services, trail: AuditTrail, actor: Actor, exam_id: str
) -> dict[str, Any]:
    found = read_scale(services, trail, actor, exam_id)
    items = found["items"]
    labels = [str(i["item_no"]) for i in items]
    first = [round(float(i["b"].split(";")[0]), 3) if i["b"] else None for i in items]
    chart = {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": ["难度参数", "区分度参数"]},
        "grid": {"left": 48, "right": 16, "top": 32, "bottom": 40},
        "xAxis": {"type": "category", "data": labels},
        "yAxis": {"type": "value"},
        "series": [
            {"type": "bar", "name": "难度参数", "data": first},
            {"type": "line", "name": "区分度参数", "data": [
                None if i["a"] is None else round(i["a"], 3) for i in items
            ]},
        ],
    }  # fmt: skip
    return {
        "exam": found["exam"],
        "scale": found,
        "scale_sheets": scale_reads.scale_sheets(found),
        "sheets": [],
        "chart_option": chart,
    }
