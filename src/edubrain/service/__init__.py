"""The service layer: the HTTP API (FastAPI), its operational store and access policy.

The whole app, the API with the cockpit's pages on it, is `edubrain.serve.create_app`.
`create_api` is imported on first use, not here: the domain modules import the access policy
(`edubrain.service.policy`) while they are being registered, before any app exists.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_PREFIX", "create_api"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from edubrain.service import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
