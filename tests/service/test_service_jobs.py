"""Jobs through the API: the data office uploads exports and starts govern while the service
serves; jobs are scoped by unit and audited; uploads are bounded and keep to their folder."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import accounts
from conftest import County
from edubrain.serve import create_app
from edubrain.service import jobs as service_jobs
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.standard.entities import entity
from edubrain.usecases import jobs


@pytest.fixture
def office(
    make_settings: Callable[..., Settings], county: County, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Settings, dict[str, str]]]:
    # The runner process is started by hand in these tests (one test starts the real one).
    monkeypatch.setattr(service_jobs, "start_runner", lambda settings: None)
    monkeypatch.setattr("edubrain.service.routes.jobs.start_runner", lambda settings: None)
    settings = make_settings("sqlite", county=county, ingest_max_file_mb=1)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        region = county.schools[0]["region_code"]
        headers = accounts.bearer_for(
            store, "office", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, region)
        )
        yield client, settings, headers


def _csv(county: County) -> bytes:
    """The county's first school as a standard-format school.csv (one row)."""
    fields = entity("school").field_names
    school = county.schools[0]
    row = ",".join("" if school[f] is None else str(school[f]) for f in fields)
    return (",".join(fields) + "\n" + row + "\n").encode("utf-8")


def test_an_upload_is_kept_queued_and_ingested(
    office: tuple[TestClient, Settings, dict[str, str]], county: County
) -> None:
    client, settings, headers = office
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as z:
        z.writestr("exports/school.csv", _csv(county))
        z.writestr("../../escape.csv", b"a,b\n")
        z.writestr("notes.exe", b"MZ")
    response = client.post(
        "/api/v1/jobs/uploads",
        headers=headers,
        files=[
            ("files", ("school.csv", _csv(county), "text/csv")),
            ("files", ("more.zip", packed.getvalue(), "application/zip")),
        ],
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind_label"] == "数据导入" and job["status_label"] == "排队中"
    (folder,) = [p for p in settings.workspace.uploads.iterdir() if p.is_dir()]
    kept = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert kept == ["1/school.csv", "school.csv"]  # the escape and the .exe are skipped
    assert not (settings.home.parent / "escape.csv").exists()
    (done,) = jobs.run_queued(settings)
    assert done["status"] == "succeeded", done["error"]
    seen = client.get(f"/api/v1/jobs/{job['job_id']}", headers=headers).json()
    assert seen["status"] == "succeeded" and seen["progress"] == 1.0
    assert [f["rows_read"] for f in seen["outcome"]["files"]] == [1, 1]
    trail = client.app.state.services.store.audit_records()  # type: ignore[attr-defined]
    assert any(r.entry.action == "upload" and job["job_id"] in r.entry.record_ids for r in trail)


def test_an_upload_over_the_bound_is_refused_and_nothing_is_kept(
    office: tuple[TestClient, Settings, dict[str, str]],
) -> None:
    client, settings, headers = office
    big = b"a,b\n" + b"1,2\n" * 300_000  # 1.2 MB against a 1 MB bound
    response = client.post(
        "/api/v1/jobs/uploads", headers=headers, files=[("files", ("big.csv", big, "text/csv"))]
    )
    assert response.status_code == 400, response.text
    assert "上限" in response.json()["detail"]
    assert not any(settings.workspace.uploads.iterdir())
    assert client.get("/api/v1/jobs", headers=headers).json() == []


def test_jobs_are_for_the_data_office_and_its_scope(
    office: tuple[TestClient, Settings, dict[str, str]], county: County
) -> None:
    client, _, headers = office
    started = client.post("/api/v1/jobs", headers=headers, json={"kind": "govern"})
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    store = client.app.state.services.store  # type: ignore[attr-defined]
    teacher = accounts.bearer_for(
        store, "teacher", Role.TEACHER, Scope(ScopeLevel.SCHOOL, county.schools[0]["school_code"])
    )
    assert client.get("/api/v1/jobs", headers=teacher).status_code == 403
    assert client.post("/api/v1/jobs", headers=teacher, json={"kind": "govern"}).status_code == 403
    elsewhere = accounts.bearer_for(
        store, "office2", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, "339999")
    )
    assert client.get("/api/v1/jobs", headers=elsewhere).json() == []
    assert client.get(f"/api/v1/jobs/{job_id}", headers=elsewhere).status_code == 404
    assert [j["job_id"] for j in client.get("/api/v1/jobs", headers=headers).json()] == [job_id]
    refused = client.post("/api/v1/jobs", headers=headers, json={"kind": "ingest"})
    assert refused.status_code == 422  # an ingest starts with an upload, never a server path


def test_the_service_starts_a_runner_that_does_the_job(
    make_settings: Callable[..., Settings], county: County
) -> None:
    settings = make_settings("sqlite", county=county)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        headers = accounts.bearer_for(
            store,
            "office",
            Role.DATA_ADMIN,
            Scope(ScopeLevel.COUNTY, county.schools[0]["region_code"]),
        )
        job_id = client.post("/api/v1/jobs", headers=headers, json={"kind": "scorecard"}).json()[
            "job_id"
        ]
        status = "queued"
        for _ in range(240):  # the runner is a new Python process: give it up to two minutes
            status = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()["status"]
            if status not in ("queued", "running"):
                break
            time.sleep(0.5)
        assert status == "succeeded"
        assert settings.workspace.jobs_runner_lock.exists()


def test_the_data_office_uploads_and_starts_jobs_from_the_cockpit(
    office: tuple[TestClient, Settings, dict[str, str]], county: County
) -> None:
    client, settings, headers = office
    page = client.get("/data-office?tab=jobs", headers=headers)
    assert page.status_code == 200, page.text
    assert 'enctype="multipart/form-data"' in page.text and "还没有任务" in page.text
    sent = client.post(
        "/data-office/upload",
        headers=headers,
        files=[("files", ("school.csv", _csv(county), "text/csv"))],
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("done=upload")
    started = client.post(
        "/data-office/jobs", headers=headers, data={"kind": "compute"}, follow_redirects=False
    )
    assert started.status_code == 303
    listed = client.get("/data-office?tab=jobs&done=upload", headers=headers).text
    assert listed.count('data-status="queued"') == 2
    assert "数据导入" in listed and "指标计算与预警" in listed and "排队中" in listed
    assert 'http-equiv="refresh"' in listed  # queued work: the page follows it
    jobs.run_queued(settings)
    finished = client.get("/data-office?tab=jobs", headers=headers).text
    assert finished.count('data-status="succeeded"') == 2, finished
    assert "各文件导入结果" in finished and "school.csv" in finished
    assert 'http-equiv="refresh"' not in finished


def test_a_command_line_ingest_is_a_job_the_data_office_sees(
    office: tuple[TestClient, Settings, dict[str, str]], county: County, tmp_path: Path
) -> None:
    client, settings, headers = office
    export = tmp_path / "school.csv"
    export.write_bytes(_csv(county))
    # What `edubrain ingest school.csv` runs, beside the serving process.
    result = jobs.ingest_here(settings, [export], by="命令行")
    assert result.rows_read == 1
    (seen,) = client.get("/api/v1/jobs", headers=headers).json()
    assert (seen["kind_label"], seen["status_label"]) == ("数据导入", "已完成")
    assert seen["requested_by"] == "命令行"
    assert seen["seconds"] is not None and seen["seconds"] >= 0
    assert [f["rows_read"] for f in seen["outcome"]["files"]] == [1]
    page = client.get("/data-office?tab=jobs", headers=headers).text
    assert 'data-status="succeeded"' in page and "school.csv" in page


def _post_streamed(
    client: TestClient, path: str, headers: dict[str, str], chunks: int, *, declare: bool
) -> tuple[int, dict[str, object], int]:
    """POST a multipart body of `chunks` 64 KiB chunks straight to the ASGI app; returns the
    status, the answer and how many body bytes the app pulled."""
    boundary = "edubrainboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    body = [head] + [b"1,2\n" * (1 << 14)] * chunks + [f"\r\n--{boundary}--\r\n".encode()]
    total = sum(len(c) for c in body)
    pulled = 0
    sent: list[dict[str, object]] = []
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-type", f"multipart/form-data; boundary={boundary}".encode()))
    if declare:
        raw_headers.append((b"content-length", str(total).encode()))

    async def receive() -> dict[str, object]:
        nonlocal pulled
        if not body:
            return {"type": "http.disconnect"}
        chunk = body.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(body)}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": raw_headers, "client": ("testclient", 1),
        "server": ("testserver", 80), "state": {},
    }  # fmt: skip

    async def call() -> None:
        await client.app(scope, receive, send)  # type: ignore[arg-type]

    assert client.portal is not None
    client.portal.call(call)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]
    return int(status), json.loads(answer) if answer.startswith(b"{") else {}, pulled  # type: ignore[arg-type]


def test_an_oversized_upload_is_refused_before_it_is_read_whole(
    make_settings: Callable[..., Settings], county: County, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edubrain.service.routes.jobs.start_runner", lambda settings: None)
    settings = make_settings("sqlite", county=county, upload_max_mb=1)
    with TestClient(create_app(settings)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        region = county.schools[0]["region_code"]
        headers = accounts.bearer_for(
            store, "office", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, region)
        )
        # 48 chunks of 64 KiB: 3 MiB against a 1 MiB limit, sent without a length.
        status, answer, pulled = _post_streamed(
            client, "/api/v1/jobs/uploads", headers, 48, declare=False
        )
        assert status == 413 and "1 MB 的上限" in str(answer["detail"])
        assert answer["title"] == "内容过大"
        # Reading stopped at the first chunk past the limit: 1 MiB and a chunk at most.
        assert 1 << 20 < pulled <= (1 << 20) + (64 << 10) + 200
        # Declared too long: refused before one byte of the body is read.
        status, answer, pulled = _post_streamed(
            client, "/api/v1/jobs/uploads", headers, 48, declare=True
        )
        assert (status, pulled) == (413, 0)
        # The cockpit's upload form answers with its error page, naming the limit.
        page_status, _, pulled = _post_streamed(
            client, "/data-office/upload", headers, 48, declare=True
        )
        assert (page_status, pulled) == (413, 0)
        page = client.post(
            "/data-office/upload",
            headers=headers,
            files=[("files", ("big.csv", b"1,2\n" * (300 << 10), "text/csv"))],
        )
        assert page.status_code == 413 and "1 MB 的上限" in page.text
        # Under the limit, an upload is kept as before; nothing of the refused ones was.
        small = client.post(
            "/api/v1/jobs/uploads",
            headers=headers,
            files=[("files", ("school.csv", _csv(county), "text/csv"))],
        )
        assert small.status_code == 202, small.text
        assert len(list(settings.workspace.uploads.iterdir())) == 1
