"""Uploads: files (or a zip of them) the data office hands the platform, kept and ingested.

Each upload is a folder of its own under the workspace (`Workspace.uploads`) and one ingest
job that reads it (`usecases.jobs`). What comes in is bounded like everything the ingest reads
(`EDUBRAIN_INGEST_MAX_FILE_MB` per file, `EDUBRAIN_INGEST_MAX_UNCOMPRESSED_MB` for what a zip
holds): counted as the bytes arrive, never trusted from a header. Names are reduced to their
last part; a zip member that names a folder outside its own, or a kind of file the ingest does
not read, is skipped and said so.
"""

from __future__ import annotations

import shutil
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from edubrain.errors import FileBoundError, InvalidInputError
from edubrain.service.jobs import queue_job
from edubrain.service.store import Store
from edubrain.settings import Settings

READABLE = frozenset({".csv", ".txt", ".tsv", ".xlsx", ".xls", ".jsonl", ".json"})
MAX_FILES = 500
_CHUNK = 1 << 20


@dataclass
class Upload:
    folder: Path
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "name: why"
    job: dict[str, Any] | None = None


def _safe_name(name: str) -> str:
    """The last part of a client's file name, without anything that walks folders."""
    last = PurePosixPath(name.replace("\\", "/")).name.strip()
    if not last or last in (".", "..") or last.startswith("."):
        raise InvalidInputError(f"文件名无效：{name!r}")
    return last[:200]


def _free(folder: Path, name: str) -> Path:
    """Where to keep `name`: under its own name (the ingest recognises files by it), in a
    numbered subfolder when the upload already holds a file of that name."""
    target = folder / name
    n = 1
    while target.exists():
        target = folder / str(n) / name
        n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _copy_bounded(source: IO[bytes], target: Path, limit: int, label: str) -> int:
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise FileBoundError(
                    label, f"超过 {limit >> 20} MB 的上限 (EDUBRAIN_INGEST_MAX_FILE_MB)"
                )
            out.write(chunk)
    return written


def _unzip(archive: Path, folder: Path, settings: Settings, upload: Upload) -> None:
    per_file = settings.ingest_max_file_mb << 20
    budget = settings.ingest_max_uncompressed_mb << 20
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [m for m in zipped.infolist() if not m.is_dir()]
            if len(members) > MAX_FILES:
                raise FileBoundError(archive.name, f"含 {len(members)} 个文件，超过 {MAX_FILES}")
            for member in members:
                parts = PurePosixPath(member.filename.replace("\\", "/")).parts
                if ".." in parts or member.filename.startswith(("/", "\\")):
                    upload.skipped.append(f"{member.filename}: 路径指向压缩包以外，已跳过")
                    continue
                name = _safe_name(member.filename)
                if Path(name).suffix.lower() not in READABLE:
                    upload.skipped.append(f"{member.filename}: 不是可导入的文件类型，已跳过")
                    continue
                target = _free(folder, name)
                with zipped.open(member) as source:
                    budget -= _copy_bounded(
                        source, target, min(per_file, max(budget, 0)), member.filename
                    )
                upload.files.append(str(target.relative_to(folder)))
    except zipfile.BadZipFile:
        raise InvalidInputError(f"{archive.name} 不是有效的 zip 压缩包") from None


def receive(
    settings: Settings,
    store: Store,
    files: Sequence[tuple[str, IO[bytes]]],
    *,
    by: str,
    unit_school: str | None = None,
    unit_region: str | None = None,
) -> Upload:
    """Keep the uploaded files (unpacking zips) in a folder of their own and queue one ingest
    job for it. Nothing is kept when a file breaks a bound or none can be read."""
    if not files:
        raise InvalidInputError("没有上传任何文件")
    if len(files) > MAX_FILES:
        raise InvalidInputError(f"一次最多上传 {MAX_FILES} 个文件")
    folder = settings.workspace.uploads / uuid.uuid4().hex
    folder.mkdir(parents=True)
    upload = Upload(folder)
    try:
        for name, stream in files:
            safe = _safe_name(name)
            suffix = Path(safe).suffix.lower()
            if suffix not in READABLE | {".zip"}:
                upload.skipped.append(
                    f"{safe}: 不是可导入的文件类型（csv、xlsx、xls、jsonl 或 zip）"
                )
                continue
            target = _free(folder, safe)
            _copy_bounded(stream, target, settings.ingest_max_file_mb << 20, safe)
            if suffix == ".zip":
                _unzip(target, folder, settings, upload)
                target.unlink()
            else:
                upload.files.append(str(target.relative_to(folder)))
        if not upload.files:
            raise InvalidInputError(
                "上传的文件中没有可导入的文件：" + "；".join(upload.skipped or ["（空）"])
            )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    upload.job = queue_job(
        store,
        "ingest",
        {"paths": [str(folder)], "files": upload.files, "skipped": upload.skipped},
        by=by,
        unit_school=unit_school,
        unit_region=unit_region,
    )
    return upload
