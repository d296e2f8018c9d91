"""Every path under `EDUBRAIN_HOME`, in one place: `settings.workspace`.

The home holds the warehouse, the operational state and what the bureau adds of its own
(mappings, plans, the map's outline). Code asks the workspace for a path rather than joining
one onto `settings.home` itself. The data key is deliberately *not* here: it must lie outside
the home (`Settings.data_key_path`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    """The layout of one home. Made by `Settings.workspace`; paths are not created here."""

    home: Path
    warehouse_file: str = "warehouse.duckdb"
    store_file: str = "edubrain.sqlite3"
    mappings_dir: Path | None = None
    plans_dir: Path | None = None
    map_outline_file: Path | None = None

    @property
    def warehouse(self) -> Path:
        """The embedded DuckDB warehouse."""
        return self.home / self.warehouse_file

    @property
    def store(self) -> Path:
        """The default operational store, a SQLite file (unless `EDUBRAIN_DATABASE_URL`)."""
        return self.home / self.store_file

    @property
    def service_key(self) -> Path:
        """The service's own key: opaque record refs and paging cursors (`service.sealed_refs`)."""
        return self.home / "service.key"

    @property
    def diagnosis(self) -> Path:
        """The fitted diagnosis, one `.npz` file (`edubrain diagnose fit`)."""
        return self.home / "diagnosis" / "diagnosis.npz"

    @property
    def linkage_spill(self) -> Path:
        """Where record linkage spills to disk beyond the warehouse's memory limit."""
        return self.home / "linkage.tmp"

    @property
    def uploads(self) -> Path:
        """Files the data office uploaded, one folder per upload (an ingest job reads it)."""
        return self.home / "uploads"

    @property
    def jobs_runner_lock(self) -> Path:
        """Held by the one job runner at work on this home (`edubrain jobs run`)."""
        return self.home / "jobs.runner.lock"

    @property
    def mappings(self) -> Path:
        """The bureau's own source mappings (`*.yaml`)."""
        return self.mappings_dir if self.mappings_dir is not None else self.home / "mappings"

    @property
    def plans(self) -> Path:
        """The bureau's own indicator plans (`*.yaml`)."""
        return self.plans_dir if self.plans_dir is not None else self.home / "plans"

    @property
    def scales(self) -> Path:
        """The bureau's own psychological screening scales (`*.yaml`, `modules/psych/scale`)."""
        return self.home / "scales"

    @property
    def schemes(self) -> Path:
        """The bureau's own 综合素质评价 scheme (one `*.yaml`, `modules/growth/scheme`)."""
        return self.home / "schemes"

    @property
    def map_outline(self) -> Path:
        """The region's outline for 教育一张图 (GeoJSON)."""
        if self.map_outline_file is not None:
            return self.map_outline_file
        return self.home / "map" / "outline.geojson"

    @property
    def demo_region(self) -> Path:
        """The synthetic county `edubrain demo` generates: its exports, truth and outline."""
        return self.home / "region"
