"""Draft mappings: for a file no mapping recognises, the mapping the data officer reviews and
saves as the bureau's own (`ingest.draft`; the service saves it from the cockpit)."""

from __future__ import annotations

from pathlib import Path

from edubrain.ingest.draft import DraftMapping, draft_for
from edubrain.settings import Settings
from edubrain.sources.mapping import available_mappings


def draft_mapping(settings: Settings, path: Path) -> DraftMapping:
    """The draft for a file: the export it looks like, each column's field or 忽略."""
    return draft_for(path, available_mappings(settings.workspace.mappings))
