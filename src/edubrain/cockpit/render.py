"""Templates, static assets and the page frame (navigation, language, formats).

Static files are served by one public route: the vendored ECharts modules carry a content hash
in their names and the cockpit's own CSS and JS are linked with `?v=<hash>`, so all of them are
cached for a year (`immutable`); pages and the API keep `Cache-Control: no-store`. Each file
has a gzip twin (`.gz`, built beside the ECharts modules, made at start-up for the cockpit's own
files) sent when the browser accepts gzip.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mimetypes
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from edubrain import installed
from edubrain.cockpit import format as fmt
from edubrain.cockpit import labels
from edubrain.cockpit.i18n import LANG_COOKIE, LANGS, translate
from edubrain.service.policy import (
    ROLE_LABELS,
    Actor,
    DomainPermission,
    Permission,
    Reading,
    allowed,
)
from edubrain.standard.codes import code_tables
from edubrain.standard.entities import entity, person_registry

log = logging.getLogger(__name__)
FLUSH = "<!--flush-->"  # base.html: everything before it is sent before the page's data is read
PACKAGE = Path(str(resources.files("edubrain.cockpit")))
STATIC = PACKAGE / "static"
YEAR = 365 * 24 * 3600

ROLE_ZH = ROLE_LABELS


# Reading the pupils (the person registry's records): a module's permission, found when asked.
PUPILS = Reading(lambda: person_registry().entity)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    permission: Permission | DomainPermission | Reading


NAV = (
    NavItem("/home", "首页", Permission.ME_READ),
    NavItem("/overview", "区域总览", Permission.INDICATORS_READ),
    NavItem("/map", "教育一张图", Permission.INDICATORS_READ),
    NavItem("/warnings", "预警", Permission.WARNINGS_READ),
    NavItem("/data-office", "数据办", Permission.INGEST_READ),
    NavItem("/students", "学生画像", PUPILS),
    NavItem("/audit", "审计日志", Permission.AUDIT_READ),
)


def module_nav() -> tuple[NavItem, ...]:
    """The menu entries the installed modules declare for their pages (`Module.menu`)."""
    return tuple(
        NavItem(entry.href, entry.label, entry.permission)
        for domain in installed.modules()
        for entry in getattr(domain, "menu", ())
    )


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    items = (*NAV[:-1], *module_nav(), NAV[-1])  # the audit log stays last
    return [item for item in items if allowed(actor, item.permission)]


@cache
def _digest(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]


@cache
def vendor_manifest() -> dict[str, dict[str, Any]]:
    manifest: dict[str, dict[str, Any]] = json.loads(
        (STATIC / "vendor" / "manifest.json").read_text("utf-8")
    )
    return manifest


def asset(name: str) -> str:
    """The URL of one of the cockpit's own static files, versioned by its content."""
    return f"/static/{name}?v={_digest(name)}"


def echarts_module(kind: str) -> dict[str, Any]:
    """URLs of an ECharts module (`charts` or `map`) and the chunks to preload with it."""
    entry = vendor_manifest()[kind]
    return {
        "src": f"/static/vendor/{entry['file']}",
        "preload": [f"/static/vendor/{name}" for name in entry["preload"]],
    }


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh")
    return lang if lang in LANGS else "zh"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(PACKAGE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    tables = code_tables()
    env.globals.update(
        asset=asset,
        echarts_module=echarts_module,
        fmt=fmt,
        labels=labels,
        ROLE_ZH=ROLE_ZH,
        label=lambda table, code: tables[table].codes.get(str(code), code) if code else "—",
        field_label=lambda entity_name, name: entity(entity_name).field(name).label,
    )
    env.filters["tojson_safe"] = _json_for_script
    return env


def _json_for_script(value: Any) -> Markup:
    """JSON to embed in <script type="application/json"> (no `</script>` can break out)."""
    text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)


def bureau_zone(request: Request) -> ZoneInfo | None:
    """The bureau's time zone (setting `timezone`), where the app has its services."""
    services = getattr(request.app.state, "services", None)
    return ZoneInfo(services.settings.timezone) if services is not None else None


def _scope_label(request: Request, actor: Actor | None) -> str:
    services = getattr(request.app.state, "services", None)
    if actor is None or services is None:
        return ""
    return labels.scope_label(services, actor.scope, actor.role)


def _frame(request: Request, actor: Actor | None, lang: str) -> dict[str, Any]:
    zone = bureau_zone(request)
    return {
        "request": request,
        "actor": actor,
        "nav": nav_for(actor),
        "path": request.url.path,
        "lang": lang,
        "t": lambda text: translate(text, lang),
        # A time in the bureau's zone, named (北京时间): `{{ moment(a.occurred_at) }}`.
        "moment": lambda value: fmt.moment(value, lang, zone),
        "can": lambda p: actor is not None and allowed(actor, p),
        # What the caller's scope covers, by name (示范一县), never its key (county:339901).
        "scope_label": lambda: _scope_label(request, actor),
        "P": Permission,
    }


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's fields (the first value of each), for the cockpit's forms."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def page(
    request: Request,
    actor: Actor | None,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    lang = lang_of(request)
    template_ = environment().get_template(template)
    html = template_.render(**_frame(request, actor, lang), **context)
    return HTMLResponse(html, status_code=status_code)


def records_page(
    request: Request,
    actor: Actor | None,
    title: str,
    entity_name: str,
    result: Mapping[str, Any],
) -> HTMLResponse:
    """One page of an entity's records as a table with the standard's Chinese field labels:
    the page a domain module shows for a scoped, masked, audited list (`result` is what the
    list route returns: `items`, `next_cursor`)."""
    columns = entity(entity_name).fields
    context = {"title": title, "columns": columns, **result}
    return page(request, actor, "records.html", context)


class Deferred:
    """A page's data, computed when the template first touches it (see `streamed_page`)."""

    def __init__(self, compute: Callable[[], object]) -> None:
        self._compute = compute
        self._value: object | None = None

    def __getattr__(self, name: str) -> Any:
        if self._value is None:
            self._value = self._compute()
        return getattr(self._value, name)


def streamed_page(
    request: Request, actor: Actor | None, template: str, context: Mapping[str, Any]
) -> StreamingResponse:
    """Send the page's head (styles, module preloads) at once and the rest when it is rendered.

    With the data behind a `Deferred`, the browser downloads the chart modules while the server
    reads the warehouse; on a slow link that overlap is most of the first load's budget.
    """
    lang = lang_of(request)
    parts = environment().get_template(template).generate(**_frame(request, actor, lang), **context)

    def chunks() -> Iterator[str]:
        buffer: list[str] = []
        flushed = False
        try:
            for part in parts:
                buffer.append(part)
                if not flushed and FLUSH in part:
                    yield "".join(buffer)
                    buffer, flushed = [], True
        except Exception:
            log.exception("page %s failed while streaming", request.url.path)
            buffer.append('<p class="error" role="alert">出错了 / something went wrong</p>')
        yield "".join(buffer)

    return StreamingResponse(chunks(), media_type="text/html; charset=utf-8")


def static_response(request: Request, name: str) -> Response:
    """A static file (404 outside the folder), gzip when accepted, cached when versioned."""
    path = (STATIC / name).resolve()
    if STATIC.resolve() not in path.parents or not path.is_file() or path.suffix == ".gz":
        return Response("not found", status_code=404, media_type="text/plain")
    media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media.startswith("text/") or media in ("application/javascript", "application/json"):
        media += "; charset=utf-8"
    versioned = name.startswith("vendor/") or "v" in request.query_params
    headers = {
        "Cache-Control": f"public, max-age={YEAR}, immutable" if versioned else "no-cache",
        "Vary": "Accept-Encoding",
    }
    body = path.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        twin = path.with_name(path.name + ".gz")
        packed = twin.read_bytes() if twin.is_file() else _gzipped(name)
        return Response(packed, media_type=media, headers={**headers, "Content-Encoding": "gzip"})
    return Response(body, media_type=media, headers=headers)


@cache
def _gzipped(name: str) -> bytes:
    return gzip.compress((STATIC / name).read_bytes(), compresslevel=9, mtime=0)
