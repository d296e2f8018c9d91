"""The cockpit's 综合素质评价 page (`/growth`): submit a 写实记录, follow it through review and
公示, object to a classmate's record in 公示; for the head teacher, review, start the 公示,
resolve objections and confirm. The forms call the API's functions (`routes`), so the roles,
scopes and audit are the same."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from edubrain.cockpit.render import form_fields, page
from edubrain.errors import NotFoundError
from edubrain.modules.growth import workflow
from edubrain.modules.growth.permissions import GROWTH_RECORDS
from edubrain.modules.growth.routes import STEPS, NoteIn, RecordIn, listing, publicity, step, submit
from edubrain.modules.growth.scheme import active_scheme
from edubrain.service.deps import ServicesDep, Trail, require
from edubrain.service.policy import Actor, Role, Scope, ScopeLevel, scope_predicate
from edubrain.standard.codes import code_table
from edubrain.standard.entities import person_registry


def _back(done: str) -> RedirectResponse:
    return RedirectResponse(f"/growth?done={done}", status.HTTP_303_SEE_OTHER)


def _pupils(services: ServicesDep, scope: Scope) -> list[dict[str, str]]:
    """The pupils a scope covers (a class's, a parent's children), by name, with their refs."""
    person = person_registry()
    reader = services.reader
    with reader.lock:
        t = reader.table(person.entity)
        t = t.filter(scope_predicate(scope, person.entity, t, reader))
        found = reader.rows(t.select(person.key, "name").order_by("name"))
    return [{"ref": services.refs.seal(str(r[person.key])), "name": str(r["name"])}
            for r in found]  # fmt: skip


def pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/growth", response_class=HTMLResponse)
    def growth_page(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(GROWTH_RECORDS)],
    ) -> Response:
        """综合素质评价: the records you work with and the form to submit one."""
        rows = listing(services, trail, actor)
        # a teacher chooses a pupil of the class, a parent of several children one of them
        several = len(actor.scope.student_numbers) > 1
        choose = actor.scope.level is ScopeLevel.CLASS or (
            actor.scope.level is ScopeLevel.SELF and several
        )
        pupils = _pupils(services, actor.scope) if choose else []
        scheme = active_scheme(services.settings.workspace.schemes)
        context = {
            "rows": rows,
            "pupils": pupils,
            "domains": code_table("growth_domain").codes,
            "kinds": {d.domain: [r.kind for r in d.rules] for d in scheme.domains},
            "head": actor.role is Role.HEAD_TEACHER,
            "member": actor.role in workflow.CLASS_MEMBERS,
            "days": services.settings.growth_publicity_days,
            "done": request.query_params.get("done"),
            "now": services.clock(),
        }
        return page(request, actor, "growth.html", context)

    @router.post("/growth/submit")
    async def submit_form(
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(GROWTH_RECORDS)],
    ) -> Response:
        form = await form_fields(request)
        value = form.get("value", "").strip()
        body = RecordIn(
            ref=form.get("ref") or None,
            school_year=form.get("school_year", ""),
            term=form.get("term", ""),
            domain=form.get("domain", ""),
            kind=form.get("kind", "")[:40],
            value=float(value) if value.replace(".", "", 1).isdigit() else None,
            description=form.get("description", "")[:300],
            evidence_date=form.get("evidence_date", "")[:10] or None,
        )
        submit(body, services, trail, actor)
        return _back("submit")

    @router.post("/growth/publicity")
    def publicity_form(
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(GROWTH_RECORDS)],
    ) -> Response:
        publicity(services, trail, actor)
        return _back("publicise")

    @router.post("/growth/{submission_id}/{step_name}")
    async def step_form(
        submission_id: str,
        step_name: str,
        request: Request,
        services: ServicesDep,
        trail: Trail,
        actor: Annotated[Actor, require(GROWTH_RECORDS)],
    ) -> Response:
        if step_name not in STEPS or len(submission_id) != 32:
            raise NotFoundError("没有这一步")
        form = await form_fields(request)
        step(step_name, submission_id, services, trail, actor,
             NoteIn(note=form.get("note", "")[:500]))  # fmt: skip
        return _back(step_name)

    return router
