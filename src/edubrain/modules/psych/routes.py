"""心理筛查's API: `/api/v1/psych/results` for the psychology teacher, `/api/v1/psych/summary`
(counts, small cells withheld) for those who run or plan schools. Every read is audited; the
results also with the purpose the teacher gives."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from edubrain.errors import InvalidInputError
from edubrain.modules.psych import reads
from edubrain.modules.psych.permissions import PSYCH_READ, PSYCH_SUMMARY
from edubrain.modules.psych.scale import available_scales
from edubrain.modules.psych.score_job import PSYCH_RESULT_TABLE
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor

Year = Annotated[
    str | None, Query(pattern=r"^20\d{2}-20\d{2}$", description="学年, e.g. 2025-2026.")
]


def get_results(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_READ)],
    warning_only: Annotated[bool, Query(description="Only sittings at a warning level.")] = True,
    school_year: Year = None,
) -> dict[str, Any]:
    """The psychology teacher's pupils' screening results (warnings first): each pupil by ref
    and name, the scale, total, level, subscales and status. The request must say why in the
    `X-Purpose` header (one of: 复核筛查结果, 个体心理辅导, 危机干预, 转介评估; UTF-8,
    percent-encoded); the audit entry keeps it."""
    if trail.purpose not in reads.PURPOSES:
        raise InvalidInputError(
            "查看学生心理筛查结果须说明目的（请求头 X-Purpose）：" + "、".join(reads.PURPOSES)
        )
    found = reads.results(
        services.reader,
        services.refs,
        actor.scope,
        warning_only=warning_only,
        school_year=school_year,
    )
    trail.record(
        "read",
        PSYCH_RESULT_TABLE,
        record_ids=[r["ref"] for r in found],
        query={"warning_only": warning_only, "school_year": school_year},
    )
    return {"purpose": trail.purpose, "results": found}


def get_summary(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_SUMMARY)],
    school_year: Year = None,
) -> dict[str, Any]:
    """Sittings per school and level of each scale in scope; cells of 1–4 are withheld (null),
    with a second cell where one alone would be given back by a total."""
    scales = available_scales(services.settings.workspace.scales)
    found = reads.summary(services.reader, actor.scope, scales, school_year)
    trail.record("read", PSYCH_RESULT_TABLE, query={"summary": True, "school_year": school_year})
    return found


def routes() -> APIRouter:
    router = APIRouter(tags=["psych"])
    router.get("/psych/results")(get_results)
    router.get("/psych/summary")(get_summary)
    return router
