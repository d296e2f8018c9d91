"""The steward's queue through the API: both sides masked for the caller, every read audited,
decisions in bulk (each on its own), undo, the states, and the job that puts them into effect.

The queue is what `edubrain govern` leaves (`conftest.steward_tables`), its first pair given
the two pupils' own registry fields as sides."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from conftest import County, add_user, steward_tables
from edubrain.govern.steward import REVIEW_TABLE, SIDE_FIELDS
from edubrain.serve import create_app
from edubrain.service.auth import open_session
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


@pytest.fixture
def queue(
    make_settings: Callable[..., Settings], county: County, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, dict[str, str], list[str], list[dict]]]:
    monkeypatch.setattr("edubrain.service.jobs.start_runner", lambda settings: None)
    settings = make_settings("sqlite", county=county)
    keys, reviews = steward_tables(county, settings)
    pupils = county.students[:2]
    with open_warehouse(settings) as wh:
        rows = wh.to_arrow(REVIEW_TABLE).to_pylist()
        for row in rows:
            if row["mention_key_l"] == keys[0]:
                row["side_l"], row["side_r"] = (
                    {**{f: None if p.get(f) is None else str(p.get(f)) for f in SIDE_FIELDS},
                     "entity": "student", "load_id": str(p["_load_id"]), "rows": 1}
                    for p in pupils
                )  # fmt: skip
        schema = wh.to_arrow(REVIEW_TABLE).schema
        with wh.transaction() as tx:
            tx.replace_table(REVIEW_TABLE, pa.Table.from_pylist(rows, schema))
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        store = services.store
        region = county.schools[0]["region_code"]
        user = add_user(store, "steward", Role.DATA_ADMIN, Scope(ScopeLevel.COUNTY, region), "-")
        session = open_session(store, settings, store.user(user), datetime.now(UTC))
        yield client, {"Authorization": f"Bearer {session.token}"}, reviews, pupils


def _items(client: TestClient, headers: dict[str, str]) -> dict[str, dict]:
    response = client.get("/api/v1/steward/queue", headers=headers)
    assert response.status_code == 200, response.text
    return {i["review_id"]: i for i in response.json()["items"]}


def test_both_sides_are_shown_masked_and_the_read_is_audited(queue) -> None:  # type: ignore[no-untyped-def]
    client, headers, reviews, pupils = queue
    items = _items(client, headers)
    assert set(items) == set(reviews)
    fields = {f["field"]: f for f in items[reviews[0]]["fields"]}
    # A data admin has 敏感 clearance: names and birth dates in clear, a G 学籍号 (it carries the
    # ID number) masked.
    assert (fields["name"]["left"], fields["name"]["right"]) == (
        pupils[0]["name"],
        pupils[1]["name"],
    )
    assert fields["birth_date"]["left"] == str(pupils[0]["birth_date"])
    for side, pupil in (("left", pupils[0]), ("right", pupils[1])):
        number = str(pupil["student_number"])
        # J/L numbers (the birth date inside) in clear; a G number (sealed at rest) never.
        expected = number if number[0] in "JL" else "G" + "*" * 18
        assert fields["student_number"][side] == expected
    assert fields["student_number"]["differs"]  # two pupils, two numbers
    assert fields["source"]["left"] == fields["source"]["right"] == "学生"
    assert not fields["source"]["differs"]
    store = client.app.state.services.store  # type: ignore[attr-defined]
    last = store.audit_records(descending=True, limit=1)[0].entry
    assert (last.action, last.resource) == ("list", "review_queue")
    assert sorted(json.loads(last.record_ids)) == sorted(reviews)


def test_bulk_decisions_undo_and_the_states(queue) -> None:  # type: ignore[no-untyped-def]
    client, headers, reviews, _ = queue
    items = _items(client, headers)
    first, second, third = (items[r] for r in reviews)
    assert {i["state"] for i in items.values()} == {"pending"}
    body = {"decisions": [
        {"left": first["mention_ref_l"], "right": first["mention_ref_r"], "verdict": "same"},
        {"left": second["mention_ref_l"], "right": second["mention_ref_l"], "verdict": "same"},
        {"left": third["mention_ref_l"], "right": third["mention_ref_r"], "verdict": "different"},
    ]}  # fmt: skip
    response = client.post("/api/v1/steward/decisions/bulk", json=body, headers=headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert [d["verdict"] for d in out["recorded"]] == ["same", "different"]
    assert [r["index"] for r in out["refused"]] == [1]  # one mention twice; the others kept
    store = client.app.state.services.store  # type: ignore[attr-defined]
    job = store.job(out["job_id"])
    assert (job["kind"], job["status"]) == ("steward", "queued")
    states = {r: i["state_label"] for r, i in _items(client, headers).items()}
    assert states == {reviews[0]: "已判定·生效中", reviews[1]: "待定", reviews[2]: "已判定·生效中"}

    pair = {"left": first["mention_ref_l"], "right": first["mention_ref_r"]}
    assert client.post("/api/v1/steward/decisions/undo", json=pair,
                       headers=headers).status_code == 201  # fmt: skip
    assert _items(client, headers)[reviews[0]]["state"] == "pending"  # back in the queue
    assert client.post("/api/v1/steward/decisions/undo", json=pair,
                       headers=headers).status_code == 201  # fmt: skip
    restored = _items(client, headers)[reviews[0]]
    assert (restored["state"], restored["decision"]) == ("applying", "same")  # undo of an undo
    never = {"left": second["mention_ref_l"], "right": second["mention_ref_r"]}
    assert client.post("/api/v1/steward/decisions/undo", json=never,
                       headers=headers).status_code == 400  # nothing to undo  # fmt: skip
    verdicts = [d["verdict"] for d in store.steward_decisions()]
    assert verdicts == ["same", "different", "undo", "undo"]  # appended, never deleted
    actions = [r.entry.action for r in store.audit_records(descending=True, limit=30)
               if r.entry.resource == "steward_decision"]  # fmt: skip
    assert actions.count("undo") == 2 and actions.count("decide") >= 3
