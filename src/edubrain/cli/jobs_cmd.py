"""`edubrain jobs`: queue and run the work that writes the warehouse (任务), see its state."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from edubrain.cli.language import current, say
from edubrain.settings import load_settings
from edubrain.usecases import jobs as usecase

app = typer.Typer(
    help="Jobs (任务): ingest, govern, compute, scorecard and fit, queued and run one at a time.",
    no_args_is_help=True,
)


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _line(job: dict[str, Any]) -> str:
    kind = usecase.JOB_KINDS.get(job["kind"])
    chinese = current() != "en"
    label = kind.label_zh if kind and chinese else job["kind"]
    status = usecase.JOB_STATUSES.get(job["status"], job["status"]) if chinese else job["status"]
    took = ""
    if job["started_at"] and job["finished_at"]:
        took = f" {(job['finished_at'] - job['started_at']).total_seconds():.1f} s"
    detail = job["error"] or job["stage"] or ""
    return f"{job['job_id'][:12]}  {label}  {status}{took}  {detail}"


@app.command("list")
def list_jobs(
    limit: Annotated[int, typer.Option("--limit", min=1, help="Rows to print.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """The latest jobs, newest first."""
    rows = usecase.list_jobs(load_settings(), limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    for job in rows:
        typer.echo(_line(job))
    if not rows:
        typer.echo(say("No jobs yet."))


@app.command("start")
def start(
    kind: Annotated[str, typer.Argument(help=f"One of: {', '.join(usecase.JOB_KINDS)}.")],
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Files or folders (for an ingest job).")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Run it here and now, and print its outcome.")
    ] = False,
) -> None:
    """Queue a job (a running `edubrain serve` starts it); with --wait, run it here."""
    settings = load_settings()
    params = {"paths": [str(p) for p in paths]} if paths else {}
    if wait:
        job = usecase.run_now(settings, kind, params, by=_who())
        typer.echo(_line(job))
        if job["status"] != "succeeded":
            raise typer.Exit(1)
        return
    job = usecase.submit(settings, kind, params, by=_who())
    typer.echo(say("{id} queued", id=job["job_id"]))


@app.command("run")
def run() -> None:
    """Run every queued job, oldest first (the runner a service or a schedule starts)."""
    done = usecase.run_queued(
        load_settings(), on_job=lambda j: typer.echo(say("started {line}", line=_line(j)))
    )
    for job in done:
        typer.echo(_line(job))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="jobs")
