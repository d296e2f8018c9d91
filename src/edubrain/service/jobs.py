"""Jobs (任务) as the service knows them: the kinds, queueing, the runner and the schedule.

Ingest, govern, indicator computation, the scorecard and the diagnosis fit run as jobs: a row
in the operational store (`jobs`) with who asked, when, its stage, progress, log, duration
and outcome, kept across restarts. What each kind does is the use cases'
(`edubrain.usecases.jobs`, above this layer); here are their names, how one is queued, and
how a runner is started.

A job never runs inside a serving process: `start_runner` starts `edubrain jobs run` as a
process of its own (which runs every queued job in turn and exits; a second one started
while the first works exits at once). Every serving process checks for queued jobs every
`JOBS_POLL_SECONDS`, so jobs queued before a restart, or while a runner was finishing, are
not left waiting. The bureau's schedule (`EDUBRAIN_JOBS_SCHEDULE`, a crontab line, nightly by
default) queues `usecases.jobs.NIGHTLY`; each night's jobs have fixed ids, so the processes
that all hold the schedule queue them once.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import portalocker
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from edubrain.errors import ConfigError, EdubrainError, InvalidInputError
from edubrain.service.store import Store
from edubrain.settings import Settings

JOBS_POLL_SECONDS = 15
log = logging.getLogger(__name__)

JOB_KIND_LABELS: dict[str, str] = {
    "ingest": "数据导入",
    "govern": "数据治理（一人一码）",
    "compute": "指标计算与预警",
    "scorecard": "数据质量评分",
    "fit": "学情诊断拟合",
    "steward": "人工审核判定生效",
    "exam_mastery": "考试认知诊断",
    "value_added": "增值评价拟合",
    "fitness_scores": "体测评分",
    "health_screening": "健康筛查",
    "psych_screening": "心理筛查评分",
    "growth_scores": "综合素质评价评分",
    "scale": "考试项目反应理论定标与等值",
}
JOB_STATUSES: dict[str, str] = {
    "queued": "排队中",
    "running": "运行中",
    "succeeded": "已完成",
    "failed": "失败",
    "interrupted": "已中断",
}
NIGHTLY: tuple[str, ...] = (
    "govern",
    "value_added",
    "fitness_scores",
    "health_screening",
    "compute",
    "scorecard",
)
"""What the nightly schedule queues, in order."""


class UnknownJobKindError(InvalidInputError):
    """No job of that kind exists."""


def queue_job(
    store: Store,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    by: str,
    unit_school: str | None = None,
    unit_region: str | None = None,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Queue a job; the runner takes it in turn. Returns its row."""
    if kind not in JOB_KIND_LABELS:
        raise UnknownJobKindError(f"未知的任务类型 {kind!r}；可用：{'、'.join(JOB_KIND_LABELS)}")
    values = dict(params or {})
    if kind == "ingest":
        paths = values.get("paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise InvalidInputError("导入任务需要至少一个文件或文件夹路径 (params.paths)")
    return store.create_job(
        job_id=job_id or uuid.uuid4().hex,
        kind=kind,
        params=values,
        requested_by=by,
        now=datetime.now(UTC),
        unit_school=unit_school,
        unit_region=unit_region,
    )


def runner_lock_path(settings: Settings) -> Path:
    """Held by the one runner at work on this workspace's jobs."""
    return settings.workspace.jobs_runner_lock


@contextmanager
def runner_turn(settings: Settings) -> Iterator[bool]:
    """True while this process holds the runner's lock (it is the one runner); False, at
    once, when another runner is at work."""
    lock_path = runner_lock_path(settings)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a", encoding="utf-8") as handle:
        try:
            portalocker.lock(
                handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
            )
        except portalocker.exceptions.LockException:
            yield False
            return
        try:
            yield True
        finally:
            portalocker.unlock(handle)


def runner_busy(settings: Settings) -> bool:
    """Whether a runner is at work on this workspace's jobs."""
    if not runner_lock_path(settings).exists():
        return False
    with runner_turn(settings) as mine:
        return not mine


def queued_count(store: Store) -> int:
    return len(store.jobs(status=["queued"], limit=1000))


def runner_environment(settings: Settings) -> dict[str, str]:
    """The environment of a runner process: this one's, with the service's settings."""
    env = dict(os.environ)
    for name, value in settings.model_dump(mode="json").items():
        key = f"EDUBRAIN_{name.upper()}"
        if value is None:
            env.pop(key, None)
        elif isinstance(value, str | int | float | bool):
            env[key] = str(value).lower() if isinstance(value, bool) else str(value)
        else:
            env[key] = json.dumps(value)
    return env


def start_runner(settings: Settings) -> None:
    """Start `edubrain jobs run` in a process of its own (it exits when nothing is queued)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "edubrain", "jobs", "run"],
        env=runner_environment(settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Reaped when it exits, so that no finished runner lingers as a zombie.
    threading.Thread(target=process.wait, name="edubrain-runner-reaper", daemon=True).start()


def queue_nightly(settings: Settings, store: Store, day: str | None = None) -> list[str]:
    """Queue tonight's jobs once (fixed ids per day and kind); returns those queued now."""
    day = day or datetime.now(ZoneInfo(settings.timezone)).strftime("%Y%m%d")
    queued = []
    for kind in NIGHTLY:
        job_id = f"nightly-{day}-{kind}"
        try:
            store.job(job_id)
            continue
        except EdubrainError:
            pass
        try:
            queue_job(store, kind, by="schedule", job_id=job_id)
        except Exception:  # noqa: BLE001 - another process queued it first
            continue
        queued.append(job_id)
    return queued


class JobsInService:
    """What a serving process runs beside its requests: the poll and the schedule."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self._settings = settings
        self._store = store
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="edubrain-jobs", daemon=True)
        self._scheduler: Any = None

    def start(self) -> None:
        self._thread.start()
        line = self._settings.jobs_schedule.strip()
        if not line:
            return
        try:
            trigger = CronTrigger.from_crontab(line, timezone=self._settings.timezone)
        except ValueError as exc:
            raise ConfigError(f"EDUBRAIN_JOBS_SCHEDULE {line!r}: {exc}") from None
        self._scheduler = BackgroundScheduler(timezone=self._settings.timezone)
        self._scheduler.add_job(self._nightly, trigger, id="nightly", coalesce=True)
        self._scheduler.start()

    def _nightly(self) -> None:
        if queue_nightly(self._settings, self._store):
            start_runner(self._settings)

    def _poll(self) -> None:
        while not self._stop.wait(JOBS_POLL_SECONDS):
            try:
                if queued_count(self._store) and not runner_busy(self._settings):
                    start_runner(self._settings)
            except Exception:
                log.exception("checking for queued jobs failed")

    def stop(self) -> None:
        self._stop.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
