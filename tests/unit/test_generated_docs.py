"""Documents generated from code must match the committed copies (Datasette's habit)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from edubrain.cli.docs_cmd import generated_documents
from edubrain.cli.main import build_app
from edubrain.govern.quality import rules
from edubrain.ingest.quarantine import REASON_WHEN, Reason
from edubrain.serve import create_app
from edubrain.service.app import api_routes
from edubrain.service.docs import endpoints
from edubrain.service.policy import ROLE_LABELS, Role, permissions
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


def test_every_route_role_and_permission_is_documented(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path))
    found = endpoints(app)
    # The document's walk finds every route the app's access check walks.
    assert len({(e.path, e.method) for e in found}) == sum(
        len(route.methods or ()) for route in api_routes(app.routes)
    )
    reference = (DOCS / "service-reference.md").read_text("utf-8")
    for e in found:
        assert e.access != "(none)", (e.method, e.path)
        needs = "public" if e.access == "public" else f"`{e.access}`"
        assert f"| {e.method} | `{e.path}` | {needs} |" in reference, (e.method, e.path)
    api = {(e.method, e.path) for e in found if e.in_api}
    assert set(create_app(Settings(home=tmp_path)).openapi()["paths"]) == {p for _, p in api}
    for role in Role:
        assert f"| `{role.value}` | {ROLE_LABELS[role]} |" in reference, role
    for permission in permissions():  # the core's and the modules'
        assert f"| `{permission.value}` |" in reference, permission


def test_every_rule_and_reason_code_is_documented() -> None:
    text = (DOCS / "quality-rules.md").read_text("utf-8")
    for rule in rules():
        assert f"| `{rule.id}` | `{rule.entity}` | {rule.severity.value} |" in text, rule.id
    assert set(REASON_WHEN) == set(Reason)
    for reason in Reason:
        assert f"| `{reason.value}` |" in text, reason
