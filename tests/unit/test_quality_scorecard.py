"""Scorecard numbers computed by hand on the defective region, quarantine counting, 数据互通率
with and without a resolver, and the `edubrain quality` command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
import typer
from quality_region import S1, S2, A, X, defective, write_and_ingest
from typer.testing import CliRunner

from edubrain.cli import quality_cmd
from edubrain.govern.quality import UNKNOWN_SCHOOL, Dimension, RuleContext
from edubrain.govern.scorecard import (
    SCORECARD_SCHEMA,
    SCORECARD_TABLE,
    ScoreRow,
    interop_rates,
    interop_summary,
    rollup,
    scorecard,
    scorecard_rows,
)
from edubrain.ingest import ingest_paths
from edubrain.sealing import sealer_for
from edubrain.settings import Settings
from edubrain.warehouse import LOADS_TABLE, Warehouse, open_warehouse

C, K, R, U, V, T = (
    Dimension.COMPLETENESS,
    Dimension.CONSISTENCY,
    Dimension.REFERENTIAL_INTEGRITY,
    Dimension.UNIQUENESS,
    Dimension.VALIDITY,
    Dimension.TIMELINESS,
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_and_ingest(defective(), tmp_path_factory.mktemp("region")).home


@pytest.fixture(scope="module")
def wh(home: Path) -> Iterator[Warehouse]:
    with open_warehouse(Settings(home=home)) as warehouse:
        yield warehouse


def loaded_on(wh: Warehouse) -> date:
    loads = wh.table(LOADS_TABLE)
    day: date = loads.aggregate(d=loads.finished_at.max()).to_pyarrow()["d"][0].as_py().date()
    return day


@pytest.fixture(scope="module")
def cards(wh: Warehouse) -> list[ScoreRow]:
    """The scorecard on the day of loading (computed once: it is one big query)."""
    return scorecard(wh, RuleContext(as_of=loaded_on(wh)))


def units(rows: list[ScoreRow], entity_name: str) -> dict[str, ScoreRow]:
    return {r.school_code: r for r in rows if r.entity == entity_name}


def test_fitness_unit_of_school_s1(cards: list[ScoreRow]) -> None:
    # 8 rows of A1…A8: sex disagrees for A1, A2, A3 (A1's name, A2's grade and A3's birth date
    # too, still 3 records); A5 lacks test_date, A6 birth_date.
    s1 = units(cards, "fitness_test")[S1]
    assert (s1.source, s1.records, s1.quarantined, s1.failed_any) == ("standard", 8, 0, 5)
    assert s1.score == 37.5  # 3 of 8 fail nothing
    assert s1.dimension_score(K) == 62.5  # 5 of 8
    assert s1.dimension_score(C) == 75.0  # 6 of 8
    assert s1.dimension_score(V) == s1.dimension_score(R) == s1.dimension_score(T) == 100.0
    assert s1.dimension_score(U) is None  # no uniqueness rule for fitness tests
    assert s1.worst_dimension() is K


def test_quarantined_rows_count_against_validity_under_unknown_school(
    cards: list[ScoreRow],
) -> None:
    # The unknown pupil X (accepted, dangling) and one row quarantined for height 500 cm.
    unknown = units(cards, "fitness_test")[UNKNOWN_SCHOOL]
    assert (unknown.records, unknown.quarantined, unknown.failed_any) == (2, 1, 2)
    assert unknown.score == 0.0
    assert (unknown.checked[V], unknown.failed[V]) == (2, 1)
    assert unknown.dimension_score(V) == 50.0
    assert unknown.dimension_score(R) == 0.0
    assert unknown.dimension_score(K) == 100.0  # X has no 学籍 record to disagree with


def test_rollup_by_entity(cards: list[ScoreRow]) -> None:
    (fit,) = [r for r in rollup(cards, ["entity"]) if r.entity == "fitness_test"]
    assert (fit.source, fit.school_code, fit.load_id) == ("*", "*", "*")
    assert (fit.records, fit.quarantined, fit.failed_any, fit.score) == (10, 1, 7, 30.0)
    assert fit.dimension_score(K) == 66.67  # 6 of 9 accepted
    assert fit.dimension_score(C) == 77.78  # 7 of 9
    assert fit.dimension_score(V) == 90.0  # 9 of 10, quarantine included
    assert fit.dimension_score(R) == 88.89  # 8 of 9


def test_student_units(cards: list[ScoreRow]) -> None:
    by_school = units(cards, "student")
    s1 = by_school[S1]  # A1…A8 and C1: A8 lacks its ID, A7 its 户口, A5/A6 share an ID, C1's
    assert (s1.records, s1.failed_any, s1.score) == (9, 5, 44.44)  # class does not exist
    assert (s1.failed[C], s1.failed[U], s1.failed[R]) == (2, 2, 1)
    assert (by_school[S2].records, by_school[S2].score) == (1, 100.0)


def test_stale_feed_fails_timeliness_for_every_record(wh: Warehouse, cards: list[ScoreRow]) -> None:
    late = scorecard(wh, RuleContext(as_of=loaded_on(wh) + timedelta(days=46)))
    s1 = units(late, "fitness_test")[S1]
    assert (s1.failed[T], s1.dimension_score(T), s1.score) == (8, 0.0, 0.0)
    assert units(cards, "fitness_test")[S1].dimension_score(T) == 100.0


def test_rollup_sums_and_rejects_unknown_groupings(cards: list[ScoreRow]) -> None:
    (total,) = rollup(cards, [])
    assert total.records == sum(r.records for r in cards)
    assert total.quarantined == 1
    with pytest.raises(ValueError, match="cannot group by"):
        rollup(cards, ["colour"])


def test_reloading_counts_quarantine_once_and_a_fixed_file_supersedes_it(tmp_path: Path) -> None:
    settings = write_and_ingest(defective(), tmp_path)
    fitness = tmp_path / "standard" / "fitness_test.csv"
    ingest_paths([fitness], settings)  # the same bytes again

    def quarantined() -> int:
        with open_warehouse(settings) as wh:
            return sum(r.quarantined for r in scorecard(wh, RuleContext(as_of=loaded_on(wh))))

    assert quarantined() == 1
    lines = fitness.read_text("utf-8").splitlines()
    fitness.write_text("\n".join(line for line in lines if ",500," not in line) + "\n", "utf-8")
    ingest_paths([fitness], settings)
    assert quarantined() == 0


def test_the_stored_scorecard_is_read_until_a_load_lands(tmp_path: Path) -> None:
    settings = write_and_ingest(defective(), tmp_path)
    with open_warehouse(settings) as wh:
        ctx = RuleContext(as_of=loaded_on(wh))
        computed = scorecard_rows(wh, ctx)
        assert sum(r["quarantined"] for r in computed) == 1  # as the test above counts
        # Mark the stored copy: while nothing is loaded, the mark is what comes back.
        marked = wh.to_arrow(SCORECARD_TABLE).to_pylist()
        for row in marked:
            row["records"] += 1000
        with wh.transaction() as tx:
            tx.replace_table(SCORECARD_TABLE, pa.Table.from_pylist(marked, SCORECARD_SCHEMA))
        read = scorecard_rows(wh, ctx)
        assert [r["records"] for r in read] == [r["records"] + 1000 for r in computed]
        # Another day or another age rule is another scorecard.
        later = RuleContext(as_of=ctx.as_of + timedelta(days=1))
        assert sum(r["records"] for r in scorecard_rows(wh, later)) == sum(
            r["records"] for r in computed
        )
    fitness = tmp_path / "standard" / "fitness_test.csv"
    lines = fitness.read_text("utf-8").splitlines()
    fitness.write_text("\n".join(line for line in lines if ",500," not in line) + "\n", "utf-8")
    ingest_paths([fitness], settings)  # a load lands: the stored card is stale
    with open_warehouse(settings) as wh:
        fresh = scorecard_rows(wh, RuleContext(as_of=loaded_on(wh)))
    assert sum(r["quarantined"] for r in fresh) == 0


def _interop(wh: Warehouse, resolver: ibis.Table | None = None) -> dict[tuple[str, str], tuple]:
    rows = interop_rates(wh, resolver=resolver).to_pyarrow().to_pylist()
    assert {r["source"] for r in rows} == {"standard"}
    return {(r["entity"], r["school_code"]): (r["records"], r["resolved"], r["rate"]) for r in rows}


def test_interop_rate_without_resolver(wh: Warehouse) -> None:
    got = _interop(wh)
    assert got[("fitness_test", S1)] == (8, 8, 100.0)
    assert got[("fitness_test", UNKNOWN_SCHOOL)] == (1, 0, 0.0)  # X is nobody
    # A submission's school is the school that set the homework: H1 in S1 (A1, A2, X),
    # H2 in S2 (B1); H9 does not exist, its pupil A3 does.
    assert got[("homework_submission", S1)] == (3, 2, 66.67)
    assert got[("homework_submission", S2)] == (1, 1, 100.0)
    assert got[("homework_submission", UNKNOWN_SCHOOL)] == (1, 1, 100.0)
    assert got[("item_score", S1)] == (5, 5, 100.0)
    assert got[("guardian", UNKNOWN_SCHOOL)] == (1, 0, 0.0)
    # 练习作答 (quality_region): the clean A1·P1, A1·P2, A2·P3 plus the defective A3·P9 (an
    # unknown item, but A3 is registered) resolve and count in their pupil's school S1; X·P1
    # names nobody and practice_response has no school of its own.
    assert got[("practice_response", S1)] == (4, 4, 100.0)
    assert got[("practice_response", UNKNOWN_SCHOOL)] == (1, 0, 0.0)
    summary = interop_summary(interop_rates(wh).to_pyarrow().to_pylist(), ["source", "entity"])
    fit = next(s for s in summary if s["entity"] == "fitness_test")
    assert (fit["records"], fit["resolved"], fit["rate"]) == (9, 8, 88.89)


def test_interop_rate_with_a_resolver(wh: Warehouse) -> None:
    # Linkage says the X written in every system is A7 (X as stored: sealed).
    sealer = sealer_for(Settings())
    assert sealer is not None
    x, a7, a8 = (sealer.seal_student_number(n) for n in (X, A[7], A[8]))
    resolver = ibis.memtable(pa.table({"student_number": [x], "person_id": [a7]}))
    got = _interop(wh, resolver)
    assert got[("fitness_test", S1)] == (9, 9, 100.0)
    assert ("fitness_test", UNKNOWN_SCHOOL) not in got
    assert got[("homework_submission", S1)] == (3, 3, 100.0)
    # X·P1 now resolves to A7, of S1: 4 + 1 records there, none left unknown.
    assert got[("practice_response", S1)] == (5, 5, 100.0)
    assert ("practice_response", UNKNOWN_SCHOOL) not in got
    # Per entity, and an ambiguous number (two pupils) resolves to neither.
    per_entity = ibis.memtable(
        pa.table(
            {
                "entity": ["fitness_test", "guardian", "guardian"],
                "student_number": [x, x, x],
                "person_id": [a7, a7, a8],
            }
        )
    )
    got = _interop(wh, per_entity)
    assert got[("fitness_test", S1)] == (9, 9, 100.0)
    assert got[("guardian", UNKNOWN_SCHOOL)] == (1, 0, 0.0)
    assert got[("health_check", UNKNOWN_SCHOOL)] == (1, 0, 0.0)
    assert got[("practice_response", UNKNOWN_SCHOOL)] == (1, 0, 0.0)  # mapped for others only


# ---- the command ----------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    quality_cmd.register(app)

    @app.callback()
    def main() -> None:
        """Keep `quality` a sub-command."""

    return app


def quality(home: Path, *args: str):
    return CliRunner().invoke(_app(), ["quality", *args], env={"EDUBRAIN_HOME": str(home)})


def test_cli_json_scorecard(home: Path, wh: Warehouse) -> None:
    day = loaded_on(wh).isoformat()
    result = quality(home, "--json", "--by", "entity", "--as-of", day)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["as_of"], report["by"], report["max_load_age_days"]) == (day, ["entity"], 45)
    fit = next(r for r in report["scorecard"] if r["entity"] == "fitness_test")
    assert "source" not in fit
    assert (fit["records"], fit["score"]) == (10, 30.0)
    assert fit["dimensions"]["consistency"] == {
        "checked": 9,
        "passed": 6,
        "failed": 3,
        "score": 66.67,
    }
    assert all(not f["stale"] for f in report["freshness"])


def test_cli_table_drill_down_rules_and_interop(home: Path) -> None:
    table = quality(home, "--by", "source,school")
    assert table.exit_code == 0, table.output
    assert "standard" in table.stdout and S1 in table.stdout
    drill = quality(home, "--rule", "consistency.fitness_test.sex", "--json", "--limit", "2")
    assert drill.exit_code == 0, drill.output
    assert [r["school_code"] for r in json.loads(drill.stdout)] == [S1, S1]
    listed = json.loads(quality(home, "--rules", "--json").stdout)
    assert {"id", "dimension", "severity", "description_zh"} <= set(listed[0])
    interop = json.loads(quality(home, "--interop", "--json").stdout)
    assert {r["entity"] for r in interop} == {
        "fitness_test", "health_check", "item_score", "homework_submission", "guardian",
        "practice_response",
    }  # fmt: skip


def test_cli_errors_are_one_line(home: Path) -> None:
    from edubrain.errors import EdubrainError

    for args, text in (
        (("--rule", "nope"), "unknown quality rule"),
        (("--as-of", "yesterday"), "not a date"),
        (("--by", "colour"), "--by"),
    ):
        result = quality(home, *args)
        assert isinstance(result.exception, EdubrainError), args
        assert text in str(result.exception)
