"""How a use case reports progress without printing: a note callback, or the ingest's byte
Protocol (`edubrain.ingest.Progress`, re-exported here as `ByteProgress`)."""

from __future__ import annotations

from collections.abc import Callable

from edubrain.ingest import Progress as ByteProgress

Note = Callable[[str], None]
"""Receives one human-readable line about work in progress (the CLI prints it on stderr)."""


def silent(_: str) -> None:
    """A `Note` that drops every line."""


__all__ = ["ByteProgress", "Note", "silent"]
