"""The service layer: the HTTP API (FastAPI), its operational store and access policy."""

from edubrain.service.app import API_PREFIX, create_app

__all__ = ["API_PREFIX", "create_app"]
