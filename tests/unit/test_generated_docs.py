"""Documents generated from code must match the committed copies (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from edubrain.cli.docs_cmd import generated_documents
from edubrain.cli.main import build_app
from edubrain.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _app() -> typer.Typer:
    return build_app()


@pytest.mark.parametrize("name", list(generated_documents(_app())))
def test_generated_document_is_current(name: str) -> None:
    committed = (DOCS / name).read_text("utf-8")
    assert committed == generated_documents(_app())[name], (
        f"docs/{name} is stale: run `edubrain docs`"
    )


def test_every_command_and_setting_is_documented() -> None:
    cli = (DOCS / "cli.md").read_text("utf-8")
    for name in typer.main.get_command(_app()).commands:  # type: ignore[attr-defined]
        assert f"`edubrain {name}`" in cli, name
    settings = (DOCS / "settings.md").read_text("utf-8")
    for name in Settings.model_fields:
        assert f"EDUBRAIN_{name.upper()}" in settings, name
