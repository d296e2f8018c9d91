"""Draft mappings: for a file no mapping recognises, the mapping the data officer reviews and
saves as the bureau's own (`ingest.draft`), in the workspace's `mappings/` folder."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from edubrain.ingest.draft import DraftMapping, SavedMapping, draft_for, save_draft
from edubrain.settings import Settings
from edubrain.sources.mapping import available_mappings


def draft_mapping(settings: Settings, path: Path) -> DraftMapping:
    """The draft for a file: the export it looks like, each column's field or 忽略."""
    return draft_for(path, available_mappings(settings.workspace.mappings))


def revised_draft(
    settings: Settings,
    path: Path,
    choices: Mapping[str, str | None],
    *,
    entity: str | None = None,
    label: str | None = None,
) -> DraftMapping:
    """The file's draft with the officer's choices (field per header, entity, name)."""
    draft = draft_mapping(settings, path).choose(dict(choices), entity_name=entity)
    if label:
        draft = draft.named(label)
    return draft


def save_mapping(settings: Settings, draft: DraftMapping, *, by: str) -> SavedMapping:
    """Save a checked draft as a local mapping (a new version of it); never a built-in one."""
    return save_draft(draft, settings.workspace.mappings, by=by, now=datetime.now(UTC))
