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
from conftest import BACKENDS, County
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


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_line_ingest_is_a_job_the_data_office_sees(
    make_settings: Callable[..., Settings], county: County, tmp_path: Path, backend: str
) -> None:
    settings = make_settings(backend, county=county)
    export = tmp_path / "school.csv"
    export.write_bytes(_csv(county))
    with TestClient(create_app(settings)) as client:
        store = client.app.state.services.store  # type: ignore[attr-defined]
        headers = accounts.bearer_for(
            store,
            "office",
            Role.DATA_ADMIN,
            Scope(ScopeLevel.COUNTY, county.schools[0]["region_code"]),
        )
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


def _roll(county: County) -> bytes:
    """A 学籍 export as a county keeps it: renamed and reordered columns, an extra one, a
    title row, GBK, under a name no mapping knows."""
    from edubrain.standard.identifiers import id_check_char

    school = county.schools[0]["school_code"]
    body = [f"{county.schools[0]['region_code']}20180305{n:03d}" for n in (1, 2)]
    pupils = [f"G{b}{id_check_char(b)}" for b in body]
    text = (
        "某县学生名册\n学生姓名,全国学籍号,学生出生日期,性别,学校代码,学年,年级,班级号,学籍状态,备注\n"
        f"王小一,{pupils[0]},2018-03-05,男,{school},2025-2026,二年级,1,在读,\n"
        f"李小二,{pupils[1]},2018/04/06,女,{school},2025-2026,二年级,1,在读,转入\n"
    )
    return text.encode("gbk")


def test_the_data_office_saves_a_draft_mapping_and_the_file_is_read(
    office: tuple[TestClient, Settings, dict[str, str]], county: County
) -> None:
    client, settings, headers = office
    sent = client.post(
        "/api/v1/jobs/uploads",
        headers=headers,
        files=[("files", ("学生名册2025.csv", _roll(county), "text/csv"))],
    )
    job_id = sent.json()["job_id"]
    jobs.run_queued(settings)
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
    assert job["outcome"]["files"][0]["status"] == "skipped"
    assert job["draftable"] == ["学生名册2025.csv"]

    draft = client.get(f"/api/v1/jobs/{job_id}/mapping-draft", headers=headers)
    assert draft.status_code == 200, draft.text
    body = draft.json()
    assert (body["entity"], body["header_row"], body["encoding"]) == ("student", 2, "gb18030")
    assert {c["header"]: c["field"] for c in body["columns"]}["备注"] is None
    assert {c["header"]: c["field_label"] for c in body["columns"]}["学生姓名"] == "姓名"
    assert body["problems"] == []

    store = client.app.state.services.store  # type: ignore[attr-defined]
    teacher = accounts.bearer_for(
        store, "teacher", Role.TEACHER, Scope(ScopeLevel.SCHOOL, county.schools[0]["school_code"])
    )
    assert client.get(f"/api/v1/jobs/{job_id}/mapping-draft", headers=teacher).status_code == 403
    elsewhere = accounts.bearer_for(
        store, "office2", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, "339999")
    )
    assert client.get(f"/api/v1/jobs/{job_id}/mapping-draft", headers=elsewhere).status_code == 404
    walk = client.get(
        f"/api/v1/jobs/{job_id}/mapping-draft", params={"file": "../../x.csv"}, headers=headers
    )
    assert walk.status_code == 404

    # The officer leaves 姓名 without a column: refused, nothing saved.
    refused = client.post(
        f"/api/v1/jobs/{job_id}/mapping-draft",
        headers=headers,
        json={"file": "学生名册2025.csv", "columns": {"学生姓名": None}},
    )
    assert refused.status_code == 400 and "必填字段「姓名」" in refused.json()["detail"]
    assert not settings.workspace.mappings.exists() or not any(
        settings.workspace.mappings.glob("*.yaml")
    )
    saved = client.post(
        f"/api/v1/jobs/{job_id}/mapping-draft",
        headers=headers,
        json={"file": "学生名册2025.csv", "label": "县学生名册", "columns": {"备注": None}},
    )
    assert saved.status_code == 201, saved.text
    out = saved.json()
    assert (out["source"], out["version"], out["saved_by"]) == ("xueji_local", 1, "office")
    assert (settings.workspace.mappings / "xueji_local.yaml").exists()
    trail = store.audit_records()
    assert any(r.entry.action == "save" and r.entry.resource == "mapping" for r in trail)
    assert any(r.entry.resource == "mapping_draft" for r in trail)

    (again,) = jobs.run_queued(settings)
    assert again["job_id"] == out["job"]["job_id"] and again["status"] == "succeeded"
    (file,) = again["outcome"]["files"]
    assert (file["status"], file["rows_read"], file["rows_accepted"]) == ("loaded", 2, 2)


def test_the_draft_mapping_from_the_cockpit(
    office: tuple[TestClient, Settings, dict[str, str]], county: County
) -> None:
    client, settings, headers = office
    client.post(
        "/data-office/upload",
        headers=headers,
        files=[("files", ("学生名册2025.csv", _roll(county), "text/csv"))],
        follow_redirects=False,
    )
    jobs.run_queued(settings)
    listed = client.get("/data-office?tab=jobs", headers=headers).text
    assert "未识别：生成映射草稿" in listed
    job_id = client.get("/api/v1/jobs", headers=headers).json()[0]["job_id"]
    page = client.get(f"/data-office/mapping?job={job_id}", headers=headers)
    assert page.status_code == 200, page.text
    assert 'data-header="学生姓名"' in page.text and "忽略" in page.text
    assert "xueji" not in page.text.split("<main", 1)[-1].replace('value="xueji_local"', "")
    columns = ["学生姓名", "全国学籍号", "学生出生日期", "性别", "学校代码", "学年", "年级",
               "班级号", "学籍状态", "备注"]  # fmt: skip
    fields = ["", "student_number", "birth_date", "sex", "school_code", "school_year",
              "grade_code", "class_no", "status", "name"]  # fmt: skip
    form = {"job": job_id, "file": "学生名册2025.csv", "entity": "student", "label": "县学生名册"}
    form |= {f"column-{i}": f for i, f in enumerate(fields)}
    assert len(columns) == len(fields)
    # 姓名 from 备注 by mistake, 学生姓名 ignored: the check says nothing is wrong with the
    # required fields, so the officer corrects by hand and checks again.
    checked = client.post("/data-office/mapping", headers=headers, data=form | {"action": "check"})
    assert checked.status_code == 200 and "检查通过" in checked.text
    form |= {"column-0": "name", "column-9": "", "action": "check"}
    form["column-8"] = ""  # 学籍状态 ignored: required
    missing = client.post("/data-office/mapping", headers=headers, data=form)
    assert missing.status_code == 422 and "必填字段「学籍状态」还没有对应的列" in missing.text
    form |= {"column-8": "status", "action": "save"}
    saved = client.post("/data-office/mapping", headers=headers, data=form, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("done=mapping")
    (again,) = jobs.run_queued(settings)
    assert again["outcome"]["files"][0]["rows_accepted"] == 2
    label = (settings.workspace.mappings / "xueji_local.yaml").read_text("utf-8")
    assert "label: 县学生名册" in label and "第 1 版：office" in label
