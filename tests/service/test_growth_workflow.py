"""写实记录 made 高可信 (issue 17, item 4): submitted → reviewed by the head teacher of the pupil's
class → 公示 with objections → confirmed, each step only by the role and class the rule names,
and a confirmed record counts in the pupil's 综合素质评价."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import County, bearer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.usecases.growth_scores import growth_scores
from edubrain.warehouse import open_warehouse

R = Role
RECORD = {"school_year": "2025-2026", "term": "1", "domain": "moral", "kind": "荣誉表彰",
          "description": "获评区级优秀少先队员", "evidence_date": "2025-10-12"}  # fmt: skip


@pytest.fixture
def client(county: County, make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings("sqlite", county=county))) as c:
        yield c


def _as(client: TestClient, role: Role, level: str, key: str) -> dict[str, str]:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    return bearer_for(store, f"{role.value}_{uuid.uuid4().hex[:8]}", role,
                      Scope(ScopeLevel(level), key))  # fmt: skip


def _class_of(s: dict) -> str:
    return f"{s['school_code']}/{s['school_year']}/{s['grade_code']}/{s['class_no']}"


def _moral(records: list[dict]) -> float:
    """schemes/example.yaml's 品德发展, written out (as in tests/end_to_end/test_growth_scores)."""
    conduct = {"A": 20, "B": 12, "C": 0, "D": -20}
    levels = [conduct[r["level"]] for r in records if r["kind"] == "操行等级"]
    hours = sum(float(r["value"]) for r in records if r["kind"] == "志愿服务")
    honours = sum(1 for r in records if r["kind"] == "荣誉表彰")
    faults = sum(1 for r in records if r["kind"] == "违纪处分")
    points = (max(levels) if levels else 0) + min(hours, 15) + min(5 * honours, 10)
    return min(100.0, max(0.0, 65 + points - min(10 * faults, 30)))


def test_a_record_goes_from_submission_to_confirmation_by_the_rules(
    client: TestClient, county: County
) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    by_class: dict[str, list[dict]] = {}
    for s in county.students:
        if s["status"] == "enrolled" and s["school_year"] == "2025-2026":
            by_class.setdefault(_class_of(s), []).append(s)
    key, pupils = next((k, v) for k, v in sorted(by_class.items()) if len(v) >= 2)
    other_class = next(
        k for k in sorted(by_class) if k != key and k.split("/")[0] == key.split("/")[0]
    )
    a, b = pupils[0], pupils[1]
    student = _as(client, R.STUDENT, "self", a["student_number"])
    parent_b = _as(client, R.PARENT, "self", b["student_number"])
    head = _as(client, R.HEAD_TEACHER, "class", key)
    other_head = _as(client, R.HEAD_TEACHER, "class", other_class)
    teacher = _as(client, R.TEACHER, "class", key)
    stranger = _as(client, R.PARENT, "self", by_class[other_class][0]["student_number"])

    made = client.post("/api/v1/growth/submissions", json=RECORD, headers=student)
    assert made.status_code == 201, made.text
    rid = made.json()["submission_id"]
    assert made.json()["status"] == "submitted"
    url = f"/api/v1/growth/submissions/{rid}"

    def ids(headers: dict[str, str]) -> set[str]:
        listed = client.get("/api/v1/growth/submissions", headers=headers).json()
        return {r["submission_id"] for r in listed["submissions"]}

    assert rid in ids(head) and rid in ids(student)
    assert rid not in ids(parent_b)  # not in 公示 yet: only the pupil's own and the class's staff
    assert rid not in ids(other_head) and rid not in ids(stranger)
    assert client.post(f"{url}/approve", headers=other_head).status_code == 404
    assert client.post(f"{url}/approve", headers=teacher).status_code == 403
    assert client.post(f"{url}/approve", headers=student).status_code == 403
    assert client.post(f"{url}/approve", headers=head).json()["status"] == "approved"
    assert client.post(f"{url}/approve", headers=head).status_code == 409  # not twice
    objected = client.post(f"{url}/object", json={"note": "x"}, headers=parent_b)
    assert objected.status_code == 404  # not shown to the class before 公示

    started = client.post("/api/v1/growth/publicity", headers=head).json()
    assert started["started"] >= 1
    shown = {r["submission_id"]: r for r in client.get(
        "/api/v1/growth/submissions", headers=parent_b).json()["submissions"]}  # fmt: skip
    assert shown[rid]["name"] == a["name"] and shown[rid]["status_label"] == "公示中"
    assert rid not in ids(stranger)  # another class's parent sees none of it
    assert client.post(f"{url}/object", json={"note": ""}, headers=parent_b).status_code in (
        400,
        422,
    )
    assert client.post(f"{url}/object", json={"note": "该奖项是集体奖"},
                       headers=parent_b).json()["status"] == "objected"  # fmt: skip
    assert client.post(f"{url}/dismiss", json={"note": "核实为个人奖项"},
                       headers=head).json()["status"] == "publicised"  # fmt: skip
    assert client.post(f"{url}/confirm", headers=head).status_code == 409  # 公示 not over

    # five days later
    row = services.store.submission(rid)
    services.store.change_submission(rid, topic="growth_record", was=["publicised"],
        values={"public_until": row["public_until"] - timedelta(days=6)})  # fmt: skip
    assert client.post(f"{url}/object", json={"note": "晚了"}, headers=parent_b).status_code == 409
    assert client.post(f"{url}/confirm", headers=head).json()["status"] == "confirmed"

    found = growth_scores(services.settings)
    assert "公示后确认的写实记录：1条" in found.notes
    with open_warehouse(services.settings, read_only=True) as wh:
        records = [r for r in wh.to_arrow("growth_record").to_pylist()
                   if r["student_number"] == a["student_number"]
                   and (r["school_year"], r["term"]) == ("2025-2026", "1")]  # fmt: skip
        scores = wh.to_arrow("growth_score").to_pylist()
    wanted = (a["student_number"], "2025-2026", "1", "moral")
    keys = ("student_number", "school_year", "term", "domain")
    moral = next(r for r in scores if tuple(r[k] for k in keys) == wanted)
    assert moral["score"] == pytest.approx(_moral([*records, {"kind": "荣誉表彰", "value": None,
                                                            "level": None}]))  # fmt: skip

    trail = [r.entry for r in services.store.audit_records(descending=True, limit=40)]
    done = {e.action for e in trail if e.resource == "growth_record" and e.outcome == "ok"}
    assert {"submit", "approve", "publicise", "object", "dismiss", "confirm"} <= done
