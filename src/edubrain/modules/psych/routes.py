"""心理筛查's API: `/api/v1/psych/results` for the psychology teacher, `/api/v1/psych/summary`
(counts, small cells withheld) for those who run or plan schools, `/api/v1/psych/referrals`
(转介: the psychology teacher refers a pupil to the head teacher of the pupil's class, and
withdraws the referral) and `/api/v1/psych/referred` (the head teacher's referred pupils).
Every read and every referral is audited; the reads of results also with a purpose."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from edubrain.errors import InvalidInputError, NotFoundError
from edubrain.modules.psych import reads
from edubrain.modules.psych.permissions import (
    PSYCH_READ,
    PSYCH_REFER,
    PSYCH_REFERRED,
    PSYCH_SUMMARY,
)
from edubrain.modules.psych.scale import available_scales
from edubrain.modules.psych.score_job import PSYCH_RESULT_TABLE
from edubrain.modules.roster import pupils
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, ScopeLevel
from edubrain.service.store import RecordNotFoundError

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


class ReferralIn(BaseModel):
    ref: str = Field(min_length=1, max_length=200, description="The pupil's ref in the results.")
    note: str = Field(
        min_length=1, max_length=500, description="What the head teacher should know and do."
    )


class CloseIn(BaseModel):
    note: str = Field(default="", max_length=500, description="Why the referral ends.")


def _referral_out(services: ServicesDep, row: dict[str, Any], name: str | None) -> dict[str, Any]:
    school, year, grade, number = row["class_key"].split("/")
    return {
        "referral_id": row["referral_id"],
        "ref": services.refs.seal(row["subject"]),
        "name": name,
        "school_code": school,
        "school_year": year,
        "grade_code": grade,
        "class_no": number,
        "note": row["note"],
        "referred_by": row["referred_by"],
        "referred_at": row["referred_at"],
        "open": row["closed_at"] is None,
        "closed_by": row["closed_by"],
        "closed_at": row["closed_at"],
        "close_note": row["close_note"],
    }


def refer(
    body: ReferralIn,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_REFER)],
) -> dict[str, Any]:
    """Refer a screened pupil of your school to the head teacher of the pupil's class (转介):
    the head teacher then sees the pupil's screening level (not the scores) and your note,
    until you withdraw the referral or the pupil leaves the class. A pupil already referred
    to the class keeps the open referral."""
    subject = services.refs.open(body.ref.strip())
    placed = reads.placement(services.reader, actor.scope, subject) if subject else None
    if subject is None or placed is None:
        trail.record("refer", PSYCH_RESULT_TABLE, record_ids=[body.ref], outcome="not_found")
        raise NotFoundError("您学校的心理筛查结果中没有这名学生")
    unit_school, unit_region = services.unit_of(actor.scope)
    row = services.store.create_referral(
        topic=reads.REFERRAL_TOPIC,
        subject=subject,
        class_key=pupils.class_key(placed),
        note=body.note.strip(),
        by=actor.username,
        at=services.clock(),
        unit_school=unit_school,
        unit_region=unit_region,
    )
    trail.record(
        "refer",
        PSYCH_RESULT_TABLE,
        record_ids=[subject],
        query={"referral_id": row["referral_id"], "class_key": row["class_key"]},
    )
    return _referral_out(services, row, placed.get("name"))


def list_referrals(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_REFER)],
    open_only: Annotated[bool, Query(description="Only referrals not withdrawn.")] = False,
) -> dict[str, Any]:
    """Your school's referrals (转介), newest first."""
    rows = services.store.referrals(
        reads.REFERRAL_TOPIC, units=services.units(actor), open_only=open_only
    )
    names = pupils.names(services.reader, actor.scope, {r["subject"] for r in rows})
    trail.record(
        "read", "referrals", record_ids=[r["subject"] for r in rows], query={"topic": "psych"}
    )
    return {"referrals": [_referral_out(services, r, names.get(r["subject"])) for r in rows]}


def close(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_REFER)],
    referral_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    body: CloseIn | None = None,
) -> dict[str, Any]:
    """Withdraw an open referral of your school: the head teacher no longer sees the pupil."""
    note = body.note.strip() if body is not None else ""
    try:
        row = services.store.close_referral(
            referral_id,
            topic=reads.REFERRAL_TOPIC,
            units=services.units(actor),
            by=actor.username,
            note=note,
            at=services.clock(),
        )
    except RecordNotFoundError:
        trail.record("withdraw", "referrals", record_ids=[referral_id], outcome="not_found")
        raise NotFoundError("没有这条未结束的转介") from None
    trail.record("withdraw", "referrals", record_ids=[referral_id], query={"note": note})
    names = pupils.names(services.reader, actor.scope, {row["subject"]})
    return _referral_out(services, row, names.get(row["subject"]))


def get_referred(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PSYCH_REFERRED)],
) -> dict[str, Any]:
    """The pupils of your class whom the psychology teacher referred to you (转介), with their
    screening level and the teacher's note; scores and subscales stay with the psychology
    teacher. The request must say why in the `X-Purpose` header (one of: 配合心理辅导,
    危机干预, 家校沟通; UTF-8, percent-encoded); the audit entry keeps it."""
    if trail.purpose not in reads.HEAD_TEACHER_PURPOSES:
        raise InvalidInputError(
            "查看转介学生的心理筛查结果须说明目的（请求头 X-Purpose）："
            + "、".join(reads.HEAD_TEACHER_PURPOSES)
        )
    referred: list[dict[str, Any]] = []
    if actor.scope.level is ScopeLevel.CLASS:
        referred = services.store.referrals(
            reads.REFERRAL_TOPIC, class_key=actor.scope.key, open_only=True
        )
    by_subject = {r["subject"]: r for r in reversed(referred)}  # the newest per pupil
    found = reads.results(
        services.reader,
        services.refs,
        actor.scope,
        warning_only=False,
        school_year=None,
        only=set(by_subject),
    )
    by_ref = {services.refs.seal(subject): r for subject, r in by_subject.items()}
    out = []
    for result in found:
        referral = by_ref[result["ref"]]
        out.append(
            {k: result[k] for k in reads.HEAD_TEACHER_FIELDS}
            | {
                "referral_note": referral["note"],
                "referred_by": referral["referred_by"],
                "referred_at": referral["referred_at"],
            }
        )
    trail.record(
        "read",
        PSYCH_RESULT_TABLE,
        record_ids=sorted({by_ref[r["ref"]]["subject"] for r in found}),
        query={"referred": True},
    )
    return {"purpose": trail.purpose, "results": out}


def routes() -> APIRouter:
    router = APIRouter(tags=["psych"])
    router.get("/psych/results")(get_results)
    router.get("/psych/summary")(get_summary)
    router.post("/psych/referrals", status_code=201)(refer)
    router.get("/psych/referrals")(list_referrals)
    router.post("/psych/referrals/{referral_id}/withdraw")(close)
    router.get("/psych/referred")(get_referred)
    return router
