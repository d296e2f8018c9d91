"""The composition root: the one place the app `edubrain serve` runs is put together.

The service builds the HTTP API (`edubrain.service.create_api`); the cockpit's pages call the
service's route functions, so the cockpit sits above the service, and this module above both
mounts the pages on the API's app. Nothing below imports this module.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from edubrain.cockpit import pages as cockpit_pages
from edubrain.service.app import create_api, serving_process
from edubrain.settings import Settings, load_settings


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    serving: bool = False,
) -> FastAPI:
    """The API (OpenAPI at /api/v1/docs) and the cockpit (web UI at /) for `settings`.

    `clock` and `serving` are `create_api`'s: a fixed clock for tests; `serving` when the app is
    what this process is for.
    """
    return create_api(settings, clock=clock, serving=serving, surfaces=(cockpit_pages.install,))


def cockpit_url(host: str, port: int) -> str:
    """Where a browser on this machine opens the cockpit: `http://127.0.0.1:8000/`; a service
    bound to every address (0.0.0.0, ::) is opened on the loopback one."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def app_from_environment() -> FastAPI:
    """The app for the `EDUBRAIN_` environment: what each `edubrain serve` worker runs."""
    serving_process()
    return create_app(load_settings(), serving=True)


def service_reference() -> str:
    """docs/service-reference.md for the app as `edubrain serve` builds it (nothing is opened:
    routes are declared when the app is made; the store and warehouse open when it starts)."""
    from edubrain.service.docs import render_service_reference

    return render_service_reference(create_app(Settings(home=Path("unused"))))
