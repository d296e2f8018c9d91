"""Fixtures for the service tests: a small generated county (once per run) and operational
stores on SQLite and on PostgreSQL.

PostgreSQL runs at 127.0.0.1:5432 (trust auth, database `test`); each run creates its own
databases and drops them at the end. Without the server the `postgres` tests skip — except with
CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

import accounts
from edubrain.govern.identity import PERSON_MENTION_SCHEMA, PERSON_MENTION_TABLE
from edubrain.govern.steward import REVIEW_SCHEMA, REVIEW_TABLE, review_id
from edubrain.indicators.run import compute_catalogue
from edubrain.ingest import ingest_paths
from edubrain.sealing import sealer_for
from edubrain.service.policy import Role, Scope
from edubrain.service.store import Store, open_store
from edubrain.settings import Settings
from edubrain.sources.generator import generate_region
from edubrain.warehouse import open_warehouse

STUDENTS = 2000
PG_ADMIN_URL = os.environ.get(
    "EDUBRAIN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass(frozen=True, repr=False)
class County:
    """The generated county's warehouse and its records, read straight from the warehouse."""

    warehouse: Path
    students: list[dict]
    teachers: list[dict]
    schools: list[dict]
    classes: list[dict]
    assignments: list[dict]
    indicator_values: list[dict]
    warnings: list[dict]  # as `edubrain indicators compute` left them in its operational store
    warning_events: list[dict]


@pytest.fixture(scope="session")
def county(tmp_path_factory: pytest.TempPathFactory) -> County:
    root = tmp_path_factory.mktemp("service-county")
    generate_region(root / "region", students=STUDENTS, seed=11)
    settings = Settings(home=root / "home", progress=False)
    ingest_paths([root / "region" / "standard", root / "region" / "exports"], settings)
    with open_warehouse(settings) as wh, open_store(settings) as book:
        compute_catalogue(wh, now=datetime(2026, 3, 1, 8, 0), warnings=book)
        warnings, events = book.warning_rows(), book.warning_events()
        tables = {
            name: wh.to_arrow(name).to_pylist()
            for name in (
                "student",
                "teacher",
                "school",
                "class",
                "teaching_assignment",
                "indicator_value",
            )
        }
    return County(
        settings.workspace.warehouse,
        tables["student"],
        tables["teacher"],
        tables["school"],
        tables["class"],
        tables["teaching_assignment"],
        tables["indicator_value"],
        warnings,
        events,
    )


class PostgresDatabases:
    """Creates throw-away databases on the test server and drops them all at the end."""

    def __init__(self) -> None:
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def new(self) -> str:
        name = f"edubrain_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return (
            sa.engine.make_url(PG_ADMIN_URL)
            .set(database=name)
            .render_as_string(hide_password=False)
        )

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases()
    try:
        with databases.admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        message = f"PostgreSQL at {PG_ADMIN_URL} is unreachable: {exc.orig}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield databases
    databases.drop_all()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def make_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Settings]:
    """Settings for a fresh home and a fresh operational store on the requested backend."""

    def make(backend: str, *, county: County | None = None, **overrides: object) -> Settings:
        home = tmp_path_factory.mktemp("service-home")
        if county is not None:
            shutil.copy(county.warehouse, home / "warehouse.duckdb")
        url = None
        if backend == "postgres":
            url = request.getfixturevalue("postgres").new()
        values: dict[str, object] = {
            "home": home,
            "progress": False,
            "database_url": url,
            # Cheap hashes keep the tests fast; the defaults are argon2id's recommended ones.
            "password_hash_time_cost": 1,
            "password_hash_memory_kib": 64,
        }
        values.update(overrides)
        settings = Settings(**values)  # type: ignore[arg-type]
        if county is not None:
            # The county's warnings, in this test's operational store.
            with open_store(settings) as book:
                book.replace_warnings(county.warnings, county.warning_events)
        return settings

    return make


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, make_settings: Callable[..., Settings]) -> Iterator[Store]:
    with open_store(make_settings(backend)) as opened:
        yield opened


NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)


def add_user(store: Store, username: str, role: Role, scope: Scope, password_hash: str) -> int:
    user = store.create_user(
        username=username,
        display_name=username,
        role=role.value,
        scope_level=scope.level.value,
        scope_key=scope.key,
        password_hash=password_hash,
        now=NOW,
    )
    return user.user_id


def bearer_for(store: Store, username: str, role: Role, scope: Scope) -> dict[str, str]:
    """A new user with this role and scope and a live session: the headers that act as them."""
    return accounts.bearer_for(store, username, role, scope, created=NOW)


def steward_tables(county: County, settings: Settings) -> tuple[list[str], list[str]]:
    """A small identity run over the first county's pupils: person mentions and a review
    queue of doubtful pairs (what `edubrain govern` leaves), written into this test's copy."""
    pupils = county.students[:6]
    keys = [f"student|{s['student_number']}" for s in pupils]
    loads = [str(s["_load_id"]) for s in pupils]
    # A fitness mention of a number the 学籍 does not know: its unit is its load's region.
    sealer = sealer_for(settings)
    assert sealer is not None  # 学籍号s are kept sealed at rest (decision 0011)
    stray = sealer.seal_student_number("G339901201401019999")
    keys.append(f"fitness_test|{stray}|2025-2026")
    mentions = pa.Table.from_pylist(
        [
            {
                "mention_key": key,
                "entity": key.split("|")[0],
                "student_number": key.split("|")[1],
                "person_id": f"P{i:06d}",
                "load_id": loads[min(i, len(loads) - 1)],
                "run_id": "run-1",
            }
            for i, key in enumerate(keys)
        ],
        schema=PERSON_MENTION_SCHEMA,
    )
    pairs = [(keys[0], keys[1]), (keys[2], keys[3]), (keys[4], keys[6])]
    review = pa.Table.from_pylist(
        [
            {
                "review_id": review_id(a, b),
                "mention_key_l": a,
                "mention_key_r": b,
                "person_id_l": "P1",
                "person_id_r": "P2",
                "match_probability": 0.5,
                "reason": "doubtful",
                "run_id": "run-1",
                "match_weights": [
                    {
                        "comparison": "birth_date",
                        "level": "Exact match on birth_date",
                        "weight": 10.9,
                    },
                    {"comparison": "name", "level": "same pinyin (同音字)", "weight": 6.5},
                ],
            }
            for a, b in pairs
        ],
        schema=REVIEW_SCHEMA,
    )
    with open_warehouse(settings) as wh, wh.transaction() as tx:
        tx.replace_table(PERSON_MENTION_TABLE, mentions)
        tx.replace_table(REVIEW_TABLE, review)
    return keys, [review_id(a, b) for a, b in pairs]
