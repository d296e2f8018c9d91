"""The generator's knowledge graph and practice, diagnosed and checked against its truth."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from test_cli import edubrain

from accounts import bearer_for
from edubrain.diagnosis import run
from edubrain.diagnosis.diagnose import diagnose
from edubrain.diagnosis.graph import load_knowledge, load_practice, read_knowledge, read_practice
from edubrain.govern.quality import RuleContext, rules_for
from edubrain.ingest import ingest_paths
from edubrain.modules.diagnosis import MODULE
from edubrain.modules.diagnosis import generator as kg
from edubrain.modules.diagnosis.entities import ENTITIES, MASTERY_TABLE
from edubrain.sealing import sealer_for
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.service.store import open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.sources.generator.plan import plan_counties
from edubrain.sources.generator.region import build_world
from edubrain.warehouse import QUARANTINE_TABLE, open_warehouse


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("region")
    generate_region(out, students=3000, seed=23, workers=1)
    return out


def test_graph_is_junior_maths_and_covers_every_exam_knowledge_point(region: Path):
    graph, items = load_knowledge(region / "knowledge")
    assert graph.size == 3 * 6 * 8  # 七/八/九年级 × six chapters × eight points
    assert {str(c)[:2] for c in graph.codes} == {"M7", "M8", "M9"}
    # loading succeeded, so the edges are acyclic; prerequisites come before their points
    for k, pre in enumerate(graph.prerequisites):
        assert (pre < k).all()
    exam_items = pd.read_csv(region / "truth" / "exam_item.csv", dtype=str)
    maths = exam_items[exam_items["knowledge_points"].str.startswith("M", na=False)]
    codes = {c for tags in maths["knowledge_points"] for c in tags.split(";")}
    junior = {c for c in codes if c[:2] in {"M7", "M8", "M9"}}
    assert junior and junior <= set(graph.codes.tolist())
    assert items.q_matrix.shape == (graph.size * kg.ITEMS_PER_POINT, graph.size)


@pytest.fixture(scope="module")
def ingested(region: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A warehouse holding only the region's knowledge folder."""
    settings = Settings(home=tmp_path_factory.mktemp("knowledge") / "home", progress=False)
    reports = ingest_paths([region / "knowledge"], settings)
    assert sorted(r.entity for r in reports) == sorted(e.name for e in ENTITIES)
    assert all(r.status == "loaded" for r in reports), reports
    return settings


def test_the_knowledge_folder_is_four_standard_entities_ingested_clean(
    region: Path, ingested: Settings
):
    """`edubrain ingest FOLDER` recognises the files by name; the graph's own rules (codes an
    item lists, cycles, references inside the graph) find nothing in the generator's graph."""
    with open_warehouse(ingested) as wh:
        for ent in ENTITIES:
            written = pd.read_csv(region / "knowledge" / f"{ent.name}.csv", dtype=str)
            assert wh.count(ent.name) == len(written), ent.name
            truth = pd.read_csv(region / "truth" / f"{ent.name}.csv", dtype=str)
            assert truth.equals(written), ent.name  # no faults: the folder is its own truth
        assert wh.count(QUARANTINE_TABLE) == 0
        ctx = RuleContext(as_of=date.today())
        for ent in ENTITIES[:3]:  # the pupils are not in this warehouse: only the graph's rules
            for r in rules_for(ent.name):
                assert r.offending(wh, ctx).count().to_pyarrow().as_py() == 0, r.id


def test_the_warehouse_gives_the_fit_the_same_input_as_the_folder(region: Path, ingested: Settings):
    graph, items = load_knowledge(region / "knowledge")
    practice = load_practice(region / "knowledge", items)
    with open_warehouse(ingested, read_only=True) as wh:
        w_graph, w_items, grade = read_knowledge(wh)
        w_practice = read_practice(wh, w_items)
    assert np.array_equal(w_graph.codes, graph.codes)
    # Ingestion normalises text (NFKC: 'y=ax²' is stored as 'y=ax2'); nothing else differs.
    assert w_graph.names.tolist() == [unicodedata.normalize("NFKC", n) for n in graph.names]
    for a, b in zip(w_graph.prerequisites, graph.prerequisites, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(w_items.item_ids, items.item_ids)
    assert np.array_equal(w_items.primary, items.primary)
    assert (w_items.q_matrix != items.q_matrix).nnz == 0
    assert set(grade.tolist()) == {"21", "22", "23"}
    # The same log, pupil by pupil; the warehouse names G pupils by their sealed number.
    sealer = sealer_for(ingested)
    assert sealer is not None
    opened = np.array([sealer.open_student_number(str(n)) for n in w_practice.student_numbers])
    assert w_practice.skipped == 0
    assert sorted(opened.tolist()) == sorted(practice.student_numbers.tolist())
    w_rows = sorted(
        zip(
            opened[w_practice.log.student].tolist(),
            w_practice.answered_at.astype(str).tolist(),
            w_practice.log.item.tolist(),
            w_practice.log.correct.tolist(),
            strict=True,
        )
    )
    rows = sorted(
        zip(
            practice.student_numbers[practice.log.student].tolist(),
            practice.answered_at.astype(str).tolist(),
            practice.log.item.tolist(),
            practice.log.correct.tolist(),
            strict=True,
        )
    )
    assert w_rows == rows


def test_practice_is_deterministic_for_a_seed():
    counties = plan_counties(400, np.random.default_rng(1))
    world = build_world(counties[0], np.random.default_rng(2).spawn(5), 1)
    platform = np.unique(world.students["_school"])[:2]
    runs = [
        kg.practice(
            kg.item_bank(), world.students, world.schools, platform, np.random.default_rng(9)
        )
        for _ in range(2)
    ]
    for a, b in zip(runs[0], runs[1], strict=True):
        assert a.keys() == b.keys()
        for column in a:
            assert np.array_equal(a[column], b[column])
    assert len(runs[0][0]["correct"]) > 0


def test_diagnosed_mastery_correlates_with_the_true_mastery(region: Path):
    graph, items = load_knowledge(region / "knowledge")
    practice = load_practice(region / "knowledge", items)
    d = diagnose(practice, graph, items, np.random.default_rng(0))
    truth = pd.read_csv(region / "truth" / "knowledge_mastery.csv", dtype=str)
    student = pd.Series(np.arange(d.student_numbers.size), index=d.student_numbers)
    s = truth["student_number"].map(student).to_numpy()
    k = graph.index(truth["kp_code"].to_numpy())
    true = truth["mastered_end"].astype(int).to_numpy()
    assert np.corrcoef(d.mastery[s, k], true)[0, 1] >= 0.8
    # uncertainty is the sd of the mastered state; it is largest where mastery is near 0.5
    assert np.allclose(d.uncertainty, np.sqrt(d.mastery * (1 - d.mastery)))


def wh_rows(settings: Settings) -> int:
    with open_warehouse(settings, read_only=True) as wh:
        return wh.count(MASTERY_TABLE)


def test_cli_fit_show_recommend_audit(region: Path, tmp_path: Path):
    home = tmp_path / "home"
    fit = edubrain(home, "diagnose", "fit", str(region / "knowledge"), "--json")
    assert fit.returncode == 0, fit.stderr
    summary = json.loads(fit.stdout)
    responses = pd.read_csv(region / "knowledge" / "practice_response.csv", dtype=str)
    assert summary["responses"] == len(responses)
    assert summary["students"] == responses["student_number"].nunique()

    number = responses["student_number"].iloc[0]
    rec = edubrain(home, "diagnose", "recommend", number, "--json")
    assert rec.returncode == 0, rec.stderr
    payload = json.loads(rec.stdout)
    assert payload["student_number"] == number
    for r in payload["recommendations"]:
        assert 0.6 <= r["success"] <= 0.8
    values = [m["mastery"] for m in payload["mastery"]]  # the student's grade, weakest first
    assert values and values == sorted(values)
    # The fit wrote the same mastery to the warehouse, by the pupil's number as stored.
    settings = Settings(home=home, progress=False)
    sealer = sealer_for(settings)
    assert sealer is not None
    with open_warehouse(settings, read_only=True) as wh:
        t = wh.table(MASTERY_TABLE)
        stored = t.filter(t.student_number == sealer.seal_student_number(number)).to_pyarrow()
    assert summary["mastery_rows"] == wh_rows(settings)
    by_code = {r["kp_code"]: r for r in stored.to_pylist()}
    assert set(by_code) == {m["kp_code"] for m in payload["mastery"]}
    for m in payload["mastery"]:
        row = by_code[m["kp_code"]]
        assert (row["mastery"], row["uncertainty"], row["attempts"]) == (
            m["mastery"], m["uncertainty"], m["attempts"],
        )  # fmt: skip

    audit = edubrain(home, "diagnose", "audit", "--truth", str(region / "truth"), "--json")
    assert audit.returncode == 0, audit.stderr
    result = json.loads(audit.stdout)
    assert set(result["gaps"]) == {"urban_rural", "sex"}
    by_sex = [g for g in result["groups"] if g["attribute"] == "sex"]
    assert sum(g["students"] for g in by_sex) == summary["students"]

    show = edubrain(home, "diagnose", "show")
    assert show.returncode == 0, show.stderr

    bad = edubrain(home, "diagnose", "recommend", "nobody")
    assert bad.returncode == 2
    assert "nobody" in bad.stderr
    reversed_band = edubrain(home, "diagnose", "recommend", number, "--band", "0.8,0.6")
    assert reversed_band.returncode == 2
    assert "band" in reversed_band.stderr


def test_the_module_scopes_the_table_the_fit_writes():
    assert run.MASTERY_TABLE == MASTERY_TABLE
    assert MASTERY_TABLE in {s.table for s in MODULE.scope}


def _bearer(settings: Settings, name: str, role: Role, scope: Scope) -> dict[str, str]:
    with open_store(settings) as store:
        return bearer_for(store, name, role, scope)


def test_a_pupils_mastery_is_served_in_scope_masked_and_audited(region: Path, tmp_path: Path):
    settings = Settings(home=tmp_path / "home", progress=False)
    folders = [region / "standard", region / "exports", region / "knowledge"]
    assert all(r.status != "failed" for r in ingest_paths(folders, settings))
    summary = run.fit(settings)
    assert summary["responses_skipped"] == 0
    sealer = sealer_for(settings)
    assert sealer is not None
    with open_warehouse(settings, read_only=True) as wh:
        mastery = wh.to_arrow(MASTERY_TABLE).to_pylist()
        pupils = {p["student_number"]: p for p in wh.to_arrow("student").to_pylist()}
        county = {s["school_code"]: s["region_code"] for s in wh.to_arrow("school").to_pylist()}
    # A practising pupil the roster knows (a J/L number: what every role may see in clear):
    # every point of their grade, for them alone.
    number = next(
        m["student_number"]
        for m in mastery
        if m["student_number"] in pupils and not m["student_number"].startswith("G")
    )
    pupil = pupils[number]
    mine = {m["kp_code"]: m for m in mastery if m["student_number"] == number}
    assert {c[:2] for c in mine} == {f"M{int(pupil['grade_code']) - 14}"}
    class_key = "/".join(
        str(pupil[f]) for f in ("school_code", "school_year", "grade_code", "class_no")
    )
    head = _bearer(settings, "head", Role.HEAD_TEACHER, Scope(ScopeLevel.CLASS, class_key))
    leader = _bearer(
        settings,
        "leader",
        Role.BUREAU_LEADER,
        Scope(ScopeLevel.COUNTY, county[pupil["school_code"]]),
    )
    outsider = _bearer(settings, "outsider", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, "339999"))
    path = f"/api/v1/students/{number}/mastery"
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        seen = client.get(path, headers=head)
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["student"]["student_number"] == number and not body["mastery_masked"]
        assert {p["kp_code"]: p["mastery"] for p in body["points"]} == {
            k: m["mastery"] for k, m in mine.items()
        }
        assert all(p["name"] for p in body["points"])
        # A bureau leader (who sees 学籍号 masked, so names the pupil by ref) sees which points,
        # and how often practised, but no mastery.
        ref = body["student"]["ref"]
        masked = client.get(f"/api/v1/students/{ref}/mastery", headers=leader)
        assert masked.status_code == 200, masked.text
        body = masked.json()
        assert body["mastery_masked"]
        assert {p["mastery"] for p in body["points"]} == {None}
        assert [p["attempts"] for p in body["points"]] == [
            mine[p["kp_code"]]["attempts"] for p in body["points"]
        ]
        assert len(body["points"]) == len(mine)
        assert client.get(path, headers=outsider).status_code == 404
    with open_store(settings) as store:
        trail = [r.entry for r in store.audit_records(resource="student_mastery")]
    assert {e.outcome for e in trail} >= {"ok", "not_found"}
