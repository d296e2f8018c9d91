"""Jobs (任务): queued, run one at a time by one runner, with stage, progress, log and outcome
kept in the operational store; a job whose runner died ends interrupted, never 'running'."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import portalocker
import pytest

from edubrain.service.jobs import (
    NIGHTLY,
    UnknownJobKindError,
    queue_job,
    queue_nightly,
    runner_busy,
    runner_lock_path,
)
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.usecases import jobs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", key_file=tmp_path / "key", progress=False)


def test_an_ingest_job_runs_and_keeps_its_report(settings: Settings, tmp_path: Path) -> None:
    summary = generate_region(tmp_path / "region", students=200, seed=3)
    standard = tmp_path / "region" / "standard"
    job = jobs.submit(settings, "ingest", {"paths": [str(standard)]}, by="tester")
    assert job["status"] == "queued"
    (done,) = jobs.run_queued(settings)
    assert done["job_id"] == job["job_id"]
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0
    assert done["started_at"] <= done["finished_at"]
    files = done["outcome"]["files"]
    # Every standard file of the region was read, and its rows are the generator's count.
    written = {
        Path(name).name: rows
        for name, rows in summary.files.items()
        if name.startswith("standard/")
    }
    assert {Path(f["file"]).name: f["rows_read"] for f in files} == written
    assert "开始：数据导入" in done["log"] and "完成" in done["log"]


def test_a_failing_job_is_recorded_failed_and_the_runner_goes_on(settings: Settings) -> None:
    with open_store(settings) as store:
        broken = store.create_job(
            job_id="broken", kind="no-such-kind", params={}, requested_by="t", now=datetime.now(UTC)
        )
        queue_job(store, "scorecard", by="t")
    finished = jobs.run_queued(settings)
    assert finished[0]["job_id"] == broken["job_id"]
    assert finished[0]["status"] == "failed"
    assert "no-such-kind" in finished[0]["error"]
    assert len(finished) == 2  # the next job still ran


def test_an_unknown_kind_is_refused_when_queued(settings: Settings) -> None:
    with open_store(settings) as store, pytest.raises(UnknownJobKindError, match="未知的任务类型"):
        queue_job(store, "format-disk", by="t")


def test_a_job_left_running_by_a_dead_runner_ends_interrupted(settings: Settings) -> None:
    with open_store(settings) as store:
        queue_job(store, "scorecard", by="t", job_id="orphan")
        claimed = store.claim_job(now=datetime.now(UTC), runner_pid=999_999_999)
        assert claimed is not None and claimed["status"] == "running"
    assert jobs.run_queued(settings) == []  # nothing queued, but the orphan is dealt with
    with open_store(settings) as store:
        orphan = store.job("orphan")
    assert orphan["status"] == "interrupted"
    assert "重新提交" in orphan["error"]


def test_one_runner_at_a_time(settings: Settings) -> None:
    job = jobs.submit(settings, "scorecard", by="t")
    lock = runner_lock_path(settings)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as held:
        portalocker.lock(held, portalocker.LockFlags.EXCLUSIVE)
        assert runner_busy(settings)
        assert jobs.run_queued(settings) == []  # the other runner will take it
        portalocker.unlock(held)
    assert not runner_busy(settings)
    # Now it runs (a scorecard of an empty workspace ends failed, saying what to do first).
    (ran,) = jobs.run_queued(settings)
    assert ran["job_id"] == job["job_id"] and ran["status"] in ("succeeded", "failed")
    assert ran["finished_at"] is not None


def test_the_nightly_jobs_are_queued_once_a_night(settings: Settings) -> None:
    with open_store(settings) as store:
        first = queue_nightly(settings, store, day="20261207")
        again = queue_nightly(settings, store, day="20261207")
        queued = store.jobs(status=["queued"])
    assert first == [f"nightly-20261207-{kind}" for kind in NIGHTLY]
    assert again == []
    assert sorted(j["kind"] for j in queued) == sorted(NIGHTLY)
    assert {j["requested_by"] for j in queued} == {"schedule"}
