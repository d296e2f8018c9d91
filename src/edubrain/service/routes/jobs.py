"""Jobs (任务) for the data office: list and follow them, start govern, compute, the scorecard
or the fit, and upload files (or a zip) to ingest. Each job belongs to the caller's unit
(decision 0012) and is seen only in a scope that covers it; starting one is audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from starlette.datastructures import UploadFile as FormFile

from edubrain.service import uploads
from edubrain.service.deps import AuditTrail, Services, ServicesDep, Trail, require
from edubrain.service.jobs import JOB_KIND_LABELS, JOB_STATUSES, queue_job, start_runner
from edubrain.service.policy import Actor, Permission
from edubrain.service.schemas import JobOut, JobRequest

router = APIRouter(tags=["jobs"])


def job_out(job: dict[str, Any]) -> dict[str, Any]:
    seconds = None
    if job["started_at"] and job["finished_at"]:
        seconds = round((job["finished_at"] - job["started_at"]).total_seconds(), 1)
    return {
        **{k: job[k] for k in JobOut.model_fields if k in job},
        "kind_label": JOB_KIND_LABELS.get(job["kind"], job["kind"]),
        "status_label": JOB_STATUSES.get(job["status"], job["status"]),
        "seconds": seconds,
    }


@router.get("/jobs", response_model=list[JobOut])
def list_jobs(
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.JOBS_READ)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    """The jobs of the units your scope covers, newest first."""
    return [job_out(j) for j in services.store.jobs(units=services.units(actor), limit=limit)]


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(
    job_id: Annotated[str, Path(max_length=64)],
    services: ServicesDep,
    actor: Annotated[Actor, require(Permission.JOBS_READ)],
) -> dict[str, Any]:
    """One job: stage, progress, log and outcome (404 outside your scope)."""
    return job_out(services.store.job(job_id, units=services.units(actor)))


@router.post("/jobs", response_model=JobOut, status_code=202)
def start_job(
    body: JobRequest,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
) -> dict[str, Any]:
    """Queue govern, compute, the scorecard or the fit; it runs in turn, in a process of its
    own, while the service goes on serving the version before it."""
    unit_school, unit_region = services.unit_of(actor.scope)
    job = queue_job(
        services.store,
        body.kind,
        by=actor.username,
        unit_school=unit_school,
        unit_region=unit_region,
    )
    trail.record("start", "job", record_ids=[job["job_id"]], query={"kind": body.kind})
    start_runner(services.settings)
    return job_out(job)


@router.post("/jobs/uploads", response_model=JobOut, status_code=202)
def upload(
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
    files: Annotated[list[UploadFile], File(description="CSV, xlsx, xls, jsonl or a zip.")],
) -> dict[str, Any]:
    """Upload exports (several files or a zip) and queue their ingest; each file's report is
    in the job's outcome when it is done."""
    return receive_upload(services, trail, actor, files)


def receive_upload(
    services: Services, trail: AuditTrail, actor: Actor, files: Sequence[FormFile]
) -> dict[str, Any]:
    """Keep the files, queue their ingest, audit it and start a runner (the API's upload and
    the cockpit's upload form)."""
    unit_school, unit_region = services.unit_of(actor.scope)
    received = uploads.receive(
        services.settings,
        services.store,
        [(f.filename or "upload", f.file) for f in files],
        by=actor.username,
        unit_school=unit_school,
        unit_region=unit_region,
    )
    assert received.job is not None
    trail.record(
        "upload", "job", record_ids=[received.job["job_id"]], query={"files": received.files}
    )
    start_runner(services.settings)
    return job_out(received.job)
