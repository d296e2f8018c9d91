"""`edubrain serve`, `edubrain users` and `edubrain audit`: the service from the command line."""

from __future__ import annotations

import getpass
import json
import os
from typing import Annotated

import typer

from edubrain.cli.language import say
from edubrain.cli.render import role_label
from edubrain.service.policy import Role
from edubrain.settings import load_settings
from edubrain.usecases import accounts
from edubrain.usecases.ready import has_data

users_app = typer.Typer(help="Local accounts of the service.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=0, help="Server processes (default: settings; 0 = one per core)."),
    ] = None,
) -> None:
    """Serve the cockpit (web UI at /) and the API (OpenAPI at /api/v1/docs) on
    EDUBRAIN_SERVICE_HOST:EDUBRAIN_SERVICE_PORT."""
    import uvicorn

    from edubrain.serve import cockpit_url, create_app
    from edubrain.service.app import prepare_home, serving_process
    from edubrain.service.serving import (
        balanced_listening_supported,
        refuse_taken_port,
        serve_in_processes,
    )

    settings = load_settings()
    host, port = host or settings.service_host, port or settings.service_port
    # A port something already listens on is refused here, even one bound with SO_REUSEPORT.
    refuse_taken_port(host, port)
    if not has_data(settings):  # it serves anyway: the data office may upload exports
        typer.echo(
            # Chinese first in English too, as the empty workspace's error.
            say(
                "edubrain: 工作区还没有数据：服务照常启动；请先运行 edubrain ingest 文件夹，"
                "或在数据办公室页上传导出文件（或 edubrain demo） — the workspace holds no data yet"
            ),
            err=True,
        )
    # Migrations, the service key and an empty warehouse are made once, here, rather than
    # raced for by the workers.
    prepare_home(settings)
    typer.echo(f"驾驶舱地址: {cockpit_url(host, port)}  (cockpit, Ctrl-C 停止)")
    if workers is not None:
        settings = settings.model_copy(update={"service_workers": workers})
    count = settings.service_processes
    if count == 1:
        serving_process()
        uvicorn.run(
            create_app(settings, serving=True),
            host=host,
            port=port,
            log_level="info",
            access_log=settings.service_access_log,
        )
    elif balanced_listening_supported():
        # Each worker builds its app from the same EDUBRAIN_ environment.
        serve_in_processes(host, port, count, access_log=settings.service_access_log)
    else:
        uvicorn.run(
            "edubrain.serve:app_from_environment",
            factory=True,
            workers=count,
            host=host,
            port=port,
            log_level="info",
            access_log=settings.service_access_log,
        )


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[Role, typer.Option(help="One of the 12 roles.")],
    scope_level: Annotated[str, typer.Option(help="province|city|county|school|class|self")],
    scope_key: Annotated[str, typer.Option(help="Region, school, class key or 学籍号s.")],
    display_name: Annotated[str, typer.Option(help="Name shown in the UI.")] = "",
) -> None:
    """Add a local account; the password is read from EDUBRAIN_NEW_PASSWORD or a prompt."""
    settings = load_settings()
    password = os.environ.get("EDUBRAIN_NEW_PASSWORD") or getpass.getpass(say("Password: "))
    user = accounts.add_user(
        settings,
        username=username,
        password=password,
        role=role,
        scope_level=scope_level,
        scope_key=scope_key,
        display_name=display_name,
    )
    typer.echo(
        say(
            "added {user} ({role}, {level}:{key})",
            user=user.username,
            role=role_label(user.role),
            level=say(user.scope_level),
            key=user.scope_key,
        )
    )


@users_app.command("list")
def users_list() -> None:
    """List accounts (never passwords)."""
    for user in accounts.list_users(load_settings()):
        locked = say(" locked") if user.locked_until else ""
        scope = f"{say(user.scope_level)}:{user.scope_key}"
        typer.echo(f"{user.username}\t{role_label(user.role)}\t{scope}{locked}")


@audit_app.command("verify")
def audit_verify(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable result.")] = False,
) -> None:
    """Check the audit chain; exit 1 naming the first record that was changed or deleted."""
    report = accounts.verify_audit_chain(load_settings())
    if as_json:
        typer.echo(json.dumps(report.__dict__ | {"ok": report.ok}))
    elif report.ok:
        typer.echo(say("audit chain intact: {records} records, head {head}",
                       records=report.records, head=report.head_seq))  # fmt: skip
    else:
        typer.echo(say("audit chain BROKEN at record {seq}: {problem}", seq=report.broken_seq,
                       problem=report.problem), err=True)  # fmt: skip
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("head")
def audit_head() -> None:
    """Print the chain's head (seq and hash): keep it elsewhere to anchor the chain."""
    seq, digest = accounts.audit_head(load_settings())
    typer.echo(f"{seq} {digest}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
