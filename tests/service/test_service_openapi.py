"""schemathesis against the app's own OpenAPI document: no 5xx, responses match their schemas.

Every operation is called with generated parameters and bodies, as a user whose role may call it
(data_admin; auditor for /audit), each call with a fresh session so logout cannot end the run.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from conftest import County, add_user
from edubrain.serve import create_app
from edubrain.service.auth import open_session
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings

# The document alone (nothing opens until the app starts); the calls go to the live app below.
# The upload takes files, which the generated cases cannot build (httpx refuses their bodies);
# tests/service/test_service_jobs.py tries it with real files, bounds and escapes.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(home=Path("unused"))).openapi()
).exclude(path="/api/v1/jobs/uploads")


class LiveApp:
    def __init__(self, client: TestClient, users: dict[str, int]) -> None:
        self.client, self.users = client, users
        self.services = client.app.state.services  # type: ignore[attr-defined]

    def bearer(self, role: str) -> dict[str, str]:
        user = self.services.store.user(self.users[role])
        session = open_session(self.services.store, self.services.settings, user, datetime.now(UTC))
        return {"Authorization": f"Bearer {session.token}"}


@pytest.fixture(scope="module")
def live(county: County, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    home = tmp_path_factory.mktemp("openapi-home")
    shutil.copy(county.warehouse, home / "warehouse.duckdb")
    settings = Settings(home=home, password_hash_time_cost=1, password_hash_memory_kib=64)
    # Generated jobs are queued, not run: a runner would change the warehouse under the test.
    with (
        pytest.MonkeyPatch.context() as patch,
        TestClient(create_app(settings)) as client,
    ):
        patch.setattr("edubrain.service.routes.jobs.start_runner", lambda settings: None)
        store = client.app.state.services.store  # type: ignore[attr-defined]
        region = county.schools[0]["region_code"]
        users = {
            role.value: add_user(store, role.value, role, Scope(ScopeLevel.COUNTY, region), "-")
            for role in (Role.DATA_ADMIN, Role.AUDITOR)
        }
        yield LiveApp(client, users)


@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi(case: schemathesis.Case, live: LiveApp) -> None:
    role = "auditor" if case.path.startswith("/api/v1/audit") else "data_admin"
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=live.bearer(role))
    kwargs.pop("cookies", None)  # the bearer token authenticates; cookies are tested elsewhere
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    response = live.client.request(**kwargs)
    case.validate_response(
        response,
        checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
    )
