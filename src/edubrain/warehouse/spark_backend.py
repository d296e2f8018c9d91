"""The warehouse's tables on Apache Spark, for running the same Ibis analytics at scale.

A province that outgrows one machine keeps its tables as Parquet (the warehouse exports them,
`DuckDBWarehouse.export_parquet`) and reads them here; every Ibis expression of edubrain
(indicators, quality rules) then runs unchanged on Spark. Local mode serves the tests.

PySpark is an optional extra (`pip install edubrain[spark]`); it is imported only when a
`SparkTables` is made. The session's settings are `Settings.spark_*` (`EDUBRAIN_SPARK_*`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis

from edubrain.errors import WarehouseError
from edubrain.settings import Settings

if TYPE_CHECKING:
    import ibis.expr.types as ir


def _spark_session(settings: Settings, master: str, app_name: str, tmp_dir: Path | None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(
            "the Spark backend needs PySpark: pip install 'edubrain[spark]'"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(settings.spark_partitions))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", settings.spark_driver_memory)
    )
    if tmp_dir is not None:
        builder = builder.config("spark.local.dir", str(tmp_dir))
    return builder.getOrCreate()


class SparkTables:
    """Tables as Ibis expressions on a Spark session: the `Tables` interface of analytics."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._ibis = ibis.pyspark.connect(session)
        self._names: set[str] = set()

    @classmethod
    def local(
        cls,
        settings: Settings,
        *,
        master: str = "local[2]",
        app_name: str = "edubrain",
        tmp_dir: Path | None = None,
    ) -> SparkTables:
        """A session on this machine, sized by `settings` (`spark_partitions`,
        `spark_driver_memory`)."""
        return cls(_spark_session(settings, master, app_name, tmp_dir))

    def register_parquet(self, name: str, path: Path) -> None:
        """Expose a Parquet file or folder as table `name` (a temporary view)."""
        frame = self.session.read.parquet(str(path))
        frame.createOrReplaceTempView(name)
        self._names.add(name)

    def register_folder(self, folder: Path) -> list[str]:
        """Every `<name>.parquet` in `folder` as table `name`."""
        names = []
        for path in sorted(folder.glob("*.parquet")):
            self.register_parquet(path.stem, path)
            names.append(path.stem)
        return names

    def table(self, name: str) -> ir.Table:
        if name not in self._names:
            raise WarehouseError(f"table {name!r} is not registered on the Spark session")
        table: ir.Table = self._ibis.table(name)
        return table

    def has_table(self, name: str) -> bool:
        return name in self._names

    def close(self) -> None:
        self.session.stop()

    def __enter__(self) -> SparkTables:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
