"""高可信 写实记录: a record about a pupil is submitted, reviewed, shown to the class (公示) with
objections, and only then confirmed — every step a condition of the operational store's update
(`Store.change_submission`), so two people acting at once cannot both move a record, and every
step audited by the routes.

Who does what:

* submit: the pupil (own record), a parent (own child), or a teacher or the head teacher of the
  pupil's class;
* review (通过 / 退回) and start the 公示 of the class's approved records: the head teacher of
  the pupil's class (a class scope on that class);
* object during the 公示: a pupil or parent of the same class, with a reason;
* resolve an objection (采纳: the record is withdrawn; 驳回: the 公示 goes on): the head teacher;
* confirm: the head teacher, once the 公示 has ended without an open objection.

Confirmed records are scored with the warehouse's (`usecases.growth_scores`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from edubrain.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from edubrain.modules.roster import pupils
from edubrain.service.deps import Services
from edubrain.service.policy import Actor, Role, Scope, ScopeLevel
from edubrain.service.store import RecordNotFoundError
from edubrain.standard.codes import code_table

TOPIC = "growth_record"
STATUS_ZH = {
    "submitted": "待审核",
    "approved": "待公示",
    "rejected": "已退回",
    "publicised": "公示中",
    "objected": "有异议",
    "confirmed": "已确认",
}
SUBMITTERS = {Role.STUDENT, Role.PARENT, Role.TEACHER, Role.HEAD_TEACHER}
CLASS_MEMBERS = {Role.STUDENT, Role.PARENT}


def placement(services: Services, actor: Actor, pupil: str) -> tuple[str, str] | None:
    """The pupil's (key as stored, class key) if the pupil is in the caller's scope."""
    placed = pupils.placement(services.reader, actor.scope, pupil)
    return None if placed is None else (pupil, pupils.class_key(placed))


def classes_of(services: Services, actor: Actor) -> list[str]:
    """The classes whose records the caller reviews (a head teacher's) or sees in 公示 (a
    pupil's or parent's own children's)."""
    if actor.scope.level is ScopeLevel.CLASS:
        return [actor.scope.key]
    if actor.scope.level is ScopeLevel.SELF:
        found = [placement(services, actor, n) for n in actor.scope.student_numbers]
        return sorted({p[1] for p in found if p is not None})
    return []


def record_of(form: dict[str, Any]) -> dict[str, Any]:
    """The submitted record, checked: 学年, 学期, 维度, 类别, and a value or a level."""
    domains = code_table("growth_domain").codes
    domain = str(form.get("domain") or "")
    if domain not in domains:
        raise InvalidInputError("请选择评价维度（德、智、体、美、劳）")
    kind = str(form.get("kind") or "").strip()
    if not kind or len(kind) > 40:
        raise InvalidInputError("请填写记录类别（40字以内），如：志愿服务、艺术活动、劳动时长")
    value: float | None = None
    if form.get("value") is not None and str(form["value"]).strip():
        try:
            value = float(str(form["value"]))
        except ValueError:
            raise InvalidInputError("数值应是数字，如志愿服务的小时数") from None
        if not 0 <= value <= 1000:
            raise InvalidInputError("数值应在0到1000之间")
    description = str(form.get("description") or "").strip()
    if not description or len(description) > 300:
        raise InvalidInputError("请写实描述这条记录（300字以内）")
    year = str(form.get("school_year") or "")
    term = str(form.get("term") or "")
    if term not in ("1", "2") or len(year) != 9:
        raise InvalidInputError("请选择学年和学期")
    return {"school_year": year, "term": term, "domain": domain, "kind": kind, "value": value,
            "level": str(form.get("level") or "").strip() or None,
            "description": description,
            "evidence_date": str(form.get("evidence_date") or "")[:10] or None}  # fmt: skip


def submit(services: Services, actor: Actor, pupil: str, record: dict[str, Any]) -> dict[str, Any]:
    """A new record about a pupil in the caller's scope (NotFoundError otherwise)."""
    if actor.role not in SUBMITTERS:
        raise ForbiddenError("只有学生本人、家长和任课教师、班主任可以提交写实记录")
    placed = placement(services, actor, pupil)
    if placed is None:
        raise NotFoundError("您的权限范围内没有这名学生")
    school, region = services.unit_of(actor.scope)
    return services.store.create_submission(
        {
            "topic": TOPIC,
            "subject": placed[0],
            "class_key": placed[1],
            "payload": record,
            "submitted_by": actor.username,
            "submitter_role": actor.role.value,
            "submitted_at": services.clock(),
            "unit_school": placed[1].split("/")[0] if school is None else school,
            "unit_region": region,
        }
    )


def _own(services: Services, actor: Actor, submission_id: str) -> dict[str, Any]:
    """A submission of a class the caller works with; any other is a 404, like none."""
    try:
        found = services.store.submission(submission_id)
    except RecordNotFoundError:
        raise NotFoundError("没有这条写实记录") from None
    if found["topic"] != TOPIC or found["class_key"] not in classes_of(services, actor):
        raise NotFoundError("没有这条写实记录")
    if not _sees(actor, found):
        raise NotFoundError("没有这条写实记录")
    return found


def _sees(actor: Actor, found: dict[str, Any]) -> bool:
    """A class's staff see its records; a pupil or parent the own child's, and the class's in
    公示 (what 公示 is for)."""
    if actor.role in (Role.HEAD_TEACHER, Role.TEACHER):
        return True
    own = found["subject"] in set(actor.scope.student_numbers)
    return own or found["status"] in ("publicised", "objected")


def _move(services: Services, found: dict[str, Any], was: tuple[str, ...],
          values: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    if not services.store.change_submission(found["submission_id"], topic=TOPIC, was=was,
                                            values=values):  # fmt: skip
        now = STATUS_ZH.get(services.store.submission(found["submission_id"])["status"], "")
        raise ConflictError(f"这条记录现在是「{now}」，不能这样处理")
    return services.store.submission(found["submission_id"])


def _head_teacher(actor: Actor) -> None:
    if actor.role is not Role.HEAD_TEACHER or actor.scope.level is not ScopeLevel.CLASS:
        raise ForbiddenError("只有本班班主任可以审核、公示和确认写实记录")


def review(services: Services, actor: Actor, submission_id: str, *, approve: bool,
           note: str) -> dict[str, Any]:  # fmt: skip
    """通过 (→ 待公示) or 退回 (with a reason) a submitted record of the head teacher's class."""
    _head_teacher(actor)
    found = _own(services, actor, submission_id)
    if not approve and not note.strip():
        raise InvalidInputError("退回须说明原因")
    return _move(services, found, ("submitted",), {
        "status": "approved" if approve else "rejected", "reviewed_by": actor.username,
        "reviewed_at": services.clock(), "review_note": note.strip()[:500]})  # fmt: skip


def publicise(services: Services, actor: Actor) -> int:
    """Start the 公示 of every approved record of the head teacher's class, for the days the
    settings name (`growth_publicity_days`); how many."""
    _head_teacher(actor)
    now = services.clock()
    days = services.settings.growth_publicity_days
    started = 0
    for found in services.store.submissions(TOPIC, class_keys=[actor.scope.key],
                                            statuses=["approved"]):  # fmt: skip
        started += services.store.change_submission(
            found["submission_id"], topic=TOPIC, was=["approved"],
            values={"status": "publicised", "public_from": now,
                    "public_until": now + timedelta(days=days)},
        )  # fmt: skip
    return started


def object_to(services: Services, actor: Actor, submission_id: str, note: str) -> dict[str, Any]:
    """提出异议 during the 公示, by a pupil or parent of the class, with a reason."""
    if actor.role not in CLASS_MEMBERS:
        raise ForbiddenError("公示期间由本班学生和家长提出异议")
    found = _own(services, actor, submission_id)
    if not note.strip():
        raise InvalidInputError("提出异议须说明理由")
    until = found["public_until"]
    if found["status"] == "publicised" and until is not None and services.clock() >= until:
        raise ConflictError("公示期已结束，不能再提出异议")
    return _move(services, found, ("publicised",), {
        "status": "objected", "objection_by": actor.username, "objection_at": services.clock(),
        "objection_note": note.strip()[:500]})  # fmt: skip


def resolve(services: Services, actor: Actor, submission_id: str, *, uphold: bool,
            note: str) -> dict[str, Any]:  # fmt: skip
    """采纳 an objection (the record is withdrawn) or 驳回 it (the 公示 goes on), with a note."""
    _head_teacher(actor)
    found = _own(services, actor, submission_id)
    if not note.strip():
        raise InvalidInputError("处理异议须说明理由")
    return _move(services, found, ("objected",), {
        "status": "rejected" if uphold else "publicised", "resolved_by": actor.username,
        "resolved_at": services.clock(), "resolve_note": note.strip()[:500]})  # fmt: skip


def confirm(services: Services, actor: Actor, submission_id: str) -> dict[str, Any]:
    """确认 a record whose 公示 has ended without an open objection."""
    _head_teacher(actor)
    found = _own(services, actor, submission_id)
    until = found["public_until"]
    if found["status"] == "publicised" and (until is None or services.clock() < until):
        raise ConflictError("公示期尚未结束，结束后才能确认")
    return _move(services, found, ("publicised",), {
        "status": "confirmed", "confirmed_by": actor.username,
        "confirmed_at": services.clock()})  # fmt: skip


def visible(services: Services, actor: Actor) -> list[dict[str, Any]]:
    """What the caller sees: a head teacher the class's records; a pupil or parent the own
    child's records, and the class's records in 公示 (what 公示 is for); nobody else any."""
    classes = classes_of(services, actor)
    if not classes:
        return []
    rows = services.store.submissions(TOPIC, class_keys=classes)
    return [r for r in rows if _sees(actor, r)]


def names_in_classes(services: Services, classes: list[str], keys: set[str]) -> dict[str, str]:
    """Pupils' names for the caller's records: only pupils of the caller's own classes (a
    公示 names who a record is about, to the class and nobody else)."""
    found: dict[str, str] = {}
    for key in classes:
        found |= pupils.names(services.reader, Scope(ScopeLevel.CLASS, key), keys)
    return found
