"""The cockpit's pages: one route per page, each declaring its permission like an API route.

Logging in opens the same session as `POST /api/v1/auth/login` (the HttpOnly, SameSite=Strict
cookie); forms post back to the page and call the API's route functions. A page that needs a
login sends the browser to /login; a refused permission is a 403 page, audited by `require`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile as FormFile
from starlette.middleware.gzip import GZipMiddleware

from edubrain import installed
from edubrain.cockpit import labels, views
from edubrain.cockpit.i18n import LANG_COOKIE, LANGS
from edubrain.cockpit.outline import region_outline
from edubrain.cockpit.render import (
    PUPILS,
    Deferred,
    form_fields,
    lang_of,
    page,
    static_response,
    streamed_page,
)
from edubrain.errors import InvalidInputError, NotFoundError
from edubrain.indicators.catalogue import indicators
from edubrain.indicators.definitions import Grain
from edubrain.service import portrait, problems, records, units
from edubrain.service import search as searching
from edubrain.service.auth import AccountLockedError, AuthError
from edubrain.service.deps import (
    SESSION_COOKIE,
    AnonymousTrail,
    ServicesDep,
    Trail,
    public_route,
    require,
)
from edubrain.service.jobs import JOB_KIND_LABELS
from edubrain.service.policy import (
    REGION_LEVELS,
    Actor,
    Permission,
    ScopeLevel,
    allowed,
    units_to_act_on,
)
from edubrain.service.routes import audit as audit_routes
from edubrain.service.routes import auth as auth_routes
from edubrain.service.routes import indicators as indicator_routes
from edubrain.service.routes import jobs as job_routes
from edubrain.service.routes import operations
from edubrain.service.routes import search as search_routes
from edubrain.service.schemas import (
    JobRequest,
    LoginRequest,
    MappingDraftIn,
    StewardBulk,
    StewardDecision,
    StewardUndo,
    WarningNote,
)
from edubrain.sources.mapping import builtin_mappings
from edubrain.standard.entities import entities, person_registry

router = APIRouter(include_in_schema=False)
Public = Depends(public_route)
Text = Annotated[str | None, Query(max_length=64)]
Cursor = Annotated[str | None, Query(max_length=200)]


def install(app: FastAPI) -> None:
    """Mount the pages on the app: routes, gzip for pages and JSON, the login redirect."""
    app.include_router(router)
    for domain in installed.modules():
        if domain.pages is not None:
            app.include_router(domain.pages())
    app.add_middleware(GZipMiddleware, minimum_size=1000)

    problems.render_pages_with(app, error_page)


def error_page(request: Request, problem: problems.Problem) -> Response | None:
    """A problem on a page is a page (a missing login: to /login); the API's and the static
    files' stay problem+json."""
    if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
        return None
    if problem.status == status.HTTP_401_UNAUTHORIZED:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status.HTTP_303_SEE_OTHER)
    response = page(
        request,
        _logged_in(request),
        "error.html",
        {
            "title": problem.title,
            "message": _error_message(request, problem),
            "detail": problem.detail,
            "code": problem.status,
        },
        status_code=problem.status,
    )
    response.headers.update(problem.headers)
    return response


# What an error page says for a status, when the error's own message is not for people (the
# API's `detail` is English, like the CLI's one line). English with the switch (`i18n.EN`).
ERROR_MESSAGES = {
    400: "输入的内容不符合要求，请检查后重试",
    403: "您的角色无权进行此操作",
    404: "未找到该记录，或它不在您的权限范围内",
    405: "不支持该请求方法",
    409: "操作与当前状态冲突，请刷新后重试",
    410: "该内容已失效",
    422: "请求的参数不符合要求，请返回上一页重试",
    423: "账户已锁定，请稍后再试",
    429: "请求过于频繁，请稍后再试",
    503: "服务暂不可用，请稍后再试或联系管理员",
}
PAGE_NOT_FOUND = "页面不存在"


def _logged_in(request: Request) -> Actor | None:
    """The caller of a page that failed, so that the error page keeps the menu (None when not
    logged in: the login page's frame)."""
    services = getattr(request.app.state, "services", None)
    bearer = request.headers.get("authorization", "")
    token = (
        bearer[7:] if bearer.lower().startswith("bearer ") else request.cookies.get(SESSION_COOKIE)
    )
    if services is None or not token:
        return None
    actor: Actor | None = services.sessions.actor(services.store, token, services.clock())
    return actor


def _error_message(request: Request, problem: problems.Problem) -> str:
    """The error in the page's words: which permission a 403 lacks (您的角色无权查看预警),
    页面不存在 for a path no route knows, a message written in Chinese as it is, else the
    status's."""
    denied = getattr(request.state, "denied_permission", None)
    if problem.status == status.HTTP_403_FORBIDDEN and denied:
        return f"您的角色无权{labels.permission_label(denied)}"
    if problem.status == status.HTTP_404_NOT_FOUND and request.scope.get("endpoint") is None:
        return PAGE_NOT_FOUND
    said = labels.chinese_part(problem.detail)
    if labels.is_chinese_message(said):
        return said
    return ERROR_MESSAGES.get(problem.status, "出错了，请稍后再试")


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/home"


# ---- static files and the language switch ------------------------------------------------------


@router.get("/static/{name:path}", dependencies=[Public])
def static_file(name: str, request: Request) -> Response:
    """The cockpit's CSS, JS and vendored ECharts modules (public, no personal data)."""
    return static_response(request, name)


@router.get("/lang/{code}", dependencies=[Public])
def switch_language(code: str, request: Request) -> Response:
    """中文 / English; the choice is a cookie."""
    back = urlsplit(request.headers.get("referer", ""))
    path = back.path + (f"?{back.query}" if back.query else "")
    response = RedirectResponse(_safe_next(path), status.HTTP_303_SEE_OTHER)
    if code in LANGS:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="strict")
    return response


# ---- login -------------------------------------------------------------------------------------


@router.get("/", dependencies=[Public])
def root() -> Response:
    """Redirect to the home page."""
    return RedirectResponse("/home", status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse, dependencies=[Public])
def login_form(
    request: Request,
    target: Annotated[str | None, Query(alias="next", max_length=300)] = None,
) -> Response:
    """The login form; `next` is where to go after logging in (a path on this site only)."""
    return page(request, None, "login.html", {"next": _safe_next(target), "error": None})


@router.post("/login", response_class=HTMLResponse, dependencies=[Public])
async def login_submit(request: Request, services: ServicesDep, trail: AnonymousTrail) -> Response:
    """The API's login (same checks, lockout and audit); the session cookie goes to the page."""
    form = await form_fields(request)
    target = _safe_next(form.get("next"))
    response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
    error = None
    try:
        body = LoginRequest(username=form.get("username", ""), password=form.get("password", ""))
        auth_routes.post_login(body, response, services, trail)
    except AccountLockedError:
        error = "账户已锁定，请稍后再试"
    except (AuthError, ValidationError):
        error = "用户名或密码错误"
    if error:
        context = {"next": target, "error": error, "username": form.get("username", "")}
        return page(request, None, "login.html", context, status_code=401)
    return response


@router.post("/logout", dependencies=[require(Permission.ME_READ)])
def logout(request: Request, services: ServicesDep, trail: Trail) -> Response:
    """End the session through the API's logout and return to the login form."""
    response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
    auth_routes.post_logout(request, response, services, trail)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---- home --------------------------------------------------------------------------------------


@router.get("/home", response_class=HTMLResponse)
def home(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.ME_READ)],
) -> Response:
    """What this role works with, and where to start."""
    context: dict[str, Any] = {"school": None, "children": [], "tiles": [], "week": None}
    scope = actor.scope
    school_code = (
        scope.key
        if scope.level is ScopeLevel.SCHOOL
        else scope.class_key[0]
        if scope.level is ScopeLevel.CLASS
        else None
    )
    if school_code:
        try:
            context["school"] = units.school_profile(services, actor, school_code)["school"]
        except NotFoundError:
            context["school"] = None
    if scope.level is ScopeLevel.SELF and allowed(actor, PUPILS):
        pupils = person_registry().entity
        context["children"] = records.records_page(
            services, trail, actor, pupils, {}, cursor=None, limit=20
        )["items"]
    if allowed(actor, Permission.INDICATORS_READ):
        region = views.region_of(services, actor)
        if region is not None:
            rows = views.region_rows(services, actor, region)
            year = max((k[1] for k in rows), default=None)
            by_id = {i.id: i for i in indicators()}
            context["tiles"] = [
                views.Headline(by_id[k[0]], r)
                for k, r in sorted(rows.items())
                if k[1] == year and k[0] in by_id and by_id[k[0]].headline and k[3] == ""
            ][:6]
            if scope.level in (ScopeLevel.COUNTY, *REGION_LEVELS):  # a region's leader
                context["week"] = views.week_items(services, actor)
    return page(request, actor, "home.html", context)


# ---- region overview, the map, school profiles --------------------------------------------------


@router.get("/overview", response_class=HTMLResponse)
def overview(
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INDICATORS_READ)],
    trend: Text = None,
) -> Response:
    """Headline indicators against requirements, warnings by level, trends, checklists."""
    data = Deferred(lambda: views.overview(services, actor, trend))
    return streamed_page(request, actor, "overview.html", {"o": data})


@router.get("/map", response_class=HTMLResponse)
def school_map(
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.INDICATORS_READ)],
    colour: Text = None,
) -> Response:
    """教育一张图: the region's outline and its schools, coloured by an indicator or warnings."""
    return page(request, actor, "map.html", {"m": views.map_view(services, actor, colour)})


@router.get("/map/outline.geojson", dependencies=[require(Permission.SCHOOLS_READ)])
def map_outline(services: ServicesDep) -> Response:
    """The region's outline: the bureau's own GeoJSON, or the generator's synthetic one."""
    outline = region_outline(services.settings)
    if outline is None:
        return JSONResponse({"type": "FeatureCollection", "features": []})
    return JSONResponse(outline)


@router.get("/schools/{school_code}", response_class=HTMLResponse)
def school_profile(
    school_code: str,
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.SCHOOLS_READ)],
    trend: Text = None,
) -> Response:
    """A school: public facts for everyone; indicators, facilities and classes within scope."""
    return page(
        request,
        actor,
        "school.html",
        {
            "s": views.school_profile(services, actor, school_code, trend),
            "facility_fields": views.FACILITY_FIELDS,
        },
    )


# ---- warnings ----------------------------------------------------------------------------------


@router.get("/warnings", response_class=HTMLResponse)
def warning_list(
    request: Request,
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.WARNINGS_READ)],
    status_: Annotated[str | None, Query(alias="status", max_length=20)] = "open",
    level: Text = None,
    grain: Text = None,
    indicator_id: Text = None,
    show: Text = None,
    cursor: Cursor = None,
    view: Text = None,
) -> Response:
    """Warnings in scope, red first: filter, acknowledge, resolve with a note; or grouped by
    condition (`view=groups`), or rolled up per school (`view=schools`)."""
    if view in ("groups", "schools"):
        return page(
            request,
            actor,
            "warnings.html",
            views.warning_triage_view(services, actor, view, status_ or None),
        )
    result = indicator_routes.list_warnings(
        services,
        actor,
        status_=status_ or None,
        level=level or None,
        indicator_id=indicator_id or None,
        unit_code=None,
        grain=grain or None,
        cursor=cursor,
        limit=50,
    )
    events = []
    if show:
        events = indicator_routes.warning_events(show, services, actor)
    acting = units_to_act_on(actor.scope, services.reader.region_of_school())
    filters = {"status": status_ or "", "level": level or "", "grain": grain or "",
               "indicator_id": indicator_id or ""}  # fmt: skip
    return page(
        request,
        actor,
        "warnings.html",
        {
            "items": result["items"],
            # Read is not act: a principal sees the county's warning without its buttons.
            "actionable": {
                w["warning_id"]
                for w in result["items"]
                if acting.covers(w["grain"], w["unit_code"])
            },
            "next_cursor": result["next_cursor"],
            "filters": filters,
            "show": show,
            "events": events,
            "indicators": {i.id: i for i in indicators()},
            "grains": [g.value for g in Grain],
            "notice": request.query_params.get("done"),
            "view": "list",
        },
    )


@router.post("/warnings/{warning_id}/{step}")
async def warning_step(
    warning_id: str,
    step: str,
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.WARNINGS_MANAGE)],
) -> Response:
    """Acknowledge (认领) or resolve (解决) with a note, through the API's own functions."""
    form = await form_fields(request)
    try:
        note = WarningNote(note=form.get("note", "").strip())
    except ValidationError:
        raise InvalidInputError("请填写备注") from None
    if step == "acknowledge":
        indicator_routes.acknowledge_warning(warning_id, note, services, trail, actor)
    elif step == "resolve":
        indicator_routes.resolve_warning(warning_id, note, services, trail, actor)
    else:
        raise NotFoundError(f"no step {step}")
    back = _safe_next(form.get("back") or "/warnings")
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}done={step}", status.HTTP_303_SEE_OTHER)


# ---- the data office ---------------------------------------------------------------------------

STARTABLE = ("govern", "compute", "scorecard", "fit")  # an ingest starts with an upload


@router.get("/data-office", response_class=HTMLResponse)
def data_office(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.INGEST_READ)],
    tab: Text = "runs",
    entity: Text = None,
    reason: Text = None,
    load_id: Text = None,
    file: Annotated[str | None, Query(max_length=1000)] = None,
    status: Text = None,
    cursor: Cursor = None,
) -> Response:
    """Ingestion runs, the quarantine browser, quality scorecards, the steward's queue."""
    context: dict[str, Any] = {"tab": tab, "entity": entity or "", "reason": reason or "",
                               "load_id": load_id or ""}  # fmt: skip
    runs = operations.list_runs(services, actor, limit=200)
    context["runs"] = runs
    context["source_label"] = lambda source: labels.source_label(services, source)
    if tab == "quarantine":
        context.update(_quarantine_tab(request, services, trail, actor, entity, reason,
                                       load_id, file, status, cursor))  # fmt: skip
    elif tab == "quality" and allowed(actor, Permission.QUALITY_READ):
        context["quality"] = operations.get_quality(services, actor, by=["source"])
        context["quality_entity"] = operations.get_quality(services, actor, by=["entity"])
    elif tab == "jobs" and allowed(actor, Permission.JOBS_READ):
        # Times in the bureau's zone (EDUBRAIN_TIMEZONE), as people read a clock.
        zone = ZoneInfo(services.settings.timezone)
        context["jobs"] = [
            j | {"requested_at": j["requested_at"].astimezone(zone)}
            for j in job_routes.list_jobs(services, actor, limit=50)
        ]
        context["startable"] = [(k, JOB_KIND_LABELS[k]) for k in STARTABLE]
        context["done"] = request.query_params.get("done", "")
        context["busy"] = any(j["status"] in ("queued", "running") for j in context["jobs"])
    elif tab == "steward" and allowed(actor, Permission.STEWARD_READ):
        result = operations.list_review_queue(services, trail, actor, cursor=cursor, limit=50)
        context["queue"] = result["items"]
        context["next_cursor"] = result["next_cursor"]
        done = request.query_params.get("done", "")
        context["decided"] = int(done) if done.isdigit() else 0
        context["undone"] = request.query_params.get("undone") == "1"
        context["refused"] = [
            {"index": int(i), "reason": reason}
            for i, reason in (
                part.split(":", 1)
                for part in request.query_params.getlist("refused")
                if ":" in part
            )
            if i.isdigit()
        ]
    else:
        context["tab"] = "runs"
    return page(request, actor, "data_office.html", context)


def _quarantine_tab(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Actor,
    entity: str | None,
    reason: str | None,
    load_id: str | None,
    file: str | None,
    status: str | None,
    cursor: str | None,
) -> dict[str, Any]:
    """The quarantine browser: 未处理 rows by default, select boxes of reasons (by name) and
    files with their counts, the counts by status and school, and the download of the rows."""
    lang: Literal["zh", "en"] = "en" if lang_of(request) == "en" else "zh"
    chosen: Literal["open", "resolved", "all"] = (
        "resolved" if status == "resolved" else "all" if status == "all" else "open"
    )
    filters = {"entity": entity or None, "reason": reason or None,
               "load_id": load_id or None, "file": file or None}  # fmt: skip
    q = operations.QuarantineFilter(**filters, status=chosen, lang=lang)
    result = operations.list_quarantine(services, trail, actor, q, cursor=cursor, limit=50)
    summary = operations.quarantine_summary(services, actor, q)
    # The select boxes offer every reason and file of the caller's quarantine (in this status).
    options = operations.quarantine_summary(
        services, actor, operations.QuarantineFilter(status=chosen, lang=lang)
    )
    query = {k: v for k, v in {**filters, "status": chosen}.items() if v}
    return {
        "quarantine": result["items"],
        "next_cursor": result["next_cursor"],
        "q_summary": summary,
        "q_reasons": options["reason"],
        "q_files": options["file"],
        "q_file": file or "",
        "q_status": chosen,
        "q_query": urlencode(query),
        "q_download": "/api/v1/ingest/quarantine/download?" + urlencode({**query, "lang": lang}),
    }


@router.post("/data-office/steward")
async def steward_decision(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.STEWARD_DECIDE)],
) -> Response:
    """The steward's form: every pair given a verdict (`v:<review_id>`) in one bulk request
    (`POST /api/v1/steward/decisions/bulk`: each checked on its own, a refused one shown with its
    reason), or one pair's undo (`undo=<review_id>`, `POST /api/v1/steward/decisions/undo`)."""
    form = await form_fields(request)
    note = form.get("note", "").strip()[:500]

    def refs(rid: str) -> tuple[str, str]:
        return form.get(f"l:{rid}", ""), form.get(f"r:{rid}", "")

    try:
        if form.get("undo"):
            left, right = refs(form["undo"])
            operations.post_undo(StewardUndo(left=left, right=right, note=note),
                                 services, trail, actor)  # fmt: skip
            return RedirectResponse("/data-office?tab=steward&undone=1", status.HTTP_303_SEE_OTHER)
        chosen = [
            StewardDecision(left=refs(k[2:])[0], right=refs(k[2:])[1], verdict=v, note=note)
            for k, v in form.items()
            if k.startswith("v:") and v
        ]
        if not chosen and form.get("left"):  # one pair's form (`left`, `right`, `verdict`)
            one = StewardDecision(left=form.get("left", ""), right=form.get("right", ""),
                                  verdict=form.get("verdict", ""), note=note)  # fmt: skip
            operations.post_decision(one, services, trail, actor)  # 404 outside the scope
            return RedirectResponse("/data-office?tab=steward&done=1", status.HTTP_303_SEE_OTHER)
    except ValidationError:
        raise InvalidInputError("请选择裁决结果") from None
    if not chosen:
        raise InvalidInputError("请选择裁决结果")
    out = operations.post_decisions(StewardBulk(decisions=chosen), services, trail, actor)
    query = [("tab", "steward"), ("done", str(len(out["recorded"])))]
    query += [("refused", f"{r['index']}:{r['reason']}") for r in out["refused"]]
    return RedirectResponse("/data-office?" + urlencode(query), status.HTTP_303_SEE_OTHER)


@router.post("/data-office/jobs")
async def start_job(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
) -> Response:
    """Start govern, compute, the scorecard or the fit, through `POST /api/v1/jobs`."""
    form = await form_fields(request)
    try:
        body = JobRequest(kind=form.get("kind", ""))
    except ValidationError:
        raise InvalidInputError("请选择要运行的任务") from None
    job_routes.start_job(body, services, trail, actor)
    return RedirectResponse("/data-office?tab=jobs&done=start", status.HTTP_303_SEE_OTHER)


@router.post("/data-office/upload")
async def upload_files(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
) -> Response:
    """Upload exports (several files or a zip) and queue their ingest, through
    `POST /api/v1/jobs/uploads`."""
    async with request.form() as form:
        files = [f for f in form.getlist("files") if isinstance(f, FormFile) and f.filename]
        if not files:
            raise InvalidInputError("请选择要上传的文件")
        job_routes.receive_upload(services, trail, actor, files)
    return RedirectResponse("/data-office?tab=jobs&done=upload", status.HTTP_303_SEE_OTHER)


DRAFT_WHY = {"known": "内置导出的表头", "label": "与字段名称相符", "none": "未找到对应字段",
             "chosen": "人工选择"}  # fmt: skip


def _draft_page(
    request: Request,
    actor: Actor,
    draft: dict[str, Any],
    *,
    checked: bool = False,
    status_code: int = 200,
) -> Response:
    based_on = None
    if draft["based_on"]:
        mapping = builtin_mappings().get(draft["based_on"].split(" ", 1)[0])
        based_on = f"{mapping.label if mapping else ''} · {draft['entity_label']}"
    context = {
        "draft": draft,
        "job_id": draft["job_id"],
        "file": draft["file"],
        "based_on_label": based_on,
        "entity_choices": [(e.name, e.label) for e in entities()],
        "why_labels": DRAFT_WHY,
        "checked": checked,
    }
    return page(request, actor, "mapping.html", context, status_code=status_code)


def _draft_choices(**values: Any) -> MappingDraftIn:
    try:
        return MappingDraftIn(**values)
    except ValidationError:
        raise InvalidInputError("映射草稿的内容无效") from None


@router.get("/data-office/mapping", response_class=HTMLResponse)
def mapping_draft_page(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
    job: Annotated[str, Query(max_length=64)],
    file: Annotated[str | None, Query(max_length=300)] = None,
    entity: Text = None,
) -> Response:
    """A draft mapping for a file of an upload no mapping recognised, to review and save,
    through `GET /api/v1/jobs/{job_id}/mapping-draft` (another entity: its fields)."""
    if entity and file:
        choices = _draft_choices(file=file, entity=entity)
        _, _, name, revised = job_routes.revise_draft(services, actor, job, choices, None)
        trail.record("read", "mapping_draft", record_ids=[job], query={"file": name})
        draft = job_routes.draft_out(job, name, revised)
    else:
        draft = job_routes.mapping_draft(job, services, trail, actor, file)
    return _draft_page(request, actor, draft)


@router.post("/data-office/mapping")
async def mapping_draft_save(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
) -> Response:
    """Check the officer's choices (检查), or save them and ingest the file again (保存并重新
    导入), through `POST /api/v1/jobs/{job_id}/mapping-draft`."""
    form = await form_fields(request)
    job_id = form.get("job", "")[:64]
    file = form.get("file", "")[:300]
    _, _, _, drafted = job_routes.revise_draft(services, actor, job_id, None, file or None)
    columns = {
        c.header: form.get(f"column-{i}") or None
        for i, c in enumerate(drafted.columns)
        if f"column-{i}" in form
    }
    choices = _draft_choices(
        file=file, entity=form.get("entity") or None, label=form.get("label") or None,
        columns=columns,
    )  # fmt: skip
    _, _, name, revised = job_routes.revise_draft(services, actor, job_id, choices, None)
    if form.get("action") == "save" and not revised.problems():
        job_routes.save_mapping_draft(job_id, choices, services, trail, actor)
        return RedirectResponse("/data-office?tab=jobs&done=mapping", status.HTTP_303_SEE_OTHER)
    out = job_routes.draft_out(job_id, name, revised)
    return _draft_page(request, actor, out, checked=True,
                       status_code=422 if out["problems"] else 200)  # fmt: skip


# ---- people ------------------------------------------------------------------------------------


@router.get("/students", response_class=HTMLResponse)
def student_list(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PUPILS)],
    school_code: Text = None,
    cursor: Cursor = None,
) -> Response:
    """Pupils in the caller's scope (a class, a school, one's own children), masked by role."""
    filters = {"school_code": school_code or None}
    pupils = person_registry().entity
    result = records.records_page(services, trail, actor, pupils, filters, cursor, limit=50)
    codes = sorted({str(p["school_code"]) for p in result["items"] if p.get("school_code")})
    return page(
        request,
        actor,
        "students.html",
        {
            "items": result["items"],
            "next_cursor": result["next_cursor"],
            "total": result["total"],
            "first_page": not cursor,
            "school_code": school_code or "",
            "school_names": searching.school_names(services, codes),
        },
    )


@router.get("/students/{student_ref}", response_class=HTMLResponse)
def student_portrait(
    student_ref: str,
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(PUPILS)],
) -> Response:
    """A pupil's portrait, read, masked and audited by the API's `GET /students/{ref}/portrait`
    (a `ref` from a list, or the 学籍号): basic information, exam totals (trend), fitness tests
    and health checks when present."""
    found = portrait.portrait(services, trail, actor, student_ref)
    record = found[person_registry().entity]
    school = None
    try:
        school = units.school_profile(services, actor, record["school_code"])["school"]
    except NotFoundError:
        school = None
    return page(
        request,
        actor,
        "student.html",
        {
            "p": record,
            "school": school,
            "exams": found["exams"],
            "fitness": found["fitness"],
            "health": found["health"],
            "fitness_scores": found.get("fitness_scores", []),
            "health_status": found.get("health_status", []),
            "growth_scores": found.get("growth_scores", []),
            "scores_masked": found["scores_masked"],
            "score_chart": views.score_chart(found["exams"]),
            "fitness_fields": views.FITNESS_FIELDS,
        },
    )


# ---- search ------------------------------------------------------------------------------------


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.ME_READ)],
    q: Annotated[str | None, Query(max_length=searching.MAX_QUERY)] = None,
) -> Response:
    """The header's search box: schools and pupils through `GET /api/v1/search` (scoped,
    masked, audited; a pupil field is searched only by roles that see it in clear)."""
    context: dict[str, Any] = {"q": q or "", "result": None, "too_short": False,
                               "fields": searching.searchable_pupil_fields(actor)}  # fmt: skip
    if q and q.strip():
        try:
            context["result"] = search_routes.search(services, trail, actor, q)
        except searching.SearchTooShortError:
            context["too_short"] = True
    context["min_query"] = searching.MIN_QUERY
    return page(request, actor, "search.html", context)


# ---- the audit trail ---------------------------------------------------------------------------


@router.get("/audit", response_class=HTMLResponse)
def audit_trail(
    request: Request,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.AUDIT_READ)],
    user: Text = None,
    action: Text = None,
    resource: Text = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    verify: Text = None,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Who read or changed what, when, why and from where; the hash chain's verification."""
    result = audit_routes.list_audit(
        services, trail, actor, user=user or None, action=action or None, resource=resource or None,
        since=since or None, until=None, cursor=cursor, limit=50,
    )  # fmt: skip
    chain = audit_routes.verify_audit(services, trail) if verify else None
    filters = {"user": user or "", "action": action or "", "resource": resource or "",
               "since": since or ""}  # fmt: skip
    return page(
        request,
        actor,
        "audit.html",
        {
            "items": result["items"],
            "next_cursor": result["next_cursor"],
            "filters": filters,
            "chain": chain,
        },
    )
