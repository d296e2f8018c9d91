"""One settings object, read from the environment (prefix EDUBRAIN_) and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from edubrain.errors import ConfigError
from edubrain.workspace import Workspace

Language = Literal["zh-CN", "en"]


def language_of_locale(environ: Mapping[str, str]) -> Language:
    """The language the POSIX locale asks for: the first of `LC_ALL`, `LC_MESSAGES` and `LANG`
    that is set decides; one starting with `zh` is Chinese, anything else (`C`, `POSIX`,
    `en_US.UTF-8`) or none at all is English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "zh-CN" if value.lower().startswith("zh") else "en"
    return "en"


class Settings(BaseSettings):
    """Where edubrain keeps its data and how it behaves.

    Every field can be set as an environment variable, e.g. ``EDUBRAIN_HOME=/srv/edubrain``.
    """

    model_config = SettingsConfigDict(env_prefix="EDUBRAIN_", env_nested_delimiter="__")

    home: Path = Field(
        default=Path("edubrain-data"),
        description="Workspace folder: the warehouse file and operational state live here.",
    )
    warehouse_file: str = Field(
        default="warehouse.duckdb",
        description="File name of the embedded DuckDB warehouse inside `home`.",
    )
    warehouse_threads: int = Field(
        default=0,
        ge=0,
        description="Threads the warehouse may use; 0 means one per core.",
    )
    warehouse_memory_limit: str | None = Field(
        default=None,
        pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B)$",
        description=(
            "Memory the warehouse engine may hold (e.g. `4GB`), for it and for record linkage; "
            "beyond it work spills to disk. Unset: DuckDB's default, 80% of the machine's RAM."
        ),
    )
    warehouse_checkpoint_memory_limit: str | None = Field(
        default="512MB",
        pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B)$",
        description=(
            "Memory the warehouse may hold while it writes a writer's last changes into the "
            "file as it closes (the checkpoint); keeps a large ingest's close from doubling its "
            "peak. `off`: the checkpoint runs under `warehouse_memory_limit`."
        ),
    )
    warehouse_wal_size: str = Field(
        default="128MB",
        pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B)$",
        description=(
            "How far a writer's write-ahead log may grow before the warehouse writes it into "
            "the file (DuckDB's `checkpoint_threshold`, 16MB by default there). Fewer "
            "checkpoints in a long ingest: the exam scores of three counties of the city load "
            "in 44–45 s instead of 51–53 s, holding ~300 MiB more between checkpoints."
        ),
    )

    jobs_schedule: str = Field(
        default="30 2 * * *",
        max_length=100,
        description=(
            "When `edubrain serve` queues the nightly jobs (govern, compute, scorecard): a "
            "crontab line (minute hour day month weekday) in `timezone`; empty: no schedule."
        ),
    )
    timezone: str = Field(
        default="Asia/Shanghai",
        max_length=64,
        description="The bureau's time zone: the schedule, and times shown to people.",
    )
    warehouse_wait_seconds: float = Field(
        default=60.0,
        ge=0,
        description=(
            "How long a command that only reads the warehouse waits for a job writing it in "
            "place (one started while nothing read it) before it gives up with a message. "
            "The service waits as long as it takes; writers wait for each other in turn."
        ),
    )

    @field_validator("warehouse_checkpoint_memory_limit", mode="before")
    @classmethod
    def _off_means_none(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "off") else value

    @field_validator("lang", mode="before")
    @classmethod
    def _lang_spellings(cls, value: object) -> object:
        """`zh`, `zh_CN`, `zh-cn` mean zh-CN; `en_US` and the like mean en; empty means unset."""
        if not isinstance(value, str):
            return value
        spelled = value.strip().lower().replace("_", "-")
        if not spelled:
            return None
        if spelled == "zh" or spelled.startswith("zh-"):
            return "zh-CN"
        if spelled == "en" or spelled.startswith("en-"):
            return "en"
        return value

    spark_partitions: int = Field(
        default=2,
        ge=1,
        description=(
            "Shuffle partitions (`spark.sql.shuffle.partitions`) of a local Spark session "
            "(`SparkTables.local`)."
        ),
    )
    spark_driver_memory: str = Field(
        default="1g",
        pattern=r"^\d+([kKmMgGtTpP][bB]?|[bB])?$",
        description=(
            "Memory of the Spark driver (`spark.driver.memory`, e.g. `1g`, `4g`) of a local "
            "Spark session (`SparkTables.local`)."
        ),
    )
    mappings_dir: Path | None = Field(
        default=None,
        description="Folder of the bureau's own source mappings (*.yaml); default `home/mappings`.",
    )
    plans_dir: Path | None = Field(
        default=None,
        description="Folder of the bureau's own indicator plans (*.yaml); default `home/plans`.",
    )
    map_outline: Path | None = Field(
        default=None,
        description=(
            "The region's outline for 教育一张图: a GeoJSON FeatureCollection (or Feature) of "
            "WGS84 longitude/latitude polygons; default `home/map/outline.geojson`, where "
            "`edubrain demo` puts the generator's synthetic outline."
        ),
    )
    quality_max_load_age_days: int = Field(
        default=45,
        ge=0,
        description="Timeliness rule: a source last loaded more days ago than this is stale.",
    )
    lang: Language | None = Field(
        default=None,
        description=(
            "Language of the command line's help, progress, reports and errors: `zh-CN` or "
            "`en`. Unset: the locale decides (`LC_ALL`, `LC_MESSAGES`, `LANG` starting with "
            "`zh` → zh-CN); `C`, `POSIX` or no locale → en."
        ),
    )
    progress: bool = Field(
        default=True,
        description="Show progress bars on long work when the output is a terminal.",
    )
    key_file: Path | None = Field(
        default=None,
        description=(
            "The data key file that seals ID numbers and G 学籍号 at rest; created (mode 0600) "
            "on first use. Must lie outside `home`. Default "
            "`$XDG_CONFIG_HOME/edubrain/data.key` (`~/.config/edubrain/data.key`)."
        ),
    )
    seal_core_fields: bool = Field(
        default=True,
        description=(
            "Store ID numbers and G 学籍号 sealed (核心数据加密). Switch off only to measure "
            "what sealing costs: a warehouse must be written all one way."
        ),
    )
    # -- bounds on what `edubrain ingest` reads (a file over one is refused whole) -------------
    ingest_max_file_mb: int = Field(
        default=2048,
        ge=1,
        description=(
            "Largest input file `edubrain ingest` reads, in MiB. CSV and xlsx are read in chunks "
            "whatever their size; JSON lines and Parquet are read whole, so this also caps their "
            "memory."
        ),
    )
    upload_max_mb: int = Field(
        default=2048,
        ge=1,
        description=(
            "Largest request body the service accepts, in MiB: an upload of exports (all its "
            "files together) over it is refused with 413 as it arrives, before it is kept; a "
            "declared Content-Length over it before any of it is read."
        ),
    )
    ingest_max_uncompressed_mb: int = Field(
        default=512,
        ge=1,
        description=(
            "Most bytes (MiB) an xlsx workbook may inflate to, all its zip members together. "
            "Counted while inflating, not taken from the zip's own (forgeable) size fields; "
            "512 MiB holds about a million rows of twenty columns."
        ),
    )
    ingest_max_rows: int = Field(
        default=5_000_000,
        ge=1,
        description=(
            "Most data rows in one input file (an xlsx sheet also stops at Excel's 1,048,576)."
        ),
    )
    ingest_max_columns: int = Field(
        default=2000,
        ge=1,
        description="Most columns in one input file's header (wide score sheets included).",
    )
    ingest_max_field_bytes: int = Field(
        default=8192,
        ge=64,
        description=(
            "Longest single cell (UTF-8 bytes) of an input file; a longer one means the file is "
            "not a plain export and it is refused."
        ),
    )
    # -- the service (edubrain serve) and its operational store ------------------------------
    database_url: str | None = Field(
        default=None,
        description=(
            "Operational store (users, sessions, audit, export requests) as a SQLAlchemy URL, "
            "e.g. `postgresql+psycopg://edubrain@db/edubrain`; default a SQLite file in `home`."
        ),
    )
    store_file: str = Field(
        default="edubrain.sqlite3",
        description="File name of the default SQLite operational store inside `home`.",
    )
    service_host: str = Field(
        default="127.0.0.1",
        description="Address `edubrain serve` binds to; only this machine by default.",
    )
    service_port: int = Field(default=8000, ge=1, le=65535, description="Port of `edubrain serve`.")
    service_workers: int = Field(
        default=0,
        ge=0,
        description=(
            "Processes `edubrain serve` runs; 0 means one per core the service may use. Each "
            "opens the warehouse read-only and keeps its own query results."
        ),
    )
    service_cache_mb: int = Field(
        default=512,
        ge=0,
        description=(
            "Memory `edubrain serve` may use per process to keep warehouse query results (a "
            "scope's records, sorted for paging); 0 keeps none. A version of the warehouse "
            "never changes, so kept results stay true until the service switches to a newer "
            "version and drops them."
        ),
    )
    service_access_log: bool = Field(
        default=False,
        description=(
            "Log one line per HTTP request to stderr. Off by default: every read of personal "
            "data is already in the audit trail, and the line costs time on every request."
        ),
    )
    session_ttl_minutes: int = Field(
        default=480, ge=1, description="A login session expires this many minutes after login."
    )
    session_cookie_secure: bool = Field(
        default=False,
        description="Mark the session cookie Secure (set true when served behind HTTPS).",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins in a row that lock an account."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long a locked account stays locked."
    )
    password_min_length: int = Field(
        default=12, ge=8, description="Shortest password the password policy accepts."
    )
    password_hash_time_cost: int = Field(
        default=3, ge=1, description="argon2id iterations for new password hashes."
    )
    password_hash_memory_kib: int = Field(
        default=65536, ge=8, description="argon2id memory (KiB) for new password hashes."
    )
    growth_publicity_days: int = Field(
        default=5,
        ge=1,
        le=30,
        description=(
            "How many days a class's approved 写实记录 are shown to the class (公示) before the "
            "head teacher may confirm them; objections are taken during these days."
        ),
    )
    lookup_miss_limit: int = Field(
        default=20,
        ge=1,
        description=(
            "Person lookups that find nothing (unknown key, bad ref) an account may make "
            "within `lookup_miss_window_seconds` before its lookups answer 429."
        ),
    )
    lookup_miss_limit_per_address: int = Field(
        default=100,
        ge=1,
        description=(
            "The same, per client address (higher: a school's users may share one address "
            "behind NAT or a proxy)."
        ),
    )
    lookup_miss_window_seconds: int = Field(
        default=600, ge=1, description="The sliding window of `lookup_miss_limit`, in seconds."
    )
    export_download_ttl_minutes: int = Field(
        default=60,
        ge=1,
        description="An approved export can be downloaded once within this many minutes.",
    )

    @property
    def workspace(self) -> Workspace:
        """Every path under `home` (the warehouse, the store, mappings, plans, ...)."""
        return Workspace(
            home=self.home,
            warehouse_file=self.warehouse_file,
            store_file=self.store_file,
            mappings_dir=self.mappings_dir,
            plans_dir=self.plans_dir,
            map_outline_file=self.map_outline,
        )

    @property
    def data_key_path(self) -> Path:
        """The data key file; outside `home` on purpose, so not part of the workspace."""
        if self.key_file is not None:
            return self.key_file.expanduser()
        config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
        return Path(config) / "edubrain" / "data.key"

    @property
    def language(self) -> Language:
        """`lang` when set, else the locale's language (`language_of_locale`)."""
        return self.lang if self.lang is not None else language_of_locale(os.environ)

    @property
    def service_processes(self) -> int:
        """`service_workers`, with 0 resolved to the cores this process may run on."""
        if self.service_workers:
            return self.service_workers
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1


def load_settings() -> Settings:
    """Read settings from the environment; entry points call this once."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"EDUBRAIN_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(f"invalid setting: {problems}") from None
