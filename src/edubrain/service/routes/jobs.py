"""Jobs (任务) for the data office: list and follow them, start govern, compute, the scorecard
or the fit, and upload files (or a zip) to ingest. Each job belongs to the caller's unit
(decision 0012) and is seen only in a scope that covers it; starting one is audited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, File, Path, Query, UploadFile
from starlette.datastructures import UploadFile as FormFile

from edubrain.errors import NotFoundError
from edubrain.ingest.draft import DraftMapping, draft_for, save_draft
from edubrain.service import uploads
from edubrain.service.deps import AuditTrail, Services, ServicesDep, Trail, require
from edubrain.service.jobs import JOB_KIND_LABELS, JOB_STATUSES, queue_job, start_runner
from edubrain.service.policy import Actor, Permission
from edubrain.service.schemas import (
    JobOut,
    JobRequest,
    MappingDraftIn,
    MappingDraftOut,
    MappingSavedOut,
)
from edubrain.sources.mapping import available_mappings

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
        "draftable": _draftable(job),
    }


def _draftable(job: dict[str, Any]) -> list[str]:
    """The upload's files (names within it) that its ingest did not read."""
    names = [str(n) for n in (job.get("params") or {}).get("files") or []]
    unread = [
        str(f.get("file") or "").replace("\\", "/")
        for f in (job.get("outcome") or {}).get("files", [])
        if f.get("status") in ("skipped", "failed")
    ]
    return [n for n in names if any(u == n or u.endswith(f"/{n}") for u in unread)]


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


# ---- a draft mapping for a file of an upload that no mapping recognised --------------------------


def _upload_file(
    services: Services, actor: Actor, job_id: str, file: str | None
) -> tuple[dict[str, Any], FilePath, str]:
    """The upload's file `file` (default: its first file not loaded) of an ingest job in the
    caller's scope; 404 for anything else, a job elsewhere or a name not in the upload."""
    job = services.store.job(job_id, units=services.units(actor))
    params = job["params"]
    names = [str(n) for n in params.get("files") or []]
    uploads_root = services.settings.workspace.uploads.resolve()
    folder = FilePath(str(params.get("folder") or (params.get("paths") or [""])[0])).resolve()
    if job["kind"] != "ingest" or not names or not folder.is_relative_to(uploads_root):
        raise NotFoundError("该任务不是上传文件的导入任务")
    if file is None:
        loaded = {
            FilePath(str(f["file"])).name
            for f in (job["outcome"] or {}).get("files", [])
            if f.get("status") == "loaded"
        }
        file = next((n for n in names if FilePath(n).name not in loaded), names[0])
    path = folder / file
    if file not in names or not path.is_file():
        raise NotFoundError(f"该上传中没有文件 {file}")
    return job, path, file


def draft_out(job_id: str, file: str, draft: DraftMapping) -> dict[str, Any]:
    return {"job_id": job_id, "file": file, **draft.as_dict(), "yaml": draft.to_yaml()}


def revise_draft(
    services: Services,
    actor: Actor,
    job_id: str,
    choices: MappingDraftIn | None,
    file: str | None,
) -> tuple[dict[str, Any], FilePath, str, DraftMapping]:
    """The draft for an upload's file, with the officer's choices when given."""
    job, path, name = _upload_file(services, actor, job_id, choices.file if choices else file)
    draft = draft_for(path, available_mappings(services.settings.workspace.mappings))
    if choices is not None:
        draft = draft.choose(dict(choices.columns), entity_name=choices.entity)
        if choices.label:
            draft = draft.named(choices.label)
    return job, path, name, draft


@router.get("/jobs/{job_id}/mapping-draft", response_model=MappingDraftOut)
def mapping_draft(
    job_id: Annotated[str, Path(max_length=64)],
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
    file: Annotated[str | None, Query(max_length=300)] = None,
) -> dict[str, Any]:
    """A draft mapping for a file of an upload (default its first file not loaded): the
    export it looks like, each column's standard field or 忽略, encoding and header row, and
    what still stops it from being saved."""
    _, _, name, draft = revise_draft(services, actor, job_id, None, file)
    trail.record("read", "mapping_draft", record_ids=[job_id], query={"file": name})
    return draft_out(job_id, name, draft)


@router.post("/jobs/{job_id}/mapping-draft", response_model=MappingSavedOut, status_code=201)
def save_mapping_draft(
    job_id: Annotated[str, Path(max_length=64)],
    body: MappingDraftIn,
    services: ServicesDep,
    trail: Trail,
    actor: Annotated[Actor, require(Permission.JOBS_RUN)],
) -> dict[str, Any]:
    """Save the draft with these choices as a local mapping (a new version; never over a
    built-in one; checked like a hand-written one) and queue the file's ingest again."""
    job, path, name, draft = revise_draft(services, actor, job_id, body, None)
    saved = save_draft(
        draft,
        services.settings.workspace.mappings,
        by=actor.username,
        now=datetime.now(UTC),
    )
    unit_school, unit_region = services.unit_of(actor.scope)
    folder = FilePath(str(job["params"].get("folder") or job["params"]["paths"][0]))
    again = queue_job(
        services.store,
        "ingest",
        {"paths": [str(path)], "files": [name], "folder": str(folder), "mapping": saved.source},
        by=actor.username,
        unit_school=unit_school,
        unit_region=unit_region,
    )
    trail.record(
        "save",
        "mapping",
        record_ids=[saved.source],
        query={"version": saved.version, "file": name, "job": job_id, "ingest": again["job_id"]},
    )
    start_runner(services.settings)
    return {
        "source": saved.source,
        "label": draft.label,
        "version": saved.version,
        "saved_by": saved.saved_by,
        "saved_at": saved.saved_at,
        "job": job_out(again),
    }
