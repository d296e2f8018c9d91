"""One settings object, read from the environment (prefix EDUBRAIN_) and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from edubrain.errors import ConfigError


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
    mappings_dir: Path | None = Field(
        default=None,
        description="Folder of the bureau's own source mappings (*.yaml); default `home/mappings`.",
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
