"""The service layer: the HTTP API (FastAPI), its operational store and access policy.

The whole app, the API with the cockpit's pages on it, is `edubrain.serve.create_app`.
"""

from edubrain.service.app import API_PREFIX, create_api

__all__ = ["API_PREFIX", "create_api"]
