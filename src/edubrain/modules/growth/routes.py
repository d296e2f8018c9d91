"""写实记录's API: `/api/v1/growth/submissions` (list, submit, and each step: approve, reject,
object, uphold, dismiss, confirm) and `/api/v1/growth/publicity` (the head teacher starts the
class's 公示). Every step is audited with the record's id and the pupil."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from edubrain.errors import NotFoundError
from edubrain.modules.growth import workflow
from edubrain.modules.growth.permissions import GROWTH_RECORDS
from edubrain.service.deps import Services, ServicesDep, Trail, require
from edubrain.service.policy import Actor

STEPS = ("approve", "reject", "object", "uphold", "dismiss", "confirm")
SubmissionId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


class RecordIn(BaseModel):
    ref: str | None = Field(default=None, max_length=200, description="The pupil's ref; a "
                            "pupil or a parent of one child may leave it out.")  # fmt: skip
    school_year: str = Field(pattern=r"^20\d{2}-20\d{2}$")
    term: str = Field(pattern=r"^[12]$")
    domain: str = Field(max_length=20)
    kind: str = Field(max_length=40)
    value: float | None = None
    level: str | None = Field(default=None, max_length=20)
    description: str = Field(max_length=300)
    evidence_date: str | None = Field(default=None, max_length=10)


class NoteIn(BaseModel):
    note: str = Field(default="", max_length=500)


def out(services: Services, row: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    grade, number = row["class_key"].split("/")[2:]
    return {
        "submission_id": row["submission_id"],
        "ref": services.refs.seal(row["subject"]),
        "name": names.get(row["subject"]),
        "grade_code": grade,
        "class_no": number,
        "status": row["status"],
        "status_label": workflow.STATUS_ZH.get(row["status"], row["status"]),
        **{k: row["payload"].get(k) for k in ("school_year", "term", "domain", "kind", "value",
                                              "level", "description", "evidence_date")},
        "submitted_by_role": row["submitter_role"],
        "submitted_at": row["submitted_at"],
        "review_note": row["review_note"],
        "public_until": row["public_until"],
        "objection_note": row["objection_note"],
        "resolve_note": row["resolve_note"],
        "confirmed_at": row["confirmed_at"],
    }  # fmt: skip


def listing(services: Services, trail: Any, actor: Actor) -> list[dict[str, Any]]:
    rows = workflow.visible(services, actor)
    names = workflow.names_in_classes(
        services, workflow.classes_of(services, actor), {r["subject"] for r in rows}
    )
    trail.record("read", workflow.TOPIC, record_ids=[r["submission_id"] for r in rows],
                 query={"workflow": True})  # fmt: skip
    return [out(services, r, names) for r in rows]


def pupil_of(services: Services, actor: Actor, ref: str | None) -> str:
    if ref:
        opened = services.refs.open(ref.strip())
        if opened is None:
            raise NotFoundError("您的权限范围内没有这名学生")
        return opened
    own = actor.scope.student_numbers if actor.scope.level.value == "self" else ()
    if len(own) != 1:
        raise NotFoundError("请指明是哪一名学生（ref）")
    return own[0]


def list_submissions(
    services: ServicesDep, trail: Trail, actor: Annotated[Actor, require(GROWTH_RECORDS)]
) -> dict[str, Any]:
    """写实记录 you work with: a head teacher's class; a pupil's or parent's own, and the
    class's records in 公示."""
    return {"submissions": listing(services, trail, actor)}


def submit(
    body: RecordIn,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(GROWTH_RECORDS)],
) -> dict[str, Any]:
    """Submit a 写实记录 about a pupil in your scope; it waits for the head teacher's review."""
    pupil = pupil_of(services, actor, body.ref)
    record = workflow.record_of(body.model_dump())
    try:
        row = workflow.submit(services, actor, pupil, record)
    except NotFoundError:
        trail.record("submit", workflow.TOPIC, record_ids=[pupil], outcome="not_found")
        raise
    trail.record("submit", workflow.TOPIC, record_ids=[row["submission_id"], row["subject"]],
                 query={"kind": record["kind"], "domain": record["domain"]})  # fmt: skip
    return out(services, row, {})


def step(
    step_name: Annotated[str, Path(alias="step", pattern="^(" + "|".join(STEPS) + ")$")],
    submission_id: SubmissionId,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(GROWTH_RECORDS)],
    body: NoteIn | None = None,
) -> dict[str, Any]:
    """One step of a record: approve / reject (head teacher, a reason to reject), object (a
    pupil or parent of the class during 公示, with a reason), uphold / dismiss the objection
    (head teacher, with a reason), confirm (head teacher, after the 公示)."""
    note = body.note if body is not None else ""
    if step_name in ("approve", "reject"):
        row = workflow.review(services, actor, submission_id, approve=step_name == "approve",
                              note=note)  # fmt: skip
    elif step_name == "object":
        row = workflow.object_to(services, actor, submission_id, note)
    elif step_name in ("uphold", "dismiss"):
        row = workflow.resolve(services, actor, submission_id, uphold=step_name == "uphold",
                               note=note)  # fmt: skip
    else:
        row = workflow.confirm(services, actor, submission_id)
    trail.record(step_name, workflow.TOPIC, record_ids=[submission_id, row["subject"]],
                 query={"note": note} if note else None)  # fmt: skip
    return out(services, row, {})


def publicity(
    services: ServicesDep, trail: Trail, actor: Annotated[Actor, require(GROWTH_RECORDS)]
) -> dict[str, Any]:
    """Start the 公示 of your class's approved records (for `growth_publicity_days`, 5 by
    default)."""
    started = workflow.publicise(services, actor)
    trail.record("publicise", workflow.TOPIC, query={"class": actor.scope.key,
                                                     "records": started})  # fmt: skip
    return {"started": started, "days": services.settings.growth_publicity_days}


def routes() -> APIRouter:
    router = APIRouter(tags=["growth"])
    router.get("/growth/submissions")(list_submissions)
    router.post("/growth/submissions", status_code=201)(submit)
    router.post("/growth/submissions/{submission_id}/{step}")(step)
    router.post("/growth/publicity")(publicity)
    return router
