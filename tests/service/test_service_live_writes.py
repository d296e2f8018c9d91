"""The service keeps serving while a job writes the warehouse, and serves the new version once
the job is done (decision 0016) — never a version in between."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow.compute as pc
from fastapi.testclient import TestClient

import accounts
from conftest import County
from edubrain.serve import create_app
from edubrain.service.policy import Role, Scope, ScopeLevel
from edubrain.settings import Settings
from edubrain.warehouse import open_warehouse


def test_a_job_writes_while_the_service_serves_and_the_service_follows(
    make_settings: Callable[..., Settings], county: County
) -> None:
    settings = make_settings("sqlite", county=county)
    school = county.schools[0]["school_code"]
    pupils = sum(s["school_code"] == school for s in county.students)
    leaving = next(s["student_number"] for s in county.students if s["school_code"] == school)
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        region = county.schools[0]["region_code"]
        headers = accounts.bearer_for(
            services.store, "bureau", Role.BUREAU_LEADER, Scope(ScopeLevel.COUNTY, region)
        )

        def pupils_shown() -> int:
            response = client.get(f"/api/v1/schools/{school}", headers=headers)
            assert response.status_code == 200, response.text
            return int(response.json()["students"])

        assert pupils_shown() == pupils
        with open_warehouse(settings) as wh:
            # The service holds the file: the job writes a copy of it.
            assert Path(wh.path).name.endswith(".next")  # type: ignore[attr-defined]
            students = wh.to_arrow("student")
            with wh.transaction() as tx:
                kept = students.filter(pc.not_equal(students["student_number"], leaving))
                tx.replace_table("student", kept)
            # Committed but not yet published: requests still see the version before.
            assert pupils_shown() == pupils
        assert pupils_shown() == pupils - 1
        assert not Path(str(settings.workspace.warehouse) + ".next").exists()
