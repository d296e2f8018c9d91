"""The operational store: users, sessions, the audit chain, export requests, the warning
workflow, the steward's decisions, jobs, referrals and submissions under review — everything
people change while the service runs.

This is the only module that speaks SQL to the operational database (SQLAlchemy 2 Core; the
schema is changed only by the Alembic migrations next to it). SQLite in `EDUBRAIN_HOME` by
default, PostgreSQL with `EDUBRAIN_DATABASE_URL=postgresql+psycopg://...`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from edubrain.errors import ConflictError, NotFoundError, UnavailableError
from edubrain.indicators.definitions import Grain
from edubrain.service.policy import OperationalScope, UnitsInScope
from edubrain.settings import Settings

GENESIS_HASH = "0" * 64
log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("scope_level", sa.String(16), nullable=False),
    sa.Column("scope_key", sa.String(512), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("is_disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("occurred_at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(600), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource", sa.String(64), nullable=False),
    sa.Column("record_ids", sa.Text, nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("request_id", sa.String(64), nullable=False),
    sa.Column("client_ip", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # The unit the record belongs to (decision 0012): the actor's school and/or region.
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

export_requests = sa.Table(
    "export_requests",
    metadata,
    sa.Column("export_id", sa.String(32), primary_key=True),
    sa.Column("requester_id", sa.Integer, sa.ForeignKey("users.user_id"), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("scope_level", sa.String(16), nullable=False),
    sa.Column("scope_key", sa.String(512), nullable=False),
    sa.Column("purpose", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_by", sa.Integer, sa.ForeignKey("users.user_id"), nullable=True),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("decision_note", sa.String(500), nullable=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)

# Warning state and history (预警): rows of `indicators.warnings.STATE_SCHEMA` and
# `EVENT_SCHEMA`. Times are local wall-clock without a zone, as the indicator runs stamp them.
warnings = sa.Table(
    "warnings",
    metadata,
    sa.Column("warning_id", sa.String(16), primary_key=True),
    sa.Column("condition_key", sa.String(300), nullable=False),
    sa.Column("rule", sa.String(16), nullable=False),
    sa.Column("indicator_id", sa.String(64), nullable=False),
    sa.Column("grain", sa.String(32), nullable=False),
    sa.Column("unit_code", sa.String(32), nullable=False),
    sa.Column("unit_name", sa.String(128), nullable=False),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("school_year", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("reference", sa.Float, nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("times_opened", sa.Integer, nullable=False),
    sa.Column("acknowledged_by", sa.String(64), nullable=True),
    sa.Column("acknowledged_at", sa.DateTime, nullable=True),
    sa.Column("acknowledge_note", sa.String(500), nullable=True),
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Column("resolved_at", sa.DateTime, nullable=True),
    sa.Column("resolve_note", sa.String(500), nullable=True),
    # How the gap moved since last year (new, worse, stable, better, unknown) and its size
    # relative to the threshold (decision 0018); empty and null for older rows.
    sa.Column("trend", sa.String(16), nullable=False, server_default=""),
    sa.Column("gap", sa.Float, nullable=True),
)

warning_events = sa.Table(
    "warning_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("warning_id", sa.String(16), nullable=False, index=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("who", sa.String(64), nullable=False),
    sa.Column("note", sa.String(500), nullable=False),
    sa.Column("value", sa.Float, nullable=True),
)

# The steward's record-linkage decisions (人工审核): applied by every later `edubrain govern`.
steward_decisions = sa.Table(
    "steward_decisions",
    metadata,
    sa.Column("decision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mention_key_l", sa.String(200), nullable=False),
    sa.Column("mention_key_r", sa.String(200), nullable=False),
    sa.Column("verdict", sa.String(16), nullable=False),
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", sa.DateTime, nullable=False),
    sa.Column("note", sa.String(500), nullable=False),
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)

# Jobs (任务): ingest, govern, compute, fit and the scorecard, queued and run one writer at a
# time by `edubrain.usecases.jobs`; started from the UI, the CLI or the schedule.
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("progress", sa.Float, nullable=True),
    sa.Column("stage", sa.String(200), nullable=False, server_default=""),
    sa.Column("log", sa.Text, nullable=False, server_default=""),
    sa.Column("outcome", sa.Text, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("runner_pid", sa.Integer, nullable=True),
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)
JOB_LOG_CHARS = 20_000  # a job keeps the end of its log

# Referrals (转介): one staff member hands a pupil's case to the staff of one class (a
# psychology teacher refers a screened pupil to the head teacher). What is referred is a
# module's business (`topic`); the store keeps who, to which class, why, and when it ended.
referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("referral_id", sa.String(32), primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),  # the pupil's key, as stored
    sa.Column("class_key", sa.String(64), nullable=False, index=True),
    sa.Column("note", sa.String(500), nullable=False),
    sa.Column("referred_by", sa.String(64), nullable=False),
    sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("closed_by", sa.String(64), nullable=True),
    sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("close_note", sa.String(500), nullable=True),
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)

# Submissions under review (提交 → 审核 → 公示 → 确认): a record a pupil, parent or teacher
# submits about a pupil, reviewed by the staff of the pupil's class, shown to the class for a
# number of days with objections, then confirmed. What is submitted is a module's business
# (`topic`, `payload` as JSON); the store keeps each step, who took it, when and why.
submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("submission_id", sa.String(32), primary_key=True),
    sa.Column("topic", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),  # the pupil's key, as stored
    sa.Column("class_key", sa.String(64), nullable=False, index=True),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("submitted_by", sa.String(64), nullable=False),
    sa.Column("submitter_role", sa.String(32), nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reviewed_by", sa.String(64), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("review_note", sa.String(500), nullable=True),
    sa.Column("public_from", sa.DateTime(timezone=True), nullable=True),
    sa.Column("public_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("objection_by", sa.String(64), nullable=True),
    sa.Column("objection_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("objection_note", sa.String(500), nullable=True),
    sa.Column("resolved_by", sa.String(64), nullable=True),
    sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("resolve_note", sa.String(500), nullable=True),
    sa.Column("confirmed_by", sa.String(64), nullable=True),
    sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("unit_school", sa.String(10), nullable=True),
    sa.Column("unit_region", sa.String(6), nullable=True),
)
_SUBMISSION_TIMES = ("submitted_at", "reviewed_at", "public_from", "public_until",
                     "objection_at", "resolved_at", "confirmed_at")  # fmt: skip

_UNIT_FIELDS = ("unit_school", "unit_region")


def _in_units(table: sa.Table, units: OperationalScope) -> sa.ColumnElement[bool]:
    """Rows whose unit (`unit_school`, `unit_region`) the scope covers: the policy's rule
    (`OperationalScope.covers`) as a condition of the query. A row without a unit is seen only
    by a scope over the whole workspace."""
    if units.everything:
        return sa.true()
    school, region = table.c.unit_school, table.c.unit_region
    parts: list[sa.ColumnElement[bool]] = []
    if units.schools:
        parts.append(school.in_(sorted(units.schools)))
    if units.region_prefix is not None:
        parts.append(region.startswith(units.region_prefix, autoescape=True))
    return sa.or_(*parts) if parts else sa.false()


class StoreError(UnavailableError):
    """The operational store cannot be opened or migrated."""


class RecordNotFoundError(NotFoundError):
    """A user, session or export request that does not exist."""


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back without a zone; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _must_utc(value: datetime) -> datetime:
    result = _utc(value)
    assert result is not None
    return result


@dataclass(frozen=True)
class UserRecord:
    user_id: int
    username: str
    display_name: str
    role: str
    scope_level: str
    scope_key: str
    password_hash: str
    failed_logins: int
    locked_until: datetime | None
    is_disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class SessionRecord:
    token_hash: str
    user_id: int
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    """What one audit record says; `seq`, `prev_hash` and `hash` are added by the chain."""

    occurred_at: str
    actor: str
    role: str
    scope: str
    action: str
    resource: str
    record_ids: str
    query: str
    purpose: str
    outcome: str
    request_id: str
    client_ip: str
    unit_school: str | None = None
    unit_region: str | None = None

    def canonical(self, seq: int) -> str:
        body = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in _UNIT_FIELDS:  # records written before units existed hash without them
            if body[name] is None:
                del body[name]
        body["seq"] = seq
        return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev_hash: str, entry: AuditEntry, seq: int) -> str:
    """SHA-256 over the previous record's hash and this record's canonical JSON."""
    return hashlib.sha256(f"{prev_hash}\n{entry.canonical(seq)}".encode()).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    entry: AuditEntry
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class ChainReport:
    """The result of `verify_audit_chain`: ok, or the first broken link and why."""

    records: int
    head_seq: int
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


@dataclass(frozen=True)
class ExportRecord:
    export_id: str
    requester_id: int
    entity: str
    fields: tuple[str, ...]
    scope_level: str
    scope_key: str
    purpose: str
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    decision_note: str | None
    expires_at: datetime | None
    downloaded_at: datetime | None
    unit_school: str | None = None
    unit_region: str | None = None


_AUDIT_ENTRY_FIELDS = tuple(AuditEntry.__dataclass_fields__)


def database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.workspace.store.resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; NORMAL is durable at each checkpoint.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class _LockFile:
    """An exclusive lock between processes (`flock` on a file); without `fcntl` (Windows), no
    lock beyond the database's own."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def __enter__(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


@dataclass
class _WaitingRecord:
    entry: AuditEntry
    record: AuditRecord | None = None
    error: Exception | None = None


class Store:
    """The operational database. Open with `open_store(settings)`; migrated on open."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # One writer appends to the chain at a time inside this process; across processes the
        # head row's lock (PostgreSQL) or the database's write lock (SQLite) serialises them.
        self._audit_lock = threading.Lock()
        self._waiting_lock = threading.Lock()
        self._waiting: list[_WaitingRecord] = []
        # SQLite waits for its write lock by sleeping and retrying (1, 2, 5, 10 … ms), so
        # appends from several service processes would queue in those sleeps. They first
        # take a lock file beside the database instead, which wakes the next one at once.
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._chain_lock = _LockFile(Path(f"{database}.chain-lock")) if database else None
        self._stopping = threading.Event()
        self._checkpointer: threading.Thread | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def checkpoint_every(self, seconds: float) -> None:
        """Checkpoint SQLite's write-ahead log from a background thread (see `open_store`)."""

        def run() -> None:
            while not self._stopping.wait(seconds):
                try:
                    with self.engine.connect() as conn:
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
                except sa.exc.SQLAlchemyError as exc:  # retried next time; say why once
                    log.warning("operational store checkpoint failed: %s", exc)

        self._checkpointer = threading.Thread(target=run, name="store-checkpoint", daemon=True)
        self._checkpointer.start()

    def close(self) -> None:
        self._stopping.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        self.engine.dispose()
        if self._chain_lock is not None:
            self._chain_lock.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ----------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate the operational store: {exc}") from None

    # -- users -----------------------------------------------------------------------------
    def create_user(
        self,
        *,
        username: str,
        display_name: str,
        role: str,
        scope_level: str,
        scope_key: str,
        password_hash: str,
        now: datetime,
    ) -> UserRecord:
        with self.engine.begin() as conn:
            try:
                user_id = conn.execute(
                    users.insert()
                    .values(
                        username=username,
                        display_name=display_name,
                        role=role,
                        scope_level=scope_level,
                        scope_key=scope_key,
                        password_hash=password_hash,
                        failed_logins=0,
                        is_disabled=False,
                        created_at=now,
                    )
                    .returning(users.c.user_id)
                ).scalar_one()
            except sa.exc.IntegrityError:
                raise DuplicateUserError(f"user {username!r} already exists") from None
        return self.user(int(user_id))

    def user(self, user_id: int) -> UserRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.user_id == user_id)).one_or_none()
        if row is None:
            raise RecordNotFoundError(f"no user {user_id}")
        return _user(row)

    def user_by_name(self, username: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).one_or_none()
        return None if row is None else _user(row)

    def list_users(self) -> list[UserRecord]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.user_id))]

    def record_login_failure(
        self, user_id: int, *, max_failures: int, lock_until: datetime
    ) -> UserRecord:
        """Count a failed login; lock the account once `max_failures` are reached in a row."""
        with self.engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.user_id == user_id)
                .values(failed_logins=users.c.failed_logins + 1)
            )
            conn.execute(
                users.update()
                .where(users.c.user_id == user_id, users.c.failed_logins >= max_failures)
                .values(locked_until=lock_until, failed_logins=0)
            )
        return self.user(user_id)

    def record_login_success(self, user_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.user_id == user_id)
                .values(failed_logins=0, locked_until=None)
            )

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                users.update().where(users.c.user_id == user_id).values(password_hash=password_hash)
            )

    # -- sessions --------------------------------------------------------------------------
    def create_session(
        self, user_id: int, token_hash: str, *, now: datetime, expires_at: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sessions.insert().values(
                    token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
                )
            )

    def session(self, token_hash: str) -> SessionRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(sessions).where(sessions.c.token_hash == token_hash)
            ).one_or_none()
        if row is None:
            return None
        return SessionRecord(
            token_hash=row.token_hash,
            user_id=row.user_id,
            created_at=_must_utc(row.created_at),
            expires_at=_must_utc(row.expires_at),
            revoked_at=_utc(row.revoked_at),
        )

    def revoke_session(self, token_hash: str, *, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sessions.update()
                .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )

    def delete_expired_sessions(self, *, now: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(sessions.delete().where(sessions.c.expires_at < now))
        return int(result.rowcount or 0)

    # -- audit chain -----------------------------------------------------------------------
    def append_audit(self, entry: AuditEntry) -> AuditRecord:
        """Append one record to the hash chain; returns once it is committed.

        Group commit: records that arrive while another request is writing wait for the lock,
        and whoever takes it next writes every waiting record in one transaction. Under load
        that is a few transactions for many requests instead of a queue of one each.
        """
        waiting = _WaitingRecord(entry)
        with self._waiting_lock:
            self._waiting.append(waiting)
        with self._audit_lock:
            if waiting.record is None and waiting.error is None:
                with self._waiting_lock:
                    batch, self._waiting = self._waiting, []
                try:
                    with self._chain_lock or contextlib.nullcontext():
                        records = self._append_chain([w.entry for w in batch])
                except Exception as exc:  # noqa: BLE001 - each waiting request re-raises it
                    for w in batch:
                        w.error = exc
                else:
                    for w, record in zip(batch, records, strict=True):
                        w.record = record
        if waiting.error is not None:
            raise waiting.error
        assert waiting.record is not None
        return waiting.record

    def _append_chain(self, entries: list[AuditEntry]) -> list[AuditRecord]:
        """Append `entries` in order and move the chain's head, in one transaction."""
        records = []
        with self.engine.begin() as conn:
            if self.dialect == "sqlite":
                # Take the database's write lock before reading the head, so that another
                # process (a second service worker, the CLI) cannot append in between; SQLite
                # has no row locks and ignores FOR UPDATE.
                conn.execute(audit_head.update().where(sa.false()).values(seq=audit_head.c.seq))
            head = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash)
                .where(audit_head.c.head_id == 1)
                .with_for_update()
            ).one_or_none()
            seq, prev_hash = (int(head.seq), str(head.hash)) if head else (0, GENESIS_HASH)
            for entry in entries:
                seq += 1
                digest = chain_hash(prev_hash, entry, seq)
                values = {name: getattr(entry, name) for name in _AUDIT_ENTRY_FIELDS}
                records.append({"seq": seq, "prev_hash": prev_hash, "hash": digest, **values})
                prev_hash = digest
            conn.execute(audit_log.insert(), records)
            if head is None:
                conn.execute(audit_head.insert().values(head_id=1, seq=seq, hash=prev_hash))
            else:
                conn.execute(
                    audit_head.update()
                    .where(audit_head.c.head_id == 1)
                    .values(seq=seq, hash=prev_hash)
                )
        return [
            AuditRecord(r["seq"], entry, r["prev_hash"], r["hash"])
            for r, entry in zip(records, entries, strict=True)
        ]

    def audit_records(
        self,
        *,
        after_seq: int = 0,
        limit: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        resource: str | None = None,
        since: str | None = None,
        until: str | None = None,
        descending: bool = False,
        units: OperationalScope | None = None,
        record_id: str | None = None,
    ) -> list[AuditRecord]:
        """Audit records in seq order (or newest first); with `units`, only those of the units
        a scope covers (an auditor's view), as a condition of the query."""
        query = sa.select(audit_log)
        if units is not None:
            query = query.where(_in_units(audit_log, units))
        if record_id is not None:
            # record_ids is a JSON list of strings: the id, quoted, is one of its elements.
            quoted = json.dumps(record_id, ensure_ascii=False)
            query = query.where(audit_log.c.record_ids.contains(quoted, autoescape=True))
        if descending:
            if after_seq:
                query = query.where(audit_log.c.seq < after_seq)
            query = query.order_by(audit_log.c.seq.desc())
        else:
            query = query.where(audit_log.c.seq > after_seq).order_by(audit_log.c.seq)
        for column, value in (
            (audit_log.c.actor, actor),
            (audit_log.c.action, action),
            (audit_log.c.resource, resource),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(audit_log.c.occurred_at >= since)
        if until is not None:
            query = query.where(audit_log.c.occurred_at < until)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_audit_record(row) for row in conn.execute(query)]

    def _iter_audit(self, batch: int = 5000) -> Iterator[AuditRecord]:
        after = 0
        while True:
            rows = self.audit_records(after_seq=after, limit=batch)
            if not rows:
                return
            yield from rows
            after = rows[-1].seq

    def audit_head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            head = conn.execute(
                sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.head_id == 1)
            ).one_or_none()
        return (int(head.seq), str(head.hash)) if head else (0, GENESIS_HASH)

    def verify_audit_chain(self) -> ChainReport:
        """Walk the chain from the first record; name the first record that breaks it.

        A changed record no longer matches its own hash; a deleted one leaves a gap in `seq`;
        a record replaced together with its hash breaks the next record's `prev_hash`; records
        deleted from the end fall short of the head, which is kept in its own row.
        """
        head_seq, head_hash = self.audit_head()
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        for record in self._iter_audit():
            count += 1
            if record.seq != expected_seq:
                return ChainReport(
                    count, head_seq, expected_seq, f"record {expected_seq} is missing (deleted)"
                )
            if record.prev_hash != prev_hash:
                broken = record.seq - 1 if record.seq > 1 else record.seq
                return ChainReport(
                    count,
                    head_seq,
                    broken,
                    f"record {broken} was changed or replaced: record {record.seq} does not "
                    "link to it",
                )
            if chain_hash(prev_hash, record.entry, record.seq) != record.hash:
                return ChainReport(
                    count, head_seq, record.seq, f"record {record.seq} was changed after writing"
                )
            prev_hash, expected_seq = record.hash, expected_seq + 1
        last_seq = expected_seq - 1
        if last_seq < head_seq:
            return ChainReport(
                count,
                head_seq,
                last_seq + 1,
                f"record {last_seq + 1} is missing (deleted); the chain's head is {head_seq}",
            )
        if last_seq > head_seq or (last_seq and prev_hash != head_hash):
            return ChainReport(
                count, head_seq, last_seq, f"record {last_seq} does not match the chain's head"
            )
        return ChainReport(count, head_seq)

    # -- export requests -------------------------------------------------------------------
    def create_export(
        self,
        *,
        export_id: str,
        requester_id: int,
        entity: str,
        fields: Sequence[str],
        scope_level: str,
        scope_key: str,
        purpose: str,
        now: datetime,
        unit_school: str | None = None,
        unit_region: str | None = None,
    ) -> ExportRecord:
        with self.engine.begin() as conn:
            conn.execute(
                export_requests.insert().values(
                    unit_school=unit_school,
                    unit_region=unit_region,
                    export_id=export_id,
                    requester_id=requester_id,
                    entity=entity,
                    fields=json.dumps(list(fields)),
                    scope_level=scope_level,
                    scope_key=scope_key,
                    purpose=purpose,
                    status="pending",
                    created_at=now,
                )
            )
        return self.export(export_id)

    def export(
        self,
        export_id: str,
        *,
        requester_id: int | None = None,
        units: OperationalScope | None = None,
    ) -> ExportRecord:
        """One request. With `requester_id` and/or `units`: only if it is that user's own or
        its unit is one the scope covers (otherwise, like a missing one, NotFoundError)."""
        query = sa.select(export_requests).where(export_requests.c.export_id == export_id)
        visible = _visible_exports(requester_id, units)
        if visible is not None:
            query = query.where(visible)
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise RecordNotFoundError(f"no export request {export_id}")
        return _export(row)

    def list_exports(
        self,
        *,
        requester_id: int | None = None,
        units: OperationalScope | None = None,
        status: str | None = None,
    ) -> list[ExportRecord]:
        """Requests, newest first: one user's own (`requester_id`), those of the units a scope
        covers (`units`), or both (either one)."""
        query = sa.select(export_requests).order_by(export_requests.c.created_at.desc())
        visible = _visible_exports(requester_id, units)
        if visible is not None:
            query = query.where(visible)
        if status is not None:
            query = query.where(export_requests.c.status == status)
        with self.engine.connect() as conn:
            return [_export(r) for r in conn.execute(query)]

    def decide_export(
        self,
        export_id: str,
        *,
        approved: bool,
        decided_by: int,
        note: str,
        now: datetime,
        expires_at: datetime | None,
    ) -> bool:
        """Approve or reject a pending request; False when it was no longer pending."""
        with self.engine.begin() as conn:
            result = conn.execute(
                export_requests.update()
                .where(
                    export_requests.c.export_id == export_id,
                    export_requests.c.status == "pending",
                )
                .values(
                    status="approved" if approved else "rejected",
                    decided_by=decided_by,
                    decided_at=now,
                    decision_note=note,
                    expires_at=expires_at if approved else None,
                )
            )
        return bool(result.rowcount)

    def claim_export_download(self, export_id: str, *, now: datetime) -> bool:
        """Mark an approved, unexpired request downloaded; True for exactly one caller."""
        with self.engine.begin() as conn:
            result = conn.execute(
                export_requests.update()
                .where(
                    export_requests.c.export_id == export_id,
                    export_requests.c.status == "approved",
                    export_requests.c.downloaded_at.is_(None),
                    export_requests.c.expires_at > now,
                )
                .values(status="downloaded", downloaded_at=now)
            )
        return bool(result.rowcount)

    # -- warnings (the indicators' WarningBook) ----------------------------------------------
    def warning_rows(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sa.select(warnings))]

    def replace_warnings(
        self, rows: Sequence[dict[str, Any]], events: Sequence[dict[str, Any]]
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(warnings.delete())
            if rows:
                conn.execute(warnings.insert(), [_row_of(warnings, r) for r in rows])
            if events:
                conn.execute(warning_events.insert(), [_row_of(warning_events, e) for e in events])

    def change_warning(self, row: dict[str, Any], was: str, event: dict[str, Any]) -> bool:
        values = _row_of(warnings, row)
        with self.engine.begin() as conn:
            changed = conn.execute(
                warnings.update()
                .where(warnings.c.warning_id == values.pop("warning_id"))
                .where(warnings.c.status == was)
                .values(**values)
            ).rowcount
            if changed:
                conn.execute(warning_events.insert().values(**_row_of(warning_events, event)))
        return bool(changed)

    def warning_events(self, warning_id: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(warning_events).order_by(warning_events.c.at, warning_events.c.event_id)
        if warning_id is not None:
            query = query.where(warning_events.c.warning_id == warning_id)
        with self.engine.connect() as conn:
            return [
                {k: v for k, v in r._mapping.items() if k != "event_id"}
                for r in conn.execute(query)
            ]

    def warnings_in_scope(
        self,
        units: UnitsInScope,
        *,
        filters: Mapping[str, str],
        severity: Mapping[str, int],
        after: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Warnings of the units a scope covers, with `column == value` filters, ordered by
        `severity_key` (the level's rank under `severity` as one digit, `|`, the id), from
        after `after`. Scope and filters are conditions of the query itself."""
        w = warnings.c
        at_school = w.grain == Grain.SCHOOL.value
        regional: list[sa.ColumnElement[bool]] = (
            [w.unit_code.in_(sorted(units.regions))] if units.regions else []
        )
        if units.region_prefix is not None:
            regional.append(w.unit_code.startswith(units.region_prefix, autoescape=True))
        covered = sa.or_(
            sa.and_(at_school, w.unit_code.in_(sorted(units.schools)))
            if units.schools
            else sa.false(),
            sa.and_(~at_school, sa.or_(*regional)) if regional else sa.false(),
        )
        rank = sa.case(
            *((w.level == level, str(digit)) for level, digit in severity.items()), else_="9"
        )
        key = (rank + "|" + w.warning_id).label("severity_key")
        query = sa.select(warnings, key).where(covered)
        for name, value in filters.items():
            query = query.where(w[name] == value)
        if after is not None:
            query = query.where(key > after)
        query = query.order_by(key)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # -- the steward's decisions -------------------------------------------------------------
    def record_steward_decision(
        self,
        left: str,
        right: str,
        verdict: str,
        *,
        by: str,
        note: str,
        at: datetime,
        unit_school: str | None = None,
        unit_region: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                steward_decisions.insert().values(
                    unit_school=unit_school,
                    unit_region=unit_region,
                    mention_key_l=left,
                    mention_key_r=right,
                    verdict=verdict,
                    decided_by=by,
                    decided_at=at,
                    note=note,
                )
            )

    def steward_decisions(self, units: OperationalScope | None = None) -> list[dict[str, Any]]:
        """Every decision (or those of the units a scope covers), oldest first (a later one on
        the same pair overrides)."""
        query = sa.select(steward_decisions).order_by(
            steward_decisions.c.decided_at, steward_decisions.c.decision_id
        )
        if units is not None:
            query = query.where(_in_units(steward_decisions, units))
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    # -- referrals -------------------------------------------------------------------------
    def create_referral(
        self,
        *,
        topic: str,
        subject: str,
        class_key: str,
        note: str,
        by: str,
        at: datetime,
        unit_school: str | None = None,
        unit_region: str | None = None,
    ) -> dict[str, Any]:
        """A new open referral of `subject` to the class `class_key`; an open one of the same
        topic, subject and class is kept (its note is not replaced) and returned instead."""
        r = referrals.c
        with self.engine.begin() as conn:
            found = conn.execute(
                sa.select(referrals)
                .where(r.topic == topic, r.subject == subject, r.class_key == class_key)
                .where(r.closed_at.is_(None))
            ).first()
            if found is not None:
                return _referral(found)
            referral_id = uuid.uuid4().hex
            conn.execute(
                referrals.insert().values(
                    referral_id=referral_id,
                    topic=topic,
                    subject=subject,
                    class_key=class_key,
                    note=note,
                    referred_by=by,
                    referred_at=at,
                    unit_school=unit_school,
                    unit_region=unit_region,
                )
            )
            row = conn.execute(sa.select(referrals).where(r.referral_id == referral_id)).one()
        return _referral(row)

    def referrals(
        self,
        topic: str,
        *,
        units: OperationalScope | None = None,
        class_key: str | None = None,
        open_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Referrals of a topic, newest first: those of the units a scope covers (`units`),
        those to one class (`class_key`), or both; with `open_only`, not closed ones."""
        r = referrals.c
        query = sa.select(referrals).where(r.topic == topic)
        if units is not None:
            query = query.where(_in_units(referrals, units))
        if class_key is not None:
            query = query.where(r.class_key == class_key)
        if open_only:
            query = query.where(r.closed_at.is_(None))
        query = query.order_by(r.referred_at.desc(), r.referral_id)
        with self.engine.connect() as conn:
            return [_referral(row) for row in conn.execute(query)]

    def close_referral(
        self,
        referral_id: str,
        *,
        topic: str,
        units: OperationalScope,
        by: str,
        note: str,
        at: datetime,
    ) -> dict[str, Any]:
        """Close an open referral of a unit the scope covers; any other (closed, of another
        topic or unit, or none) is RecordNotFoundError."""
        r = referrals.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                referrals.update()
                .where(r.referral_id == referral_id, r.topic == topic, r.closed_at.is_(None))
                .where(_in_units(referrals, units))
                .values(closed_by=by, closed_at=at, close_note=note)
            ).rowcount
            if not changed:
                raise RecordNotFoundError(f"no open referral {referral_id}")
            row = conn.execute(sa.select(referrals).where(r.referral_id == referral_id)).one()
        return _referral(row)

    # -- submissions under review ------------------------------------------------------------
    def create_submission(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A new submission (status `submitted`); `values` names its columns but the id, the
        payload as a mapping (stored as JSON)."""
        submission_id = uuid.uuid4().hex
        values = {**values, "payload": json.dumps(values["payload"], ensure_ascii=False)}
        with self.engine.begin() as conn:
            conn.execute(
                submissions.insert().values(
                    submission_id=submission_id, status="submitted",
                    **_row_of(submissions, values),
                )
            )  # fmt: skip
        return self.submission(submission_id)

    def submission(self, submission_id: str) -> dict[str, Any]:
        query = sa.select(submissions).where(submissions.c.submission_id == submission_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise RecordNotFoundError(f"no submission {submission_id}")
        return _submission(row)

    def submissions(
        self,
        topic: str,
        *,
        class_keys: Sequence[str] | None = None,
        subjects: Sequence[str] | None = None,
        units: OperationalScope | None = None,
        statuses: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Submissions of a topic, oldest first, of these classes, pupils, units and statuses
        (each condition, when given, in the query)."""
        c = submissions.c
        query = sa.select(submissions).where(c.topic == topic)
        if class_keys is not None:
            query = query.where(c.class_key.in_(list(class_keys)))
        if subjects is not None:
            query = query.where(c.subject.in_(list(subjects)))
        if units is not None:
            query = query.where(_in_units(submissions, units))
        if statuses is not None:
            query = query.where(c.status.in_(list(statuses)))
        query = query.order_by(c.submitted_at, c.submission_id)
        with self.engine.connect() as conn:
            return [_submission(row) for row in conn.execute(query)]

    def change_submission(
        self, submission_id: str, *, topic: str, was: Sequence[str], values: Mapping[str, Any]
    ) -> bool:
        """Move a submission on, only if it is (still) in one of the `was` statuses: two people
        acting at once cannot both move it."""
        c = submissions.c
        with self.engine.begin() as conn:
            changed = conn.execute(
                submissions.update()
                .where(c.submission_id == submission_id, c.topic == topic)
                .where(c.status.in_(list(was)))
                .values(**_row_of(submissions, values))
            ).rowcount
        return bool(changed)

    # -- jobs ------------------------------------------------------------------------------
    def create_job(
        self,
        *,
        job_id: str,
        kind: str,
        params: Mapping[str, Any],
        requested_by: str,
        now: datetime,
        status: str = "queued",
        unit_school: str | None = None,
        unit_region: str | None = None,
        runner_pid: int | None = None,
    ) -> dict[str, Any]:
        """A new job; created `running` (a command run in the foreground), it starts `now`
        in the process `runner_pid`."""
        with self.engine.begin() as conn:
            conn.execute(
                jobs.insert().values(
                    job_id=job_id,
                    kind=kind,
                    params=json.dumps(dict(params), ensure_ascii=False),
                    status=status,
                    requested_by=requested_by,
                    requested_at=_must_utc(now),
                    unit_school=unit_school,
                    unit_region=unit_region,
                    started_at=_must_utc(now) if status == "running" else None,
                    runner_pid=runner_pid,
                )
            )
        return self.job(job_id)

    def job(self, job_id: str, *, units: OperationalScope | None = None) -> dict[str, Any]:
        """One job; with `units`, only if the scope covers its unit (else, like a missing one,
        RecordNotFoundError)."""
        query = sa.select(jobs).where(jobs.c.job_id == job_id)
        if units is not None:
            query = query.where(_in_units(jobs, units))
        with self.engine.connect() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            raise RecordNotFoundError(f"no job {job_id}")
        return _job(row)

    def jobs(
        self,
        *,
        units: OperationalScope | None = None,
        status: Sequence[str] | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Jobs, newest first (of the units a scope covers)."""
        query = sa.select(jobs).order_by(jobs.c.requested_at.desc(), jobs.c.job_id).limit(limit)
        if units is not None:
            query = query.where(_in_units(jobs, units))
        if status is not None:
            query = query.where(jobs.c.status.in_(list(status)))
        with self.engine.connect() as conn:
            return [_job(r) for r in conn.execute(query)]

    def claim_job(
        self, *, now: datetime, runner_pid: int, job_id: str | None = None
    ) -> dict[str, Any] | None:
        """Mark the oldest queued job (or `job_id`, if queued) running for this runner; None
        when there is none. One claimant wins each job."""
        for _ in range(5):
            query = sa.select(jobs.c.job_id).where(jobs.c.status == "queued")
            if job_id is not None:
                query = query.where(jobs.c.job_id == job_id)
            query = query.order_by(jobs.c.requested_at, jobs.c.job_id).limit(1)
            with self.engine.begin() as conn:
                found = conn.execute(query).scalar_one_or_none()
                if found is None:
                    return None
                claimed = conn.execute(
                    jobs.update()
                    .where(jobs.c.job_id == found, jobs.c.status == "queued")
                    .values(status="running", started_at=_must_utc(now), runner_pid=runner_pid)
                ).rowcount
            if claimed:
                return self.job(found)
        return None

    def note_job(
        self,
        job_id: str,
        *,
        stage: str | None = None,
        progress: float | None = None,
        log_lines: Sequence[str] = (),
    ) -> None:
        """Record a running job's progress: its stage, fraction done and new log lines."""
        values: dict[str, Any] = {}
        if stage is not None:
            values["stage"] = stage[:200]
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, progress))
        with self.engine.begin() as conn:
            if log_lines:
                log = conn.execute(
                    sa.select(jobs.c.log).where(jobs.c.job_id == job_id)
                ).scalar_one_or_none()
                text = (log or "") + "".join(f"{line}\n" for line in log_lines)
                values["log"] = text[-JOB_LOG_CHARS:]
            if values:
                conn.execute(jobs.update().where(jobs.c.job_id == job_id).values(**values))

    def finish_job(
        self,
        job_id: str,
        *,
        status: str,
        now: datetime,
        outcome: Mapping[str, Any] | None = None,
        error: str | None = None,
        was: Sequence[str] = ("running",),
    ) -> bool:
        """End a job (succeeded, failed, interrupted, cancelled) if it is still in `was`."""
        values: dict[str, Any] = {"status": status, "finished_at": _must_utc(now)}
        if outcome is not None:
            values["outcome"] = json.dumps(dict(outcome), ensure_ascii=False, default=str)
        if error is not None:
            values["error"] = error
        if status == "succeeded":
            values["progress"] = 1.0
        with self.engine.begin() as conn:
            changed = conn.execute(
                jobs.update()
                .where(jobs.c.job_id == job_id, jobs.c.status.in_(list(was)))
                .values(**values)
            ).rowcount
        return bool(changed)

    def rewrite_text_values(
        self,
        rewrite: Callable[[str], str],
        progress: Callable[[str, int], None] | None = None,
    ) -> int:
        """Rewrite, in one transaction, every text value of every table that may hold a sealed
        token or an ID number in clear (`edubrain keys rotate`); returns the values changed.

        The audit chain hashes the text it holds, so when audit records change the chain is
        computed again from the first record; the caller verifies it first. The triggers that
        keep `audit_log` append-only are lifted inside this transaction only.
        """
        reflected = sa.MetaData()
        reflected.reflect(self.engine)
        changed_total = 0
        audit_changed = False
        with self.engine.begin() as conn:
            _lift_append_only(conn, self.dialect)
            for table in reflected.sorted_tables:
                changed = 0
                for column in table.columns:
                    if not isinstance(column.type, sa.String) or column.name == "alembic_version":
                        continue
                    olds = [
                        value
                        for (value,) in conn.execute(
                            sa.select(column).distinct().where(_may_hold_id(column, self.dialect))
                        )
                        if isinstance(value, str)
                    ]
                    pairs = [(old, rewrite(old)) for old in olds]
                    pairs = [(old, new) for old, new in pairs if new != old]
                    if not pairs:
                        continue
                    conn.execute(
                        table.update()
                        .where(column == sa.bindparam("old_value"))
                        .values({column.name: sa.bindparam("new_value")}),
                        [{"old_value": old, "new_value": new} for old, new in pairs],
                    )
                    changed += len(pairs)
                if table.name == audit_log.name and changed:
                    audit_changed = True
                changed_total += changed
                if progress is not None:
                    progress(table.name, changed)
            if audit_changed:
                _rechain(conn)
            _restore_append_only(conn, self.dialect)
        return changed_total


def _may_hold_id(column: sa.Column[str], dialect: str) -> sa.ColumnElement[bool]:
    """Values that may hold a sealed token or an ID number in clear (the rest skipped in SQL)."""
    token = column.like("%~1%")
    if dialect == "postgresql":
        return sa.or_(token, column.regexp_match(r"[0-9]{17}"))
    if dialect == "sqlite":
        return sa.or_(token, column.op("GLOB")("*" + "[0-9]" * 17 + "*"))
    return sa.literal(True)


# The guards of migration 0001 (audit_log refuses UPDATE); lifted and restored in one transaction.
_SQLITE_UPDATE_GUARD = (
    "CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)


def _lift_append_only(conn: sa.Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only_update")
    elif dialect == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")


def _restore_append_only(conn: sa.Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql(_SQLITE_UPDATE_GUARD)
    elif dialect == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")


def _rechain(conn: sa.Connection, batch: int = 5000) -> None:
    """Compute every audit record's hash again, in order, and move the head to the last."""
    prev_hash, after, seq = GENESIS_HASH, 0, 0
    while True:
        rows = conn.execute(
            sa.select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
            .limit(batch)
        ).all()  # fmt: skip
        if not rows:
            break
        updates = []
        for row in rows:
            entry = AuditEntry(**{name: getattr(row, name) for name in _AUDIT_ENTRY_FIELDS})
            seq = int(row.seq)
            digest = chain_hash(prev_hash, entry, seq)
            updates.append({"seq_value": seq, "prev_value": prev_hash, "hash_value": digest})
            prev_hash = digest
        conn.execute(
            audit_log.update()
            .where(audit_log.c.seq == sa.bindparam("seq_value"))
            .values(prev_hash=sa.bindparam("prev_value"), hash=sa.bindparam("hash_value")),
            updates,
        )
        after = seq
    conn.execute(
        audit_head.update().where(audit_head.c.head_id == 1).values(seq=seq, hash=prev_hash)
    )


def _visible_exports(
    requester_id: int | None, units: OperationalScope | None
) -> sa.ColumnElement[bool] | None:
    parts: list[sa.ColumnElement[bool]] = []
    if requester_id is not None:
        parts.append(export_requests.c.requester_id == requester_id)
    if units is not None:
        parts.append(_in_units(export_requests, units))
    return sa.or_(*parts) if parts else None


def _row_of(table: sa.Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` restricted to the table's columns (a warning's dict carries no surrogate key)."""
    return {c.name: values[c.name] for c in table.columns if c.name in values}


class DuplicateUserError(ConflictError):
    """A user name that is already taken."""


def _user(row: sa.Row[Any]) -> UserRecord:
    return UserRecord(
        user_id=int(row.user_id),
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        scope_level=row.scope_level,
        scope_key=row.scope_key,
        password_hash=row.password_hash,
        failed_logins=int(row.failed_logins),
        locked_until=_utc(row.locked_until),
        is_disabled=bool(row.is_disabled),
        created_at=_must_utc(row.created_at),
    )


def _audit_record(row: sa.Row[Any]) -> AuditRecord:
    mapping = row._mapping
    entry = AuditEntry(**{name: mapping[name] for name in _AUDIT_ENTRY_FIELDS})
    return AuditRecord(int(row.seq), entry, row.prev_hash, row.hash)


def _job(row: sa.Row[Any]) -> dict[str, Any]:
    job = dict(row._mapping)
    job["params"] = json.loads(job["params"])
    job["outcome"] = json.loads(job["outcome"]) if job["outcome"] else None
    for name in ("requested_at", "started_at", "finished_at"):
        job[name] = _utc(job[name])
    return job


def _submission(row: sa.Row[Any]) -> dict[str, Any]:
    found = dict(row._mapping)
    for name in _SUBMISSION_TIMES:
        found[name] = _utc(found[name])
    found["payload"] = json.loads(found["payload"])
    return found


def _referral(row: sa.Row[Any]) -> dict[str, Any]:
    found = dict(row._mapping)
    for name in ("referred_at", "closed_at"):
        found[name] = _utc(found[name])
    return found


def _export(row: sa.Row[Any]) -> ExportRecord:
    return ExportRecord(
        export_id=row.export_id,
        requester_id=int(row.requester_id),
        entity=row.entity,
        fields=tuple(json.loads(row.fields)),
        scope_level=row.scope_level,
        scope_key=row.scope_key,
        purpose=row.purpose,
        status=row.status,
        created_at=_must_utc(row.created_at),
        decided_by=None if row.decided_by is None else int(row.decided_by),
        decided_at=_utc(row.decided_at),
        decision_note=row.decision_note,
        expires_at=_utc(row.expires_at),
        downloaded_at=_utc(row.downloaded_at),
        unit_school=row.unit_school,
        unit_region=row.unit_region,
    )


def open_store(
    settings: Settings, *, migrate: bool = True, checkpoint_in_background: bool = False
) -> Store:
    """Connect to the operational store the settings name; migrate it to the newest schema.

    `checkpoint_in_background` (the service): SQLite copies its write-ahead log into the
    database file, with an fsync, from a thread of its own every second, instead of inside
    whichever commit crosses 1,000 pages — an audit append that every waiting request then
    waits for.
    """
    url = database_url(settings)
    try:
        if url.startswith("sqlite"):
            settings.workspace.store.parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            if checkpoint_in_background:
                sa.event.listen(engine, "connect", _no_autocheckpoint)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (sa.exc.SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"cannot open the operational store {_safe(url)}: {exc}") from None
    store = Store(engine)
    if migrate:
        store.migrate()
    if checkpoint_in_background and store.dialect == "sqlite":
        store.checkpoint_every(1.0)
    return store


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)
