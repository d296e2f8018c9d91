"""Jobs (任务): the work that writes the warehouse, queued and run one at a time.

Ingest, govern, indicator computation, the diagnosis fit and the scorecard each run as a job:
a row in the operational store (`jobs`) with who asked, when, its stage, progress, log,
duration and outcome, kept across restarts. The data office starts them from the UI (the
service queues them and starts a runner process), the bureau's schedule queues them nightly,
and `edubrain jobs start` queues one from a shell. `edubrain jobs run` is the runner: it takes
the queued jobs oldest first and runs them one after another in its own process — the
warehouse allows one writer at a time anyway (decision 0016), and a runner of its own keeps the
work off the serving processes.

A job that was running when its runner died (a restart, a kill) is marked `interrupted` by the
next runner, never left `running`.
"""

from __future__ import annotations

import getpass
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from edubrain.errors import ConflictError, EdubrainError
from edubrain.govern.run import GovernSummary
from edubrain.indicators.run import RunSummary
from edubrain.ingest.quarantine import reason_name
from edubrain.service.jobs import (
    JOB_KIND_LABELS,
    JOB_STATUSES,
    NIGHTLY,
    UnknownJobKindError,
    queue_job,
    runner_turn,
)
from edubrain.service.store import Store, open_store
from edubrain.settings import Settings
from edubrain.usecases import (
    compute,
    fitness_scores,
    govern,
    growth_scores,
    health_screening,
    psych_screening,
    quality,
    steward,
    value_added,
)
from edubrain.usecases.ingest import IngestResult, ingest
from edubrain.usecases.progress import ByteProgress
from edubrain.usecases.ready import require_workspace

NOTE_EVERY_SECONDS = 1.0
T = TypeVar("T")


class JobReport:
    """What a running job tells its row: stage lines (also logged) and the fraction done.

    Progress writes are throttled to one per `NOTE_EVERY_SECONDS`; log lines are never lost.
    """

    def __init__(self, store: Store, job_id: str) -> None:
        self._store = store
        self._job_id = job_id
        self._pending: list[str] = []
        self._progress: float | None = None
        self._stage: str | None = None
        self._last = 0.0

    def note(self, line: str) -> None:
        self._stage = line
        self._pending.append(f"{datetime.now(UTC):%H:%M:%S} {line}")
        self.flush(force=True)

    def fraction(self, done: float) -> None:
        self._progress = done
        self.flush()

    def flush(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < NOTE_EVERY_SECONDS:
            return
        self._last = now
        lines, self._pending = self._pending, []
        self._store.note_job(
            self._job_id, stage=self._stage, progress=self._progress, log_lines=lines
        )


class _BytesDone:
    """The ingest's byte progress as a job's fraction done."""

    def __init__(self, report: JobReport) -> None:
        self._report = report
        self._total = 0
        self._done = 0

    def start(self, total_bytes: int) -> None:
        self._total = max(total_bytes, 1)

    def advance(self, n_bytes: int) -> None:
        self._done += n_bytes
        self._report.fraction(self._done / self._total)


def _ingest(settings: Settings, params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    paths = [Path(p) for p in params.get("paths", [])]
    report.note(f"导入 {len(paths)} 个文件或文件夹")
    result = ingest(settings, paths, progress=_BytesDone(report))
    return _ingest_outcome(result, report)


def _ingest_outcome(result: IngestResult, report: JobReport) -> dict[str, Any]:
    report.note(
        f"读入 {result.rows_read} 行：入库 {result.rows_accepted} 行，"
        f"隔离 {result.rows_quarantined} 行"
    )
    return {
        "summary": result.summary(),
        "files": [
            {
                "file": r.file,
                "status": r.status,
                "rows_read": r.rows_read,
                "rows_accepted": r.rows_accepted,
                "rows_quarantined": r.rows_quarantined,
                "error": r.error,
                "note": r.note,
                # What was read how: the encoding, title and total rows skipped, renamed and
                # extra columns, values given back — and why rows were quarantined.
                "notes": r.layout_notes(),
                "reasons": [
                    {
                        "reason": code,
                        "name": reason_name(code),
                        "name_en": reason_name(code, "en"),
                        "rows": n,
                    }
                    for code, n in r.reasons.items()
                ],
            }
            for r in result.reports
        ],
    }


def _govern(settings: Settings, _params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    report.note("记录关联与主数据治理（一人一码）")
    return _govern_outcome(govern.link_persons(settings))


def _govern_outcome(summary: GovernSummary) -> dict[str, Any]:
    return {k: v for k, v in vars(summary).items() if isinstance(v, int | float | str)}


def _compute(settings: Settings, params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    report.note("计算指标与预警")
    return _compute_outcome(
        compute.compute_indicators(settings, school_year=params.get("school_year"))
    )


def _compute_outcome(summary: RunSummary) -> dict[str, Any]:
    run = summary.run
    return {
        "run_id": run.run_id,
        "school_year": run.school_year,
        "indicators": run.indicators,
        "values": run.values,
    }


def _scorecard(settings: Settings, _params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    report.note("数据质量评分")
    scored = quality.score(settings, interop=True)
    return {"units": len(scored.units), "stale_sources": len(scored.stale())}


def _fit(settings: Settings, _params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    from edubrain.usecases.diagnose import fit  # the models load only for this job

    report.note("学情诊断模型拟合")
    return {k: v for k, v in fit(settings).items() if isinstance(v, int | float | str)}


def _steward(settings: Settings, _params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    report.note("人工审核判定生效：只重新归并受影响的人员")
    summary = steward.apply(settings)
    report.note(f"{summary.changed_pairs} 对判定有变化，重新归并 {summary.mentions} 条记录")
    return {k: v for k, v in vars(summary).items() if isinstance(v, int | float | str)}


def _exam_mastery(
    settings: Settings, params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    # the models load only for this job
    from edubrain.modules.exams.mastery_job import fit_exam_mastery

    report.note("考试认知诊断（DINA 与 G-DINA）")
    return fit_exam_mastery(settings, list(params.get("exam_ids") or []), report.note)


def _value_added(
    settings: Settings, params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    report.note("增值评价：多层模型拟合各考试的学校与班级增值")
    found = value_added.value_added(
        settings, school_year=params.get("school_year"), note=report.note
    )
    return _value_added_outcome(found)


def _value_added_outcome(found: value_added.Outcome) -> dict[str, Any]:
    return {"exams": found.pairs, "fitted": found.fitted, "rows": len(found.rows)}


def _fitness_scores(
    settings: Settings, _params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    report.note("体测评分：按《国家学生体质健康标准（2014年修订）》评分")
    return _fitness_outcome(fitness_scores.fitness_scores(settings, note=report.note))


def _fitness_outcome(found: fitness_scores.Outcome) -> dict[str, Any]:
    status = found.table.column("status").to_pylist()
    return {
        "records": found.table.num_rows,
        "complete": status.count("完整"),
        "missing_items": status.count("缺项"),
    }


def _health_screening(
    settings: Settings, _params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    report.note("健康筛查：按 WS/T 586、WS/T 456 判定体重状况，按筛查性近视判定视力")
    return _health_outcome(health_screening.health_screening(settings, note=report.note))


def _health_outcome(found: health_screening.Outcome) -> dict[str, Any]:
    vision = found.table.column("vision_status").to_pylist()
    return {"checks": found.table.num_rows, "screening_myopia": vision.count("筛查性近视")}


def _psych_screening(
    settings: Settings, _params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    report.note("心理筛查：按量表计分并判定等级")
    return _psych_outcome(psych_screening.psych_screening(settings, note=report.note))


def _psych_outcome(found: psych_screening.Outcome) -> dict[str, Any]:
    # counts only: a job's row is read by the data office, not by the psychology teacher
    warnings = found.table.column("warning").to_pylist()
    return {"sittings": found.table.num_rows, "warnings": sum(1 for w in warnings if w)}


def _growth_scores(
    settings: Settings, _params: Mapping[str, Any], report: JobReport
) -> dict[str, Any]:
    report.note("综合素质评价：按评价方案计算各维度得分、等级和成长预警")
    return _growth_outcome(growth_scores.growth_scores(settings, note=report.note))


def _growth_outcome(found: growth_scores.Outcome) -> dict[str, Any]:
    declines = found.table.column("decline").to_pylist()
    pupils = len(set(found.table.column("student_number").to_pylist()))
    return {"pupils": pupils, "rows": found.table.num_rows, "declines": sum(declines)}


def _scale(settings: Settings, params: Mapping[str, Any], report: JobReport) -> dict[str, Any]:
    from edubrain.usecases import exams_scale  # the models load only for this job

    report.note("考试项目反应理论定标与等值")
    outcomes = exams_scale.scale(
        settings, exams_scale.options_of(params), note=report.note, fraction=report.fraction
    )
    return exams_scale.summary(outcomes)


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Callable[[Settings, Mapping[str, Any], JobReport], dict[str, Any]]

    @property
    def label_zh(self) -> str:
        return JOB_KIND_LABELS[self.name]


JOB_KINDS: dict[str, JobKind] = {
    k.name: k
    for k in (
        JobKind("ingest", _ingest),
        JobKind("govern", _govern),
        JobKind("compute", _compute),
        JobKind("scorecard", _scorecard),
        JobKind("fit", _fit),
        JobKind("steward", _steward),
        JobKind("exam_mastery", _exam_mastery),
        JobKind("value_added", _value_added),
        JobKind("fitness_scores", _fitness_scores),
        JobKind("health_screening", _health_screening),
        JobKind("psych_screening", _psych_screening),
        JobKind("growth_scores", _growth_scores),
        JobKind("scale", _scale),
    )
}


def submit(
    settings: Settings,
    kind: str,
    params: Mapping[str, Any] | None = None,
    *,
    by: str,
    unit_school: str | None = None,
    unit_region: str | None = None,
) -> dict[str, Any]:
    """Queue a job (paths of an ingest made absolute); the runner takes it in turn."""
    values = dict(params or {})
    if kind == "ingest" and isinstance(values.get("paths"), list):
        values["paths"] = [str(Path(p).absolute()) for p in values["paths"]]
    with open_store(settings) as store:
        return queue_job(
            store, kind, values, by=by, unit_school=unit_school, unit_region=unit_region
        )


def run_queued(
    settings: Settings,
    *,
    only: str | None = None,
    on_job: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run the queued jobs (or only the job `only`), oldest first, in this process; returns
    their final rows. Returns at once with nothing when another runner is at work."""
    with runner_turn(settings) as mine:
        if not mine:
            return []
        with open_store(settings) as store:
            _interrupt_orphans(store)
            done: list[dict[str, Any]] = []
            while job := store.claim_job(
                now=datetime.now(UTC), runner_pid=os.getpid(), job_id=only
            ):
                if on_job is not None:
                    on_job(job)
                done.append(_run(settings, store, job))
                if only is not None:
                    break
            return done


def _alive(pid: int | None) -> bool:
    """Whether a process of this id runs on this machine (a foreground command's job)."""
    if pid is None or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _interrupt_orphans(store: Store) -> None:
    """Jobs still marked running end as interrupted: the runner lock is ours, so the runner
    that took them is gone; a command running its job in the foreground (its process alive)
    is left to finish it."""
    for job in store.jobs(status=["running"], limit=1000):
        if _alive(job.get("runner_pid")):
            continue
        store.finish_job(
            job["job_id"],
            status="interrupted",
            now=datetime.now(UTC),
            error="运行任务的进程已退出（服务重启或进程被终止）；可重新提交该任务",
        )


def _run(settings: Settings, store: Store, job: dict[str, Any]) -> dict[str, Any]:
    report = JobReport(store, job["job_id"])
    kind = JOB_KINDS.get(job["kind"])
    try:
        if kind is None:
            raise UnknownJobKindError(f"未知的任务类型 {job['kind']!r}")
        report.note(f"开始：{kind.label_zh}")
        outcome = kind.run(settings, job["params"], report)
    except EdubrainError as exc:
        report.note(f"失败：{exc}")
        store.finish_job(job["job_id"], status="failed", now=datetime.now(UTC), error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a job's failure is recorded, the runner goes on
        report.note(f"失败（程序错误）：{type(exc).__name__}: {exc}")
        store.finish_job(
            job["job_id"],
            status="failed",
            now=datetime.now(UTC),
            error=f"{type(exc).__name__}: {exc}",
        )
    else:
        report.note("完成")
        store.finish_job(job["job_id"], status="succeeded", now=datetime.now(UTC), outcome=outcome)
    return store.job(job["job_id"])


def run_now(
    settings: Settings,
    kind: str,
    params: Mapping[str, Any] | None = None,
    *,
    by: str,
) -> dict[str, Any]:
    """Queue a job and run it in this process (`edubrain jobs start --wait`); when another
    runner is at work, the job stays queued for it."""
    job = submit(settings, kind, params, by=by)
    finished = run_queued(settings, only=job["job_id"])
    if not finished:
        raise ConflictError(
            f"另一个任务运行器正在工作，任务 {job['job_id']} 已排队，由它按顺序运行"
        )
    return finished[0]


COMMAND_LINE = "命令行"


def command_line_user() -> str:
    """Who started a command: the operating-system user, else 命令行."""
    try:
        return getpass.getuser() or COMMAND_LINE
    except (KeyError, OSError):
        return COMMAND_LINE


class _BothProgress:
    """The ingest's byte progress to a terminal's bar and to the job's row."""

    def __init__(self, *targets: ByteProgress | None) -> None:
        self._targets = [t for t in targets if t is not None]

    def start(self, total_bytes: int) -> None:
        for target in self._targets:
            target.start(total_bytes)

    def advance(self, n_bytes: int) -> None:
        for target in self._targets:
            target.advance(n_bytes)


def in_foreground(
    settings: Settings,
    kind: str,
    params: Mapping[str, Any],
    work: Callable[[JobReport], T],
    outcome: Callable[[T, JobReport], dict[str, Any]],
    *,
    by: str,
) -> T:
    """Run `work` here and now, recorded as a job like the runner's (kind, who, stage,
    progress, log, duration, outcome), so that the 任务 tab shows every change of the
    warehouse, whoever started it. The job row is created running with this process's id (a
    runner leaves it alone while the process lives); an error or Ctrl-C ends it failed or
    interrupted and goes on up."""
    if kind != "ingest":
        require_workspace(settings)  # asking on a missing workspace creates nothing
    with open_store(settings) as store:
        job = store.create_job(
            job_id=uuid.uuid4().hex,
            kind=kind,
            params=dict(params),
            requested_by=by,
            now=datetime.now(UTC),
            status="running",
            runner_pid=os.getpid(),
        )
        report = JobReport(store, job["job_id"])
        report.note(f"开始：{JOB_KIND_LABELS[kind]}（命令行）")
        try:
            result = work(report)
            done = outcome(result, report)
        except EdubrainError as exc:
            report.note(f"失败：{exc}")
            store.finish_job(job["job_id"], status="failed", now=datetime.now(UTC), error=str(exc))
            raise
        except KeyboardInterrupt:
            report.note("已中断（Ctrl-C）")
            store.finish_job(
                job["job_id"], status="interrupted", now=datetime.now(UTC), error="命令被中断"
            )
            raise
        except Exception as exc:
            report.note(f"失败（程序错误）：{type(exc).__name__}: {exc}")
            store.finish_job(
                job["job_id"],
                status="failed",
                now=datetime.now(UTC),
                error=f"{type(exc).__name__}: {exc}",
            )
            raise
        report.note("完成")
        store.finish_job(job["job_id"], status="succeeded", now=datetime.now(UTC), outcome=done)
        return result


def ingest_here(
    settings: Settings,
    paths: Sequence[Path],
    *,
    source: str | None = None,
    entity: str | None = None,
    progress: ByteProgress | None = None,
    by: str,
) -> IngestResult:
    """`edubrain ingest`, recorded as an ingest job."""
    params = {
        "paths": [str(Path(p).absolute()) for p in paths],
        **({"source": source} if source else {}),
        **({"standard": entity} if entity else {}),
    }
    return in_foreground(
        settings,
        "ingest",
        params,
        lambda report: ingest(
            settings,
            paths,
            source=source,
            entity=entity,
            progress=_BothProgress(progress, _BytesDone(report)),
        ),
        _ingest_outcome,
        by=by,
    )


def govern_here(settings: Settings, *, truth: Path | None = None, by: str) -> GovernSummary:
    """`edubrain govern`, recorded as a govern job."""
    return in_foreground(
        settings,
        "govern",
        {},
        lambda _report: govern.link_persons(settings, truth=truth),
        lambda summary, _report: _govern_outcome(summary),
        by=by,
    )


def compute_here(
    settings: Settings,
    *,
    school_year: str | None = None,
    ids: list[str] | None = None,
    families: list[str] | None = None,
    by: str,
) -> RunSummary:
    """`edubrain indicators compute`, recorded as a compute job."""
    params = {
        k: v for k, v in {"school_year": school_year, "ids": ids, "families": families}.items() if v
    }
    return in_foreground(
        settings,
        "compute",
        params,
        lambda _report: compute.compute_indicators(
            settings, school_year=school_year, ids=ids, families=families
        ),
        lambda summary, _report: _compute_outcome(summary),
        by=by,
    )


def exam_mastery_here(
    settings: Settings, exam_ids: Sequence[str] = (), *, by: str
) -> dict[str, Any]:
    """`edubrain diagnose exams`, recorded as an exam_mastery job."""
    params = {"exam_ids": list(exam_ids)} if exam_ids else {}
    return in_foreground(
        settings,
        "exam_mastery",
        params,
        lambda report: _exam_mastery(settings, params, report),
        lambda outcome, _report: outcome,
        by=by,
    )


def value_added_here(
    settings: Settings, *, school_year: str | None = None, by: str
) -> value_added.Outcome:
    """`edubrain exams value-added`, recorded as a value_added job."""
    return in_foreground(
        settings,
        "value_added",
        {"school_year": school_year} if school_year else {},
        lambda report: value_added.value_added(settings, school_year=school_year, note=report.note),
        lambda found, _report: _value_added_outcome(found),
        by=by,
    )


def fitness_scores_here(settings: Settings, *, by: str) -> fitness_scores.Outcome:
    """`edubrain fitness score`, recorded as a fitness_scores job."""
    return in_foreground(
        settings,
        "fitness_scores",
        {},
        lambda report: fitness_scores.fitness_scores(settings, note=report.note),
        lambda found, _report: _fitness_outcome(found),
        by=by,
    )


def health_screening_here(settings: Settings, *, by: str) -> health_screening.Outcome:
    """`edubrain health screen`, recorded as a health_screening job."""
    return in_foreground(
        settings,
        "health_screening",
        {},
        lambda report: health_screening.health_screening(settings, note=report.note),
        lambda found, _report: _health_outcome(found),
        by=by,
    )


def psych_screening_here(settings: Settings, *, by: str) -> psych_screening.Outcome:
    """`edubrain psych screen`, recorded as a psych_screening job."""
    return in_foreground(
        settings,
        "psych_screening",
        {},
        lambda report: psych_screening.psych_screening(settings, note=report.note),
        lambda found, _report: _psych_outcome(found),
        by=by,
    )


def growth_scores_here(settings: Settings, *, by: str) -> growth_scores.Outcome:
    """`edubrain growth score`, recorded as a growth_scores job."""
    return in_foreground(
        settings,
        "growth_scores",
        {},
        lambda report: growth_scores.growth_scores(settings, note=report.note),
        lambda found, _report: _growth_outcome(found),
        by=by,
    )


def scale_here(settings: Settings, params: Mapping[str, Any], *, by: str) -> dict[str, Any]:
    """`edubrain exams scale`, recorded as a scale job (stage lines and progress on its row)."""
    from edubrain.usecases import exams_scale

    return in_foreground(
        settings,
        "scale",
        params,
        lambda report: exams_scale.summary(
            exams_scale.scale(
                settings,
                exams_scale.options_of(params),
                note=report.note,
                fraction=report.fraction,
            )
        ),
        lambda summary, _report: summary,
        by=by,
    )


def list_jobs(settings: Settings, *, limit: int = 50) -> list[dict[str, Any]]:
    with open_store(settings) as store:
        return store.jobs(limit=limit)


__all__: Sequence[str] = [
    "JOB_KINDS",
    "JOB_STATUSES",
    "NIGHTLY",
    "JobKind",
    "JobReport",
    "command_line_user",
    "compute_here",
    "exam_mastery_here",
    "fitness_scores_here",
    "govern_here",
    "health_screening_here",
    "in_foreground",
    "ingest_here",
    "list_jobs",
    "psych_screening_here",
    "run_now",
    "run_queued",
    "scale_here",
    "submit",
    "value_added_here",
]
