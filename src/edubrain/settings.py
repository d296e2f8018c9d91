"""One settings object, read from the environment (prefix EDUBRAIN_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    mappings_dir: Path | None = Field(
        default=None,
        description="Folder of the bureau's own source mappings (*.yaml); default `home/mappings`.",
    )
    plans_dir: Path | None = Field(
        default=None,
        description="Folder of the bureau's own indicator plans (*.yaml); default `home/plans`.",
    )
    quality_max_load_age_days: int = Field(
        default=45,
        ge=0,
        description="Timeliness rule: a source last loaded more days ago than this is stale.",
    )
    progress: bool = Field(
        default=True,
        description="Show progress bars on long work when the output is a terminal.",
    )

    @property
    def warehouse_path(self) -> Path:
        return self.home / self.warehouse_file

    @property
    def local_mappings_dir(self) -> Path:
        return self.mappings_dir if self.mappings_dir is not None else self.home / "mappings"

    @property
    def local_plans_dir(self) -> Path:
        return self.plans_dir if self.plans_dir is not None else self.home / "plans"


def load_settings() -> Settings:
    """Read settings from the environment; entry points call this once."""
    return Settings()
