"""Use cases run without the CLI: the whole demo on a small generated county, its steps reported
to an events object instead of printed; then ingest → govern → quality → compute called one by
one on the demo's workspace."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import pytest

from edubrain.settings import Settings
from edubrain.usecases import compute, govern, quality, warnings
from edubrain.usecases.demo import DemoResult, NoEvents, run_demo
from edubrain.usecases.ingest import ingest, quarantined
from edubrain.usecases.progress import ByteProgress

pytestmark = pytest.mark.slow  # one demo on 200 students, shared by the module


class _Bytes:
    def __init__(self) -> None:
        self.total = self.done = 0

    def start(self, total_bytes: int) -> None:
        self.total = total_bytes

    def advance(self, n_bytes: int) -> None:
        self.done += n_bytes


class _Recorder(NoEvents):
    """Records which steps the demo reported, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.bar = _Bytes()

    def generating(self, students: int) -> None:
        self.seen.append("generating")

    def generated(self, region: object) -> None:
        self.seen.append("generated")

    def ingesting(self, settings: Settings) -> AbstractContextManager[ByteProgress | None]:
        self.seen.append("ingesting")
        return nullcontext(self.bar)

    def ingested(self, result: object, settings: Settings) -> None:
        self.seen.append("ingested")

    def governed(self, linkage: object, scores: object) -> None:
        self.seen.append("governed")

    def diagnosed(self, diagnosis: object) -> None:
        self.seen.append("diagnosed")

    def computed(self, indicators: object) -> None:
        self.seen.append("computed")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, _Recorder]:
    home = tmp_path_factory.mktemp("usecases") / "demo"
    home.mkdir()
    (home / "stale").write_text("from an earlier run", encoding="utf-8")
    events = _Recorder()
    with pytest.MonkeyPatch.context() as env:  # cheap password hashes for the demo accounts
        env.setenv("EDUBRAIN_PASSWORD_HASH_TIME_COST", "1")
        env.setenv("EDUBRAIN_PASSWORD_HASH_MEMORY_KIB", "64")
        result = run_demo(home, students=200, seed=4, events=events)
    assert not (home / "stale").exists(), "the workspace is rebuilt from scratch"
    return result, events


def test_the_demo_runs_without_the_cli(demo: tuple[DemoResult, _Recorder]) -> None:
    result, events = demo
    assert events.seen == [
        "generating", "generated", "ingesting", "ingested", "governed", "diagnosed", "computed",
    ]  # fmt: skip
    assert events.bar.done == events.bar.total > 0, "ingest reports bytes through the Protocol"
    assert result.balanced and not result.ingest.failed
    assert result.ingest.rows_quarantined > 0  # the generator injects faults
    assert result.linkage.persons > 0 and result.linkage.evaluation is not None
    assert result.quality.interop is not None and result.quality.interop.through_linkage
    assert result.diagnosis.fit["students"] > 0 and result.diagnosis.audit.rows
    assert result.indicators.run.run.values > 0 and result.indicators.headline
    assert "demo_bureau_leader" in {login.username for login in result.logins}
    assert all(login.password for login in result.logins)


def test_ingest_govern_score_and_compute_one_by_one(demo: tuple[DemoResult, _Recorder]) -> None:
    result, _ = demo
    settings, region = result.settings, result.region.out
    again = ingest(settings, [region / "standard"])
    assert again.reports and again.balanced and not again.failed
    assert sum(r.rows_inserted + r.rows_updated for r in again.reports) == 0  # nothing new
    assert quarantined(settings, summary=True).rows

    linkage = govern.link_persons(settings, truth=region / "truth")
    assert linkage.persons == result.linkage.persons  # IDs are stable across runs
    assert linkage.evaluation is not None and linkage.evaluation["precision"] > 0.95

    scores = quality.score(settings)
    assert {row.source for row in scores.rows(["source"])} >= {"xueji", "yuejuan"}
    assert scores.interop is None

    run = compute.compute_indicators(settings, families=["info"])
    assert run.run.values > 0 and run.warnings is not None
    assert compute.stored_values(settings, grain="county").rows
    assert warnings.list_warnings(settings, every_status=True)


def test_the_demo_teacher_and_parent_see_exams_and_a_diagnosis(
    demo: tuple[DemoResult, _Recorder],
) -> None:
    """The demo's class (teacher, head teacher) and pupil (parent, student) are where the exam
    item scores and the practice responses are, so their pages show exams and a diagnosis."""
    from edubrain.sealing import sealer_for
    from edubrain.warehouse import open_warehouse

    result, _ = demo
    scopes = {login.role: login.scope for login in result.logins}
    class_scope = scopes["teacher"]
    assert scopes["head_teacher"] == class_scope and scopes["parent"] == scopes["student"]
    school, year, grade, class_no = class_scope.removeprefix("class:").split("/")
    number = scopes["parent"].removeprefix("self:")
    sealer = sealer_for(result.settings)
    stored = sealer.seal_student_number(number) if sealer is not None else number
    with open_warehouse(result.settings, read_only=True) as wh:

        def count(name: str, **equal: object) -> int:
            t = wh.table(name)
            for column, value in equal.items():
                t = t.filter(t[column] == value)
            return int(t.count().to_pyarrow().as_py())

        in_class: dict[str, object] = {
            "school_code": school,
            "school_year": year,
            "grade_code": grade,
        }
        in_class["class_no"] = int(class_no)
        assert count("student", student_number=stored, **in_class) == 1
        for evidence in ("item_score", "practice_response", "diagnosis_mastery"):
            assert count(evidence, student_number=stored) > 0, evidence
