"""The cockpit's 心理筛查 pages: `/psych` and `/psych/referred`.

`/psych` shows everyone who may read the counts (局领导, 数据管理员, 教研员, 校长, 心理教师) the
sittings per school and level with small cells withheld; the psychology teacher, once she says
why (the purposes of the API), also sees her school's results with a 转介 form on each row and
her school's referrals with a button to withdraw each. `/psych/referred` is the head teacher's
list of the referred pupils of the class, also after choosing a purpose. The pages call the
API's own functions, so scope, the withholding rule and the audit are the same.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edubrain.cockpit.render import form_fields, page
from edubrain.errors import InvalidInputError
from edubrain.modules.psych import reads
from edubrain.modules.psych.permissions import (
    PSYCH_READ,
    PSYCH_REFER,
    PSYCH_REFERRED,
    PSYCH_SUMMARY,
)
from edubrain.modules.psych.routes import (
    CloseIn,
    ReferralIn,
    close,
    get_referred,
    get_results,
    get_summary,
    list_referrals,
    refer,
)
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, allowed

Purpose = Annotated[str | None, Query(max_length=50)]


def _back(purpose: str, done: str) -> RedirectResponse:
    target = f"/psych?purpose={quote(purpose)}&done={done}"
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/psych", response_class=HTMLResponse)
    def psych_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(PSYCH_SUMMARY)],
        purpose: Purpose = None,
        all_levels: Annotated[bool, Query()] = False,
    ) -> Response:
        """心理筛查: counts for everyone here; results and referrals for the psychology teacher
        who has said why."""
        summary = get_summary(services, trail, actor)
        context: dict[str, Any] = {
            "summary": summary,
            "teacher": allowed(actor, PSYCH_READ),
            "purposes": reads.PURPOSES,
            "purpose": purpose if purpose in reads.PURPOSES else None,
            "all_levels": all_levels,
            "results": None,
            "referrals": None,
            "done": request.query_params.get("done"),
        }
        if context["teacher"] and context["purpose"]:
            trail.purpose = str(purpose)
            found = get_results(services, trail, actor, warning_only=not all_levels)
            context["results"] = found["results"]
            context["referrals"] = list_referrals(services, trail, actor)["referrals"]
            context["referred_refs"] = {r["ref"] for r in context["referrals"] if r["open"]}
        return page(request, actor, "psych.html", context)

    @router.post("/psych/referrals")
    async def refer_form(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(PSYCH_REFER)],
    ) -> Response:
        """转介 from the results table (the API's `refer`)."""
        form = await form_fields(request)
        note = form.get("note", "").strip()
        if not note:
            raise InvalidInputError("请填写转介说明：班主任需要知道什么、做什么")
        refer(ReferralIn(ref=form.get("ref", ""), note=note[:500]),
                     services, trail, actor)  # fmt: skip
        return _back(form.get("purpose", ""), "refer")

    @router.post("/psych/referrals/{referral_id}/withdraw")
    async def withdraw_form(
        referral_id: str,
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(PSYCH_REFER)],
    ) -> Response:
        """撤销转介 (the API's `close`)."""
        form = await form_fields(request)
        note = form.get("note", "").strip()[:500]
        if len(referral_id) != 32:
            raise InvalidInputError("没有这条未结束的转介")
        close(services, trail, actor, referral_id, CloseIn(note=note))
        return _back(form.get("purpose", ""), "withdraw")

    @router.get("/psych/referred", response_class=HTMLResponse)
    def referred_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(PSYCH_REFERRED)],
        purpose: Purpose = None,
    ) -> Response:
        """转介学生: the head teacher's referred pupils, after choosing a purpose."""
        chosen = purpose if purpose in reads.HEAD_TEACHER_PURPOSES else None
        results = None
        if chosen:
            trail.purpose = chosen
            results = get_referred(services, trail, actor)["results"]
        context = {"purposes": reads.HEAD_TEACHER_PURPOSES, "purpose": chosen, "results": results}
        return page(request, actor, "psych_referred.html", context)

    return router
