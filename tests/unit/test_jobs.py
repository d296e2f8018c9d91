"""Jobs (任务): queued, run one at a time by one runner, with stage, progress, log and outcome
kept in the operational store; a job whose runner died ends interrupted, never 'running'."""

from __future__ import annotations

import json
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


def test_a_command_line_ingest_is_recorded_as_a_job(settings: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from edubrain.cli.main import build_app

    app = build_app()

    summary = generate_region(tmp_path / "region", students=200, seed=3)
    school_csv = tmp_path / "region" / "standard" / "term.csv"
    rows_in_file = summary.files["standard/term.csv"]  # the generator's truth
    env = {"EDUBRAIN_HOME": str(settings.home), "EDUBRAIN_KEY_FILE": str(settings.key_file)}
    ran = CliRunner().invoke(app, ["ingest", str(school_csv)], env=env)
    assert ran.exit_code == 0, ran.output
    listed = CliRunner().invoke(app, ["jobs", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    (job,) = json.loads(listed.output)
    assert (job["kind"], job["status"]) == ("ingest", "succeeded")
    assert job["requested_by"] == jobs.command_line_user()
    assert job["params"]["paths"] == [str(school_csv.absolute())]
    assert job["started_at"] <= job["finished_at"] and job["progress"] == 1.0
    (file,) = job["outcome"]["files"]
    assert (file["rows_read"], file["rows_accepted"]) == (rows_in_file, rows_in_file)
    assert "开始：数据导入（命令行）" in job["log"]


def test_a_failed_command_line_run_ends_its_job_failed(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "school.csv"
    broken.write_bytes(b"\x00\x01binary")
    result = jobs.ingest_here(settings, [broken], by="tester")
    assert result.failed  # the file failed; the job itself ran to its end
    with pytest.raises(ValueError, match="boom"):

        def work(_report: jobs.JobReport) -> None:
            raise ValueError("boom")

        jobs.in_foreground(settings, "ingest", {"paths": ["x"]}, work, lambda *_: {}, by="t")
    with open_store(settings) as store:
        failed, ingested = store.jobs()
    assert (failed["status"], failed["error"]) == ("failed", "ValueError: boom")
    assert ingested["status"] == "succeeded" and ingested["outcome"]["summary"]["failed"] == 1


def test_a_runner_leaves_a_live_command_line_job_running(settings: Settings) -> None:
    import os

    with open_store(settings) as store:
        store.create_job(
            job_id="here",
            kind="govern",
            params={},
            requested_by="t",
            now=datetime.now(UTC),
            status="running",
            runner_pid=os.getppid(),  # a process that lives while this test runs
        )
    assert jobs.run_queued(settings) == []
    with open_store(settings) as store:
        assert store.job("here")["status"] == "running"
