"""Ingestion: read source exports and standard files, normalise, validate, quarantine bad rows
with a reason code, and merge the rest into the warehouse — one transaction per file."""

from __future__ import annotations

from edubrain.ingest.pipeline import Progress, ingest_file, ingest_paths
from edubrain.ingest.quarantine import Reason
from edubrain.ingest.report import FileReport, summarise

__all__ = ["FileReport", "Progress", "Reason", "ingest_file", "ingest_paths", "summarise"]
